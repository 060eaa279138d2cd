import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import {
    KEY_DELETION_WINDOW_DAYS,
    SECRETS_BUCKET_STANCE,
    SecretsBucket,
    SecretsBucketArgs,
} from "../../components/agents/secrets-bucket";
import type { SecretsConfig } from "../../components/config/schema";
import { captureStack } from "../../scripts/plan/capture";
import { TEST_STACK } from "../fixtures/plan";
import { PlanResource, SECRET } from "../../scripts/plan/model";

/*
 * components/agents/secrets-bucket.ts under the SDK mocks (scripts/plan/capture.ts captureStack, the plan's seam):
 * one (region, cluster)'s bucket, keys and objects, which live and die whole, and the key policies grantFleets adds.
 */

const NAME = "secrets-macos-us-east-1";
const HASH = "0f".repeat(32);
const ACCOUNT = "123456789012";
const placeholders: SecretsConfig = {
    organization: { env: { ORG_TOKEN: "placeholder" } },
    pipelines: { app: { env: { API_TOKEN: "placeholder" }, files: { DB_PASSWORD: "placeholder" } } },
};
const values: SecretsConfig = {
    organization: { env: { ORG_TOKEN: "org-value" } },
    pipelines: { app: { env: { API_TOKEN: "api-value" }, files: { DB_PASSWORD: "db-value" } } },
};
const args = (over: Partial<SecretsBucketArgs> = {}): SecretsBucketArgs => ({
    region: "us-east-1",
    cluster: "macos",
    secrets: placeholders,
    secretValues: pulumi.secret(values),
    hooksBundle: { hash: HASH, files: [{ path: "pre-command", content: "#!/bin/bash\n" }] },
    noncurrentVersionExpirationDays: 14,
    ...over,
});

let resources: PlanResource[] = [];
let component: SecretsBucket | undefined;
const find = (type: string, name: string): PlanResource => {
    const found = resources.find((r) => r.type === type && r.name === name);
    assert.ok(found, `no ${type} ${name}; have ${resources.map((r) => `${r.type} ${r.name}`).join("\n")}`);
    return found;
};
const OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2";
const KEY = "aws:kms/key:Key";
const KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy";

before(async () => {
    ({ resources } = await captureStack({
        ...TEST_STACK,
        run: () => {
            component = new SecretsBucket(NAME, args());
            const reader = (fleet: string, scaled: boolean) => ({
                fleet,
                roleArn: `arn:aws:iam::${ACCOUNT}:role/${fleet}-role`,
                tokenParameterArn: `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/ci-platform/${fleet}/buildkite-agent-token`,
                scaled,
            });
            component.grantFleets([reader("mac-b", false), reader("mac-a", true)], ACCOUNT, {
                deployRoleNames: ["ci-platform-deploy"],
                readRoleNames: ["ci-platform-read"],
                administratorArns: [`arn:aws:iam::${ACCOUNT}:user/break-glass`],
            });
        },
    }));
});

