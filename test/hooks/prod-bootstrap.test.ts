/**
 * The bootstrap scripts of the REAL prod plan: the path production takes (Pulumi.prod.yaml → index.ts → AgentFleet →
 * renderBootstrapScript → the BucketObjectv2 content), not a renderer called with the value in hand. Issue 11 defect
 * 2: the linux-* fleets run 2 agents per instance, and their scripts rendered 1.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { renderedAgentsPerInstance } from "../../policy/invariants/hooks";
import { runPolicies } from "../../policy/offline";
import type { PlanResource } from "../../policy/resource";
import { prodConfig } from "../fixtures/config";
import { runScript } from "../fixtures/cli";

const STACK = "aws:cloudformation/stack:Stack";
const OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2";

describe("the prod plan's bootstrap scripts", { timeout: 180_000 }, () => {
    const dir = mkdtempSync(path.join(tmpdir(), "prod-bootstrap-"));
    let resources: PlanResource[] = [];
    const byName = (type: string, name: string): PlanResource => {
        const found = resources.find((r) => r.type === type && r.name === name);
        assert.ok(found, `the plan has no ${type} named ${name}`);
        return found;
    };

    before(async () => {
        const out = path.join(dir, "plan.json");
        const run = await runScript("scripts/plan.ts", ["--json", out]);
        assert.ok(run.code === 0 || run.code === 3, run.stderr);
        resources = (JSON.parse(readFileSync(out, "utf8")) as { resources: PlanResource[] }).resources;
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("linux-us-east-1 runs 2 agents per instance, and its bootstrap script says 2", () => {
        const stack = byName(STACK, "linux-us-east-1-stack");
        const bootstrap = byName(OBJECT, "linux-us-east-1-bootstrap");
        assert.equal((stack.inputs.parameters as Record<string, unknown>).AgentsPerInstance, "2");
        assert.equal(bootstrap.parent, stack.parent, "both are children of the fleet component");
        const content = bootstrap.inputs.content;
        assert.equal(typeof content, "string");
        assert.equal(renderedAgentsPerInstance(content as string), "2");
        assert.match(content as string, /^readonly CI_PLATFORM_AGENTS_PER_INSTANCE='2'$/m);
    });

    it("every AWS fleet with our hooks renders its config's agentsPerInstance", () => {
        const config = prodConfig();
        const rendered = Object.fromEntries(
            resources
                .filter((r) => r.type === OBJECT && r.parent?.includes("::ci-platform:agents:Fleet::"))
                .map((r) => [
                    r.name.slice(0, -"-bootstrap".length),
                    renderedAgentsPerInstance(String(r.inputs.content)),
                ]),
        );
        const expected = Object.fromEntries(
            config.fleets.flatMap((f) =>
                f.kind === "aws" && f.os !== "windows" ? [[f.name, String(f.agentsPerInstance)]] : [],
            ),
        );
        assert.deepEqual(rendered, expected);
        assert.ok(Object.values(expected).includes("2"), "prod has fleets sharing an instance between agents");
    });

    it("breaks no hooks-agents-per-instance invariant", () => {
        assert.deepEqual(
            runPolicies(resources).filter((v) => v.policy === "hooks-agents-per-instance"),
            [],
        );
    });
});
