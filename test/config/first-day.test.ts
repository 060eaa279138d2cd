import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { NPM_CHECKS } from "../../scripts/test";
import { planInProcess, ROOT } from "../fixtures/cli";

/*
 * Issue 13, "A first day" and "Node": the example stack plans cleanly as it is, and the project runs transpile-only
 * on Node 22 with `npm run typecheck` as the type gate.
 */

const EXAMPLE = path.join(ROOT, "examples", "Pulumi.example.yaml");

describe("the example stack", () => {
    it("plans with exit 0: one pipeline, one fleet, one region, no secrets, only the signing-unset warning", async () => {
        const out = await planInProcess(...["--config", EXAMPLE]);
        assert.equal(out.code, 0, out.stderr);
        // It has no signing keys on the first day: one advisory warning says so, and how to set them (README).
        assert.match(
            out.stdout,
            /\nPolicy pack ci-platform: 1 violation\(s\):\n {2}\[advisory\/medium\] signing-unset /,
        );
        const config = (parse(readFileSync(EXAMPLE, "utf8")) as { config: Record<string, unknown> }).config;
        const list = (key: string) => config[`ci-platform:${key}`] as Record<string, unknown>[];
        assert.equal(list("pipelines").length, 1);
        assert.equal(list("fleets").length, 1);
        assert.deepEqual([...new Set(list("fleets").map((f) => f.region))], [config["ci-platform:homeRegion"]]);
        assert.equal(config["ci-platform:secrets"], undefined);
        assert.doesNotMatch(readFileSync(EXAMPLE, "utf8"), /secure:/);
    });
});

describe("the Pulumi project runs transpile-only on Node 22", () => {
    const project = parse(readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as {
        runtime: { name: string; options: Record<string, unknown> };
    };
    const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
        engines: { node: string };
        scripts: Record<string, string>;
        devDependencies: Record<string, string>;
    };

    it("loads index.ts with tsx and without the SDK's type-checking ts-node", () => {
        assert.equal(project.runtime.name, "nodejs");
        assert.equal(project.runtime.options.typescript, false, "the SDK's ts-node type-checks every preview");
        assert.match(String(project.runtime.options.nodeargs), /(^| )--import tsx( |$)/);
        assert.ok(pkg.devDependencies.tsx, "tsx is installed by npm ci");
    });

    it("keeps npm run typecheck as the type gate of npm test", () => {
        assert.match(pkg.scripts.typecheck, /^tsc --noEmit\b/);
        // npm test runs the checks beside the test shards (scripts/test.ts --checks).
        assert.match(pkg.scripts.test, /scripts\/test\.ts --checks\b/);
        assert.ok(NPM_CHECKS.includes("typecheck"));
    });

    it("asks for Node 22 or later", () => {
        assert.equal(pkg.engines.node, ">=22");
    });
});
