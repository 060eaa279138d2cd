import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pipelineOfKey, secretsBucketOneCluster } from "../../../policy/invariants/secrets-cluster";
import { variablesFor } from "../../../policy/invariants/secrets";
import { bucketOf, fleetsOfPipeline, readPlatform } from "../../../policy/platform";
import type { PlanResource } from "../../../policy/resource";
import { RULES } from "../../../policy/rules";
import { copyObject, type Editable, named, prodResources, secretObject } from "./plan-resources";

const check = (resources: readonly PlanResource[]) => secretsBucketOneCluster.check(resources, { requiredTags: [] });
const BUCKET = "aws:s3/bucket:Bucket";
const DEPLOY_TOKENS = ["PULUMI_ACCESS_TOKEN", "BUILDKITE_API_TOKEN", "GITHUB_TOKEN"];

/** Points every AWS child of fleet `fleet` at the bucket resource of SecretsBucket `to` instead of its own. */
function readFrom(resources: Editable[], fleet: string, to: string): Editable[] {
    const target = named(resources, `${to}-bucket`, BUCKET).urn;
    const fleetUrn = named(resources, fleet, "ci-platform:agents:Fleet").urn;
    for (const r of resources)
        if (r.parent === fleetUrn && r.dependsOn)
            r.dependsOn = r.dependsOn.map((urn) => (urn.includes("$aws:s3/bucket:Bucket::") ? target : urn));
    return resources;
}

describe("pipelineOfKey", () => {
    it("is the first segment of a pipeline's object, nothing for the root or ci-platform's own objects", () => {
        assert.equal(pipelineOfKey("ci-platform-deploy/env"), "ci-platform-deploy");
        assert.equal(pipelineOfKey("kolibri/secret-files/A_TOKEN"), "kolibri");
        assert.equal(pipelineOfKey("env"), undefined);
        assert.equal(pipelineOfKey("git-credentials"), undefined);
        assert.equal(pipelineOfKey("_ci-platform/hooks/abc/hooks/environment"), undefined);
    });
});

describe("invariant secrets-bucket-one-cluster", () => {
    it("is mandatory and in the pack", () => {
        assert.equal(secretsBucketOneCluster.enforcementLevel, "mandatory");
        assert.ok(RULES.includes(secretsBucketOneCluster));
    });

    it("passes the prod plan: one bucket per region and cluster, each fleet reading its own cluster's", async () => {
        const resources = await prodResources();
        assert.deepEqual(check(resources), []);
        const platform = readPlatform(resources);
        for (const fleet of platform.fleets.filter((f) => f.kind === "aws")) {
            const bucket = bucketOf(platform, fleet);
            assert.ok(bucket, `${fleet.name} reads a bucket`);
            assert.equal(fleet.secretsBuckets.length, 1, `${fleet.name} reads one bucket`);
            assert.equal(bucket.cluster, fleet.cluster, `${fleet.name} reads its own cluster's bucket`);
        }
    });

    it("on the prod plan, no deploy token reaches a job of ci-platform, which builds pull requests", async () => {
        const platform = readPlatform(await prodResources());
        const own = platform.pipelines.find((p) => p.slug === "ci-platform");
        assert.ok(own);
        const fleets = fleetsOfPipeline(platform, own);
        assert.ok(fleets.length > 0);
        for (const fleet of fleets) {
            const bucket = bucketOf(platform, fleet);
            const exported: string[] = [...variablesFor(bucket, own.slug)];
            assert.deepEqual(
                exported.filter((n) => DEPLOY_TOKENS.includes(n)),
                [],
                fleet.name,
            );
            // Not merely unexported: no object of the bucket it can read holds them.
            for (const [key] of bucket?.objects ?? []) assert.ok(!key.startsWith("ci-platform-deploy/"), key);
        }
        // The deploy pipeline does get them, on its own fleet.
        const deploy = platform.pipelines.find((p) => p.slug === "ci-platform-deploy");
        assert.ok(deploy);
        for (const fleet of fleetsOfPipeline(platform, deploy)) {
            const exported = variablesFor(bucketOf(platform, fleet), deploy.slug);
            for (const name of DEPLOY_TOKENS) assert.ok(exported.has(name), `${fleet.name} gets ${name}`);
        }
    });

    it("fails the deploy pipeline's secrets in a bucket a fleet of cluster default reads", async () => {
        const resources = await prodResources();
        const template = secretObject(resources, "us-east-1", "git-credentials");
        resources.push(copyObject(template, "us-east-1", "ci-platform-deploy/env"));
        const findings = check(resources);
        assert.equal(findings.length, 1);
        assert.match(
            findings[0].message,
            /secrets-us-east-1 \(us-east-1\) of cluster "default" holds ci-platform-deploy\/env of pipeline "ci-platform-deploy", which is in cluster "deploy"/,
        );
        assert.match(findings[0].message, /"linux-us-east-1"/);
        assert.match(findings[0].urn, /::secrets-us-east-1-secret-ci-platform-deploy\/env$/);
    });

    it("fails a bucket that fleets of two clusters read (one bucket per region, as before)", async () => {
        const resources = readFrom(await prodResources(), "deploy-us-east-1", "secrets-us-east-1");
        const findings = check(resources);
        assert.ok(findings.length >= 1);
        assert.match(findings[0].message, /secrets-us-east-1 \(us-east-1\) is read by fleets of 2 clusters/);
        assert.match(findings[0].message, /"deploy-us-east-1" of deploy/);
    });

    it("fails a cluster's bucket read by another cluster's fleet alone", async () => {
        const resources = readFrom(await prodResources(), "platform-us-east-1", "secrets-deploy-us-east-1");
        // The deploy fleet reads the platform bucket instead, so each bucket has one reader cluster, the wrong one.
        readFrom(resources, "deploy-us-east-1", "secrets-platform-us-east-1");
        const messages = check(resources).map((f) => f.message);
        assert.ok(
            messages.some((m) =>
                /belongs to cluster "deploy" but is read by fleets "platform-us-east-1" of cluster "platform"/.test(m),
            ),
            messages.join("\n"),
        );
    });
});

