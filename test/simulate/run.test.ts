import assert from "node:assert/strict";
import * as path from "node:path";
import { tmpdir } from "node:os";
import { describe, it } from "node:test";
import { simulateCommand } from "../../scripts/simulate/run";
import { runInProcess } from "../fixtures/cli";

/*
 * The simulation of `npm run simulate` (scripts/simulate/run.ts): simulated whole by test/simulate.test.ts and
 * test/simulator/; here, a stack file it cannot read.
 */

describe("the simulation run (scripts/simulate/run.ts)", () => {
    it("answers a --config it cannot read with one line and exit 1", async () => {
        const missing = path.join(tmpdir(), "ci-platform-no-such-stack.yaml");
        const out = await runInProcess(
            "simulate",
            (_argv, io) => simulateCommand({ pipeline: "x", config: missing }, undefined, io),
            [],
        );
        assert.equal(out.code, 1);
        assert.equal(out.stderr, `simulate: cannot read --config ${missing}: no such file\n`);
    });
});
