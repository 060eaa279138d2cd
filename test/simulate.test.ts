import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { simulateInProcess } from "./fixtures/cli";

/*
 * npm run simulate (scripts/simulate.ts): its command line and output contract, through main in-process (test/cli.test.ts
 * spawns it once for the exit code a shell sees). The simulator's rules are tested in test/simulator/.
 */

describe("npm run simulate", () => {
    it("exits 2 with one clear line for an unknown pipeline or a bad --pr", async () => {
        const unknown = await simulateInProcess(...["--pipeline", "nope"]);
        assert.equal(unknown.code, 2);
        assert.match(unknown.stderr, /^simulate: no pipeline "nope"; pipelines: kolibri-python-package,/);
        const pr = await simulateInProcess(...["--pipeline", "dagster", "--pr", "abc"]);
        assert.equal(pr.code, 2);
        assert.match(pr.stderr, /--pr must be a pull request number/);
    });

    it("writes the JSON contract", async () => {
        const out = `/tmp/ci-platform-simulate-${process.pid}.json`;
        const r = await simulateInProcess("--pipeline", "kolibri-python-package", "--tag", "v1.0.0", "--json", out);
        assert.equal(r.code, 0, r.stderr);
        const { readFileSync } = await import("node:fs");
        const sim = JSON.parse(readFileSync(out, "utf8")) as { builds: Record<string, unknown>[] };
        assert.equal(sim.builds.length, 6);
        for (const b of sim.builds) {
            for (const k of ["id", "pipeline", "triggeredBy", "blocked", "jobs"]) assert.ok(k in b, k);
            for (const j of b.jobs as Record<string, unknown>[])
                for (const k of [
                    "key",
                    "label",
                    "runs",
                    "reason",
                    "queue",
                    "fleets",
                    "image",
                    "checkout",
                    "secrets",
                    "downloadsFrom",
                ])
                    assert.ok(k in j, `${String(b.pipeline)} ${String(j.key)} lacks ${k}`);
        }
        const ids = new Set(sim.builds.map((b) => b.id));
        for (const b of sim.builds)
            for (const j of b.jobs as { downloadsFrom: string[] }[])
                for (const id of j.downloadsFrom) assert.ok(ids.has(id));
        assert.match(r.stdout, /^b1 kolibri-python-package \(tag v1\.0\.0, webhook\)/);
    });
});
