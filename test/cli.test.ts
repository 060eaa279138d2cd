import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { CliOption, CliSpec, helpOf, parseCli, stackAndConfigProblem } from "../scripts/cli";
import { main as simulateMain } from "../scripts/simulate";
import { main as verifyMain } from "../scripts/verify";
import { run as bumpRun } from "../scripts/images-bump";
import { runImport } from "../scripts/import";
import {
    drInProcess,
    LOADED_MODULES_PRELOAD,
    planInProcess,
    ROOT,
    runInProcess,
    runScript,
    ScriptRun,
} from "./fixtures/cli";

/*
 * Issue 13, "Help and errors": every script of package.json answers --help (exit 0: usage, options, examples), a
 * wrong flag with exit 2 and the usage, and a file it cannot read with one line (no ENOENT, no stack trace).
 */

const SPEC = {
    name: "demo",
    synopsis: ["--in FILE [--dry-run]"],
    summary: "Does a demo.",
    options: {
        in: { type: "string", value: "FILE", help: "the input" },
        "dry-run": { type: "boolean", help: "change nothing" },
    },
    examples: [["npm run demo -- --in a.json", "the usual"]],
    exitCodes: [[0, "done"]],
} as const satisfies CliSpec<Readonly<Record<string, CliOption>>>;

