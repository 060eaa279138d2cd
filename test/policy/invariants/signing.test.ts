import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { stringify } from "yaml";
import {
    dollarCommandSteps,
    signedPipelinesVerified,
    signingOffDeclared,
    signingUnset,
    unsignedCommandSteps,
    uploadingQueues,
    chainUploadingQueues,
} from "../../../policy/invariants/signing";
import { named, prodResources } from "./plan-resources";

const FLEET = "ci-platform:agents:Fleet";
const STACK = "aws:cloudformation/stack:Stack";
const PIPELINE = "buildkite:Pipeline/pipeline:Pipeline";
const mandatory = (resources: Parameters<typeof signedPipelinesVerified.check>[0]) =>
    signedPipelinesVerified.check(resources, { requiredTags: [] });
const advisory = (resources: Parameters<typeof signingOffDeclared.check>[0]) =>
    signingOffDeclared.check(resources, { requiredTags: [] });
const unset = (resources: Parameters<typeof signingUnset.check>[0]) =>
    signingUnset.check(resources, { requiredTags: [] });

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
            /"linux-us-east-1" .* runs uploads \(queue default .*\) but gets no BuildkiteAgentSigningKeySSMParameter:/,
        );
    });

    it("derives the upload fleets from the stored steps: a fleet that claims signs: false but serves an uploading queue fails", async () => {
        const resources = await prodResources();
        const fleet = named(resources, "linux-us-east-1", FLEET);
        fleet.inputs.signing = { ...(fleet.inputs.signing as object), signs: false };
        const params = named(resources, "linux-us-east-1-stack", STACK).inputs.parameters as Record<string, string>;
        delete params.BuildkiteAgentSigningKeySSMParameter;
        delete params.BuildkiteAgentSigningKeyID;
        const findings = mandatory(resources);
        assert.equal(findings.length, 1, findings.map((f) => f.message).join("\n"));
        assert.match(
            findings[0].message,
            /"linux-us-east-1" \(cluster default\) runs uploads \(queue default runs stored steps that call buildkite-agent pipeline upload\) but gets no BuildkiteAgentSigningKeySSMParameter \(its component declares signs: false\)/,
        );
        // Once no stored step of the queue uploads, nor any step of the document it uploads, the fleet needs no key.
        const noUpload = (text: string) => text.replace(/buildkite-agent pipeline upload/g, "true");
        for (const pipeline of resources.filter((r) => r.type === PIPELINE)) {
            const stored = noUpload(String(pipeline.inputs.steps));
            pipeline.inputs.steps = stored.replace(
                /(CI_PLATFORM_PIPELINE: )([A-Za-z0-9+/=]+)/g,
                (_, key: string, b64: string) =>
                    key + Buffer.from(noUpload(Buffer.from(b64, "base64").toString("utf8"))).toString("base64"),
            );
        }
        assert.deepEqual(mandatory(resources), []);
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
            /"kolibri-python-package" is in cluster default, .* stored steps ci-platform-pipeline carry none/,
        );
    });

    it("passes prod, whose signing pipelines store one upload step with no `$`", async () => {
        const resources = await prodResources();
        for (const r of resources.filter((x) => x.type === PIPELINE))
            assert.deepEqual(dollarCommandSteps(String(r.inputs.steps)), [], r.name);
    });

    it("fails a pipeline of a signing cluster whose stored steps hold a `$` in what is signed", async () => {
        const resources = await prodResources();
        const pipeline = named(resources, "kolibri-python-package-pipeline", PIPELINE);
        // The document stored as main stored it: `$$` for build creation to halve, each command step signed.
        pipeline.inputs.steps = String(pipeline.inputs.steps).replace(
            "    env:\n",
            "    env:\n      TAG: $$BUILDKITE_TAG\n",
        );
        const findings = mandatory(resources);
        assert.equal(findings.length, 1);
        assert.equal(findings[0].urn, pipeline.urn);
        assert.match(
            findings[0].message,
            /"kolibri-python-package" is in cluster default, which signs, but its stored steps ci-platform-pipeline hold a `\$`/,
        );
    });
});

