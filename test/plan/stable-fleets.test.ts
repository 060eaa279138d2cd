import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { type PlanDiff, diffPlans, stackNeutralUrn } from "../../scripts/plan/diff";
import type { PlanDocument, PlanResource } from "../../scripts/plan/model";
import { actionMatches, resourceMatches } from "../../policy/reachability";
import { copyRepository, planOfEditedProd, runScript } from "../fixtures/cli";
import { planAsCliWrites } from "../fixtures/plans";

/*
 * Stable fleets (issue 13): adding, removing or renaming a pipeline or repository changes no CloudFormation stack and
 * no bootstrap or hook object. The set of pipelines a fleet serves reaches its agents through the fleet's allow-list
 * object, a fixed key the pre-bootstrap hook reads at job time, which the change updates in place.
 */
const dir = mkdtempSync(path.join(tmpdir(), "stable-fleets-"));

type Pipeline = Record<string, unknown> & { slug: string };

async function planOf(name: string, mutate: (pipelines: Pipeline[]) => Pipeline[]): Promise<PlanDocument> {
    return planOfEditedProd(dir, name, (config) => {
        config["ci-platform:pipelines"] = mutate(config["ci-platform:pipelines"] as Pipeline[]);
    });
}

const STACK = "aws:cloudformation/stack:Stack";
const OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2";
const POLICY = "aws:iam/policy:Policy";
const FLEET = "ci-platform:agents:Fleet";
const isFleetChild = (r: PlanResource) => typeof r.parent === "string" && r.parent.includes(`::${FLEET}::`);
/** Bootstrap scripts, hook bundle files and Windows agent env files: what a stack parameter points at. */
const isBootObject = (r: PlanResource) =>
    r.type === OBJECT && (r.name.includes("-hook-") || r.name.endsWith("-bootstrap") || r.name.endsWith("-agent-env"));

/** The prod fleet that serves queue `default` of cluster `default` on Linux: it admits the pipelines below. */
const DEFAULT_LINUX_FLEETS = ["linux-us-east-1"];

/** The resource of `urn` in `plan`, whatever the stack name in either. */
function resourceOf(plan: PlanDocument, urn: string | undefined): PlanResource {
    const found = plan.resources.find((r) => urn !== undefined && stackNeutralUrn(r.urn) === stackNeutralUrn(urn));
    assert.ok(found, urn);
    return found;
}

/** What a pipeline change may do to the fleets: update their allow-list objects in place, and their IAM policies. */
function assertStable(diff: PlanDiff, base: PlanDocument, head: PlanDocument, admitting: readonly string[]): void {
    const changed = [...diff.replaced, ...diff.updated].map((c) => resourceOf(head, c.urn));
    const all = [...diff.added, ...diff.removed, ...changed];
    assert.deepEqual(
        all.filter((r) => r.type === STACK).map((r) => r.name),
        [],
        "no CloudFormation stack changes",
    );
    assert.deepEqual(
        all.filter(isBootObject).map((r) => r.name),
        [],
        "no bootstrap, hook or agent env object changes",
    );
    assert.deepEqual(
        diff.replaced.filter((c) => isFleetChild(resourceOf(head, c.urn))).map((c) => c.name),
        [],
        "no fleet resource is replaced",
    );
    const allowlists = diff.updated.filter((c) => c.type === OBJECT && isFleetChild(resourceOf(head, c.urn)));
    assert.deepEqual(
        allowlists.map((c) => c.name),
        admitting.map((f) => `${f}-allowlist`),
        "exactly the allow-list objects of the fleets that serve the pipeline",
    );
    for (const c of allowlists) {
        assert.equal(resourceOf(head, c.urn).inputs.key, resourceOf(base, c.urn).inputs.key, "same key: in place");
        assert.deepEqual(c.paths, ["content"], c.name);
        assert.deepEqual(c.replaceReasons, [], c.name);
    }
    // Besides its allow-list object, a fleet changes at most its IAM policy (the secrets grant of each slug it serves),
    // in place: neither reaches the stack, so no instance is replaced.
    const others = [...diff.added, ...diff.removed, ...diff.updated.map((c) => resourceOf(head, c.urn))].filter(
        (r) => isFleetChild(r) && !allowlists.some((c) => c.urn === r.urn) && r.type !== POLICY,
    );
    assert.deepEqual(
        others.map((r) => r.name),
        [],
    );
}

