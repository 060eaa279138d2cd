import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    KEY_ADMIN_ACTIONS,
    KeyPolicyDocument,
    secretsKeyPolicy,
    tokenKeyPolicy,
} from "../../components/agents/key-policy";
import { scalerRolePattern } from "../../components/agents/naming";

const ACCOUNT = "123456789012";
const ROOT = `arn:aws:iam::${ACCOUNT}:root`;
const BUCKET = "arn:aws:s3:::secrets-eu-west-1-bucket-1";
const ROLE_A = `arn:aws:iam::${ACCOUNT}:role/linux-eu-west-1-role-a`;
const ROLE_B = `arn:aws:iam::${ACCOUNT}:role/large-eu-west-1-role-b`;
const PARAM_A = `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/ci-platform/linux-eu-west-1/buildkite-agent-token`;
const PARAM_B = `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/ci-platform/large-eu-west-1/buildkite-agent-token`;
const DEPLOY = `arn:aws:iam::${ACCOUNT}:role/ci-platform-deploy`;
const READ = `arn:aws:iam::${ACCOUNT}:role/ci-platform-read`;
const ADMIN = `arn:aws:iam::${ACCOUNT}:role/BreakGlassAdmin`;
/** An IAM principal of the account that its IAM policies would allow (a CI job's role, a developer). */
const STRANGER = `arn:aws:iam::${ACCOUNT}:role/someone-else`;

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
        const matches = s.Action.some((a) => glob(a).test(request.action));
        if (!matches) return false;
        // aws:PrincipalArn is the caller's role ARN (for a role session, the role's, not the session's).
        const context: Record<string, string> = { ...request.context, "aws:PrincipalArn": request.principal };
        const listOf = (v: string | readonly string[]) => (typeof v === "string" ? [v] : v);
        return (
            Object.entries(s.Condition?.StringEquals ?? {}).every(([key, expected]) =>
                listOf(expected).includes(context[key] ?? ""),
            ) &&
            Object.entries(s.Condition?.ArnLike ?? {}).every(([key, expected]) =>
                listOf(expected).some((pattern) => glob(pattern).test(context[key] ?? "")),
            ) &&
            Object.entries(s.Condition?.StringLike ?? {}).every(([key, expected]) =>
                listOf(expected).some((pattern) => glob(pattern).test(context[key] ?? "")),
            )
        );
    });
}

/** IAM's `*` and `?` wildcards as a regular expression. */
function glob(pattern: string): RegExp {
    const escaped = pattern
        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
        .replace(/\*/g, ".*")
        .replace(/\?/g, ".");
    return new RegExp(`^${escaped}$`);
}

const USAGE = /^kms:(Decrypt|Encrypt|GenerateDataKey.*|ReEncrypt.*|\*)$/;