describe("the prod plan's deploy pipeline", () => {
    it("builds main only: no pull request, fork or tag builds, no cancelled deploys, the platform team alone", async () => {
        const resources = await prodResources();
        const deploy = named(resources, "ci-platform-deploy-pipeline", "buildkite:Pipeline/pipeline:Pipeline");
        assert.equal(deploy.inputs.branchConfiguration, "main");
        const settings = deploy.inputs.providerSettings as Record<string, unknown>;
        assert.equal(settings.buildPullRequests, false);
        assert.equal(settings.buildPullRequestForks, false);
        assert.equal(settings.buildTags, false);
        assert.equal(deploy.inputs.cancelIntermediateBuilds, false, "a push never cancels a running pulumi up");
        assert.match(String(deploy.inputs.defaultTeamId), /team-platform/);
        assert.deepEqual(
            resources.filter((r) => r.parent === deploy.parent && r.type === "buildkite:Pipeline/team:Team"),
            [],
            "no other team has access",
        );
        const schedules = resources.filter((r) => r.type === "buildkite:Pipeline/schedule:Schedule");
        const drift = schedules.filter((r) => /drift/.test(r.name));
        assert.deepEqual(
            drift.map((r) => [r.name, r.inputs.branch]),
            [["ci-platform-deploy-schedule-drift-detection", "main"]],
        );
        // The pipeline that builds pull requests gets one secrets object: its own read-only checkout credential, in
        // its cluster's bucket, which holds nothing else (no organisation secret, no token).
        const platformBucket =
            "urn:pulumi:prod::ci-platform::ci-platform:agents:SecretsBucket::secrets-platform-us-east-1";
        assert.deepEqual(
            resources
                .filter(
                    (r) =>
                        typeof r.inputs.key === "string" &&
                        (r.inputs.key.startsWith("ci-platform/") || r.parent === platformBucket),
                )
                .filter((r) => !String(r.inputs.key).startsWith("_ci-platform/"))
                .map((r) => `${r.name}: ${String(r.inputs.key)}`),
            ["secrets-platform-us-east-1-secret-ci-platform/git-credentials: ci-platform/git-credentials"],
        );
    });
});
