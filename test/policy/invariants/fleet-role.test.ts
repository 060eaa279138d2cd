import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    elasticStackOwnInstanceRole,
    keyPolicyProblems,
    kmsKeyPolicyNamedPrincipals,
} from "../../../policy/invariants/fleet-role";
import { DEFAULT_PARAMS, RULES } from "../../../policy/rules";
import type { PlanResource } from "../../../policy/resource";
import { named, prodResources } from "./plan-resources";

const context = { params: DEFAULT_PARAMS };
const STACK = "aws:cloudformation/stack:Stack";
const KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy";

describe("invariant elastic-stack-own-instance-role", () => {
    it("is mandatory and in the pack", () => {
        assert.equal(elasticStackOwnInstanceRole.enforcementLevel, "mandatory");
        assert.ok(RULES.includes(elasticStackOwnInstanceRole));
    });

    it("passes every stack of the prod plan, each given its own fleet's role", async () => {
        const resources = await prodResources();
        const stacks = resources.filter((r) => r.type === STACK);
        assert.ok(stacks.length >= 3);
        for (const stack of stacks) {
            assert.deepEqual(elasticStackOwnInstanceRole.check(stack, context), [], stack.name);
            const fleet = stack.name.replace(/-stack$/, "");
            const role = named(resources, `${fleet}-role`, "aws:iam/role:Role");
            assert.ok(stack.dependsOn?.includes(role.urn) ?? false, `${stack.name} is built from ${role.name}`);
        }
    });

    it("refuses a stack that would create its own role, naming the ECR grant it would add", async () => {
        const stack = named(await prodResources(), "linux-eu-west-1-stack", STACK);
        const parameters = stack.inputs.parameters as Record<string, unknown>;
        delete parameters.InstanceRoleARN;
        const [message] = elasticStackOwnInstanceRole.check(stack, context);
        assert.match(message, /linux-eu-west-1-stack" has no InstanceRoleARN/);
        assert.match(message, /s3:Get\* and s3:List\* on the whole SecretsBucket/);
        assert.match(message, /ECRAccessPolicy "readonly"/);
        parameters.InstanceRoleARN = "";
        assert.equal(elasticStackOwnInstanceRole.check(stack, context).length, 1, "an empty ARN is no role");
    });

    it("leaves alone a CloudFormation stack that is not an Elastic CI Stack", () => {
        const other: PlanResource = { urn: "u", type: STACK, name: "vpc", inputs: { parameters: { CidrBlock: "x" } } };
        assert.deepEqual(elasticStackOwnInstanceRole.check(other, context), []);
    });
});

describe("invariant kms-key-policy-named-principals", () => {
    it("is mandatory and in the pack", () => {
        assert.equal(kmsKeyPolicyNamedPrincipals.enforcementLevel, "mandatory");
        assert.ok(RULES.includes(kmsKeyPolicyNamedPrincipals));
    });

    it("passes every key policy of the prod plan: two per (region, cluster)", async () => {
        const resources = await prodResources();
        const policies = resources.filter((r) => r.type === KEY_POLICY);
        const buckets = resources.filter((r) => r.type === "aws:s3/bucket:Bucket" && r.name.startsWith("secrets-"));
        assert.ok(buckets.length > 0);
        assert.equal(policies.length, 2 * buckets.length);
        for (const p of policies) assert.deepEqual(kmsKeyPolicyNamedPrincipals.check(p, context), [], p.name);
    });

    it("refuses a grant to everyone and a decrypt without service or context conditions", async () => {
        const policy = named(await prodResources(), "secrets-eu-west-1-key-policy", KEY_POLICY);
        const document = JSON.parse(policy.inputs.policy as string) as { Statement: Record<string, unknown>[] };
        document.Statement.push(
            { Sid: "Everyone", Effect: "Allow", Principal: { AWS: "*" }, Action: "kms:DescribeKey", Resource: "*" },
            {
                Sid: "StackStyleDecrypt",
                Effect: "Allow",
                Principal: { AWS: "arn:aws:iam::123456789012:role/x" },
                Action: ["kms:Decrypt"],
                Resource: "*",
            },
            {
                Sid: "ServiceOnly",
                Effect: "Allow",
                Principal: { AWS: "arn:aws:iam::123456789012:role/x" },
                Action: ["kms:Decrypt"],
                Resource: "*",
                Condition: { StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" } },
            },
        );
        policy.inputs.policy = JSON.stringify(document);
        const problems = kmsKeyPolicyNamedPrincipals.check(policy, context);
        assert.equal(problems.length, 3, problems.join("\n"));
        assert.match(problems[0], /statement Everyone allows every principal/);
        assert.match(problems[1], /StackStyleDecrypt allows kms:Decrypt without a condition on kms:ViaService and/);
        assert.match(problems[2], /ServiceOnly allows kms:Decrypt without a condition on a kms:EncryptionContext/);
    });

    it("leaves administration statements and keys with the default policy alone", () => {
        assert.deepEqual(
            keyPolicyProblems({
                Statement: [
                    {
                        Effect: "Allow",
                        Principal: { AWS: "arn:aws:iam::123456789012:root" },
                        Action: ["kms:Describe*", "kms:PutKeyPolicy"],
                        Resource: "*",
                    },
                ],
            }),
            [],
        );
        const key: PlanResource = { urn: "k", type: "aws:kms/key:Key", name: "k", inputs: {} };
        assert.deepEqual(kmsKeyPolicyNamedPrincipals.check(key, context), []);
    });
});
