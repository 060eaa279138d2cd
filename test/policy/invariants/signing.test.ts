import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { signedPipelinesVerified, signingOffDeclared, unsignedCommandSteps } from "../../../policy/invariants/signing";
import { named, prodResources } from "./plan-resources";

const FLEET = "ci-platform:agents:Fleet";
const STACK = "aws:cloudformation/stack:Stack";
const PIPELINE = "buildkite:Pipeline/pipeline:Pipeline";
const mandatory = (resources: Parameters<typeof signedPipelinesVerified.check>[0]) =>
    signedPipelinesVerified.check(resources, { requiredTags: [] });
const advisory = (resources: Parameters<typeof signingOffDeclared.check>[0]) =>
    signingOffDeclared.check(resources, { requiredTags: [] });

describe("invariant signed-pipelines-verified", () => {
    it("is mandatory", () => assert.equal(signedPipelinesVerified.enforcementLevel, "mandatory"));

    it("passes the prod plan: every cluster signs, every fleet verifies and blocks, every stored step is signed", async () => {
        const resources = await prodResources();
        assert.deepEqual(mandatory(resources), []);
        assert.deepEqual(advisory(resources), []);
        const stack = named(resources, "linux-us-east-1-stack", STACK).inputs.parameters as Record<string, string>;
        assert.equal(stack.PipelineSigningVerificationFailureBehavior, "block");
        assert.match(
            stack.BuildkiteAgentSigningKeySSMParameter,
            /^\/ci-platform\/linux-us-east-1\/signing-jwks-[0-9a-f]{16}$/,
        );
    });

    it("fails a fleet stack that verifies nothing, or only warns without a reason in config", async () => {
        const resources = await prodResources();
        const params = named(resources, "linux-eu-west-1-stack", STACK).inputs.parameters as Record<string, string>;
        delete params.BuildkiteAgentVerificationKeySSMParameter;
        params.PipelineSigningVerificationFailureBehavior = "warn";
        const messages = mandatory(resources).map((f) => f.message);
        assert.equal(messages.length, 2);
        assert.match(
            messages[0],
            /fleet "linux-eu-west-1" \(cluster default\) .* sets no BuildkiteAgentVerificationKeySSMParameter/,
        );
        assert.match(
            messages[1],
            /PipelineSigningVerificationFailureBehavior is "warn", so a job that fails verification still runs/,
        );
    });

    it("accepts warn when the config declares it with a reason (and the advisory rule reports the reason)", async () => {
        const resources = await prodResources();
        const params = named(resources, "linux-eu-west-1-stack", STACK).inputs.parameters as Record<string, string>;
        params.PipelineSigningVerificationFailureBehavior = "warn";
        const fleet = named(resources, "linux-eu-west-1", FLEET);
        fleet.inputs.signing = { ...(fleet.inputs.signing as object), failureBehavior: "warn", reason: "rollout week" };
        assert.deepEqual(mandatory(resources), []);
        assert.deepEqual(
            advisory(resources).map((f) => f.message),
            [
                'fleet "linux-eu-west-1" (cluster default) runs jobs that fail verification (failureBehavior warn: rollout week).',
            ],
        );
    });

    it("fails an upload fleet without the signing key", async () => {
        const resources = await prodResources();
        const params = named(resources, "linux-us-east-1-stack", STACK).inputs.parameters as Record<string, string>;
        delete params.BuildkiteAgentSigningKeySSMParameter;
        assert.match(
            mandatory(resources)[0]?.message ?? "",
            /"linux-us-east-1" .* runs uploads but gets no BuildkiteAgentSigningKeySSMParameter/,
        );
    });

    it("fails a pipeline of a signing cluster whose stored command steps are unsigned", async () => {
        const resources = await prodResources();
        const pipeline = named(resources, "kolibri-python-package-pipeline", PIPELINE);
        pipeline.inputs.steps = String(pipeline.inputs.steps).replace(
            /\n {4}signature:\n(?: {6}.*\n| {8}- .*\n)+/g,
            "\n",
        );
        const findings = mandatory(resources);
        assert.equal(findings.length, 1);
        assert.equal(findings[0].urn, pipeline.urn);
        assert.match(
            findings[0].message,
            /"kolibri-python-package" is in cluster default, .* stored steps upload, triggers, release-artifacts carry none/,
        );
    });
});

describe("invariant signing-off-declared", () => {
    it("is advisory (a warning)", () => assert.equal(signingOffDeclared.enforcementLevel, "advisory"));

    it("warns for a fleet whose cluster turned signing off, with the reason; a cluster without signing is left alone", async () => {
        const resources = await prodResources();
        named(resources, "macos-office", FLEET).inputs.signing = {
            mode: "off",
            failureBehavior: "block",
            signs: false,
            reason: "the Mac minis run agent 3.40",
        };
        delete named(resources, "dagster-eu-west-1", FLEET).inputs.signing;
        assert.deepEqual(
            advisory(resources).map((f) => f.message.replace(/:.*$/, "")),
            ['fleet "macos-office" (cluster macos)'],
        );
        assert.match(advisory(resources)[0].message, /signing is off \(the Mac minis run agent 3\.40\)/);
    });
});

describe("unsignedCommandSteps", () => {
    it("names command steps without a signature, group members included, and ignores wait and trigger steps", () => {
        const yaml = [
            "steps:",
            "  - key: a",
            "    commands: [x]",
            "    signature: { algorithm: EdDSA, signed_fields: [command], value: v }",
            "  - wait: null",
            "  - trigger: child",
            "  - group: g",
            "    steps:",
            "      - key: b",
            "        command: y",
        ].join("\n");
        assert.deepEqual(unsignedCommandSteps(yaml), ["b"]);
    });
});
