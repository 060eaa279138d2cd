/** shellcheck over every script in hooks/, and over the rendered bootstrap script. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { buildHooksBundle, readHookSources, renderBootstrapScript } from "../../components/hooks/bundle";
import { ALLOWLIST, FLEET, HOOKS_DIR, REGION } from "./harness";

const scripts = readHookSources(HOOKS_DIR).filter((f) => f.content.startsWith("#!/bin/bash"));

describe("shellcheck", () => {
    it("finds the scripts", () => {
        const names = scripts.map((f) => f.path);
        for (const expected of [
            "bootstrap.sh",
            "environment",
            "pre-bootstrap",
            "pre-command",
            "pre-exit",
            "lib/s3.bash",
        ]) {
            assert.ok(names.includes(expected), `${expected} is not checked`);
        }
    });

    for (const script of scripts) {
        it(`passes on hooks/${script.path}`, () => {
            const result = spawnSync("shellcheck", ["--external-sources", "--shell=bash", script.path], {
                cwd: HOOKS_DIR,
                encoding: "utf8",
            });
            assert.equal(result.error, undefined, "shellcheck must be installed");
            assert.equal(result.stdout + result.stderr, "");
            assert.equal(result.status, 0);
        });
    }

    it("passes on the rendered bootstrap script", () => {
        const hookFiles = readHookSources(HOOKS_DIR);
        const bundle = buildHooksBundle({ hookFiles });
        const rendered = renderBootstrapScript({
            hookFiles,
            bucket: "secrets",
            region: REGION,
            bundleHash: bundle.hash,
            fleet: FLEET,
            allowlist: ALLOWLIST,
        });
        const result = spawnSync("shellcheck", ["--shell=bash", "-"], { input: rendered.content, encoding: "utf8" });
        assert.equal(result.stdout + result.stderr, "");
        assert.equal(result.status, 0);
    });
});
