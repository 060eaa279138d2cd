import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkParameters } from "../../components/agents";
import { fleetPolicyDocument } from "../../components/agents/iam-policy";
import { formatIssue } from "../../components/config";
import { parsePlatformConfig } from "../../components/platform-config";
import {
    fleetSigning,
    kmsKeyArnIn,
    kmsKeyPlans,
    kmsStackParameters,
    signingKeyPolicy,
    staticAgentConfigLines,
} from "../../components/signing";
import { entry, mustParse, validRawConfig } from "../fixtures/config";

/* clusters[].signing mode kms: the config, the key plan, what each fleet gets, the key and role policies. */

const MRK = "arn:aws:kms:us-east-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef";
const SINGLE = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

function withSigning(signing: unknown) {
    const raw = validRawConfig();
    Object.assign(entry(raw, "clusters", 0), { signing });
    return raw;
}
function problems(raw: ReturnType<typeof validRawConfig>): string[] {
    const result = parsePlatformConfig(raw);
    return result.ok ? [] : result.error.map(formatIssue);
}

describe("kms signing config", () => {
    it("accepts kms with no key (the stack creates it) and with a multi-region key ARN; blocks by default", () => {
        assert.equal(mustParse(withSigning({ mode: "kms" })).clusters[0].signing?.failureBehavior, "block");
        assert.equal(mustParse(withSigning({ mode: "kms", key: MRK })).clusters[0].signing?.key, MRK);
    });

    it("refuses a key that is not an ARN, naming the path and the fix", () => {
        const found = problems(withSigning({ mode: "kms", key: "alias/ci-signing" }));
        assert.equal(found.length, 1);
        assert.match(found[0], /ci-platform:clusters\[0\]\.signing\.key.*is not a KMS key ARN.*describe-key/s);
    });

    it("refuses a single-region key when the cluster's fleets are in other regions", () => {
        const found = problems(withSigning({ mode: "kms", key: SINGLE }));
        assert.equal(found.length, 1);
        assert.match(
            found[0],
            /clusters\[0\]\.signing\.key.*AWS fleets in eu-west-1, outside the key's region us-east-1.*not a multi-region key/s,
        );
        // The same key is fine for a cluster whose fleets are all in its region.
        const raw = withSigning({ mode: "kms", key: SINGLE });
        (raw.fleets as Record<string, unknown>[]).splice(1, 1);
        (raw.pipelines as Record<string, unknown>[]).forEach((p) => {
            if (p.queue === "default-eu-west-1") p.queue = "default";
        });
        assert.deepEqual(
            problems(raw).filter((p) => /signing/.test(p)),
            [],
        );
    });

    it("refuses a key outside mode kms, and JWKS fields in mode kms", () => {
        assert.match(
            problems(withSigning({ mode: "off", reason: "r", key: MRK })).join("\n"),
            /clusters\[0\]\.signing\.key: key names a KMS key: set mode kms/,
        );
        assert.match(
            problems(withSigning({ mode: "kms", signingKeyId: "k" })).join("\n"),
            /clusters\[0\]\.signing\.signingKeyId: mode kms verifies with the KMS key itself/,
        );
    });
});

