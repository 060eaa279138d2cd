import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { FleetConfig } from "../../components/config";
import { imageRegions, lifecyclePolicy, pullPolicy } from "../../components/images/registry";

const aws = (name: string, region: string): FleetConfig =>
    ({ name, kind: "aws", region, cluster: "default", queue: "default" }) as FleetConfig;
const onPrem = (name: string): FleetConfig =>
    ({ name, kind: "static", cluster: "macos", queue: "macos", tags: {} }) as FleetConfig;

describe("imageRegions", () => {
    it("is the home region and every AWS fleet region, sorted, once each", () => {
        const fleets = [
            aws("a", "us-east-1"),
            aws("b", "eu-west-1"),
            aws("c", "ap-southeast-1"),
            aws("d", "eu-west-1"),
            onPrem("e"),
        ];
        assert.deepEqual(imageRegions({ homeRegion: "us-east-1", fleets }), [
            "ap-southeast-1",
            "eu-west-1",
            "us-east-1",
        ]);
        assert.deepEqual(imageRegions({ homeRegion: "ca-central-1", fleets }), [
            "ap-southeast-1",
            "ca-central-1",
            "eu-west-1",
            "us-east-1",
        ]);
        assert.deepEqual(imageRegions({ homeRegion: "us-east-1", fleets: [onPrem("m")] }), ["us-east-1"]);
    });
});

describe("lifecyclePolicy", () => {
    it("keeps N versions of every variant, and the any-rule last", () => {
        const policy = lifecyclePolicy(5, 4) as {
            rules: { rulePriority: number; selection: { tagStatus: string; countNumber: number } }[];
        };
        assert.equal(policy.rules.length, 2);
        const last = policy.rules[policy.rules.length - 1];
        assert.equal(last.selection.tagStatus, "any");
        assert.equal(last.selection.countNumber, 20);
        assert.equal(Math.max(...policy.rules.map((r) => r.rulePriority)), last.rulePriority);
        assert.equal(policy.rules[0].selection.tagStatus, "untagged");
        assert.throws(() => lifecyclePolicy(0, 4), /positive/);
    });
});

describe("pullPolicy", () => {
    it("lets the instance roles pull, sorted and deduplicated", () => {
        const policy = pullPolicy(
            [
                "arn:aws:iam::123456789012:role/b",
                "arn:aws:iam::123456789012:role/a",
                "arn:aws:iam::123456789012:role/b",
            ],
            "123456789012",
        ) as {
            Statement: { Principal: { AWS: string[] }; Action: string[]; Effect: string }[];
        };
        assert.deepEqual(policy.Statement[0].Principal.AWS, [
            "arn:aws:iam::123456789012:role/a",
            "arn:aws:iam::123456789012:role/b",
        ]);
        assert.equal(policy.Statement[0].Effect, "Allow");
        assert.ok(policy.Statement[0].Action.includes("ecr:BatchGetImage"));
        assert.ok(!policy.Statement[0].Action.some((a) => /Put|Delete|\*/.test(a)), "pull only");
    });

    it("falls back to the account root when no role is known yet", () => {
        const policy = pullPolicy([], "123456789012") as { Statement: { Principal: { AWS: string[] } }[] };
        assert.deepEqual(policy.Statement[0].Principal.AWS, ["arn:aws:iam::123456789012:root"]);
    });
});
