import assert from "node:assert/strict";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { keyPolicyProblems } from "../../../policy/invariants/fleet-role";
import { runPolicies } from "../../../policy/offline";
import { signedPipelinesVerified } from "../../../policy/invariants/signing";
import { UNKNOWN, type PlanResource } from "../../../policy/resource";
import { cachedPlan } from "../../fixtures/plans";
import type { Editable } from "./plan-resources";
import { named } from "./plan-resources";

/* Signed pipelines with a KMS key (clusters[].signing.mode kms): the offline plan of test/fixtures/Pulumi.kms.yaml. */

const STACK = "aws:cloudformation/stack:Stack";
const PIPELINE = "buildkite:Pipeline/pipeline:Pipeline";
const SIGNATURE = "pulumi-nodejs:dynamic/ci-platform-signing:KmsStepSignature";
const mandatory = (resources: readonly PlanResource[]) =>
    signedPipelinesVerified.check(resources, { requiredTags: [] });

const kmsResources = async (): Promise<Editable[]> =>
    (await cachedPlan({ config: path.join(__dirname, "../../fixtures/Pulumi.kms.yaml") }))
        .resources as readonly PlanResource[] as Editable[];
const params = (resources: Editable[], fleet: string) =>
    named(resources, `${fleet}-stack`, STACK).inputs.parameters as Record<string, string>;

