import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { repositoryOwner, repositoryOwnersPerCluster } from "../../../policy/invariants/repository-owners";
import type { PlanResource } from "../../../policy/resource";
import { RULES } from "../../../policy/rules";
import { type Editable, named, prodResources } from "./plan-resources";

const check = (resources: readonly PlanResource[]) => repositoryOwnersPerCluster.check(resources, { requiredTags: [] });
const CLUSTER = "buildkite:Cluster/cluster:Cluster";
const PIPELINE = "buildkite:Pipeline/pipeline:Pipeline";

/** Moves pipeline `slug` into the cluster named `cluster`, as the program would declare it (its dependency). */
function moveTo(resources: Editable[], slug: string, cluster: string): Editable[] {
    const target = resources.find((r) => r.type === CLUSTER && r.inputs.name === cluster);
    assert.ok(target, `no cluster ${cluster}`);
    const pipeline = named(resources, `${slug}-pipeline`, PIPELINE);
    const clusters = new Set(resources.filter((r) => r.type === CLUSTER).map((r) => r.urn));
    pipeline.dependsOn = [...(pipeline.dependsOn ?? []).filter((urn) => !clusters.has(urn)), target.urn];
    return resources;
}

describe("repositoryOwner", () => {
    it("reads host and owner from every URL form, case-insensitively", () => {
        assert.equal(repositoryOwner("https://github.com/Dagster-IO/dagster.git"), "github.com/dagster-io");
        assert.equal(repositoryOwner("git@github.com:dagster-io/dagster.git"), "github.com/dagster-io");
        assert.equal(repositoryOwner("ssh://git@github.com:22/dagster-io/dagster"), "github.com/dagster-io");
        assert.equal(
            repositoryOwner("https://user@github.com/learningequality/kolibri"),
            "github.com/learningequality",
        );
        assert.equal(repositoryOwner("learningequality/kolibri"), "github.com/learningequality");
        // The same owner name on another host is another owner.
        assert.equal(repositoryOwner("https://gitlab.com/learningequality/kolibri.git"), "gitlab.com/learningequality");
        assert.equal(repositoryOwner("[secret]"), undefined);
        assert.equal(repositoryOwner(""), undefined);
    });
});

describe("invariant repository-owners-per-cluster", () => {
    it("is advisory and in the pack", () => {
        assert.equal(repositoryOwnersPerCluster.enforcementLevel, "advisory");
        assert.ok(RULES.includes(repositoryOwnersPerCluster));
    });

    it("passes the prod plan: dagster-io's pipeline has a cluster of its own", async () => {
        const resources = await prodResources();
        assert.deepEqual(check(resources), []);
        const dagster = named(resources, "dagster-pipeline", PIPELINE);
        const cluster = resources.find((r) => r.type === CLUSTER && dagster.dependsOn?.includes(r.urn));
        assert.equal(cluster?.inputs.name, "dagster");
    });

    it("warns about a cluster with pipelines of two owners, naming the owners and their pipelines", async () => {
        const resources = moveTo(await prodResources(), "dagster", "default");
        const findings = check(resources);
        assert.equal(findings.length, 1);
        const cluster = resources.find((r) => r.type === CLUSTER && r.inputs.name === "default");
        assert.equal(findings[0].urn, cluster?.urn);
        assert.match(findings[0].message, /^Cluster "default" runs pipelines of 2 repository owners: /);
        assert.match(findings[0].message, /github\.com\/dagster-io \(dagster\)/);
        assert.match(
            findings[0].message,
            /github\.com\/learningequality \(kolibri-installer-android, kolibri-installer-debian, kolibri-installer-windows, kolibri-python-package, kolibri-raspbian-image\)/,
        );
        assert.match(findings[0].message, /Fix: give each owner's pipelines a cluster of their own/);
    });

    it("warns about an owner spelled differently only when it is another owner", async () => {
        const resources = await prodResources();
        const ci = named(resources, "ci-platform-pipeline", PIPELINE);
        ci.inputs.repository = "git@github.com:LearningEquality/ci-platform.git";
        assert.deepEqual(check(resources), [], "GitHub owners are case-insensitive");
        ci.inputs.repository = "https://github.com/someone-else/ci-platform.git";
        assert.equal(check(moveTo(resources, "ci-platform", "platform")).length, 0, "alone in its cluster");
        moveTo(resources, "ci-platform", "default");
        assert.equal(check(resources).length, 1);
        assert.match(check(resources)[0].message, /github\.com\/someone-else \(ci-platform\)/);
    });
});
