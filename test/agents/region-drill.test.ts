import * as pulumi from "@pulumi/pulumi";
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type * as agentsModule from "../../components/agents";
import type { PlatformConfig } from "../../components/config/schema";
import { FAKE_BUNDLE, fleetProviders, mustParse, prodRawConfig } from "./fixtures";
import { installMocks, Registered } from "./mocks";

/*
 * The recovery drill, at the level of the agents module: declare the prod config, the prod config without one
 * region's fleets, and the prod config with those fleets moved to a new region; compare what each declares. (What
 * `npm run dr` names is derived from the plan and checked against the plan: test/plan/dr-scope.test.ts.)
 */

const { registered, phase, settle, install } = installMocks();
const raw = prodRawConfig();
const full = mustParse(raw);
const fleetsOf = (r: Record<string, unknown>) => r.fleets as Record<string, unknown>[];
// Without the region's fleets, the pipelines that ran on its queues run on the home region's queue instead (dagster,
// whose cluster has fleets in eu-west-1 only, in the default cluster).
const without = mustParse({
    ...raw,
    fleets: fleetsOf(raw).filter((f) => f.region !== "eu-west-1"),
    pipelines: (raw.pipelines as Record<string, unknown>[]).map((p) =>
        p.queue === "default-eu-west-1"
            ? { ...p, queue: "default" }
            : p.cluster === "dagster"
              ? { ...p, cluster: "default", queue: "default" }
              : p,
    ),
});
const moved = mustParse({
    ...raw,
    fleets: fleetsOf(raw).map((f) =>
        f.region === "eu-west-1"
            ? { ...f, name: String(f.name).replace("eu-west-1", "eu-central-1"), region: "eu-central-1" }
            : f,
    ),
});
const byPhase = (p: string) => new Map(registered.filter((r) => r.phase === p).map((r) => [r.urn, r]));
let declared: Map<string, Map<string, Registered>>;

before(async () => {
    install();
    const agents: typeof agentsModule = await import("../../components/agents");
    const declare = async (name: string, config: PlatformConfig) => {
        phase.value = name;
        agents.declareFleets({
            config,
            secretValues: pulumi.secret(config.secrets),
            clusterIds: {
                default: "cluster-default-id",
                macos: "cluster-macos-id",
                platform: "cluster-platform-id",
                deploy: "cluster-deploy-id",
                dagster: "cluster-dagster-id",
            },
            hooksBundle: FAKE_BUNDLE,
            providers: await fleetProviders(config),
            renderBootstrap: (req) => ({
                key: `_ci-platform/bootstrap/${req.fleet.name}.sh`,
                content: "#!/bin/bash\n",
            }),
        });
        await settle();
    };
    await declare("full", full);
    await declare("without", without);
    await declare("moved", moved);
    declared = new Map(["full", "without", "moved"].map((p) => [p, byPhase(p)]));
});

const get = (p: string) => declared.get(p) ?? new Map<string, Registered>();

