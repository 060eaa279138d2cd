import assert from "node:assert/strict";
import { parseVersionsText } from "../../components/images/versions";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { parse } from "yaml";
import { PlanDiff, diffPlans } from "../../scripts/plan/diff";
import { PlanDocument } from "../../scripts/plan/model";
import { ROOT, planOfEditedProd, withoutRegion } from "../fixtures/cli";
import { planAsCliWrites } from "../fixtures/plans";

/*
 * Recovery drills on the offline plan of the real program: losing a region's fleets touches only that region, and
 * moving them to another region recreates everything a fleet needs there.
 */
const dir = mkdtempSync(path.join(tmpdir(), "drill-"));
const LOST = "eu-west-1";
const NEW = "eu-central-1";

type Fleet = { name: string; region?: string; queue: string };
type Pipeline = { slug: string; cluster?: string; queue?: string };

async function planOf(
    name: string,
    mutate: (fleets: Fleet[]) => Fleet[],
    mutatePipelines: (pipelines: Pipeline[]) => Pipeline[] = (p) => p,
): Promise<PlanDocument> {
    return planOfEditedProd(dir, name, (config) => {
        config["ci-platform:fleets"] = mutate(config["ci-platform:fleets"] as Fleet[]);
        config["ci-platform:pipelines"] = mutatePipelines(config["ci-platform:pipelines"] as Pipeline[]);
    });
}

/** Every resource name the diff touches. */
const touched = (d: PlanDiff) =>
    [...d.added, ...d.removed, ...d.replaced, ...d.updated].map((r) => ({ name: r.name, type: r.type }));
/** The images' resources: repositories, their policies, the pushes, and the docker providers. */
const IMAGE_TYPES = [
    "aws:ecr/repository:Repository",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy",
    "aws:ecr/repositoryPolicy:RepositoryPolicy",
    "docker:index/image:Image",
    "pulumi:providers:docker",
];

let prod: PlanDocument;
let lost: PlanDiff;
let moved: PlanDiff;
let lostFleets: string[];
/** Pipelines that ran on a queue of the lost region: removing its fleets means pointing them at another queue. */
let repointed: string[];
/** The fleets of the queue (`default`) the re-pointed pipelines now use. */
let newQueueFleets: string[];
/** The prod images and their pinned tags (`<variant>-<version>`). */
let images: { name: string; tags: string[] }[];

before(async () => {
    const base = parse(readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8")) as {
        config: Record<string, unknown>;
    };
    const lostFleetConfigs = (base.config["ci-platform:fleets"] as Fleet[]).filter((f) => f.region === LOST);
    lostFleets = lostFleetConfigs.map((f) => f.name);
    const lostQueues = new Set(lostFleetConfigs.map((f) => f.queue));
    newQueueFleets = (base.config["ci-platform:fleets"] as Fleet[])
        .filter((f) => f.queue === "default")
        .map((f) => f.name);
    repointed = (base.config["ci-platform:pipelines"] as Pipeline[])
        .filter((p) => p.queue !== undefined && lostQueues.has(p.queue))
        .map((p) => p.slug);
    const pins = parseVersionsText(readFileSync(path.join(ROOT, "agent-images/versions.json"), "utf8")).value ?? {};
    images = (base.config["ci-platform:images"] as { name: string; variants: string[] }[]).map((i) => ({
        name: i.name,
        tags: i.variants.map((v) => `${v}-${pins[i.name]}`),
    }));
    const [p, l, m] = await Promise.all([
        // The prod stack's own plan, shared with the other files of the process.
        planAsCliWrites(),
        // Without the lost region's fleets, their pipelines on the default cluster's home queue (dagster's cluster
        // has fleets in the lost region only): the same stack as the recovery scopes' and adoption's, one plan.
        planOfEditedProd(dir, `without-${LOST}`, (c) => withoutRegion(c, LOST)),
        planOf("moved", (f) => f.map((x) => (x.region === LOST ? { ...x, region: NEW } : x))),
    ]);
    prod = p;
    lost = diffPlans(p, l);
    moved = diffPlans(p, m);
});

