import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { changedPaths, diffPlans, isEmptyDiff } from "../../scripts/plan/diff";
import { renderDiffText } from "../../scripts/plan/render";
import { planOf, planResource } from "../fixtures/plan";
import { PlanResource } from "../../scripts/plan/model";

const resource = planResource;
const plan = planOf;

describe("diffPlans", () => {
    const bucket = resource(
        "secrets",
        "aws:s3/bucket:Bucket",
        { bucket: "a", tags: { CostCenter: "ci" } },
        { protect: true },
    );
    const stack = resource("fleet", "aws:cloudformation/stack:Stack", { parameters: { MinSize: "0", MaxSize: "10" } });
    const hook = resource("hook", "github:index/repositoryWebhook:RepositoryWebhook", { repository: "app" });

    it("finds nothing between equal plans", () => {
        assert.ok(isEmptyDiff(diffPlans(plan(bucket, stack), plan(bucket, stack))));
    });

    it("lists additions and removals by URN", () => {
        const d = diffPlans(plan(bucket, stack), plan(bucket, hook));
        assert.deepEqual(
            d.added.map((r) => r.name),
            ["hook"],
        );
        assert.deepEqual(
            d.removed.map((r) => r.name),
            ["fleet"],
        );
    });

    it("reports an in-place update with the changed input paths", () => {
        const next = { ...stack, inputs: { parameters: { MinSize: "1", MaxSize: "10" } } };
        const d = diffPlans(plan(stack), plan(next));
        assert.equal(d.updated.length, 1);
        assert.deepEqual(d.updated[0].paths, ["parameters.MinSize"]);
        assert.equal(d.replaced.length, 0);
    });

    it("reports a replacement when a replace-on-change property or the provider changes", () => {
        const renamed = { ...bucket, inputs: { ...bucket.inputs, bucket: "b" } };
        const d = diffPlans(plan(bucket), plan(renamed));
        assert.equal(d.replaced.length, 1);
        assert.deepEqual(d.replaced[0].replaceReasons, ["bucket"]);
        assert.equal(d.replaced[0].protect, true);
        const moved = { ...hook, provider: "urn:other" };
        assert.deepEqual(diffPlans(plan(hook), plan(moved)).replaced[0].replaceReasons, ["provider"]);
    });

    it("replaces a stack whose rollback, failure or timeout settings change (ForceNew in stack.go)", () => {
        for (const [path, value] of [
            ["disableRollback", true],
            ["onFailure", "DELETE"],
            ["timeoutInMinutes", 30],
        ] as const) {
            const next = { ...stack, inputs: { ...stack.inputs, [path]: value } };
            assert.deepEqual(
                diffPlans(plan(stack), plan(next)).replaced.map((c) => c.replaceReasons),
                [[path]],
                path,
            );
        }
    });

    it("updates a docker.Image in place whatever changes (pulumi-docker Diff never replaces)", () => {
        const image = resource("image", "docker:index/image:Image", {
            imageName: "r/app:1",
            registry: { server: "r" },
            build: { context: "a" },
        });
        const next = { ...image, inputs: { imageName: "r/app:2", registry: { server: "s" }, build: { context: "b" } } };
        const d = diffPlans(plan(image), plan(next));
        assert.deepEqual(d.replaced, []);
        assert.equal(d.updated.length, 1);
    });

    it("reports option changes such as protect", () => {
        const d = diffPlans(plan(stack), plan({ ...stack, protect: true }));
        assert.deepEqual(d.updated[0].paths, ["protect"]);
    });
});

describe("changedPaths", () => {
    it("walks objects and arrays, naming added and removed keys once", () => {
        assert.deepEqual(changedPaths({ a: 1, b: { c: [1, 2] } }, { a: 1, b: { c: [1, 3, 4] }, d: 1 }), [
            "b.c[1]",
            "b.c[2]",
            "d",
        ]);
        assert.deepEqual(changedPaths({ x: { y: 1 } }, { x: "[secret]" }), ["x"]);
    });
});

