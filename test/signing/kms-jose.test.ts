import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import {
    derToJose,
    KMS_KEY_SPEC,
    KMS_PROTECTED_HEADER,
    KMS_SIGNING_ALGORITHM,
    KMS_SIGNING_ALGORITHM_SPEC,
    kmsKeyRegion,
    kmsSignatureChanged,
    kmsSignatureValue,
    kmsSigningDigest,
    kmsSigningInput,
} from "../../components/signing/kms-jose";

/* The JOSE side of a KMS signature. buildkite/agent v3.137.0 internal/cryptosigner/aws/kms.go takes only
 * ECC_NIST_P256 keys, as ES256 with ECDSA_SHA_256; jwx writes no kid for a crypto.Signer and hands it the SHA-256 of
 * the signing input; RFC 7518 §3.4 R || S. Round trips with real ECDSA signatures: kms.test.ts. */

const der = (r: number[], s: number[]) =>
    Buffer.from([0x30, 4 + r.length + s.length, 0x02, r.length, ...r, 0x02, s.length, ...s]);

describe("the agent's KMS constants (kms.go NewKMS)", () => {
    it('ES256 over ECDSA_SHA_256 with an ECC_NIST_P256 key, and a header {"alg":"ES256"} without kid', () => {
        assert.equal(KMS_SIGNING_ALGORITHM, "ES256");
        assert.equal(KMS_SIGNING_ALGORITHM_SPEC, "ECDSA_SHA_256");
        assert.equal(KMS_KEY_SPEC, "ECC_NIST_P256");
        assert.deepEqual(JSON.parse(Buffer.from(KMS_PROTECTED_HEADER, "base64url").toString()), { alg: "ES256" });
    });
});

describe("kmsSigningInput and kmsSigningDigest", () => {
    it("the input is <header>.<base64url(payload)> (RFC 7515 §5.1) and the digest its SHA-256", () => {
        const payload = '{"alg":"ES256","values":{}}';
        const input = kmsSigningInput(payload);
        assert.equal(input, `${KMS_PROTECTED_HEADER}.${Buffer.from(payload).toString("base64url")}`);
        assert.deepEqual(kmsSigningDigest(payload), createHash("sha256").update(input).digest());
        assert.equal(kmsSigningDigest(payload).length, 32);
    });
});

describe("derToJose", () => {
    it("pads each integer to the given size, and takes a long-form DER length", () => {
        assert.deepEqual(derToJose(der([1], [2]), 4), Buffer.from([0, 0, 0, 1, 0, 0, 0, 2]));
        // SEQUENCE with a long-form length (0x81 0x06): DER allows it for lengths over 127; one byte of length here.
        const long = Buffer.from([0x30, 0x81, 6, 0x02, 1, 7, 0x02, 1, 9]);
        assert.deepEqual(derToJose(long, 2), Buffer.from([0, 7, 0, 9]));
    });

    it("refuses an integer wider than the size, trailing bytes, a missing INTEGER tag and truncation", () => {
        assert.throws(() => derToJose(der([1, 2, 3], [1]), 2), /wider than 2 bytes/);
        assert.throws(() => derToJose(Buffer.from([0x30, 7, 0x02, 1, 1, 0x02, 1, 1]), 2), /length does not match/);
        assert.throws(
            () => derToJose(Buffer.from([0x30, 7, 0x02, 1, 1, 0x02, 1, 1, 0]), 2),
            /trailing bytes after the DER signature/,
        );
        assert.throws(() => derToJose(Buffer.from([0x30, 3, 0x04, 1, 1]), 2), /expected a DER INTEGER/);
        assert.throws(() => derToJose(Buffer.from([0x30, 3, 0x02, 4, 1]), 2), /truncated/);
        assert.throws(() => derToJose(Buffer.from([0x30]), 2), /truncated/);
        assert.throws(() => derToJose(Buffer.from([0x30, 0x80]), 2), /unsupported DER length/);
    });
});

describe("kmsSignatureValue", () => {
    it("is the detached compact JWS <header>..<R || S>", () => {
        const value = kmsSignatureValue(der([1], [2]));
        const [header, empty, signature] = value.split(".");
        assert.equal(header, KMS_PROTECTED_HEADER);
        assert.equal(empty, "");
        const bytes = Buffer.from(signature, "base64url");
        assert.equal(bytes.length, 64);
        assert.equal(bytes[31], 1);
        assert.equal(bytes[63], 2);
    });
});

describe("kmsKeyRegion", () => {
    for (const [arn, region] of [
        ["arn:aws:kms:eu-west-1:123456789012:key/mrk-0123abcd", "eu-west-1"],
        ["arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/1234abcd-12ab", "us-gov-west-1"],
        ["arn:aws:kms:us-east-1:123456789012:alias/signing", undefined],
        ["arn:aws:kms:us-east-1:12345:key/x", undefined],
        ["mrk-0123abcd", undefined],
        ["alias/signing", undefined],
    ] as const)
        it(`${arn} → ${String(region)}`, () => assert.equal(kmsKeyRegion(arn), region));
});

describe("kmsSignatureChanged", () => {
    it("names the inputs that changed, payload and key, and nothing else", () => {
        const olds = { payload: "p", keyArn: "k" };
        assert.deepEqual(kmsSignatureChanged(olds, { payload: "p", keyArn: "k" }), []);
        assert.deepEqual(kmsSignatureChanged(olds, { payload: "q", keyArn: "k" }), ["payload"]);
        assert.deepEqual(kmsSignatureChanged(olds, { payload: "q", keyArn: "l" }), ["payload", "keyArn"]);
        assert.deepEqual(kmsSignatureChanged({}, { payload: "p", keyArn: "k" }), ["payload", "keyArn"]);
    });
});
