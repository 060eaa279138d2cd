import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fleetDiffDiagram, triggerDiffDiagram } from "../../components/graph/plan-diagrams";
import { consequencesOf, shortType } from "../../scripts/plan/consequences";
import { changedPaths, diffPlans, valueAt } from "../../scripts/plan/diff";
import { PlanDocument, PlanResource } from "../../scripts/plan/model";
import { planOf, planResource } from "../fixtures/plan";
import { renderDiffMarkdown, renderDiffText } from "../../scripts/plan/render";

const FLEET = "ci-platform:agents:Fleet";
const STACK = "aws:cloudformation/stack:Stack";
const PIPELINE = "buildkite:Pipeline/pipeline:Pipeline";

const resource = planResource;
const plan = planOf;

/** A fleet component and its Elastic CI Stack, as agent-fleet.ts declares them. */
function fleet(name: string, parameters: Record<string, string>): PlanResource[] {
    const component = resource(name, FLEET, {});
    const stack = resource(
        `${name}-stack`,
        STACK,
        { name: `buildkite-${name}`, parameters },
        {
            urn: `urn:pulumi:test::ci-platform::${FLEET}$${STACK}::${name}-stack`,
            parent: component.urn,
            provider: "urn:pulumi:test::ci-platform::pulumi:providers:aws::ci-platform-aws-us-east-1",
        },
    );
    return [component, stack];
}
const params = { BootstrapScriptUrl: "s3://b/bootstrap-aaaa.sh", MinSize: "0", MaxSize: "4", BuildkiteQueue: "linux" };
const parentsOf = (...plans: PlanDocument[]) =>
    new Map(plans.flatMap((p) => p.resources.map((r) => [r.urn, r.parent])));

describe("the plan names consequences", () => {
    it("says which fleet's instances a parameter change replaces, and which input causes it", () => {
        const base = plan(...fleet("linux-us-east-1", params), ...fleet("linux-eu-west-1", params));
        const head = plan(
            ...fleet("linux-us-east-1", { ...params, BootstrapScriptUrl: "s3://b/bootstrap-bbbb.sh" }),
            ...fleet("linux-eu-west-1", { ...params, MaxSize: "8" }),
        );
        const diff = diffPlans(base, head);
        const parents = parentsOf(base, head);
        // A one-line parameter update for the engine, a new group of instances for CloudFormation.
        assert.equal(diff.updated.length, 2);
        assert.deepEqual(
            consequencesOf(diff, parents).map((c) => c.text),
            ["linux-us-east-1: replaces its instances (BootstrapScriptUrl)"],
        );
        const text = renderDiffText(diff, parents);
        assert.match(text, /^Consequences:\n {2}! linux-us-east-1: replaces its instances \(BootstrapScriptUrl\)\n/);
        assert.doesNotMatch(text, /linux-eu-west-1: replaces/, "MaxSize scales the group in place");
        const md = renderDiffMarkdown(diff, "test", { parents });
        assert.match(md, /:recycle: linux-us-east-1: replaces its instances \(BootstrapScriptUrl\)/);
    });

    it("says that pulumi up stops on a protected delete, with the unprotect command and the URN", () => {
        const bucket = resource("secrets-us-east-1", "aws:s3/bucket:Bucket", { bucket: "s" }, { protect: true });
        const diff = diffPlans(plan(bucket), plan());
        const command = `pulumi state unprotect '${bucket.urn}'`;
        assert.ok(renderDiffText(diff).includes(`pulumi up stops until ${command}`));
        const md = renderDiffMarkdown(diff, "test");
        assert.ok(md.includes(`\`pulumi up\` stops until \`${command}\``), md);
        assert.ok(md.indexOf(command) < md.indexOf("### Creates, deletes and replacements"));
    });

    it("names the secrets set again, never their values", () => {
        const token = resource("agent-token", "aws:ssm/parameter:Parameter", { value: "[secret]" });
        const base = { ...plan(token), secretVersions: { [token.urn]: { value: "v-aaaa" } } };
        const head = { ...plan(token), secretVersions: { [token.urn]: { value: "v-bbbb" } } };
        const diff = diffPlans(base, head);
        const md = renderDiffMarkdown(diff, "test");
        assert.match(md, /:key: aws ssm Parameter agent-token: secret set again \(value\)/);
        assert.doesNotMatch(md, /aaaa|bbbb/);
    });

    it("diffs lists of named or regional elements by key, not by position", () => {
        const before = {
            destinations: [
                { region: "eu-west-1", registryId: "1" },
                { region: "us-west-2", registryId: "1" },
            ],
        };
        const after = {
            destinations: [
                { region: "eu-central-1", registryId: "1" },
                { region: "us-west-2", registryId: "2" },
            ],
        };
        assert.deepEqual(changedPaths(before, after), [
            "destinations[region=eu-west-1]",
            "destinations[region=us-west-2].registryId",
            "destinations[region=eu-central-1]",
        ]);
        assert.equal(valueAt(after, "destinations[region=us-west-2].registryId"), "2");
        // The old code said destinations[0].region "eu-west-1" → "eu-central-1": a rename that is not one.
        assert.ok(!changedPaths(before, after).includes("destinations[0].region"));
        // Reordered, the same elements: the list changed, no element did.
        assert.deepEqual(changedPaths(before, { destinations: [...before.destinations].reverse() }), ["destinations"]);
        // Without an identity field, by position as before.
        assert.deepEqual(changedPaths({ xs: [{ a: 1 }] }, { xs: [{ a: 2 }] }), ["xs[0].a"]);
    });
});

