import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { importCommand } from "../../scripts/import/run";

/*
 * The import of `npm run import` (scripts/import/run.ts): run against fake APIs by test/import.test.ts through the
 * command line; here, a refused token, in this process.
 */

describe("the import run (scripts/import/run.ts)", () => {
    it("stops at a 401, naming the token variable and not the token, and writes nothing", async () => {
        const out = mkdtempSync(path.join(tmpdir(), "ci-platform-import-run-"));
        try {
            const written: string[] = [];
            await assert.rejects(
                importCommand({ org: "acme", out, stack: "prod", "home-region": "us-east-1" }, "secret-token-xyz", {
                    env: {},
                    stdout: (t) => void written.push(t),
                    stderr: () => undefined,
                    fetch: async () => new Response("{}", { status: 401 }),
                }),
                (e: Error) =>
                    /answered 401: .*check BUILDKITE_API_TOKEN$/.test(e.message) && !/secret-token-xyz/.test(e.message),
            );
            assert.deepEqual(written, []);
            assert.equal(existsSync(path.join(out, "Pulumi.prod.yaml")), false);
        } finally {
            rmSync(out, { recursive: true, force: true });
        }
    });
});
