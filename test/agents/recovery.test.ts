import * as pulumi from "@pulumi/pulumi";
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type * as agentsModule from "../../components/agents";
import type { PlatformConfig } from "../../components/config/schema";
import { fleetResources, regionResources } from "../../components/agents/recovery";
import { FAKE_BUNDLE, mustParse, prodRawConfig } from "./fixtures";
import { installMocks, Registered } from "./mocks";

/*
 * The recovery drill, at the level of the agents module: declare the prod config, the prod config without one
 * region's fleets, and the prod config with those fleets moved to a new region; compare what each declares.
 */

const { registered, phase, settle } = installMocks();
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
const hookPaths = FAKE_BUNDLE.files.map((f) => f.path);
const byPhase = (p: string) => new Map(registered.filter((r) => r.phase === p).map((r) => [r.urn, r]));
let declared: Map<string, Map<string, Registered>>;

before(async () => {
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

describe("recovery plans name exactly what the components declare", () => {
    it("a region's plan lists every resource that removing the region removes, and nothing else", () => {
        const plan = regionResources(full, "eu-west-1", { stack: "prod", hookPaths });
        const removed = [...get("full").keys()].filter((urn) => !get("without").has(urn)).sort();
        assert.deepEqual(
            plan.resources.map((r) => r.urn),
            removed,
        );
    });

    it("a fleet's plan lists the fleet's own resources", () => {
        const plan = fleetResources(full, "linux-us-east-1", { stack: "prod" });
        const own = [...get("full").values()]
            .filter((r) => r.name === "linux-us-east-1" || r.parent.endsWith("::linux-us-east-1"))
            .map((r) => r.urn)
            .sort();
        assert.deepEqual(
            plan.resources.map((r) => r.urn),
            own,
        );
        assert.deepEqual(plan.retained, []);
        assert.equal(
            plan.recreated.length,
            8,
            "token, parameter, role, policy, its attachment, stack, verification and signing key parameters",
        );
    });

    it("retains exactly the stateful resources the components protect: none of a secrets bucket", () => {
        const plan = regionResources(full, "eu-west-1", { stack: "prod", hookPaths });
        const protectedUrns = plan.resources.filter((r) => get("full").get(r.urn)?.protect).map((r) => r.urn);
        assert.deepEqual(plan.retained, protectedUrns);
        // The buckets of clusters default and dagster in eu-west-1 and their keys are regenerated from config: a
        // rebuild restores them if they are missing (components/agents/secrets-bucket.ts).
        assert.deepEqual(plan.retained, []);
        const restored = plan.resources.filter((r) => r.action === "restore").map((r) => r.name);
        for (const name of ["secrets-eu-west-1-bucket", "secrets-eu-west-1-key", "secrets-dagster-eu-west-1-token-key"])
            assert.ok(restored.includes(name), name);
    });

    it("prints quoted pulumi commands with every URN", () => {
        const plan = fleetResources(full, "linux-us-east-1", { stack: "prod" });
        const stackUrn =
            "urn:pulumi:prod::ci-platform::ci-platform:agents:Fleet$aws:cloudformation/stack:Stack::linux-us-east-1-stack";
        assert.ok(plan.commands.rebuild.startsWith("pulumi up --stack 'prod' --target "));
        assert.ok(plan.commands.rebuild.includes(`--replace '${stackUrn}'`));
        assert.ok(plan.commands.refresh.includes(`--target '${stackUrn}'`));
        assert.ok(
            !plan.commands.rebuild.includes(
                "--replace 'urn:pulumi:prod::ci-platform::ci-platform:agents:Fleet$aws:s3/",
            ),
        );
        const region = regionResources(full, "eu-west-1", { stack: "prod" });
        assert.deepEqual(
            region.commands.unprotect,
            region.retained.map((u) => `pulumi state unprotect --stack 'prod' --yes '${u}'`),
        );
    });

    it("rejects an unknown fleet or region, suggesting the near one", () => {
        assert.throws(
            () => fleetResources(full, "linux-us-east-2", { stack: "prod" }),
            /did you mean "linux-us-east-1"/,
        );
        assert.throws(() => regionResources(full, "eu-west-2", { stack: "prod" }), /did you mean "eu-west-1"/);
    });
});

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
        // Nothing kept but the hooks bundle and bootstrap scripts, objects of a bucket that empties itself.
        const rollbackTarget = (r: { type: string; name: string }) =>
            r.type === "aws:s3/bucketObjectv2:BucketObjectv2" &&
            (r.name.includes("-hook-") || r.name.endsWith("-bootstrap"));
        for (const r of removed) assert.ok(!r.protect && (!r.retainOnDelete || rollbackTarget(r)), r.urn);
        for (const r of stateful.filter((b) => b.type === "aws:s3/bucket:Bucket"))
            assert.equal(r.inputs.forceDestroy, true, r.urn);
    });

    it("moving the fleets to a new region creates everything a fleet needs there, secrets included", () => {
        const created = [...get("moved").values()].filter((r) => !get("full").has(r.urn));
        const plan = regionResources(moved, "eu-central-1", { stack: "prod", hookPaths });
        // The moved fleets keep their queues: they are part of the region's plan, but they already exist.
        const queues = ["queue-default/default-eu-west-1", "queue-dagster/dagster"].map(
            (name) => `urn:pulumi:prod::ci-platform::buildkite:Cluster/clusterQueue:ClusterQueue::${name}`,
        );
        for (const queue of queues) assert.ok(get("full").has(queue), queue);
        assert.deepEqual(
            [...created.map((r) => r.urn), ...queues].sort(),
            plan.resources.map((r) => r.urn),
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