describe("stable fleets: a pipeline change rolls no fleet", { timeout: 300_000 }, () => {
    let prod: PlanDocument;
    let added: PlanDocument;
    before(async () => {
        // The prod stack's own plan, shared with the other files of the process.
        prod = await planAsCliWrites();
        added = await planOf("added", (pipelines) => [
            ...pipelines,
            {
                slug: "kolibri-docs-site",
                name: "Kolibri Docs Site",
                repository: "learningequality/kolibri-docs",
                publicRepository: true,
                cluster: "default",
                queue: "default",
                defaultBranch: "main",
                team: "kolibri",
            },
        ]);
    });

    it("adding a pipeline updates only the allow-list objects of the fleets that serve it, in place", () => {
        const diff = diffPlans(prod, added);
        assertStable(diff, prod, added, DEFAULT_LINUX_FLEETS);
        const list = resourceOf(added, diff.updated.find((c) => c.name === "linux-us-east-1-allowlist")?.urn);
        assert.match(
            String(list.inputs.content),
            /^kolibri-docs-site https:\/\/github\.com\/learningequality\/kolibri-docs\.git$/m,
        );
        assert.ok(
            diff.added.some((r) => r.name === "kolibri-docs-site-pipeline"),
            "the pipeline itself is created",
        );
    });

    it("removing a pipeline updates only the allow-list objects of the fleets that served it", () => {
        // The reverse of adding one: the plan with it as the base, prod as the head.
        assertStable(diffPlans(added, prod), added, prod, DEFAULT_LINUX_FLEETS);
    });

    it("renaming a repository (same owner) updates only the allow-list objects, in place", async () => {
        const renamed = await planOf("renamed", (pipelines) =>
            pipelines.map((p) =>
                p.slug === "kolibri-python-package" ? { ...p, repository: "learningequality/kolibri-core" } : p,
            ),
        );
        const diff = diffPlans(prod, renamed);
        assertStable(diff, prod, renamed, DEFAULT_LINUX_FLEETS);
        const list = resourceOf(renamed, diff.updated.find((c) => c.name === "linux-us-east-1-allowlist")?.urn);
        assert.match(String(list.inputs.content), /^kolibri-python-package \S+\/kolibri-core\.git$/m);
        assert.doesNotMatch(String(list.inputs.content), /^kolibri-python-package \S+\/kolibri\.git$/m);
    });
});

describe(
    "stable fleets: a hook change rolls the fleets on purpose, and a rollback still boots",
    { timeout: 300_000 },
    () => {
        let prod: PlanDocument;
        let hooked: PlanDocument;
        before(async () => {
            prod = await planAsCliWrites();
            const copy = copyRepository("hook-change");
            appendFileSync(path.join(copy, "hooks/pre-exit"), "# a changed hook\n");
            const out = path.join(dir, "hooked.json");
            const run = await runScript("scripts/plan.ts", ["--json", out], copy);
            assert.equal(run.code, 0, run.stderr);
            hooked = JSON.parse(readFileSync(out, "utf8")) as PlanDocument;
        });

        /** Whether `policy` (an IAM policy resource's JSON document) allows s3:GetObject on `arn`. */
        const reads = (policy: PlanResource, arn: string): boolean =>
            (
                JSON.parse(String(policy.inputs.policy)) as {
                    Statement: { Effect: string; Action: string[]; Resource: string | string[] }[];
                }
            ).Statement.some(
                (s) =>
                    s.Effect === "Allow" &&
                    s.Action.some((a) => actionMatches(a, "s3:GetObject")) &&
                    [s.Resource].flat().some((r) => resourceMatches(r, arn)),
            );

        it("gives each Linux fleet a new bootstrap script and keeps the old one and its bundle readable", () => {
            const bootstraps = prod.resources.filter(
                (r) => r.type === OBJECT && isFleetChild(r) && r.name.endsWith("-bootstrap"),
            );
            assert.ok(bootstraps.length > 0);
            for (const old of bootstraps) {
                const fleet = old.name.slice(0, -"-bootstrap".length);
                const now = resourceOf(hooked, old.urn);
                assert.notEqual(now.inputs.key, old.inputs.key, `${fleet}: a hook change rolls the fleet`);
                assert.equal(old.retainOnDelete, true, `${fleet}: the old script is kept for a rollback`);
                const policy = hooked.resources.find((r) => r.type === POLICY && r.name === `${fleet}-policy`);
                assert.ok(policy, fleet);
                const bucket = `arn:aws:s3:::${String(old.inputs.bucket)}`;
                // The script a rolled-back launch template points at, and the bundle it installs.
                assert.ok(reads(policy, `${bucket}/${String(old.inputs.key)}`), `${fleet} reads its old script`);
                assert.ok(reads(policy, `${bucket}/${String(now.inputs.key)}`), `${fleet} reads its new script`);
                const oldBundle = prod.resources.find(
                    (r) =>
                        r.type === OBJECT && r.name.endsWith("-hook-pre-exit") && r.inputs.bucket === old.inputs.bucket,
                );
                assert.ok(oldBundle, fleet);
                assert.equal(oldBundle.retainOnDelete, true);
                assert.ok(reads(policy, `${bucket}/${String(oldBundle.inputs.key)}`), `${fleet} reads the old bundle`);
            }
        });
    },
);
