import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";

/*
 * scripts/test-shard.ts promises that each test file it loads runs inside a suite named by its path, and that a
 * file's hooks run just before and after that file's own tests, never beside another file's. Checked on a real
 * shard process (node --test without isolation, as scripts/test.ts runs it) over two small files that log what runs.
 */
const ROOT = path.resolve(__dirname, "..");
const dir = mkdtempSync(path.join(tmpdir(), "test-shard-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function testFile(name: string, log: string): string {
    const file = path.join(dir, `${name}.test.js`);
    const append = (what: string) =>
        `require("node:fs").appendFileSync(${JSON.stringify(log)}, ${JSON.stringify(what + "\n")})`;
    writeFileSync(
        file,
        [
            'const { before, after, it } = require("node:test");',
            `before(() => ${append(`${name} before`)});`,
            `it("${name} one", () => ${append(`${name} one`)});`,
            `it("${name} two", () => ${append(`${name} two`)});`,
            `after(() => ${append(`${name} after`)});`,
        ].join("\n"),
    );
    return file;
}

/** Runs a shard (node --test without isolation, as scripts/test.ts does) over `files`, outside this test runner. */
function runShard(files: readonly string[], extraEnv: NodeJS.ProcessEnv = {}) {
    const env: NodeJS.ProcessEnv = { ...process.env, ...extraEnv, CI_PLATFORM_TEST_FILES: JSON.stringify(files) };
    // Without the runner's own marker, the shard reports as a top-level run.
    delete env.NODE_TEST_CONTEXT;
    return spawnSync(
        process.execPath,
        [
            "--import",
            "tsx",
            "--test",
            "--experimental-test-isolation=none",
            "--test-reporter=tap",
            path.join(ROOT, "scripts", "test-shard.ts"),
        ],
        { cwd: ROOT, encoding: "utf8", env },
    );
}

describe("a test shard", () => {
    it("runs each file inside its own suite, its hooks around its own tests only", () => {
        const log = path.join(dir, "order.log");
        const files = [testFile("alpha", log), testFile("beta", log)];
        const run = runShard(files);
        assert.equal(run.status, 0, run.stdout + run.stderr);
        assert.deepEqual(readFileSync(log, "utf8").trim().split("\n"), [
            "alpha before",
            "alpha one",
            "alpha two",
            "alpha after",
            "beta before",
            "beta one",
            "beta two",
            "beta after",
        ]);
        // Each file's tests are reported under a suite named by the file's path.
        for (const file of files) assert.ok(run.stdout.includes(`# Subtest: ${file}`), run.stdout);
        assert.match(run.stdout, /# pass 4/);
    });

    it("fails when a test file throws while it loads, naming the file", () => {
        const broken = path.join(dir, "broken.test.js");
        // Throws before it declares a test: the case Node 22's runner lets pass (exit 0).
        writeFileSync(broken, 'throw new Error("load boom");\n');
        const run = runShard([testFile("gamma", path.join(dir, "gamma.log")), broken]);
        assert.notEqual(run.status, 0, run.stdout);
        assert.match(run.stdout, /load boom/);
        assert.ok(run.stdout.includes(`# Subtest: ${broken}`), run.stdout);
    });

    it("records each file's CPU seconds and its waited-for children's, with CI_PLATFORM_TEST_COSTS", () => {
        // One file burns this process's CPU, the other a child's, for about 0.3 s each.
        const burn = "const end = process.cpuUsage().user + 300000; while (process.cpuUsage().user < end);";
        const own = path.join(dir, "own.test.js");
        writeFileSync(own, `require("node:test").it("burns", () => { ${burn} });\n`);
        const child = path.join(dir, "child.test.js");
        writeFileSync(
            child,
            [
                'const { it } = require("node:test");',
                `it("spawns", () => require("node:child_process").spawnSync(process.execPath, ["-e", ${JSON.stringify(burn)}]));`,
            ].join("\n"),
        );
        const costs = path.join(dir, "costs.jsonl");
        const run = runShard([own, child], { CI_PLATFORM_TEST_COSTS: costs });
        assert.equal(run.status, 0, run.stdout + run.stderr);
        const recorded = readFileSync(costs, "utf8")
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l) as { file: string; cpu: number; children: number });
        assert.deepEqual(
            recorded.map((c) => c.file),
            [own, child],
        );
        const [o, c] = recorded;
        assert.ok(o.cpu >= 0.25 && o.children < 0.1, JSON.stringify(o));
        assert.ok(c.children >= 0.25 && c.cpu < 0.25, JSON.stringify(c));
    });
});
