import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";

/*
 * The plan CLI shows the generated steps: each pipeline's steps in brief after the tree, and the trigger graph as a
 * Mermaid diagram in the markdown a pull request comment shows.
 */

const ROOT = path.resolve(__dirname, "../..");

describe("npm run plan: steps and trigger graph", () => {
    it("prints a Steps section and writes the Mermaid trigger graph to --markdown", () => {
        const out = path.join(mkdtempSync(path.join(tmpdir(), "plan-")), "plan.md");
        const stdout = execFileSync(
            process.execPath,
            ["--import", "tsx", path.join(ROOT, "scripts/plan.ts"), "--stack", "prod", "--markdown", out],
            { cwd: ROOT, encoding: "utf8" },
        );
        const steps = stdout.slice(stdout.indexOf("\nSteps:\n"));
        assert.ok(steps.length > 0, "no Steps section");
        assert.match(
            steps,
            /\n {2}kolibri-python-package: upload → wait → triggers \{ trigger kolibri-installer-debian/,
        );
        assert.match(steps, /\n {2}kolibri-installer-macos: block \[triggered by a non-release build\] → upload\n/);
        assert.match(steps, /\n {2}dagster: packages-all \[default branch or tag\] \{ package-dagster-shared/);

        const markdown = readFileSync(out, "utf8");
        const block = /### Trigger graph\n\n```mermaid\n([\s\S]*?)\n```/.exec(markdown);
        assert.ok(block, "no Mermaid trigger graph in the markdown");
        assert.match(block[1], /^flowchart LR\n/);
        assert.match(
            block[1],
            /p_kolibri_python_package -->\|"macos-build · cross-cluster rule"\| p_kolibri_installer_macos/,
        );
        assert.match(
            block[1],
            /p_kolibri_python_package -->\|"raspbian-image · after deb-build"\| p_kolibri_raspbian_image/,
        );
    });
});
