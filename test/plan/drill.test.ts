import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { parse, stringify } from "yaml";
import { PlanDiff, diffPlans } from "../../scripts/plan/diff";
import { PlanDocument } from "../../scripts/plan/model";
import { ROOT, runScript } from "../fixtures/cli";

/*
 * Recovery drills on the offline plan of the real program: losing a region's fleets touches only that region, and
 * moving them to another region recreates everything a fleet needs there.
 */
const dir = mkdtempSync(path.join(tmpdir(), "drill-"));
const LOST = "eu-west-1";
const NEW = "eu-central-1";

type Fleet = { name: string; region?: string; queue: string };
type Pipeline = { slug: string; queue?: string };

async function planOf(
    name: string,
    mutate: (fleets: Fleet[]) => Fleet[],
    mutatePipelines: (pipelines: Pipeline[]) => Pipeline[] = (p) => p,
): Promise<PlanDocument> {
    const doc = parse(readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, unknown> };
    doc.config["ci-platform:fleets"] = mutate(doc.config["ci-platform:fleets"] as Fleet[]);
    doc.config["ci-platform:pipelines"] = mutatePipelines(doc.config["ci-platform:pipelines"] as Pipeline[]);
    const file = path.join(dir, `Pulumi.${name}.yaml`);
    writeFileSync(file, stringify(doc));
    const out = path.join(dir, `${name}.json`);
    const result = await runScript("scripts/plan.ts", ["--config", file, "--json", out]);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(readFileSync(out, "utf8")) as PlanDocument;
}

/** Every resource name the diff touches. */
const touched = (d: PlanDiff) =>
    [...d.added, ...d.removed, ...d.replaced, ...d.updated].map((r) => ({ name: r.name, type: r.type }));
/** The image replication follows the fleet regions by design: its destination list is the one shared change. */
const isReplication = (r: { type: string }) =>
    r.type === "aws:ecr/replicationConfiguration:ReplicationConfiguration" ||
    r.type === "ci-platform:images:Replication";

let prod: PlanDocument;
let lost: PlanDiff;
let moved: PlanDiff;
let lostFleets: string[];
/** Pipelines that ran on a queue of the lost region: removing its fleets means pointing them at another queue. */
let repointed: string[];

before(async () => {
    const base = parse(readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8")) as {
        config: Record<string, unknown>;
    };
    const lostFleetConfigs = (base.config["ci-platform:fleets"] as Fleet[]).filter((f) => f.region === LOST);
    lostFleets = lostFleetConfigs.map((f) => f.name);
    const lostQueues = new Set(lostFleetConfigs.map((f) => f.queue));
    repointed = (base.config["ci-platform:pipelines"] as Pipeline[])
        .filter((p) => p.queue !== undefined && lostQueues.has(p.queue))
        .map((p) => p.slug);
    const [p, l, m] = await Promise.all([
        planOf("prod", (f) => f),
        planOf(
            "lost",
            (f) => f.filter((x) => x.region !== LOST),
            (ps) => ps.map((x) => (x.queue !== undefined && lostQueues.has(x.queue) ? { ...x, queue: "default" } : x)),
        ),
        planOf("moved", (f) => f.map((x) => (x.region === LOST ? { ...x, region: NEW } : x))),
    ]);
    prod = p;
    lost = diffPlans(p, l);
    moved = diffPlans(p, m);
});

describe("recovery drill: a region's fleets removed", () => {
    it("touches only that region's resources, besides the image replication destinations and re-pointed pipelines", () => {
        assert.ok(lostFleets.length > 0, "prod has fleets in the lost region");
        const outside = touched(lost).filter(
            (r) =>
                !isReplication(r) &&
                !(
                    r.type === "buildkite:Pipeline/pipeline:Pipeline" &&
                    repointed.some((s) => r.name === `${s}-pipeline`)
                ) &&
                !r.name.includes(LOST) &&
                !lostFleets.some((f) => r.name.startsWith(`${f}-`) || r.name === f),
        );
        assert.deepEqual(outside, []);
        assert.equal(lost.added.length, 0);
        assert.ok(lost.removed.some((r) => r.type === "aws:cloudformation/stack:Stack"));
    });

    it("retains every stateful resource it removes (buckets, keys)", () => {
        const stateful = lost.removed.filter((r) => ["aws:s3/bucket:Bucket", "aws:kms/key:Key"].includes(r.type));
        assert.equal(stateful.length, 2, stateful.map((r) => r.name).join(", "));
        for (const r of stateful) {
            assert.equal(r.retainOnDelete, true, `${r.name} is retained on delete`);
            assert.equal(r.protect, true, `${r.name} is protected`);
        }
    });
});

describe("recovery drill: the region's fleets moved to another region", () => {
    it("creates the new region's bucket, key and provider, and every secrets and hook object", () => {
        const created = (type: string) => moved.added.filter((r) => r.type === type).map((r) => r.name);
        assert.ok(created("aws:s3/bucket:Bucket").includes(`secrets-${NEW}-bucket`));
        assert.ok(created("aws:kms/key:Key").includes(`secrets-${NEW}-key`));
        assert.ok(created("pulumi:providers:aws").includes(`ci-platform-aws-${NEW}`));
        const objectsIn = (plan: { resources: readonly { type: string; name: string }[] }, region: string) =>
            plan.resources
                .filter(
                    (r) => r.type === "aws:s3/bucketObjectv2:BucketObjectv2" && r.name.startsWith(`secrets-${region}-`),
                )
                .map((r) => r.name.slice(`secrets-${region}-`.length))
                .sort();
        const expected = objectsIn(prod, LOST);
        assert.ok(
            expected.some((n) => n.startsWith("secret-")),
            "the lost region held secrets objects",
        );
        assert.deepEqual(objectsIn({ resources: moved.added }, NEW), expected);
    });

    it("rebuilds each moved fleet's stack through the new region's provider", () => {
        for (const fleet of lostFleets) {
            const stack = moved.replaced.find((c) => c.name === `${fleet}-stack`);
            assert.ok(stack, `${fleet}-stack is replaced`);
            assert.ok(stack.paths.includes("provider"));
        }
    });
});