describe("the PR comment reads top-down", () => {
    const steps = (extra: string) => `steps:\n  - label: build\n    command: make\n${extra}`;
    const base = plan(
        resource("app-pipeline", PIPELINE, { slug: "app", name: "App", steps: steps("") }),
        resource("old-pipeline", PIPELINE, { slug: "old", name: "Old", steps: steps("") }),
        ...fleet("linux-us-east-1", params),
    );
    const head = plan(
        resource("app-pipeline", PIPELINE, { slug: "app", name: "App!", steps: steps("  - trigger: new\n") }),
        resource("new-pipeline", PIPELINE, { slug: "new", name: "New", steps: steps("") }),
        ...fleet("linux-us-east-1", params),
    );
    const diff = diffPlans(base, head);
    const md = renderDiffMarkdown(diff, "test", {
        violations: ["- **mandatory** no-public-buckets: bucket x is public (`urn:x`)"],
        sections: [
            { title: "Trigger graph: what changes", body: "```mermaid\n" + triggerDiffDiagram(base, head) + "\n```" },
        ],
    });

    it("puts the verdict first, then creates and deletes, then updates, then diagrams, then counts", () => {
        const at = (s: string) => {
            const i = md.indexOf(s);
            assert.ok(i >= 0, `missing ${s}`);
            return i;
        };
        const order = [
            "**Policy pack:** 1 violation(s):",
            "**1** to create, **1** to update, **0** to replace, **1** to delete",
            "### Creates, deletes and replacements",
            "- **create** `new-pipeline` (buildkite Pipeline)",
            "### Updates",
            "### Trigger graph: what changes",
            "<details><summary>Counts by type</summary>",
        ].map(at);
        assert.deepEqual(
            order,
            [...order].sort((a, b) => a - b),
        );
    });

    it("shows before → after values and the steps' changed lines", () => {
        assert.match(md, /- \*\*update\*\* `app-pipeline` \(buildkite Pipeline\): `name` `"App"` → `"App!"`, `steps`/);
        // A real line diff: a hunk header, one line of context, the added line with its indentation.
        assert.match(md, /```diff\n {2}@@ -3,1 \+3,2 @@\n {2} {5}command: make\n {2}\+ {2}- trigger: new\n {2}```/);
    });

    it("uses short type names throughout", () => {
        assert.doesNotMatch(md, /buildkite:Pipeline\/pipeline:Pipeline/);
        assert.equal(shortType("aws:s3/bucketObjectv2:BucketObjectv2"), "aws s3 BucketObjectv2");
        assert.equal(shortType("buildkite:Pipeline/pipeline:Pipeline"), "buildkite Pipeline");
        assert.equal(shortType("github:index/repositoryWebhook:RepositoryWebhook"), "github RepositoryWebhook");
        assert.equal(shortType("aws:cloudformation/stack:Stack"), "aws cloudformation Stack");
        assert.equal(shortType("ci-platform:agents:Fleet"), "ci-platform agents Fleet");
        assert.equal(shortType("ci-platform:buildkite:Pipeline"), "ci-platform buildkite Pipeline");
        assert.equal(shortType("pulumi:providers:aws"), "provider aws");
    });

    it("marks the added and removed trigger edges and pipelines", () => {
        const d = triggerDiffDiagram(base, head) ?? "";
        assert.match(d, /p_app -->\|added\| p_new/);
        assert.match(d, /linkStyle 0 stroke:#16a34a/);
        assert.match(d, /class p_new added/);
        const removed = triggerDiffDiagram(head, base) ?? "";
        assert.match(removed, /p_app -\.->\|removed\| p_new/);
        assert.match(removed, /class p_new removed/);
    });

    it("draws a diagram only when its subject changed", () => {
        assert.equal(triggerDiffDiagram(base, base), null);
        assert.equal(fleetDiffDiagram(base, head), null, "the fleets did not change");
        const grown = plan(...head.resources, ...fleet("linux-eu-west-1", params));
        assert.match(fleetDiffDiagram(head, grown) ?? "", /class f_linux_eu_west_1 added/);
    });

    it("keeps within the budget by cutting detail from the bottom, never the verdict", () => {
        const many = plan(
            ...Array.from({ length: 3000 }, (_, i) =>
                resource(`object-${i}`, "aws:s3/bucketObjectv2:BucketObjectv2", {}),
            ),
        );
        const protectedBucket = resource("secrets", "aws:s3/bucket:Bucket", {}, { protect: true });
        const big = renderDiffMarkdown(diffPlans(plan(protectedBucket), many), "test", {
            violations: ["- **mandatory** p: m (`u`)"],
            budget: 20_000,
        });
        assert.ok(big.length <= 20_000, String(big.length));
        assert.match(
            big,
            /^## ci-platform plan: stack `test`\n\n\*\*Policy pack:\*\* 1 violation\(s\):\n- \*\*mandatory\*\* p/,
        );
        assert.match(big, /pulumi state unprotect/);
        assert.match(big, /\n_… \d+ more line\(s\) cut to fit the comment/);
        assert.equal((big.match(/<details>/g) ?? []).length, (big.match(/<\/details>/g) ?? []).length);
    });
});