describe("recovery drill: a region's fleets removed", () => {
    it("touches only that region's resources, its images included, besides the re-pointed pipelines", () => {
        assert.ok(lostFleets.length > 0, "prod has fleets in the lost region");
        // A re-pointed pipeline's secrets follow it into the bucket of the region that now runs it.
        const followed = (r: { name: string; type: string }) =>
            r.type === "aws:s3/bucketObjectv2:BucketObjectv2" &&
            repointed.some((s) => r.name.includes(`-secret-${s}/`));
        // So do their jobs and the grant to read their secrets: the fleets of the queue they now use admit them (the
        // allow-list object each fleet's jobs read, components/hooks/allowlist.ts) and read `<slug>/*` for each
        // pipeline they serve (components/agents/iam-policy.ts), so those fleets' allow-list, stack parameter and
        // policy change.
        const admitting = (r: { name: string; type: string }) =>
            newQueueFleets.some((f) =>
                ["bootstrap", "allowlist", "stack", "policy"].some((c) => r.name === `${f}-${c}`),
            );
        const outside = touched(lost).filter(
            (r) =>
                !followed(r) &&
                !admitting(r) &&
                !(
                    r.type === "buildkite:Pipeline/pipeline:Pipeline" &&
                    repointed.some((s) => r.name === `${s}-pipeline`)
                ) &&
                !r.name.includes(LOST) &&
                // A queue served in the lost region only (dagster's) goes with its fleets.
                r.name !== "queue-dagster/dagster" &&
                // The read role may decrypt with every token key (drift refresh, components/access): the lost
                // region's keys leave its list.
                r.name !== "deploy-roles-ci-platform-read-token-parameters" &&
                !lostFleets.some((f) => r.name.startsWith(`${f}-`) || r.name === f),
        );
        assert.deepEqual(outside, []);
        assert.deepEqual(
            lost.added.filter((r) => !followed(r)),
            [],
        );
        assert.ok(lost.removed.some((r) => r.type === "aws:cloudformation/stack:Stack"));
    });

    it("deletes the region's image repositories with their images, and its secrets buckets whole, emptied, keys scheduled", () => {
        const repositories = lost.removed.filter((r) => r.type === "aws:ecr/repository:Repository");
        assert.equal(repositories.length, images.length, repositories.map((r) => r.name).join(", "));
        for (const r of repositories) {
            assert.equal(r.retainOnDelete, false, `${r.name} is not retained on delete`);
            assert.equal(r.inputs.forceDelete, true, `${r.name} goes with its images`);
            assert.equal(r.protect, true, `${r.name} is protected`);
        }
        // A bucket, a secrets key and an agent-token key per cluster with fleets in the region (default and dagster),
        // and with them every other child of their SecretsBucket components: nothing of them stays behind.
        const buckets = prod.resources.filter(
            (r) => r.type === "ci-platform:agents:SecretsBucket" && r.name.endsWith(`-${LOST}`),
        );
        assert.equal(buckets.length, 2);
        const children = prod.resources.filter((r) => buckets.some((b) => r.parent === b.urn));
        const removed = new Map(lost.removed.map((r) => [`${r.type}::${r.name}`, r]));
        for (const child of children) {
            const r = removed.get(`${child.type}::${child.name}`);
            assert.ok(r, `${child.name} is removed`);
            // A hooks object is kept when the program drops it (a rollback reinstalls it), and goes with its bucket,
            // which empties itself (forceDestroy, asserted below; policy/invariants/secrets-bucket-whole.ts).
            const kept = r.type === "aws:s3/bucketObjectv2:BucketObjectv2" && r.name.includes("-hook-");
            assert.equal(
                r.retainOnDelete,
                kept,
                `${r.name} is ${kept ? "kept until its bucket empties" : "deleted, not left behind"}`,
            );
            assert.equal(r.protect, false, `${r.name} does not stop the removal`);
        }
        const stateful = children.filter((r) => ["aws:s3/bucket:Bucket", "aws:kms/key:Key"].includes(r.type));
        assert.equal(stateful.length, 6);
        for (const r of stateful.filter((c) => c.type === "aws:s3/bucket:Bucket"))
            assert.equal(r.inputs.forceDestroy, true, `${r.name} is emptied before it is deleted`);
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

describe("recovery drill: the moved region gets every image at its pinned tags", () => {
    const ofType = <T extends { type: string }>(resources: readonly T[], type: string): T[] =>
        resources.filter((r) => r.type === type);

    it("creates each image's repository in the new region, protected, force-deleted, immutable, scanned, KMS", () => {
        assert.ok(images.length > 0, "prod declares images");
        const repos = ofType(moved.added, "aws:ecr/repository:Repository");
        assert.deepEqual(repos.map((r) => r.inputs.name).sort(), images.map((i) => `ci-platform/${i.name}`).sort());
        for (const repo of repos) {
            assert.ok(repo.name.includes(NEW), repo.name);
            assert.ok(repo.provider?.endsWith(`::ci-platform-aws-${NEW}`), `${repo.name} is created in ${NEW}`);
            assert.equal(repo.protect, true);
            assert.equal(repo.retainOnDelete, false);
            assert.equal(repo.inputs.forceDelete, true);
            assert.equal(repo.inputs.imageTagMutability, "IMMUTABLE");
            assert.deepEqual(repo.inputs.imageScanningConfiguration, { scanOnPush: true });
            assert.equal(
                (repo.inputs.encryptionConfigurations as { encryptionType: string }[])[0].encryptionType,
                "KMS",
            );
        }
    });

    it("pushes every variant at its pinned tag to the new region's registry, after its repository exists", () => {
        const pushes = ofType(moved.added, "docker:index/image:Image");
        const expected = images.flatMap((i) =>
            i.tags.map((tag) => `123456789012.dkr.ecr.${NEW}.amazonaws.com/ci-platform/${i.name}:${tag}`),
        );
        assert.deepEqual(pushes.map((p) => p.inputs.imageName).sort(), expected.sort());
        const dockerProvider = ofType(moved.added, "pulumi:providers:docker");
        assert.deepEqual(
            dockerProvider.map((p) => p.name),
            [`docker-${NEW}`],
        );
        for (const push of pushes) {
            assert.equal(push.provider, dockerProvider[0].urn, push.name);
            assert.ok(
                push.dependsOn.some((d) => d.endsWith(`-${NEW}-repository`)),
                `${push.name} waits for its repository`,
            );
        }
    });

    it("touches no existing image push or repository elsewhere", () => {
        const elsewhere = [...moved.updated, ...moved.replaced, ...moved.removed]
            .filter((r) => IMAGE_TYPES.includes(r.type) && !r.name.includes(LOST))
            .map((r) => r.name);
        assert.deepEqual(elsewhere, []);
        const stillPushed = (region: string) =>
            ofType(prod.resources, "docker:index/image:Image").filter((r) => r.name.includes(`-${region}-`)).length;
        assert.ok(stillPushed("us-east-1") > 0 && stillPushed("ap-southeast-1") > 0);
    });
});