describe("SecretsBucket", () => {
    it("records its cluster as the component's input, for the policy pack (secrets-cluster)", () => {
        assert.deepEqual(find("ci-platform:agents:SecretsBucket", NAME).inputs, { cluster: "macos" });
    });

    it("lives and dies whole: no child protected, none retained but the hook objects", () => {
        assert.deepEqual(SECRETS_BUCKET_STANCE, { protect: false, retainOnDelete: false });
        const parent = find("ci-platform:agents:SecretsBucket", NAME).urn;
        const children = resources.filter((r) => r.parent === parent);
        assert.ok(children.length >= 14, `${children.length} children`);
        for (const r of children) {
            assert.equal(r.protect, false, r.name);
            assert.equal(r.retainOnDelete, r.name.startsWith(`${NAME}-hook-`), r.name);
        }
        assert.equal(find("aws:s3/bucket:Bucket", `${NAME}-bucket`).inputs.forceDestroy, true);
    });

    it("has two rotated keys that wait the longest window KMS allows before deletion, each with an alias", () => {
        // @pulumi/aws 7.48.0 kms/key.d.ts deletionWindowInDays: 7 to 30.
        assert.equal(KEY_DELETION_WINDOW_DAYS, 30);
        for (const [role, what] of [
            ["key", "secrets bucket"],
            ["token-key", "agent tokens"],
        ]) {
            const key = find(KEY, `${NAME}-${role}`).inputs;
            assert.equal(key.enableKeyRotation, true);
            assert.equal(key.deletionWindowInDays, 30);
            assert.equal(key.description, `ci-platform ${what} of cluster macos in us-east-1`);
            find("aws:kms/alias:Alias", `${NAME}-${role}-alias`);
        }
    });

    it("expires noncurrent versions after the configured days, and sets its policy after the public-access block", () => {
        const lifecycle = find("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", `${NAME}-lifecycle`);
        const [rule] = lifecycle.inputs.rules as { noncurrentVersionExpiration: { noncurrentDays: number } }[];
        assert.equal(rule.noncurrentVersionExpiration.noncurrentDays, 14);
        const block = find("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", `${NAME}-public-access`);
        assert.ok(find("aws:s3/bucketPolicy:BucketPolicy", `${NAME}-policy`).dependsOn.includes(block.urn));
    });

    it("uploads each secret object as a secret, encrypted with the bucket's key, its variable names in metadata", () => {
        const encryption = find(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            `${NAME}-encryption`,
        ).urn;
        const policy = find("aws:s3/bucketPolicy:BucketPolicy", `${NAME}-policy`).urn;
        const secrets = resources.filter((r) => r.type === OBJECT && r.name.startsWith(`${NAME}-secret-`));
        assert.deepEqual(secrets.map((r) => r.inputs.key).sort(), ["app/env", "app/secret-files/DB_PASSWORD", "env"]);
        for (const r of secrets) {
            assert.equal(r.inputs.content, SECRET, r.name);
            assert.equal(r.inputs.serverSideEncryption, "aws:kms");
            assert.ok(r.dependsOn.includes(encryption) && r.dependsOn.includes(policy), r.name);
        }
        assert.deepEqual(find(OBJECT, `${NAME}-secret-app/env`).inputs.metadata, {
            "ci-platform-variables": "API_TOKEN",
        });
        assert.deepEqual(component?.secretObjects.map((o) => o.pipeline).sort(), ["app", "app", undefined]);
    });

    it("uploads the hooks bundle under its content-addressed prefix, named by path", () => {
        assert.equal(component?.hooksPrefix, `_ci-platform/hooks/${HASH}`);
        const hook = find(OBJECT, `${NAME}-hook-pre-command`);
        assert.equal(hook.inputs.key, `_ci-platform/hooks/${HASH}/pre-command`);
        assert.equal(hook.inputs.content, "#!/bin/bash\n");
        assert.equal(hook.inputs.contentType, "text/x-shellscript");
        assert.equal(component?.hookObjects.length, 1);
    });

    it("grants the fleets' roles the keys, and the token key's scaler pattern only for a scaled fleet", () => {
        const policies = resources.filter((r) => r.type === KEY_POLICY);
        assert.deepEqual(policies.map((r) => r.name).sort(), [`${NAME}-key-policy`, `${NAME}-token-key-policy`]);
        const tokenPolicy = find(KEY_POLICY, `${NAME}-token-key-policy`).inputs.policy;
        assert.equal(typeof tokenPolicy, "string");
        const text = String(tokenPolicy);
        assert.ok(text.includes(`role/buildkite-mac-a-Autoscaling*-ExecutionRole-*`), text);
        assert.ok(!text.includes(`buildkite-mac-b-Autoscaling`), text);
        // key-policy.ts: the fleets' roles, the deploy and read roles and the administrators, by ARN.
        for (const arn of [
            "role/mac-a-role",
            "role/mac-b-role",
            "role/ci-platform-deploy",
            "role/ci-platform-read",
            "user/break-glass",
        ])
            assert.ok(text.includes(`"arn:aws:iam::${ACCOUNT}:${arn}"`), `${arn} in ${text}`);
        assert.ok(
            text.indexOf("role/mac-a-role") < text.indexOf("role/mac-b-role"),
            "the policy names the fleets in name order, whatever order they were granted in",
        );
        const secretsPolicy = String(find(KEY_POLICY, `${NAME}-key-policy`).inputs.policy);
        assert.ok(secretsPolicy.includes(`arn:aws:iam::${ACCOUNT}:role/mac-a-role`), secretsPolicy);
        assert.ok(!secretsPolicy.includes("ci-platform-read"), "the read role reads tokens, not secrets objects");
    });
});
