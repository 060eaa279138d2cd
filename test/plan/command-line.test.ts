import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { PLAN_COMMAND_LINE } from "../../scripts/plan/command-line";

const ROOT = path.resolve(__dirname, "../..");

/**
 * Preloaded into a plan process: prints, on stderr, whether source maps were on when scripts/plan.ts required `./cli`,
 * one of its own modules, imported after ./plan/command-line.
 */
const PROBE = [
    'const Module = require("node:module");',
    "const load = Module._load;",
    "Module._load = function (request, ...rest) {",
    '    if (request === "./cli") process.stderr.write(`maps when ./cli loads: ${process.sourceMapsEnabled}\\n`);',
    "    return load.call(this, request, ...rest);",
    "};",
].join("\n");

/** `npm run plan -- --help` as package.json starts it, with the probe and `env`: what the probe saw. */
function mapsWhenPlanLoads(env: Record<string, string> = {}): string {
    const dir = mkdtempSync(path.join(tmpdir(), "plan-maps-"));
    try {
        const probe = path.join(dir, "probe.cjs");
        writeFileSync(probe, PROBE);
        const run = spawnSync(process.execPath, ["--import", "tsx", "--require", probe, "scripts/plan.ts", "--help"], {
            cwd: ROOT,
            encoding: "utf8",
            env: { ...process.env, CI_PLATFORM_PLAN_STACK_TRACES: "", ...env },
        });
        assert.equal(run.status, 0, run.stderr);
        return /maps when \.\/cli loads: (\w+)/.exec(run.stderr)?.[1] ?? "(not seen)";
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

describe("the plan's command line and source maps", () => {
    it("turns them off before the plan's own modules load", () => {
        assert.equal(mapsWhenPlanLoads(), "false");
    });

    it("keeps them with CI_PLATFORM_PLAN_STACK_TRACES=1", () => {
        assert.equal(mapsWhenPlanLoads({ CI_PLATFORM_PLAN_STACK_TRACES: "1" }), "true");
    });

    it("leaves them alone in a process that imports the plan (a test)", () => {
        assert.equal(PLAN_COMMAND_LINE, false);
    });
});
