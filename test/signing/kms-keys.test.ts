import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { kmsKeyArnIn, kmsKeyPlans, signingKeyPolicy } from "../../components/signing/kms-keys";
import { kmsKeyRegion } from "../../components/signing/kms-jose";
import { entry, mustParse, validRawConfig } from "../fixtures/config";

/* The KMS keys of kms clusters. KMS keys are regional (an agent's client uses its instance's region: buildkite/agent
 * v3.137.0 internal/awslib/awsv2.go GetConfigV2); a multi-region key's replicas share its key id (AWS KMS Developer
 * Guide, "Multi-Region keys"); the agent calls kms:GetPublicKey and kms:Sign with ECDSA_SHA_256, never kms:Verify
 * (internal/cryptosigner/aws/kms.go). */

function kmsConfig(signing: Record<string, unknown>) {
    const raw = validRawConfig();
    entry(raw, "clusters", 0).signing = { mode: "kms", ...signing };
    return mustParse(raw);
}

describe("kmsKeyPlans", () => {
    it("keeps a named key's ARN, and plans nothing for clusters that do not sign with kms", () => {
        const arn = "arn:aws:kms:us-east-1:123456789012:key/mrk-0123";
        assert.deepEqual(kmsKeyPlans(kmsConfig({ key: arn })), [
            { cluster: "default", named: arn, homeRegion: "us-east-1", replicaRegions: ["eu-west-1"] },
        ]);
        assert.deepEqual(kmsKeyPlans(mustParse(validRawConfig())), []);
    });

    it("gives no replica to a cluster whose AWS fleets are all in the home region, nor for static fleets", () => {
        const raw = validRawConfig();
        entry(raw, "clusters", 1).signing = { mode: "kms" };
        assert.deepEqual(kmsKeyPlans(mustParse(raw)), [
            { cluster: "macos", homeRegion: "us-east-1", replicaRegions: [] },
        ]);
    });
});

describe("kmsKeyArnIn", () => {
    it("swaps the region of a key ARN and keeps partition, account and key id", () => {
        const arn = "arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/mrk-0123";
        const replica = kmsKeyArnIn(arn, "us-gov-east-1");
        assert.equal(replica, "arn:aws-us-gov:kms:us-gov-east-1:123456789012:key/mrk-0123");
        assert.equal(kmsKeyRegion(replica), "us-gov-east-1");
        assert.equal(kmsKeyArnIn(arn, "us-gov-west-1"), arn);
    });
});

describe("signingKeyPolicy", () => {
    const base = {
        accountId: "123456789012",
        signerRoleArns: [
            "arn:aws:iam::123456789012:role/b",
            "arn:aws:iam::123456789012:role/a",
            "arn:aws:iam::123456789012:role/a",
        ],
        verifierRoleArns: ["arn:aws:iam::123456789012:role/v"],
        writers: ["arn:aws:iam::123456789012:role/deploy"],
    };
    const sids = (p: ReturnType<typeof signingKeyPolicy>) => p.Statement.map((s) => s.Sid);

    it("lets the writers and the upload fleets sign with ECDSA_SHA_256 only, and every fleet read the public key", () => {
        const policy = signingKeyPolicy(base);
        assert.equal(policy.Version, "2012-10-17");
        assert.deepEqual(sids(policy), [
            "AccountAdministersKey",
            "WritersSignStoredSteps",
            "UploadFleetsSign",
            "FleetsReadPublicKey",
        ]);
        const upload = policy.Statement.find((s) => s.Sid === "UploadFleetsSign");
        assert.deepEqual(upload?.Principal.AWS, [
            "arn:aws:iam::123456789012:role/a",
            "arn:aws:iam::123456789012:role/b",
        ]);
        assert.deepEqual(upload?.Action, ["kms:Sign"]);
        assert.deepEqual(upload?.Condition, { StringEquals: { "kms:SigningAlgorithm": "ECDSA_SHA_256" } });
        const writers = policy.Statement.find((s) => s.Sid === "WritersSignStoredSteps");
        assert.equal(writers?.Condition?.StringEquals?.["kms:SigningAlgorithm"], "ECDSA_SHA_256");
        const read = policy.Statement.find((s) => s.Sid === "FleetsReadPublicKey");
        assert.deepEqual(read?.Action, ["kms:GetPublicKey"]);
        assert.equal(read?.Condition, undefined);
    });

    it("never grants kms:Verify, Decrypt or a grant to anyone", () => {
        const actions = signingKeyPolicy(base).Statement.flatMap((s) => s.Action);
        for (const forbidden of ["kms:Verify", "kms:Decrypt", "kms:CreateGrant", "kms:*"])
            assert.ok(!actions.includes(forbidden), forbidden);
    });

    it("leaves out the statements of nobody: no writers, no signers, no verifiers", () => {
        const policy = signingKeyPolicy({ ...base, signerRoleArns: [], verifierRoleArns: [], writers: [] });
        assert.deepEqual(sids(policy), ["AccountAdministersKey"]);
        assert.equal(policy.Statement[0].Condition, undefined);
        assert.equal(policy.Statement[0].Principal.AWS, "arn:aws:iam::123456789012:root");
    });

    it("writes the partition into the account root", () => {
        const policy = signingKeyPolicy({ ...base, partition: "aws-cn" });
        assert.equal(policy.Statement[0].Principal.AWS, "arn:aws-cn:iam::123456789012:root");
    });
});
