import assert from "node:assert/strict";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { formatIssue } from "../components/config";
import type { PlatformConfig } from "../components/config/schema";
import { parsePlatformConfig } from "../components/platform-config";
import { providerPlan } from "../components/providers";
import { reviewableSteps } from "../components/steps/stored-upload";
import { rawPlatformConfig } from "../scripts/plan/run";
import { STACK_TYPE, type PlanDocument, type PlanResource } from "../scripts/plan/model";
import { readStackFile } from "../scripts/plan/stack-file";
import { ROOT } from "./fixtures/cli";
import { cachedPlan } from "./fixtures/plans";

/*
 * The program's entry (index.ts), through what it declares for the prod stack: the offline plan of Pulumi.prod.yaml
 * (built once per process, test/fixtures/plans.ts), read against the prod config itself, so nothing here is a
 * hard-coded count.
 */
let plan: PlanDocument;
let config: PlatformConfig;
const ofType = (type: string): PlanResource[] => plan.resources.filter((r) => r.type === type);

before(async () => {
    plan = await cachedPlan({ stack: "prod" });
    const parsed = parsePlatformConfig(rawPlatformConfig(readStackFile(path.join(ROOT, "Pulumi.prod.yaml"))));
    assert.ok(parsed.ok, parsed.ok ? "" : parsed.error.map(formatIssue).join("\n"));
    config = parsed.value;
});

describe("index.ts, the program", () => {
    it("declares only components at the stack's top level, and every other resource inside one", () => {
        const stack = ofType(STACK_TYPE);
        assert.equal(stack.length, 1);
        for (const r of plan.resources) {
            if (r.type === STACK_TYPE) continue;
            assert.ok(r.parent !== null, `${r.urn} has no parent`);
            if (r.parent === stack[0].urn) assert.ok(r.type.startsWith("ci-platform:"), `${r.urn} is not a component`);
        }
    });

    it("takes every provider from the one registry the config plans (components/providers.ts providerPlan)", () => {
        const expected = providerPlan(config);
        const registry = ofType("ci-platform:providers:Providers");
        assert.equal(registry.length, 1);
        const providers = plan.resources.filter((r) => r.type.startsWith("pulumi:providers:"));
        for (const p of providers) assert.equal(p.parent, registry[0].urn, p.urn);
        assert.deepEqual(
            ofType("pulumi:providers:aws")
                .map((p) => p.inputs.region)
                .sort(),
            [...expected.awsRegions].sort(),
        );
        assert.equal(ofType("pulumi:providers:github").length, expected.githubOwners.length);
        assert.deepEqual(
            ofType("pulumi:providers:buildkite").map((p) => p.inputs.organization),
            [config.organization],
        );
    });

    it("declares the organisation, one pipeline component per configured pipeline, and the trigger rules", () => {
        assert.deepEqual(
            ofType("ci-platform:buildkite:Organization").map((r) => r.name),
            [config.organization],
        );
        assert.deepEqual(
            ofType("ci-platform:buildkite:Pipeline")
                .map((r) => r.name)
                .sort(),
            config.pipelines.map((p) => p.slug).sort(),
        );
        const pipelines = ofType("buildkite:Pipeline/pipeline:Pipeline");
        assert.deepEqual(pipelines.map((p) => p.inputs.slug).sort(), config.pipelines.map((p) => p.slug).sort());
        assert.deepEqual(
            ofType("ci-platform:buildkite:TriggerRules").map((r) => r.name),
            [`${config.organization}-trigger-rules`],
        );
    });

    it("declares one fleet component per configured fleet, and the deploy roles when the config has some", () => {
        assert.deepEqual(
            ofType("ci-platform:agents:Fleet")
                .map((r) => r.name)
                .sort(),
            config.fleets.map((f) => f.name).sort(),
        );
        assert.ok(config.deployRoles.length > 0, "the prod config declares deploy roles");
        const [roles, ...more] = ofType("ci-platform:access:DeployRoles");
        assert.deepEqual(more, []);
        const roleNames = plan.resources
            .filter((r) => r.parent === roles.urn && r.type === "aws:iam/role:Role")
            .map((r) => r.inputs.name);
        for (const role of config.deployRoles) assert.ok(roleNames.includes(role.name), role.name);
    });

    it("makes each pipeline wait for the push of every platform image tag its stored steps name (decoded when one stored step uploads them)", () => {
        const pushes = ofType("docker:index/image:Image");
        let checked = 0;
        for (const pipeline of ofType("buildkite:Pipeline/pipeline:Pipeline")) {
            const steps = typeof pipeline.inputs.steps === "string" ? reviewableSteps(pipeline.inputs.steps) : "";
            for (const [, reference] of steps.matchAll(/\/(ci-platform\/[a-z0-9._/-]+:[A-Za-z0-9._-]+)/g)) {
                const waited = pushes.filter(
                    (p) => pipeline.dependsOn.includes(p.urn) && String(p.inputs.imageName).endsWith(`/${reference}`),
                );
                assert.ok(waited.length > 0, `${pipeline.name} does not wait for a push of ${reference}`);
                checked++;
            }
        }
        assert.ok(checked > 0, "no pipeline of the prod plan names a platform image");
    });
});