describe("diffPlans follows aliases, as the engine does", () => {
    const U = (chain: string, name: string) => `urn:pulumi:test::ci-platform::${chain}::${name}`;
    const FLEET = "ci-platform:agents:Fleet";
    const STACK = "aws:cloudformation/stack:Stack";
    const component = (name: string, aliases: string[] = []) =>
        resource(name, FLEET, {}, { urn: U(FLEET, name), aliases });
    const child = (fleet: string, aliases: string[] = [], inputs = { name: "buildkite-old" }) =>
        resource(`${fleet}-stack`, STACK, inputs, {
            urn: U(`${FLEET}$${STACK}`, `${fleet}-stack`),
            parent: U(FLEET, fleet),
            aliases,
        });

    it("matches a renamed resource to its old URN: an update listing urn, not a deletion and a creation", () => {
        const base = plan(component("old"), child("old"));
        const head = plan(component("new", [U(FLEET, "old")]), child("new", [U(`${FLEET}$${STACK}`, "old-stack")]));
        const d = diffPlans(base, head);
        assert.deepEqual([d.added.length, d.removed.length, d.replaced.length], [0, 0, 0]);
        assert.deepEqual(
            d.updated.map((c) => [c.name, c.paths, c.previousUrn]),
            [
                ["new", ["urn"], U(FLEET, "old")],
                // The parent is the old parent renamed: not a change of parent.
                ["new-stack", ["urn"], U(`${FLEET}$${STACK}`, "old-stack")],
            ],
        );
    });

    it("still sees a replacement through an alias when a replace-on-change input changes", () => {
        const d = diffPlans(
            plan(child("old")),
            plan(child("new", [U(`${FLEET}$${STACK}`, "old-stack")], { name: "buildkite-new" })),
        );
        assert.deepEqual(
            d.replaced.map((c) => c.replaceReasons),
            [["name"]],
        );
    });

    it("without an alias, a rename deletes and creates", () => {
        const d = diffPlans(plan(component("old")), plan(component("new")));
        assert.deepEqual([d.added.map((r) => r.name), d.removed.map((r) => r.name)], [["new"], ["old"]]);
    });

    it("does not take an old URN that a resource of the head plan still has", () => {
        const d = diffPlans(plan(component("old")), plan(component("old"), component("new", [U(FLEET, "old")])));
        assert.deepEqual(
            d.added.map((r) => r.name),
            ["new"],
        );
        assert.equal(d.removed.length, 0);
    });

    it("reads plans written before aliases were recorded", () => {
        const { aliases, ...old } = component("old");
        assert.deepEqual(aliases, []);
        const d = diffPlans(plan(old as PlanResource), plan(old as PlanResource));
        assert.ok(isEmptyDiff(d));
    });
});

describe("diffPlans follows a provider moved under a component (issue 15)", () => {
    const U = (chain: string, name: string) => `urn:pulumi:test::ci-platform::${chain}::${name}`;
    const AWS = "pulumi:providers:aws";
    const REGISTRY = "ci-platform:providers:Providers";
    const topLevel = U(AWS, "ci-platform-aws-eu-west-1");
    const underRegistry = U(`${REGISTRY}$${AWS}`, "ci-platform-aws-eu-west-1");
    const provider = (urn: string, aliases: string[] = [], parent: string | null = null) =>
        resource("ci-platform-aws-eu-west-1", AWS, { region: "eu-west-1" }, { urn, aliases, parent });
    const bucket = (providerUrn: string) =>
        resource("secrets-bucket", "aws:s3/bucket:Bucket", { bucket: "a" }, { provider: providerUrn });

    it("does not replace what a provider manages when the provider moved through an alias, as the engine", () => {
        const base = plan(provider(topLevel), bucket(topLevel));
        const head = plan(
            resource("providers", REGISTRY, {}, { urn: U(REGISTRY, "providers") }),
            provider(underRegistry, [topLevel], U(REGISTRY, "providers")),
            bucket(underRegistry),
        );
        const d = diffPlans(base, head);
        assert.deepEqual([d.added.map((r) => r.type), d.removed.length, d.replaced.length], [[REGISTRY], 0, 0]);
        assert.deepEqual(
            d.updated.map((c) => [c.name, c.paths]),
            [["ci-platform-aws-eu-west-1", ["parent", "urn"]]],
        );
        assert.match(renderDiffText(d), /ci-platform-aws-eu-west-1: parent, moved from the stack's top level/);
    });

    it("still replaces them when the new provider is another one, not matched through an alias", () => {
        const d = diffPlans(
            plan(provider(topLevel), bucket(topLevel)),
            plan(provider(underRegistry), bucket(underRegistry)),
        );
        assert.deepEqual(
            d.replaced.map((c) => [c.name, c.replaceReasons]),
            [["secrets-bucket", ["provider"]]],
        );
    });
});
