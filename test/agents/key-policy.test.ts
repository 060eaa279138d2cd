import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    KEY_ADMIN_ACTIONS,
    KeyPolicyDocument,
    secretsKeyPolicy,
    tokenKeyPolicy,
} from "../../components/agents/key-policy";

const ACCOUNT = "123456789012";
const ROOT = `arn:aws:iam::${ACCOUNT}:root`;
const BUCKET = "arn:aws:s3:::secrets-eu-west-1-bucket-1";
const ROLE_A = `arn:aws:iam::${ACCOUNT}:role/linux-eu-west-1-role-a`;
const ROLE_B = `arn:aws:iam::${ACCOUNT}:role/large-eu-west-1-role-b`;
const PARAM_A = `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/ci-platform/linux-eu-west-1/buildkite-agent-token`;
const PARAM_B = `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/ci-platform/large-eu-west-1/buildkite-agent-token`;

/** A KMS request: who asks, for what, with which condition keys. */
interface KmsRequest {
    readonly principal: string;
    readonly action: string;
    readonly context: Readonly<Record<string, string>>;
}

/**
 * Whether the key policy itself allows a request. The account root as principal delegates to IAM (the caller's IAM
 * policy must allow it too); `viaIam` says whether the caller is an IAM principal of the account with such a grant.
 */
function keyAllows(policy: KeyPolicyDocument, request: KmsRequest, viaIam = false): boolean {
    return policy.Statement.some((s) => {
        const principals = typeof s.Principal.AWS === "string" ? [s.Principal.AWS] : s.Principal.AWS;
        const named = principals.includes(request.principal) || (viaIam && principals.includes(ROOT));
        if (!named) return false;
        const matches = s.Action.some((a) => new RegExp(`^${a.replace(/\*/g, ".*")}$`).test(request.action));
        if (!matches) return false;
        return Object.entries(s.Condition?.StringEquals ?? {}).every(([key, expected]) =>
            (typeof expected === "string" ? [expected] : expected).includes(request.context[key] ?? ""),
        );
    });
}

const USAGE = /^kms:(Decrypt|Encrypt|GenerateDataKey.*|ReEncrypt.*|\*)$/;

/** Every statement granting a cryptographic operation is conditioned on the service and the encryption context. */
function assertNoUnconditionedUse(policy: KeyPolicyDocument): void {
    for (const s of policy.Statement) {
        const principals = typeof s.Principal.AWS === "string" ? [s.Principal.AWS] : s.Principal.AWS;
        assert.ok(!principals.includes("*"), `${s.Sid} names every principal`);
        if (!s.Action.some((a) => USAGE.test(a))) continue;
        const keys = Object.keys(s.Condition?.StringEquals ?? {});
        assert.ok(keys.includes("kms:ViaService"), `${s.Sid}: no kms:ViaService`);
        assert.ok(
            keys.some((k) => k.startsWith("kms:EncryptionContext:")),
            `${s.Sid}: no encryption context condition`,
        );
    }
}