describe("recovery drill", () => {
    it("removing a region's fleets touches only that region's resources, besides the re-pointed pipelines' secrets", () => {
        const stay = [...get("without").keys()];
        // A pipeline re-pointed to the home region's queue needs its secrets in that region's bucket: they follow it.
        const followed = stay.filter((urn) => !get("full").has(urn));
        assert.deepEqual(
            followed.map((urn) => urn.split("::").pop()),
            ["secrets-us-east-1-secret-dagster/private_ssh_key", "secrets-us-east-1-secret-dagster/env"],
        );
        // ...and so does the grant to read them: the policy of the fleet that now serves dagster's queue reads
        // dagster's prefix too, and nothing else changes.
        const grantFollows = (policy: unknown) => String(policy).replace(/,"[^"]*dagster\/(\*|secret-files)"/g, "");
        for (const urn of stay.filter((u) => !followed.includes(u))) {
            const before = get("full").get(urn);
            assert.ok(before, `${urn} is new`);
            const after = get("without").get(urn);
            if (urn.endsWith("::linux-us-east-1-allowlist")) {
                // The fleet that now serves dagster's queue admits its jobs: its allow-list object gains the line.
                assert.equal(after?.inputs.key, before.inputs.key, "updated in place");
                assert.ok(String(after?.inputs.content).includes("\ndagster "));
                continue;
            }
            if (urn.endsWith("::linux-us-east-1-policy")) {
                assert.notEqual(after?.inputs.policy, before.inputs.policy, "the re-pointed pipeline's grant");
                assert.ok(String(after?.inputs.policy).includes("dagster/*"));
                assert.equal(grantFollows(after?.inputs.policy), before.inputs.policy, urn);
                continue;
            }
            assert.deepEqual(after?.inputs, before.inputs, urn);
        }
        const removed = [...get("full").values()].filter((r) => !get("without").has(r.urn));
        assert.ok(removed.length > 0);
        // Queue dagster is served by an eu-west-1 fleet only, so it goes with the region's fleets.
        for (const r of removed)
            assert.ok(
                r.name.includes("eu-west-1") || r.parent.includes("eu-west-1") || r.name === "queue-dagster/dagster",
                `${r.urn} is not an eu-west-1 resource`,
            );
    });

    it("every secrets bucket removed goes whole: nothing of it protected or retained, the bucket emptied first", () => {
        const removed = [...get("full").values()].filter((r) => !get("without").has(r.urn));
        const stateful = removed.filter((r) => r.type === "aws:s3/bucket:Bucket" || r.type === "aws:kms/key:Key");
        // The region's two buckets (clusters default and dagster), each with its secrets key and agent-token key.
        assert.equal(stateful.length, 6);
        // Nothing kept but the hooks bundle and bootstrap scripts, objects of a bucket that empties itself, and the
        // fleets' signing key-set parameters (a rollback of a rotation boots with the old path: agent-fleet.ts), which
        // the README's region removal deletes by hand.
        const rollbackTarget = (r: { type: string; name: string }) =>
            (r.type === "aws:s3/bucketObjectv2:BucketObjectv2" &&
                (r.name.includes("-hook-") || r.name.endsWith("-bootstrap"))) ||
            (r.type === "aws:ssm/parameter:Parameter" && /-(signing|verification)-jwks$/.test(r.name));
        for (const r of removed) assert.ok(!r.protect && (!r.retainOnDelete || rollbackTarget(r)), r.urn);
        for (const r of stateful.filter((b) => b.type === "aws:s3/bucket:Bucket"))
            assert.equal(r.inputs.forceDestroy, true, r.urn);
    });

    it("moving the fleets to a new region creates everything a fleet needs there, secrets included", () => {
        const created = [...get("moved").values()].filter((r) => !get("full").has(r.urn));
        // The moved fleets keep their queues: they already exist.
        const queues = ["queue-default/default-eu-west-1", "queue-dagster/dagster"].map(
            (name) => `urn:pulumi:prod::ci-platform::buildkite:Cluster/clusterQueue:ClusterQueue::${name}`,
        );
        for (const queue of queues) assert.ok(get("full").has(queue), queue);
        for (const r of created)
            assert.ok(
                r.name.includes("eu-central-1") || r.parent.includes("eu-central-1"),
                `${r.urn} is not of eu-central-1`,
            );
        const types = new Set(created.map((r) => r.type));
        for (const t of [
            "aws:cloudformation/stack:Stack",
            "aws:ssm/parameter:Parameter",
            "aws:iam/policy:Policy",
            "aws:s3/bucket:Bucket",
            "aws:kms/key:Key",
            "buildkite:Cluster/clusterAgentToken:ClusterAgentToken",
        ])
            assert.ok(types.has(t), t);
        const secretKeys = created
            .filter((r) => r.type === "aws:s3/bucketObjectv2:BucketObjectv2" && r.name.includes("-secret-"))
            .map((r) => r.inputs.key);
        // The moved fleets serve dagster (its own cluster's bucket: its deploy key, no organisation secrets) and queue
        // default-eu-west-1 (the default cluster's bucket: the organisation's git credentials); the other pipelines'
        // secrets stay where they run.
        assert.deepEqual(secretKeys.sort(), ["dagster/env", "dagster/private_ssh_key", "git-credentials"]);
        const provider = created.find((r) => r.type === "pulumi:providers:aws");
        assert.equal(provider?.inputs.region, "eu-central-1");
        for (const r of created.filter((c) => c.type.startsWith("aws:")))
            assert.ok(r.provider.startsWith(`${provider?.urn}::`), r.urn);
    });
});