/** Every statement granting a cryptographic operation is conditioned on the service and the encryption context. */
function assertNoUnconditionedUse(policy: KeyPolicyDocument): void {
    for (const s of policy.Statement) {
        const principals = typeof s.Principal.AWS === "string" ? [s.Principal.AWS] : s.Principal.AWS;
        assert.ok(!principals.includes("*"), `${s.Sid} names every principal`);
        if (!s.Action.some((a) => USAGE.test(a))) continue;
        const keys = [...Object.keys(s.Condition?.StringEquals ?? {}), ...Object.keys(s.Condition?.StringLike ?? {})];
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
        writers: [DEPLOY, ADMIN],
    });
    const viaS3 = { "kms:ViaService": "s3.eu-west-1.amazonaws.com", "kms:EncryptionContext:aws:s3:arn": BUCKET };

    it("lets the account administer the key and use it only through the statements below", () => {
        const admin = policy.Statement.find((s) => s.Sid === "AccountAdministersKey");
        assert.deepEqual(admin?.Principal, { AWS: ROOT });
        assert.deepEqual(admin?.Action, KEY_ADMIN_ACTIONS);
        assert.ok(!KEY_ADMIN_ACTIONS.some((a) => USAGE.test(a) || a === "kms:*"));
        assert.ok(keyAllows(policy, { principal: ROOT, action: "kms:PutKeyPolicy", context: {} }));
    });

    it("lets only the named administrators administer the key, and nobody create a grant", () => {
        // A grant escapes the ViaService and encryption-context conditions: whoever may create one may decrypt.
        for (const principal of [DEPLOY, ADMIN, ROOT])
            assert.ok(keyAllows(policy, { principal, action: "kms:PutKeyPolicy", context: {} }, true), principal);
        for (const action of ["kms:PutKeyPolicy", "kms:CreateGrant", "kms:ScheduleKeyDeletion"])
            assert.ok(!keyAllows(policy, { principal: STRANGER, action, context: {} }, true), action);
        for (const p of [
            policy,
            tokenKeyPolicy({
                accountId: ACCOUNT,
                region: "eu-west-1",
                readers: [],
                writers: [DEPLOY],
                tokenReaders: [],
            }),
        ])
            for (const principal of [DEPLOY, ADMIN, ROOT, STRANGER])
                assert.ok(!keyAllows(p, { principal, action: "kms:CreateGrant", context: {} }, true), principal);
        // With nobody named, the account keeps administering (KMS refuses a policy that locks its writer out).
        const unnamed = secretsKeyPolicy({
            accountId: ACCOUNT,
            region: "eu-west-1",
            bucketArn: BUCKET,
            fleetRoleArns: [],
            writers: [],
        });
        assert.ok(keyAllows(unnamed, { principal: STRANGER, action: "kms:PutKeyPolicy", context: {} }, true));
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

    it("lets the deploy roles and administrators write objects through S3 (GenerateDataKey) and nothing directly", () => {
        const ctx = { ...viaS3, "kms:CallerAccount": ACCOUNT };
        for (const writer of [DEPLOY, ADMIN]) {
            assert.ok(keyAllows(policy, { principal: writer, action: "kms:GenerateDataKey", context: ctx }, true));
            assert.ok(keyAllows(policy, { principal: writer, action: "kms:Decrypt", context: ctx }, true));
            assert.ok(!keyAllows(policy, { principal: writer, action: "kms:Encrypt", context: ctx }, true));
            assert.ok(!keyAllows(policy, { principal: writer, action: "kms:Decrypt", context: {} }, true));
        }
        assertNoUnconditionedUse(policy);
    });

    it("lets no other principal of the account decrypt through S3, whatever its IAM policies allow", () => {
        const ctx = { ...viaS3, "kms:CallerAccount": ACCOUNT };
        for (const who of [STRANGER, READ])
            for (const action of ["kms:Decrypt", "kms:GenerateDataKey"])
                assert.ok(!keyAllows(policy, { principal: who, action, context: ctx }, true), `${who} ${action}`);
        const writes = policy.Statement.find((s) => s.Sid === "DeployWritesThroughS3");
        assert.deepEqual(writes?.Condition?.ArnLike, { "aws:PrincipalArn": [ADMIN, DEPLOY] });
    });

    it("has no fleet statement when no fleet reads the bucket", () => {
        const empty = secretsKeyPolicy({
            accountId: ACCOUNT,
            region: "eu-west-1",
            bucketArn: BUCKET,
            fleetRoleArns: [],
            writers: [DEPLOY],
        });
        assert.deepEqual(
            empty.Statement.map((s) => s.Sid),
            ["AccountAdministersKey", "DeployWritesThroughS3"],
        );
    });

    it("has no write statement when no writer is configured: the account root alone no longer uses the key", () => {
        const none = secretsKeyPolicy({
            accountId: ACCOUNT,
            region: "eu-west-1",
            bucketArn: BUCKET,
            fleetRoleArns: [ROLE_A],
            writers: [],
        });
        assert.deepEqual(
            none.Statement.map((s) => s.Sid),
            ["AccountAdministersKey", "FleetRolesDecryptThroughS3"],
        );
    });
});