describe("the KMS test stack's plan", () => {
    before(async () => {
        await kmsResources();
    });

    it("passes signed-pipelines-verified: every fleet names its region's key and blocks, the upload fleets sign", async () => {
        const resources = await kmsResources();
        assert.deepEqual(mandatory(resources), []);
        const us = params(resources, "linux-us-east-1");
        const eu = params(resources, "linux-eu-west-1");
        assert.match(us.PipelineSigningKMSKeyId, /^arn:aws:kms:us-east-1:/);
        assert.match(eu.PipelineSigningKMSKeyId, /^arn:aws:kms:eu-west-1:/);
        assert.equal(us.PipelineSigningKMSAccess, "sign-and-verify");
        assert.equal(us.PipelineSigningVerificationFailureBehavior, "block");
        assert.equal(us.BuildkiteAgentVerificationKeySSMParameter, undefined);
    });

    it("creates one multi-region P-256 signing key with a replica in the other fleet region", async () => {
        const resources = await kmsResources();
        const key = named(resources, "signing-default-key", "aws:kms/key:Key");
        assert.equal(key.inputs.keyUsage, "SIGN_VERIFY");
        assert.equal(key.inputs.customerMasterKeySpec, "ECC_NIST_P256");
        assert.equal(key.inputs.multiRegion, true);
        assert.equal(key.protect, true);
        const replicas = resources.filter((r) => r.type === "aws:kms/replicaKey:ReplicaKey").map((r) => r.name);
        assert.deepEqual(replicas, ["signing-default-replica-eu-west-1"]);
    });

    it("signs each stored step through a signature resource; offline its value is the deploy placeholder", async () => {
        const resources = await kmsResources();
        const signatures = resources.filter((r) => r.type === SIGNATURE);
        assert.equal(signatures.length, 10);
        assert.match(String(signatures[0].inputs.payload), /^\{"alg":"ES256","values":\{"command":/);
        assert.match(String(signatures[0].inputs.__provider), /^\[dynamic provider sha256:[0-9a-f]{16}\]$/);
        const steps = String(named(resources, "hello-0-pipeline", PIPELINE).inputs.steps);
        assert.match(steps, /signature:\n\s+algorithm: ES256\n/);
        assert.match(steps, /value: "\[signed at deploy: kms\]"/);
    });

    it("in a preview that creates a signature (the stored steps unknown), still finds an upload fleet that cannot sign", async () => {
        const resources = await kmsResources();
        for (const pipeline of resources.filter((r) => r.type === PIPELINE)) pipeline.inputs.steps = UNKNOWN;
        assert.deepEqual(mandatory(resources), []);
        params(resources, "linux-us-east-1").PipelineSigningKMSAccess = "verify";
        const findings = mandatory(resources).map((f) => f.message);
        assert.equal(findings.length, 1, findings.join("\n"));
        assert.match(findings[0], /"linux-us-east-1" .* runs uploads but its PipelineSigningKMSAccess is "verify"/);
    });

    it("key policies: fleets read the public key, upload fleets and writers sign with ECDSA_SHA_256 only", async () => {
        const resources = await kmsResources();
        const policy = JSON.parse(
            String(
                named(resources, "signing-default-key-policy-us-east-1", "aws:kms/keyPolicy:KeyPolicy").inputs.policy,
            ),
        ) as { Statement: { Sid: string; Action: string[] }[] };
        assert.deepEqual(
            policy.Statement.map((s) => s.Sid),
            ["AccountAdministersKey", "UploadFleetsSign", "FleetsReadPublicKey"],
        );
        assert.deepEqual(keyPolicyProblems(policy as unknown as Record<string, unknown>), []);
    });

    it("fails a kms fleet that verifies nothing, or that runs uploads without sign access", async () => {
        const resources = await kmsResources();
        delete params(resources, "linux-eu-west-1").PipelineSigningKMSKeyId;
        params(resources, "linux-us-east-1").PipelineSigningKMSAccess = "verify";
        const messages = mandatory(resources).map((f) => f.message);
        assert.equal(messages.length, 2);
        assert.ok(messages.some((m) => /"linux-eu-west-1" .* sets no PipelineSigningKMSKeyId/.test(m)));
        assert.ok(
            messages.some((m) =>
                /"linux-us-east-1" .* runs uploads but its PipelineSigningKMSAccess is "verify"/.test(m),
            ),
        );
    });

    it("fails a pipeline of a kms cluster whose stored command steps are unsigned", async () => {
        const resources = await kmsResources();
        const pipeline = named(resources, "hello-3-pipeline", PIPELINE);
        pipeline.inputs.steps = String(pipeline.inputs.steps).replace(
            /\n {4}signature:\n(?: {6}.*\n| {8}- .*\n)+/g,
            "\n",
        );
        const findings = mandatory(resources);
        assert.equal(findings.length, 1);
        assert.equal(findings[0].urn, pipeline.urn);
    });
});

describe("the whole policy pack on the KMS test stack", () => {
    const mandatoryNames = (resources: readonly PlanResource[]) =>
        runPolicies(resources)
            .filter((v) => v.enforcementLevel === "mandatory")
            .map((v) => `${v.policy} ${v.message}`);

    it("has no mandatory violation: the asymmetric key needs no rotation, the signature resources no declared provider", async () => {
        assert.deepEqual(mandatoryNames(await kmsResources()), []);
    });
    it("still asks rotation of a symmetric key, and a declared provider of any other resource", async () => {
        const resources = await kmsResources();
        const key = named(resources, "signing-default-key", "aws:kms/key:Key");
        key.inputs.keyUsage = "ENCRYPT_DECRYPT";
        const pipeline = named(resources, "hello-0-pipeline", PIPELINE);
        const found = mandatoryNames(resources.map((r) => (r === pipeline ? { ...r, provider: null } : r)));
        assert.ok(found.some((m) => /^kms-key-rotation .*"signing-default-key" does not rotate/.test(m)));
        assert.ok(found.some((m) => /^explicit-providers .*"hello-0-pipeline"/.test(m)));
        assert.ok(!found.some((m) => /KmsStepSignature/.test(m)));
    });
});

describe("key policy signing statements", () => {
    const doc = (condition?: Record<string, unknown>) => ({
        Statement: [
            {
                Sid: "S",
                Effect: "Allow",
                Principal: { AWS: "arn:aws:iam::123456789012:role/r" },
                Action: ["kms:Sign"],
                Resource: "*",
                ...(condition ? { Condition: condition } : {}),
            },
        ],
    });
    it("accepts kms:Sign conditioned on the signing algorithm", () => {
        assert.deepEqual(keyPolicyProblems(doc({ StringEquals: { "kms:SigningAlgorithm": "ECDSA_SHA_256" } })), []);
    });
    it("refuses kms:Sign without that condition", () => {
        assert.deepEqual(keyPolicyProblems(doc()), [
            "statement S allows kms:Sign without a condition on kms:SigningAlgorithm",
        ]);
    });
});