describe("dollarCommandSteps", () => {
    it("names command steps whose command, env or plugins hold a `$`, and the document's env; not labels or if", () => {
        const yaml = [
            "env:",
            "  A: $$B",
            "steps:",
            "  - key: a",
            "    command: echo $$HOME",
            "  - key: b",
            "    commands: [x]",
            "    env:",
            "      P: $$5",
            "  - key: c",
            "    commands: [x]",
            "    plugins:",
            "      - docker#v5.13.0:",
            "          image: $${R}/i",
            "  - key: d",
            "    label: $$5",
            "    commands: [x]",
            '    if: build.env("X") == "$$"',
            "  - wait: null",
            "  - group: g",
            "    steps:",
            "      - key: e",
            "        commands: [$$]",
        ].join("\n");
        assert.deepEqual(dollarCommandSteps(yaml), ["(env)", "a", "b", "c", "e"]);
        assert.deepEqual(dollarCommandSteps("steps:\n  - { key: a, commands: [printenv X] }\n"), []);
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

describe("invariant signing-unset", () => {
    it("is advisory (a warning)", () => assert.equal(signingUnset.enforcementLevel, "advisory"));

    it("passes prod: every cluster with fleets signs", async () => {
        assert.deepEqual(unset(await prodResources()), []);
    });

    it("names a cluster with AWS or on-premises fleets and no signing, once, with its fleets and the fix", async () => {
        const resources = await prodResources();
        delete named(resources, "macos-office", FLEET).inputs.signing;
        for (const fleet of resources.filter((r) => r.type === FLEET && r.name.startsWith("linux-")))
            delete fleet.inputs.signing;
        const findings = unset(resources);
        assert.deepEqual(
            findings.map((f) => f.message.replace(/ but no signing config.*$/, "")),
            [
                'cluster "default" has fleets (linux-ap-southeast-1, linux-eu-west-1, linux-us-east-1)',
                'cluster "macos" has fleets (macos-office)',
            ],
        );
        assert.equal(findings[1].urn, named(resources, "macos-office", FLEET).urn);
        assert.match(
            findings[0].message,
            /Fix: set signing on cluster "default" in ci-platform:clusters \(mode: jwks with verificationKeys and the private set in ci-platform:secrets\.signing\.default;/,
        );
        // Declared off is signing-off-declared's warning, not this one.
        named(resources, "macos-office", FLEET).inputs.signing = {
            mode: "off",
            failureBehavior: "block",
            signs: false,
        };
        assert.deepEqual(
            unset(resources).map((f) => f.message.replace(/ has fleets.*$/, "")),
            ['cluster "default"'],
        );
    });
});

describe("uploadingQueues", () => {
    it("finds the queues of stored steps that upload, including boot16's decoded single step, groups and tag lists", () => {
        const yaml = [
            "steps:",
            "  - key: upload",
            "    command: printenv CI_PLATFORM_PIPELINE | base64 --decode | buildkite-agent pipeline upload",
            "    agents: { queue: default }",
            "  - key: build",
            "    commands: [make]",
            "    agents: { queue: gpu }",
            "  - group: g",
            "    steps:",
            "      - key: triggers",
            "        commands: ['echo x', 'buildkite-agent  pipeline upload steps.yml']",
            "        agents: ['queue=large']",
            "  - key: nowhere",
            "    command: buildkite-agent pipeline upload",
        ].join("\n");
        assert.deepEqual(uploadingQueues(yaml), ["default", "large"]);
        assert.deepEqual(
            uploadingQueues("steps: [{ command: 'buildkite-agent artifact upload x', agents: { queue: q } }]"),
            [],
        );
        assert.deepEqual(uploadingQueues(": not yaml: ["), []);
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

describe("chainUploadingQueues", () => {
    it("follows the stored step's base64 document and the documents that one uploads, to every queue that uploads", () => {
        const deep = stringify({
            steps: [
                { key: "again", commands: ["buildkite-agent pipeline upload more.yml"], agents: { queue: "deep" } },
            ],
        });
        const document = stringify({
            steps: [
                {
                    key: "triggers",
                    commands: [`printf '%s\\n' "$$CI_PLATFORM_PIPELINE_YAML" | buildkite-agent pipeline upload`],
                    agents: { queue: "middle" },
                    env: { CI_PLATFORM_PIPELINE_YAML: deep },
                },
                { key: "tests", commands: ["make test"], agents: { queue: "tests" } },
            ],
        });
        const stored = stringify({
            steps: [
                {
                    key: "ci-platform-pipeline",
                    commands: ["printenv CI_PLATFORM_PIPELINE | base64 --decode | buildkite-agent pipeline upload"],
                    agents: { queue: "top" },
                    env: { CI_PLATFORM_PIPELINE: Buffer.from(document).toString("base64") },
                },
            ],
        });
        assert.deepEqual(uploadingQueues(stored), ["top"]);
        assert.deepEqual(chainUploadingQueues(stored), ["deep", "middle", "top"]);
    });
});