describe("secretsKeyPolicy", () => {
    const policy = secretsKeyPolicy({
        accountId: ACCOUNT,
        region: "eu-west-1",
        bucketArn: BUCKET,
        fleetRoleArns: [ROLE_B, ROLE_A, ROLE_A],
    });
    const viaS3 = { "kms:ViaService": "s3.eu-west-1.amazonaws.com", "kms:EncryptionContext:aws:s3:arn": BUCKET };

    it("lets the account administer the key and use it only through the statements below", () => {
        const admin = policy.Statement.find((s) => s.Sid === "AccountAdministersKey");
        assert.deepEqual(admin?.Principal, { AWS: ROOT });
        assert.deepEqual(admin?.Action, KEY_ADMIN_ACTIONS);
        assert.ok(!KEY_ADMIN_ACTIONS.some((a) => USAGE.test(a) || a === "kms:*"));
        assert.ok(keyAllows(policy, { principal: ROOT, action: "kms:PutKeyPolicy", context: {} }));
    });

    it("names the fleet roles, for Decrypt through S3 on this bucket only", () => {
        const fleets = policy.Statement.find((s) => s.Sid === "FleetRolesDecryptThroughS3");
        assert.deepEqual(fleets?.Principal, { AWS: [ROLE_B, ROLE_A] });
        assert.deepEqual(fleets?.Action, ["kms:Decrypt"]);
        assert.ok(keyAllows(policy, { principal: ROLE_A, action: "kms:Decrypt", context: viaS3 }));
        assert.ok(!keyAllows(policy, { principal: ROLE_A, action: "kms:Decrypt", context: {} }), "direct");
        assert.ok(
            !keyAllows(policy, {
                principal: ROLE_A,
                action: "kms:Decrypt",
                context: { ...viaS3, "kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::other" },
            }),
        );
        assert.ok(!keyAllows(policy, { principal: ROLE_A, action: "kms:GenerateDataKey", context: viaS3 }));
        const stranger = `arn:aws:iam::${ACCOUNT}:role/stranger`;
        assert.ok(!keyAllows(policy, { principal: stranger, action: "kms:Decrypt", context: viaS3 }));
    });

    it("lets the deploy identity write objects through S3 (GenerateDataKey) and nothing directly", () => {
        const deploy = `arn:aws:iam::${ACCOUNT}:role/deploy`;
        const ctx = { ...viaS3, "kms:CallerAccount": ACCOUNT };
        assert.ok(keyAllows(policy, { principal: deploy, action: "kms:GenerateDataKey", context: ctx }, true));
        assert.ok(!keyAllows(policy, { principal: deploy, action: "kms:Encrypt", context: ctx }, true));
        assert.ok(!keyAllows(policy, { principal: deploy, action: "kms:Decrypt", context: {} }, true));
        assertNoUnconditionedUse(policy);
    });

    it("has no fleet statement when no fleet reads the bucket", () => {
        const empty = secretsKeyPolicy({
            accountId: ACCOUNT,
            region: "eu-west-1",
            bucketArn: BUCKET,
            fleetRoleArns: [],
        });
        assert.deepEqual(
            empty.Statement.map((s) => s.Sid),
            ["AccountAdministersKey", "DeployWritesThroughS3"],
        );
    });
});

describe("tokenKeyPolicy", () => {
    const policy = tokenKeyPolicy({
        accountId: ACCOUNT,
        region: "eu-west-1",
        readers: [
            { fleet: "linux-eu-west-1", roleArn: ROLE_A, parameterArn: PARAM_A },
            { fleet: "large-eu-west-1", roleArn: ROLE_B, parameterArn: PARAM_B },
        ],
    });
    const viaSsm = (parameter: string) => ({
        "kms:ViaService": "ssm.eu-west-1.amazonaws.com",
        "kms:EncryptionContext:PARAMETER_ARN": parameter,
    });

    it("lets each fleet role decrypt its own token through SSM, and not another fleet's", () => {
        assert.ok(keyAllows(policy, { principal: ROLE_A, action: "kms:Decrypt", context: viaSsm(PARAM_A) }));
        assert.ok(keyAllows(policy, { principal: ROLE_B, action: "kms:Decrypt", context: viaSsm(PARAM_B) }));
        assert.ok(!keyAllows(policy, { principal: ROLE_A, action: "kms:Decrypt", context: viaSsm(PARAM_B) }));
        assert.ok(!keyAllows(policy, { principal: ROLE_A, action: "kms:Decrypt", context: {} }), "direct");
        assert.ok(
            !keyAllows(policy, {
                principal: ROLE_A,
                action: "kms:Decrypt",
                context: { ...viaSsm(PARAM_A), "kms:ViaService": "s3.eu-west-1.amazonaws.com" },
            }),
        );
        assert.deepEqual(
            policy.Statement.map((s) => s.Sid),
            [
                "AccountAdministersKey",
                "DeployWritesTokensThroughSsm",
                "FleetLargeEuWest1DecryptsOwnToken",
                "FleetLinuxEuWest1DecryptsOwnToken",
            ],
        );
    });

    it("lets the deploy identity write and read back the named token parameters through SSM only", () => {
        const deploy = `arn:aws:iam::${ACCOUNT}:role/deploy`;
        const ctx = (p: string) => ({ ...viaSsm(p), "kms:CallerAccount": ACCOUNT });
        for (const action of ["kms:Encrypt", "kms:Decrypt"])
            assert.ok(keyAllows(policy, { principal: deploy, action, context: ctx(PARAM_A) }, true), action);
        const other = `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/something-else`;
        assert.ok(!keyAllows(policy, { principal: deploy, action: "kms:Decrypt", context: ctx(other) }, true));
        assertNoUnconditionedUse(policy);
    });

    it("gives a secrets-key principal nothing on the token key (separate keys)", () => {
        const s3ctx = { "kms:ViaService": "s3.eu-west-1.amazonaws.com", "kms:EncryptionContext:aws:s3:arn": BUCKET };
        assert.ok(!keyAllows(policy, { principal: ROLE_A, action: "kms:Decrypt", context: s3ctx }));
    });
});
