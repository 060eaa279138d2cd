import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { balanceShards, DEFAULT_WEIGHT, weightsFromCosts } from "../scripts/test";

describe("npm run test:unit's shards (scripts/test.ts balanceShards)", () => {
    it("deals the files longest first to the shard with less work, each shard in path order", () => {
        const weights = { "a.test.ts": 10, "b.test.ts": 6, "c.test.ts": 5, "d.test.ts": 1 };
        // 10 → shard 1; 6 → 2; 5 → 2 (6 < 10); 1 → 1 (10 < 11).
        assert.deepEqual(balanceShards(Object.keys(weights).reverse(), weights, 2), [
            ["a.test.ts", "d.test.ts"],
            ["b.test.ts", "c.test.ts"],
        ]);
    });

    it("keeps every file exactly once, whatever the number of shards", () => {
        const files = Array.from({ length: 11 }, (_, i) => `f${String(i).padStart(2, "0")}.test.ts`);
        for (const shards of [1, 2, 3, 5]) {
            const dealt = balanceShards(files, {}, shards);
            assert.equal(dealt.length, shards);
            assert.deepEqual(dealt.flat().sort(), files);
        }
    });

    it("counts a file the table does not name as DEFAULT_WEIGHT, so new files spread evenly", () => {
        const dealt = balanceShards(
            ["n1.test.ts", "n2.test.ts", "n3.test.ts", "big.test.ts"],
            {
                "big.test.ts": 3 * DEFAULT_WEIGHT,
            },
            2,
        );
        assert.deepEqual(dealt, [["big.test.ts"], ["n1.test.ts", "n2.test.ts", "n3.test.ts"]]);
    });

    it("balances the recorded suite within one largest file of even", () => {
        const weights = JSON.parse(
            readFileSync(path.join(__dirname, "../scripts/test-weights.json"), "utf8"),
        ) as Record<string, number>;
        const dealt = balanceShards(Object.keys(weights), weights, 2);
        const totals = dealt.map((files) => files.reduce((sum, f) => sum + weights[f], 0));
        assert.ok(Math.abs(totals[0] - totals[1]) <= Math.max(...Object.values(weights)), totals.join(" / "));
    });

    it("the weights table names test files that exist (update it when a test file moves: scripts/test-weights.json)", () => {
        const weights = JSON.parse(
            readFileSync(path.join(__dirname, "../scripts/test-weights.json"), "utf8"),
        ) as Record<string, number>;
        const root = path.join(__dirname, "..");
        assert.deepEqual(
            Object.keys(weights).filter((f) => !existsSync(path.join(root, f))),
            [],
        );
        for (const [file, seconds] of Object.entries(weights))
            assert.ok(Number.isFinite(seconds) && seconds >= 0, `${file}: ${seconds}`);
    });
});

describe("npm run test:unit (scripts/test.ts)", () => {
    it("fails when any shard fails, and prints every shard's output whole with a line per shard", () => {
        const dir = mkdtempSync(path.join(tmpdir(), "test-runner-"));
        try {
            const passing = path.join(dir, "passing.test.js");
            const failing = path.join(dir, "failing.test.js");
            writeFileSync(passing, 'require("node:test").it("passes here", () => {});\n');
            writeFileSync(failing, 'require("node:test").it("fails here", () => { throw new Error("boom"); });\n');
            const env = { ...process.env };
            delete env.NODE_TEST_CONTEXT;
            const run = spawnSync(
                process.execPath,
                ["--import", "tsx", path.join(__dirname, "..", "scripts", "test.ts"), passing, failing],
                { cwd: path.join(__dirname, ".."), encoding: "utf8", env },
            );
            assert.equal(run.status, 1, run.stdout + run.stderr);
            // One file per shard (both weigh DEFAULT_WEIGHT): each shard's own report is in the output.
            assert.match(run.stdout, /passes here/);
            assert.match(run.stdout, /fails here/);
            assert.match(run.stdout, /^shard 1\/2: exit \d+, [\d.]+ s$/m);
            assert.match(run.stdout, /^shard 2\/2: exit \d+, [\d.]+ s$/m);
            assert.match(run.stdout, /^shard \d\/2: exit 1,/m);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("npm run test:unit -- --record-weights (scripts/test.ts weightsFromCosts)", () => {
    it("weighs each file of the suite by its CPU seconds and its children's, to a tenth, at least 0.1, the files sorted", () => {
        const line = (file: string, cpu: number, children: number) => JSON.stringify({ file, cpu, children });
        const weights = weightsFromCosts(
            [
                line("test/z.test.ts", 1.24, 3.1),
                "",
                line("test/a.test.ts", 0.01, 0),
                line("test/m.test.ts", 2.06, 0),
                // A shard a test ran of its own, which inherited the variable.
                line("/tmp/test-shard-x/alpha.test.js", 0.5, 0),
            ],
            ["test/a.test.ts", "test/m.test.ts", "test/z.test.ts"],
        );
        assert.deepEqual(Object.entries(weights), [
            ["test/a.test.ts", 0.1],
            ["test/m.test.ts", 2.1],
            ["test/z.test.ts", 4.3],
        ]);
    });
});
