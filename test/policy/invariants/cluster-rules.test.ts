import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    ARTIFACTS_READ_RULE_TYPE,
    TRIGGER_RULE_TYPE,
    crossClusterEdges,
    crossClusterTriggerRules,
} from "../../../policy/invariants/cluster-rules";
import { readPlatform } from "../../../policy/platform";
import type { PlanResource } from "../../../policy/resource";
import { type Editable, named, prodResources, without } from "./plan-resources";

const check = (resources: readonly PlanResource[]) => crossClusterTriggerRules.check(resources, { requiredTags: [] });
const RULE = "buildkite:Organization/rule:Rule";
const rule = (resources: Editable[], type: string) => {
    const found = resources.find((r) => r.type === RULE && r.inputs.type === type);
    assert.ok(found, type);
    return found;
};

describe("crossClusterEdges", () => {
    it("finds the prod plan's one trigger across clusters, from the uploaded trigger steps", async () => {
        const edges = crossClusterEdges(readPlatform(await prodResources()));
        assert.deepEqual(
            edges.map((e) => [e.parent.slug, e.parent.cluster, e.child.slug, e.child.cluster]),
            [["kolibri-python-package", "default", "kolibri-installer-macos", "macos"]],
        );
    });
});

describe("invariant cross-cluster-trigger-rules", () => {
    it("is mandatory", () => assert.equal(crossClusterTriggerRules.enforcementLevel, "mandatory"));

    it("passes the prod plan: the trigger rule and the macOS child's artifacts-read rule", async () => {
        assert.deepEqual(check(await prodResources()), []);
    });

    it("fails a cross-cluster trigger without the artifacts-read rule (the prod plan before the fix)", async () => {
        const resources = await prodResources();
        const findings = check(without(resources, (r) => r.inputs.type === ARTIFACTS_READ_RULE_TYPE));
        assert.equal(findings.length, 1);
        assert.equal(findings[0].urn, named(resources, "kolibri-installer-macos-pipeline").urn);
        assert.match(
            findings[0].message,
            /"kolibri-python-package" \(cluster default\) triggers "kolibri-installer-macos" \(cluster macos\), but no pipeline\.artifacts_read\.pipeline rule lets "kolibri-installer-macos" read the artifacts of "kolibri-python-package"/,
        );
    });

    it("fails a cross-cluster trigger without the trigger rule", async () => {
        const resources = await prodResources();
        const findings = check(without(resources, (r) => r.inputs.type === TRIGGER_RULE_TYPE));
        assert.equal(findings.length, 1);
        assert.equal(findings[0].urn, named(resources, "kolibri-python-package-pipeline").urn);
        assert.match(findings[0].message, /no pipeline\.trigger_build\.pipeline rule allows it/);
    });

    it("fails an artifacts-read rule that names the pair in the trigger's direction", async () => {
        const resources = await prodResources();
        const reads = rule(resources, ARTIFACTS_READ_RULE_TYPE);
        reads.inputs.value = rule(resources, TRIGGER_RULE_TYPE).inputs.value;
        assert.match(check(resources)[0]?.message ?? "", /does not name the pair opposite to the trigger rule/);
    });

    it("reads rules that name pipelines by slug, and their direction", async () => {
        const resources = await prodResources();
        for (const r of resources.filter((x) => x.type === RULE)) r.dependsOn = [];
        const [parent, child] = ["kolibri-python-package", "kolibri-installer-macos"];
        rule(resources, TRIGGER_RULE_TYPE).inputs.value = JSON.stringify({
            source_pipeline: parent,
            target_pipeline: child,
        });
        const reads = rule(resources, ARTIFACTS_READ_RULE_TYPE);
        reads.inputs.value = JSON.stringify({ source_pipeline: child, target_pipeline: parent });
        assert.deepEqual(check(resources), []);
        reads.inputs.value = JSON.stringify({ source_pipeline: parent, target_pipeline: child });
        assert.match(check(resources)[0]?.message ?? "", /no pipeline\.artifacts_read\.pipeline rule lets/);
    });

    it("does not count a rule built from other pipelines", async () => {
        const resources = await prodResources();
        const other = named(resources, "dagster-pipeline").urn;
        rule(resources, ARTIFACTS_READ_RULE_TYPE).dependsOn = [other];
        assert.equal(check(resources).length, 1);
    });
});
