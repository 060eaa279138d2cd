import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fleetPolicyDocument, secretsBucketPolicyDocument } from "../../components/agents/iam-policy";
import { bundleKeyPrefix } from "../../components/hooks/bundle";

const HASH = "a".repeat(64);

const baseInput = {
    secretsBucketArn: "arn:aws:s3:::secrets-eu-west-1-bucket-1",
    secretsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/k1",
    region: "eu-west-1",
    accountId: "123456789012",
    ecrRegions: ["eu-west-1"],
};
const doc = fleetPolicyDocument({
    secretsBucketArn: "arn:aws:s3:::secrets-eu-west-1-bucket-1",
    secretsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/k1",
    region: "eu-west-1",
    accountId: "123456789012",
    ecrRegions: ["eu-west-1", "eu-west-1"],
    hooks: { bundlePrefix: bundleKeyPrefix(HASH), bootstrapKey: "_ci-platform/bootstrap/linux-0123456789abcdef.sh" },
});

describe("fleetPolicyDocument", () => {
    it("reads only its region's secrets bucket and decrypts only through S3 with its key", () => {
        const s3 = doc.Statement.filter((s) => s.Action.some((a) => a.startsWith("s3:")));
        assert.deepEqual(
            s3.map((s) => [s.Action, s.Resource, s.Condition]),
            [
                [
                    ["s3:ListBucket"],
                    "arn:aws:s3:::secrets-eu-west-1-bucket-1",
                    { StringLike: { "s3:prefix": [`_ci-platform/hooks/${HASH}/*`] } },
                ],
                [
                    ["s3:GetObject"],
                    [
                        `arn:aws:s3:::secrets-eu-west-1-bucket-1/_ci-platform/hooks/${HASH}/*`,
                        "arn:aws:s3:::secrets-eu-west-1-bucket-1/_ci-platform/bootstrap/linux-0123456789abcdef.sh",
                    ],
                    undefined,
                ],
                [["s3:GetObject", "s3:GetObjectVersion"], "arn:aws:s3:::secrets-eu-west-1-bucket-1/*", undefined],
            ],
        );
        const kms = doc.Statement.find((s) => s.Action.includes("kms:Decrypt"));
        assert.equal(kms?.Resource, "arn:aws:kms:eu-west-1:123456789012:key/k1");
        assert.deepEqual(kms?.Condition, { StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" } });
    });

    it("lets bootstrap.sh list exactly the prefix it copies (`aws s3 cp --recursive s3://<bucket>/<prefix>/`)", () => {
        const list = doc.Statement.find((s) => s.Action.includes("s3:ListBucket"));
        const pattern = list?.Condition?.StringLike?.["s3:prefix"];
        assert.ok(Array.isArray(pattern) && pattern.length === 1);
        // IAM's StringLike: `*` matches any run of characters; the pattern has exactly one, at the end.
        assert.match(pattern[0], /^[^*?]+\*$/);
        const matches = (prefix: string) => prefix.startsWith(pattern[0].slice(0, -1));
        assert.ok(matches(`${bundleKeyPrefix(HASH)}/`), "the bootstrap's listing is allowed");
        assert.ok(!matches("kolibri/"), "a pipeline's secrets cannot be listed");
        assert.ok(!matches(`_ci-platform/hooks/${"b".repeat(64)}/`), "another bundle cannot be listed");
        assert.ok(!matches(""), "the bucket root cannot be listed");
    });

    it("grants no hooks statements to a fleet without hooks (Windows)", () => {
        const windows = fleetPolicyDocument(baseInput);
        assert.ok(!windows.Statement.some((s) => s.Action.includes("s3:ListBucket")));
        assert.ok(!windows.Statement.some((s) => s.Sid.includes("Hooks")));
    });

    it("pulls from ECR and can write nothing", () => {
        const actions = doc.Statement.flatMap((s) => s.Action);
        for (const a of actions) assert.match(a, /^(s3:(Get|List)|kms:Decrypt$|ecr:(Get|BatchGet|BatchCheck))/, a);
        const pull = doc.Statement.find((s) => s.Sid === "EcrPull");
        assert.deepEqual(pull?.Resource, ["arn:aws:ecr:eu-west-1:123456789012:repository/*"]);
        assert.ok(doc.Statement.every((s) => s.Effect === "Allow"));
    });
});

describe("secretsBucketPolicyDocument", () => {
    it("denies non-TLS access to the bucket and its objects, and uploads without KMS", () => {
        const policy = secretsBucketPolicyDocument("arn:aws:s3:::b");
        const tls = policy.Statement.find((s) => s.Sid === "DenyInsecureTransport");
        assert.equal(tls?.Effect, "Deny");
        assert.deepEqual(tls?.Resource, ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]);
        assert.deepEqual(tls?.Condition, { Bool: { "aws:SecureTransport": "false" } });
        const kms = policy.Statement.find((s) => s.Sid === "DenyUploadsWithoutKms");
        assert.deepEqual(kms?.Condition, { StringNotEquals: { "s3:x-amz-server-side-encryption": "aws:kms" } });
    });
});
