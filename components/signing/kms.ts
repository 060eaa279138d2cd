/**
 * Signing a stored step with an AWS KMS key (`clusters[].signing.mode: kms`): what is signed, how KMS's signature
 * becomes the step's JWS, and how the program verifies it.
 *
 * Pure module (node:crypto only). Facts:
 * - buildkite/agent v3.137.0 internal/cryptosigner/aws/kms.go `NewKMS`: calls kms:GetPublicKey, refuses a key whose
 *   KeyUsage is not SIGN_VERIFY, and takes only KeySpec ECC_NIST_P256, as JWA `ES256` with KMS SigningAlgorithm
 *   ECDSA_SHA_256; `Sign` calls kms:Sign with MessageType DIGEST on the digest it is handed; `Public` calls
 *   kms:GetPublicKey again (an X.509 SubjectPublicKeyInfo, DER).
 * - buildkite/go-pipeline (fd45720) signature/sign.go `Sign`: the payload is `canonicalPayload(key.Algorithm(), ...)`
 *   (so `"alg":"ES256"`), signed by jwx `jws.Sign(WithKey(alg, key), WithDetachedPayload, WithCompact)`; `Verify` with
 *   a crypto.Signer (the KMS key) uses `jws.WithKey(jwa.ES256, key)`: one key, no key set, no `kid` lookup.
 * - lestrrat-go/jwx (mirror 42920f4b, v2; the agent pins v3.2.0, same scheme) jws/jws.go: a `kid` header is written
 *   only for a jwk.Key, so a KMS signer's protected header is `{"alg":"ES256"}`; jws/ecdsa.go: a crypto.Signer is
 *   handed the SHA-256 of the signing input, its ASN.1 DER `{R, S}` is unpacked and written as R || S, each left-padded
 *   to the curve's 32 bytes (RFC 7518 §3.4); verification takes the signer's `Public()` key and checks locally.
 * ECDSA signatures are randomised: the same payload signs differently each time. So the program signs once, at deploy,
 * in a dynamic resource (kms-step-signature.ts) whose state keeps the value until the payload changes.
 */
import { createPublicKey, KeyObject, verify } from "node:crypto";
import type { JsonValue } from "./jcs";
import { canonicalJson } from "./jcs";
import type { SignableStep, SigningContext, StepSignature } from "./step-signature";
import { signedValues } from "./step-signature";
import { KMS_SIGNING_ALGORITHM, kmsSignatureValue } from "./kms-jose";
import { readDetached } from "./jws";

export * from "./kms-jose";

/** What a KMS-signed step's signature covers: its field names and the canonical payload (RFC 8785). */
export interface KmsStepPayload {
    readonly signedFields: readonly string[];
    readonly payload: string;
}

/** The signed fields and canonical payload of a step (the same values as the JWKS mode, alg ES256). */
export function kmsStepPayload(step: SignableStep, context: SigningContext): KmsStepPayload {
    const values: Record<string, JsonValue> = signedValues(step, context);
    return {
        signedFields: Object.keys(values).sort(),
        payload: canonicalJson({ alg: KMS_SIGNING_ALGORITHM, values }),
    };
}

/** The step's signature from KMS's DER signature of {@link kmsSigningDigest}. */
export function kmsStepSignature(payload: KmsStepPayload, derSignature: Uint8Array): StepSignature {
    return {
        algorithm: KMS_SIGNING_ALGORITHM,
        signed_fields: payload.signedFields,
        value: kmsSignatureValue(derSignature),
    };
}

/**
 * Whether `value` (a detached compact JWS, alg ES256) signs `payload` with the public key `spki` (DER
 * SubjectPublicKeyInfo, what kms:GetPublicKey returns, or a KeyObject). Only `{"alg":"ES256"}` headers without `crit`
 * or `b64` are accepted; the signature must be 64 bytes R || S.
 */
export function verifyEs256Detached(value: string, payload: string, spki: Uint8Array | KeyObject): boolean {
    const jws = readDetached(value, payload, KMS_SIGNING_ALGORITHM);
    if (jws === undefined) return false;
    const { input, signature } = jws;
    if (signature.length !== 64) return false;
    const key =
        spki instanceof KeyObject ? spki : createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
    return verify("sha256", input, { key, dsaEncoding: "ieee-p1363" }, signature);
}