describe("tokenKeyPolicy", () => {
    const policy = tokenKeyPolicy({
        accountId: ACCOUNT,
        region: "eu-west-1",
        readers: [
            {
                fleet: "linux-eu-west-1",
                roleArn: ROLE_A,
                parameterArn: PARAM_A,
                scalerRolePattern: scalerRolePattern("aws", ACCOUNT, "linux-eu-west-1"),
            },
            { fleet: "large-eu-west-1", roleArn: ROLE_B, parameterArn: PARAM_B },
        ],
        writers: [DEPLOY, ADMIN],
        tokenReaders: [READ],
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
                "ReadRolesDecryptTokensThroughSsm",
                "FleetLargeEuWest1DecryptsOwnToken",
                "FleetLinuxEuWest1DecryptsOwnToken",
                "FleetLinuxEuWest1ScalerDecryptsOwnToken",
            ],
        );
    });

    const ctx = (p: string) => ({ ...viaSsm(p), "kms:CallerAccount": ACCOUNT });

    it("lets the deploy roles and administrators write and read back the platform's token parameters through SSM only", () => {
        for (const writer of [DEPLOY, ADMIN]) {
            for (const action of ["kms:Encrypt", "kms:Decrypt"])
                assert.ok(keyAllows(policy, { principal: writer, action, context: ctx(PARAM_A) }, true), action);
            const other = `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/something-else`;
            assert.ok(!keyAllows(policy, { principal: writer, action: "kms:Decrypt", context: ctx(other) }, true));
        }
        assertNoUnconditionedUse(policy);
    });

    it("lets the deploy roles write the token parameter of a fleet the policy does not list yet (a fleet being added)", () => {
        const NEW = `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/ci-platform/new-fleet/buildkite-agent-token`;
        const OTHER = `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/someone/else`;
        const via = (arn: string) => ({
            "kms:ViaService": "ssm.eu-west-1.amazonaws.com",
            "kms:CallerAccount": ACCOUNT,
            "kms:EncryptionContext:PARAMETER_ARN": arn,
        });
        assert.ok(keyAllows(policy, { principal: DEPLOY, action: "kms:Encrypt", context: via(NEW) }, true));
        assert.ok(!keyAllows(policy, { principal: DEPLOY, action: "kms:Encrypt", context: via(OTHER) }, true));
        assert.ok(!keyAllows(policy, { principal: STRANGER, action: "kms:Encrypt", context: via(NEW) }, true));
    });

    it("lets the read roles decrypt the token parameters through SSM (drift check), and never encrypt", () => {
        assert.ok(keyAllows(policy, { principal: READ, action: "kms:Decrypt", context: ctx(PARAM_B) }, true));
        assert.ok(!keyAllows(policy, { principal: READ, action: "kms:Encrypt", context: ctx(PARAM_B) }, true));
        assert.ok(!keyAllows(policy, { principal: READ, action: "kms:Decrypt", context: {} }, true), "direct");
    });

    it("lets no other principal of the account use the key, whatever its IAM policies allow", () => {
        for (const action of ["kms:Encrypt", "kms:Decrypt"])
            assert.ok(!keyAllows(policy, { principal: STRANGER, action, context: ctx(PARAM_A) }, true), action);
    });

    it("admits an autoscaled fleet's scaler role to decrypt its own fleet's token through SSM only", () => {
        // The shape of a v6 stack's scaler role (buildkite/buildkite-agent-scaler issue #68): the nested stack's
        // name cut to 36 characters, then -ExecutionRole- and 12 random characters.
        const nested = "buildkite-linux-eu-west-1-Autoscaling-1ABCDEFGHIJKL".slice(0, 36);
        const scaler = `arn:aws:iam::${ACCOUNT}:role/${nested}-ExecutionRole-X4NRVJKLN5LX`;
        assert.ok(keyAllows(policy, { principal: scaler, action: "kms:Decrypt", context: ctx(PARAM_A) }, true));
        assert.ok(!keyAllows(policy, { principal: scaler, action: "kms:Decrypt", context: ctx(PARAM_B) }, true));
        assert.ok(!keyAllows(policy, { principal: scaler, action: "kms:Encrypt", context: ctx(PARAM_A) }, true));
        assert.ok(!keyAllows(policy, { principal: scaler, action: "kms:Decrypt", context: {} }, true), "direct");
        // large-eu-west-1 has a fixed size (no scaler): no scaler role reads its token.
        const largeScaler = `arn:aws:iam::${ACCOUNT}:role/buildkite-large-eu-west-1-Autoscalin-ExecutionRole-ABCDEF123456`;
        assert.ok(!keyAllows(policy, { principal: largeScaler, action: "kms:Decrypt", context: ctx(PARAM_B) }, true));
    });

    it("gives a secrets-key principal nothing on the token key (separate keys)", () => {
        const s3ctx = { "kms:ViaService": "s3.eu-west-1.amazonaws.com", "kms:EncryptionContext:aws:s3:arn": BUCKET };
        assert.ok(!keyAllows(policy, { principal: ROLE_A, action: "kms:Decrypt", context: s3ctx }));
    });
});

describe("scalerRolePattern", () => {
    it("matches the scaler role name CloudFormation generated for a v5 stack (buildkite-agent-scaler issue #68)", () => {
        const observed = `arn:aws:iam::${ACCOUNT}:role/buildkite-5-11-0-test-Autoscaling-CV-ExecutionRole-X4NRVJKLN5LX`;
        assert.match(observed, glob(scalerRolePattern("aws", ACCOUNT, "5-11-0-test")));
        assert.doesNotMatch(observed, glob(scalerRolePattern("aws", ACCOUNT, "5-11-0-prod")));
    });

    it("matches the Arm64 scaler's nested stack, and keeps the fleet's name whole up to long names", () => {
        const nested = (fleet: string, logicalId: string) =>
            `buildkite-${fleet}-${logicalId}-1ABCDEFGHIJKL`.slice(0, 36);
        for (const fleet of ["linux", "linux-us-east-1", "arm-eu-central-1", "windows-us-east-1-x"])
            for (const logicalId of ["Autoscaling", "AutoscalingArm64"]) {
                const role = `arn:aws:iam::${ACCOUNT}:role/${nested(fleet, logicalId)}-ExecutionRole-ABCDEF123456`;
                assert.match(role, glob(scalerRolePattern("aws", ACCOUNT, fleet)), `${fleet} ${logicalId}`);
                assert.ok(scalerRolePattern("aws", ACCOUNT, fleet).includes(`role/buildkite-${fleet}`));
            }
        // Another fleet's scaler, and the fleet's own instance role, do not match.
        const pattern = glob(scalerRolePattern("aws", ACCOUNT, "linux-us-east-1"));
        assert.doesNotMatch(
            `arn:aws:iam::${ACCOUNT}:role/buildkite-linux-eu-west-1-Autoscalin-ExecutionRole-A`,
            pattern,
        );
        assert.doesNotMatch(`arn:aws:iam::${ACCOUNT}:role/linux-us-east-1-role-1234567`, pattern);
    });
});
