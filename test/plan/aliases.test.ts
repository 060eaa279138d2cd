import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { aliasUrns, urnFor } from "../../scripts/plan/capture";

/*
 * The alias URNs the plan records (capture.ts aliasUrns), as the engine computes them from a RegisterResource
 * request (pulumi/pulumi pkg/resource/deploy/step_generator.go generateAliases).
 */

type Spec = { name?: string; type?: string; parentUrn?: string; noParent?: boolean };
const spec = (s: Spec) => ({
    getUrn: () => "",
    hasSpec: () => true,
    getSpec: () => ({
        getName: () => s.name ?? "",
        getType: () => s.type ?? "",
        getStack: () => "",
        getProject: () => "",
        getParenturn: () => s.parentUrn ?? "",
        getNoparent: () => s.noParent ?? false,
    }),
});
const urn = (u: string) => ({ getUrn: () => u, hasSpec: () => false, getSpec: () => undefined });
const at = { stack: "prod", project: "ci-platform" };
const FLEET = "ci-platform:agents:Fleet";
const TOKEN = "buildkite:Cluster/clusterAgentToken:ClusterAgentToken";

describe("aliasUrns", () => {
    it("fills a spec's blanks from the resource: same type, same parent", () => {
        const parent = urnFor("prod", "ci-platform", "", FLEET, "linux-europe");
        const got = aliasUrns(
            { ...at, type: TOKEN, name: "linux-europe-token", parent },
            [spec({ name: "x-token" })],
            [],
        );
        assert.deepEqual(got.urns, [`urn:pulumi:prod::ci-platform::${FLEET}$${TOKEN}::x-token`]);
        assert.equal(got.first, "x-token");
    });

    it("uses the old parent a spec names, and takes a URN alias as it is", () => {
        const oldParent = urnFor("prod", "ci-platform", "", FLEET, "linux-eu");
        const got = aliasUrns(
            {
                ...at,
                type: TOKEN,
                name: "linux-europe-token",
                parent: urnFor("prod", "ci-platform", "", FLEET, "linux-europe"),
            },
            [spec({ name: "linux-eu-token", parentUrn: oldParent }), urn("urn:pulumi:prod::ci-platform::a::b")],
            [],
        );
        assert.deepEqual(got.urns, [
            "urn:pulumi:prod::ci-platform::a::b",
            `urn:pulumi:prod::ci-platform::${FLEET}$${TOKEN}::linux-eu-token`,
        ]);
        assert.equal(got.first, "linux-eu-token");
    });

    it("carries each alias of the parent over to the child, its name's prefix renamed", () => {
        const parent = urnFor("prod", "ci-platform", "", FLEET, "linux-europe");
        const parentAlias = urnFor("prod", "ci-platform", "", FLEET, "linux-eu");
        const got = aliasUrns({ ...at, type: TOKEN, name: "linux-europe-token", parent }, [], [parentAlias]);
        assert.deepEqual(got.urns, [`urn:pulumi:prod::ci-platform::${FLEET}$${TOKEN}::linux-eu-token`]);
        assert.equal(got.first, "linux-eu-token");
    });

    it("does not count an alias of another type under the same name as a rename (the mock keeps the name)", () => {
        const got = aliasUrns(
            { ...at, type: "aws:s3/bucket:Bucket", name: "b", parent: null },
            [spec({ type: "aws:s3/bucketV2:BucketV2" })],
            [],
        );
        assert.deepEqual(got.urns, ["urn:pulumi:prod::ci-platform::aws:s3/bucketV2:BucketV2::b"]);
        assert.equal(got.first, undefined);
    });

    it("has none without aliases", () => {
        assert.deepEqual(aliasUrns({ ...at, type: TOKEN, name: "t", parent: null }, [], []), {
            urns: [],
            first: undefined,
        });
    });
});