describe("the shared command-line skeleton (scripts/cli.ts)", () => {
    it("parses the declared options", () => {
        const parsed = parseCli(SPEC, ["--in", "a.json", "--dry-run"]);
        assert.ok(parsed.run);
        assert.deepEqual(parsed.values, { in: "a.json", "dry-run": true });
    });

    it("answers --help with usage, options, examples and exit codes, exit 0", () => {
        const parsed = parseCli(SPEC, ["--help"]);
        assert.ok(!parsed.run);
        assert.equal(parsed.code, 0);
        assert.equal(parsed.stdout, helpOf(SPEC));
        assert.match(parsed.stdout, /^usage: npm run demo -- --in FILE \[--dry-run\]\n/);
        assert.match(parsed.stdout, /^ {2}--in FILE {2}the input$/m);
        assert.match(parsed.stdout, /^Examples:\n {2}npm run demo -- --in a\.json {2}# the usual$/m);
        assert.match(parsed.stdout, /^Exit codes:\n {2}0 {2}done$/m);
    });

    it("answers a wrong flag with exit 2, the nearest flag and the usage", () => {
        const parsed = parseCli(SPEC, ["--inn", "a.json"]);
        assert.ok(!parsed.run);
        assert.equal(parsed.code, 2);
        assert.match(parsed.stderr, /^demo: unknown option --inn; did you mean --in\?\nusage: npm run demo -- /);
    });

    it("lists the options when no flag is near, and names a missing value or a stray argument", () => {
        const far = parseCli(SPEC, ["--zzzzzz"]);
        assert.ok(!far.run && far.code === 2);
        assert.match(far.stderr, /unknown option --zzzzzz; options: --in --dry-run/);
        const missing = parseCli(SPEC, ["--in"]);
        assert.ok(!missing.run && missing.code === 2);
        assert.match(missing.stderr, /^demo: option --in needs a value\n/);
        const stray = parseCli(SPEC, ["a.json"]);
        assert.ok(!stray.run && stray.code === 2);
        assert.match(stray.stderr, /^demo: unexpected argument "a\.json"/);
    });

    it("refuses --stack with --config, for every script that reads one stack (plan, dr)", () => {
        assert.equal(
            stackAndConfigProblem("plan", { stack: "prod", config: "x.yaml" }, "usage: x"),
            "plan: give --stack or --config, not both\nusage: x\n",
        );
        assert.equal(stackAndConfigProblem("dr", { stack: "prod" }, "usage: x"), undefined);
        assert.equal(stackAndConfigProblem("dr", { config: "x.yaml" }, "usage: x"), undefined);
    });
});

const scripts: [string, string][] = [
    ["plan", "scripts/plan.ts"],
    ["dr", "scripts/dr.ts"],
    ["simulate", "scripts/simulate.ts"],
    ["images:bump", "scripts/images-bump.ts"],
    ["bench", "scripts/bench.ts"],
    ["verify", "scripts/verify.ts"],
    ["import", "scripts/import.ts"],
];

/**
 * Each script's `main` run in this process (scripts/cli.ts CliIo); bench has no `main` to call, so it is spawned. The
 * command itself (its exit code through a process) is spawned once per script, for a wrong flag.
 */
const inProcess: Record<string, (args: readonly string[]) => Promise<ScriptRun>> = {
    plan: (args) => planInProcess(...args),
    dr: (args) => drInProcess(...args),
    simulate: (args) => runInProcess("simulate", simulateMain, args),
    "images:bump": async (args) => bumpRun(args, new Date(), ROOT),
    bench: (args) => runScript("scripts/bench.ts", args),
    verify: (args) => runInProcess("verify", verifyMain, args),
    import: (args) => runInProcess("import", (argv, io) => runImport(argv, { ...io, env: {} }), args),
};

describe("every script of package.json", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "ci-platform-help-"));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("answers --help: exit 0, usage, options and examples", async () => {
        const runs = await Promise.all(scripts.map(([name]) => inProcess[name](["--help"])));
        runs.forEach((out, i) => {
            const name = scripts[i][0];
            assert.equal(out.code, 0, `${name}: ${out.stderr}`);
            assert.ok(out.stdout.startsWith(`usage: npm run ${name} --`), `${name}:\n${out.stdout}`);
            assert.match(out.stdout, /\nOptions:\n[\s\S]*\nExamples:\n {2}npm run /, name);
        });
    });

    it("answers a wrong flag with exit 2 and the usage, no stack trace, before loading the SDKs (each script spawned, as npm runs it)", async () => {
        // Each process records the modules it loaded (test/fixtures/loaded-modules.cjs): bad usage is answered before
        // the program, the policy pack and the provider SDKs load (~2 CPU s a run), which only a run needs.
        const runs = await Promise.all(
            scripts.map(async ([name, file]) => {
                const record = path.join(dir, `${name.replace(":", "-")}-modules.json`);
                const out = await runScript(file, ["--no-such-flag"], ROOT, {
                    nodeArgs: ["--require", LOADED_MODULES_PRELOAD],
                    env: { ...process.env, CI_PLATFORM_LOADED_MODULES: record },
                });
                return { out, loaded: JSON.parse(readFileSync(record, "utf8")) as string[] };
            }),
        );
        runs.forEach(({ out, loaded }, i) => {
            const name = scripts[i][0];
            assert.equal(out.code, 2, `${name}: ${out.stderr}`);
            assert.match(out.stderr, new RegExp(`^${name}: unknown option --no-such-flag`), name);
            assert.match(out.stderr, new RegExp(`\\nusage: npm run ${name} -- `), name);
            assert.doesNotMatch(out.stderr, /\n\s+at /, `${name}: no stack trace`);
            // The record is the process's own: it loaded the script.
            assert.ok(loaded.includes(path.join(ROOT, scripts[i][1])), `${name}: ${loaded.length} modules recorded`);
            const sdks = loaded.filter((f) => /[\\/]node_modules[\\/]@pulumi(verse)?[\\/]/.test(f));
            assert.deepEqual(sdks.slice(0, 3), [], `${name}: answers bad usage without loading the SDKs`);
        });
    });

    it("plan --help says how to make the base JSON of --diff", async () => {
        const out = await planInProcess("--help");
        assert.match(out.stdout, /npm run plan -- --json \S*base\.json.*# the base for --diff/);
    });

    it("a missing file is one line naming it, without ENOENT or a stack trace", async () => {
        const missing = path.join(dir, "missing.json");
        const [diff, config, stack, dr, simulate, bump, verify] = await Promise.all([
            inProcess.plan(["--diff", missing]),
            inProcess.plan(["--config", missing]),
            inProcess.plan(["--stack", "no-such-stack"]),
            inProcess.dr(["--region", "us-east-1", "--config", missing]),
            inProcess.simulate(["--pipeline", "x", "--config", missing]),
            inProcess["images:bump"](["buildkite-test", "--root", dir]),
            inProcess.verify(["--state", missing]),
        ]);
        for (const out of [diff, config, stack, dr, simulate, bump, verify]) {
            assert.notEqual(out.code, 0);
            assert.equal(out.stderr.trimEnd().split("\n").length, 1, out.stderr);
            assert.doesNotMatch(out.stderr, /ENOENT|\n\s+at /);
        }
        assert.match(diff.stderr, /^plan: cannot read --diff \S+missing\.json: no such file; write the base first/);
        assert.match(
            stack.stderr,
            /^plan: no stack file Pulumi\.no-such-stack\.yaml for --stack no-such-stack; stacks here: .*prod/,
        );
        assert.match(bump.stderr, /^images:bump: cannot read \S+versions\.json: no such file/);
        assert.match(
            verify.stderr,
            /^verify: cannot read --state \S+missing\.json: no such file; write it with pulumi/,
        );
    });
});
