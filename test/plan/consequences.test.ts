import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    consequencesOf,
    fleetOf,
    INSTANCE_REPLACING_PARAMETERS,
    instanceReplacingPaths,
    shortType,
} from "../../scripts/plan/consequences";
import { planDiff, planResource, resourceChange } from "../fixtures/plan";

const STACK = "aws:cloudformation/stack:Stack";
const OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2";
const FLEET_URN = "urn:pulumi:test::ci-platform::ci-platform:agents:Fleet::linux-eu";

describe("fleetOf", () => {
    it("is the parent Fleet component's name, else the stack's name without -stack", () => {
        assert.equal(fleetOf({ name: "whatever" }, FLEET_URN), "linux-eu");
        assert.equal(fleetOf({ name: "linux-us-stack" }), "linux-us");
        assert.equal(
            fleetOf({ name: "linux-us-stack" }, "urn:pulumi:test::ci-platform::ci-platform:other:X::y"),
            "linux-us",
        );
    });
});

describe("instanceReplacingPaths", () => {
    it("keeps the replacing parameters (nested paths by their parameter) and a new template, sorted and once each", () => {
        // elastic-ci-stack-for-aws v6.71.1 templates/aws-stack.yml: MinSize/MaxSize update the group in place.
        assert.ok(!("MinSize" in INSTANCE_REPLACING_PARAMETERS) && !("MaxSize" in INSTANCE_REPLACING_PARAMETERS));
        assert.deepEqual(
            instanceReplacingPaths({
                paths: [
                    "parameters.MinSize",
                    "parameters.InstanceTypes",
                    "parameters.BuildkiteAgentTags",
                    "parameters.BuildkiteAgentTags[0]",
                    "templateUrl",
                    "tags.Name",
                ],
            }),
            ["BuildkiteAgentTags", "InstanceTypes", "templateUrl"],
        );
        assert.deepEqual(instanceReplacingPaths({ paths: ["parameters.MaxSize", "parameters.ImageIdX"] }), []);
    });
});

describe("consequencesOf", () => {
    it("names the fleet whose instances an update or a replacement of its stack replaces, and why", () => {
        const updated = resourceChange("linux-eu-stack", STACK, {
            paths: ["parameters.ImageId", "parameters.MinSize"],
        });
        const scaled = resourceChange("linux-us-stack", STACK, { paths: ["parameters.MaxSize"] });
        const replaced = resourceChange("mac-stack", STACK, { paths: ["name"], replaceReasons: ["name"] });
        const out = consequencesOf(
            planDiff({ updated: [updated, scaled], replaced: [replaced] }),
            new Map([[updated.urn, FLEET_URN]]),
        );
        assert.deepEqual(out, [
            { kind: "instances", urn: updated.urn, text: "linux-eu: replaces its instances (ImageId)" },
            {
                kind: "instances",
                urn: replaced.urn,
                text: "mac: replaces its instances (the whole stack is replaced: name)",
            },
        ]);
    });

    it("says pulumi up stops on a protected delete or replacement, with the command that unblocks it, first", () => {
        const removed = planResource("app", "buildkite:Pipeline/pipeline:Pipeline", {}, { protect: true });
        const unprotected = planResource("other", "buildkite:Pipeline/pipeline:Pipeline", {});
        const replaced = resourceChange("secrets", "aws:s3/bucket:Bucket", {
            protect: true,
            replaceReasons: ["bucket"],
        });
        const stack = resourceChange("x-stack", STACK, { paths: ["parameters.ImageId"] });
        const out = consequencesOf(
            planDiff({ removed: [removed, unprotected], replaced: [replaced], updated: [stack] }),
        );
        assert.deepEqual(
            out.map((c) => [c.kind, c.urn]),
            [
                ["protected", removed.urn],
                ["protected", replaced.urn],
                ["instances", stack.urn],
            ],
        );
        assert.equal(
            out[0].text,
            `deletes protected buildkite Pipeline app: pulumi up stops until pulumi state unprotect '${removed.urn}'`,
        );
        assert.match(out[1].text, /^replaces protected aws s3 Bucket secrets: /);
    });

    it("names each rotated secret once with the objects that carry it, and unnamed rotations by resource", () => {
        const secret = "ci-platform:secrets.pipelines.app.env.TOKEN";
        const carriers = ["a", "b", "c", "d"].map((n) =>
            resourceChange(`env-${n}`, OBJECT, {
                paths: ["content"],
                rotated: ["content"],
                rotatedSecrets: { content: [secret] },
            }),
        );
        const unnamed = resourceChange("env-x", OBJECT, {
            paths: ["content", "metadata"],
            rotated: ["content", "metadata"],
            rotatedSecrets: { content: [secret] },
        });
        const out = consequencesOf(planDiff({ updated: [...carriers, unnamed] }));
        assert.deepEqual(
            out.map((c) => c.text),
            [
                "aws s3 BucketObjectv2 env-x: secret set again (metadata)",
                `${secret} rotated (carried by aws s3 BucketObjectv2 env-a, aws s3 BucketObjectv2 env-b, aws s3 BucketObjectv2 env-c and 2 more)`,
            ],
        );
        assert.ok(out.every((c) => c.kind === "rotated"));
    });

    it("has nothing to say about an empty diff or a diff of other changes", () => {
        assert.deepEqual(consequencesOf(planDiff({})), []);
        assert.deepEqual(
            consequencesOf(
                planDiff({ updated: [resourceChange("t", "buildkite:Team/team:Team", { paths: ["name"] })] }),
            ),
            [],
        );
    });
});

describe("shortType", () => {
    it("drops the module when it repeats the type or is index, and names providers and components plainly", () => {
        assert.equal(shortType(OBJECT), "aws s3 BucketObjectv2");
        assert.equal(shortType("buildkite:Pipeline/pipeline:Pipeline"), "buildkite Pipeline");
        assert.equal(shortType("docker:index/image:Image"), "docker Image");
        assert.equal(shortType("pulumi:providers:aws"), "provider aws");
        assert.equal(shortType("ci-platform:agents:Fleet"), "ci-platform agents Fleet");
        assert.equal(shortType("pulumi:pulumi:Stack"), "pulumi pulumi Stack");
        assert.equal(shortType("odd"), "odd");
    });
});