describe("kms keys and fleets", () => {
    it("plans a created key in the home region with a replica per other fleet region; a named key is used as is", () => {
        const config = mustParse(withSigning({ mode: "kms" }));
        assert.deepEqual(kmsKeyPlans(config), [
            { cluster: "default", homeRegion: "us-east-1", replicaRegions: ["eu-west-1"] },
        ]);
        assert.equal(kmsKeyPlans(mustParse(withSigning({ mode: "kms", key: MRK })))[0].named, MRK);
        assert.equal(
            kmsKeyArnIn(MRK, "eu-west-1"),
            "arn:aws:kms:eu-west-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef",
        );
    });

    it("gives an upload fleet sign-and-verify, another verify, both block; the template takes the parameters", () => {
        const config = mustParse(withSigning({ mode: "kms" }));
        const signing = config.clusters[0].signing;
        const upload = fleetSigning(signing, { cluster: "default", queue: "default" }, ["default/default"]);
        const other = fleetSigning(signing, { cluster: "default", queue: "default-eu-west-1" }, ["default/default"]);
        assert.equal(upload.mode, "kms");
        const up = kmsStackParameters(upload, MRK);
        assert.deepEqual(up, {
            PipelineSigningKMSKeyId: MRK,
            PipelineSigningKMSAccess: "sign-and-verify",
            PipelineSigningVerificationFailureBehavior: "block",
        });
        assert.equal(kmsStackParameters(other, MRK).PipelineSigningKMSAccess, "verify");
        assert.deepEqual(
            checkParameters({ ...up, BuildkiteQueue: "default" }).filter((p) => /PipelineSigning/.test(p)),
            [],
        );
        assert.deepEqual(staticAgentConfigLines(upload, MRK), [
            `signing-aws-kms-key=${MRK}`,
            "verification-failure-behavior=block",
        ]);
    });

    it("the instance role reads the public key, and signs only on an upload fleet, with the agent's algorithm", () => {
        const base = {
            secretsBucketArn: "arn:aws:s3:::b",
            secretsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/k1",
            tokenKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/t1",
            tokenParameterPath: "/ci-platform/f/buildkite-agent-token",
            stackName: "buildkite-f",
            region: "eu-west-1",
            accountId: "123456789012",
            secrets: { organization: false, pipelines: [] },
            ecrRepositories: [],
            ecrRegions: [],
        };
        const kmsStatements = (sign: boolean) =>
            fleetPolicyDocument({ ...base, signingKms: { keyArn: MRK, sign } }).Statement.filter((s) =>
                String(s.Sid).startsWith("PipelineSigningKMS"),
            );
        assert.deepEqual(
            kmsStatements(false).map((s) => [s.Sid, s.Action, s.Resource]),
            [["PipelineSigningKMSVerify", ["kms:GetPublicKey"], MRK]],
        );
        const signing = kmsStatements(true);
        assert.deepEqual(
            signing.map((s) => s.Sid),
            ["PipelineSigningKMSVerify", "PipelineSigningKMSSign"],
        );
        assert.deepEqual(signing[1].Condition, { StringEquals: { "kms:SigningAlgorithm": "ECDSA_SHA_256" } });
        assert.equal(
            fleetPolicyDocument(base).Statement.some((s) => String(s.Sid).startsWith("PipelineSigningKMS")),
            false,
        );
    });

    it("the key policy: writers administer and sign, upload fleets sign, every fleet reads the public key", () => {
        const policy = signingKeyPolicy({
            accountId: "123456789012",
            signerRoleArns: ["arn:aws:iam::123456789012:role/up"],
            verifierRoleArns: ["arn:aws:iam::123456789012:role/up", "arn:aws:iam::123456789012:role/other"],
            writers: ["arn:aws:iam::123456789012:role/deploy"],
        });
        const bySid = Object.fromEntries(policy.Statement.map((s) => [s.Sid, s]));
        assert.deepEqual(Object.keys(bySid), [
            "AccountAdministersKey",
            "WritersSignStoredSteps",
            "UploadFleetsSign",
            "FleetsReadPublicKey",
        ]);
        assert.ok(!bySid.AccountAdministersKey.Action.includes("kms:Sign"));
        assert.deepEqual(bySid.WritersSignStoredSteps.Action, ["kms:Sign"]);
        assert.deepEqual(bySid.WritersSignStoredSteps.Condition?.ArnLike, {
            "aws:PrincipalArn": ["arn:aws:iam::123456789012:role/deploy"],
        });
        assert.deepEqual(bySid.UploadFleetsSign.Principal, { AWS: ["arn:aws:iam::123456789012:role/up"] });
        assert.deepEqual(bySid.FleetsReadPublicKey.Action, ["kms:GetPublicKey"]);
        assert.equal(bySid.FleetsReadPublicKey.Principal.AWS.length, 2);
    });
});
