import assert from "node:assert/strict";
import * as path from "node:path";
import { tmpdir } from "node:os";
import { describe, it } from "node:test";
import { verifyCommand } from "../../scripts/verify/run";
import { runInProcess } from "../fixtures/cli";

/*
 * The checks of `npm run verify` (scripts/verify/run.ts): run against fake services by test/verify.test.ts through
 * the command line; here, a file it cannot read.
 */

describe("the verifier's run (scripts/verify/run.ts)", () => {
    it("answers a --pulumi-config it cannot read with one line and exit 5, before running the program", async () => {
        const missing = path.join(tmpdir(), "ci-platform-no-such-config.json");
        const out = await runInProcess(
            "verify",
            (_argv, io) =>
                verifyCommand(
                    {
                        state: missing,
                        "pulumi-config": missing,
                        mode: "etag",
                        skip: new Set(),
                        "buildkite-api-url": "http://127.0.0.1:9",
                    },
                    {
                        ...io,
                        expectedFromProgram: () => assert.fail("the program must not run"),
                    },
                ),
            [],
        );
        assert.equal(out.code, 5);
        assert.equal(out.stderr, `verify: cannot read --pulumi-config ${missing}: no such file\n`);
    });
});
