/**
 * The JOSE side of a KMS signature: the ES256 protected header, the digest KMS signs, DER to R || S, and the key ARN's
 * region. Self-contained (node:crypto only) on purpose: the KmsStepSignature dynamic provider captures these functions
 * by value into its serialized closure, which stays small because this module imports nothing else. Facts: kms.ts.
 */
import { createHash } from "node:crypto";

/** The JWA algorithm of a KMS ECC_NIST_P256 key (kms.go: the only spec the agent takes). */
export const KMS_SIGNING_ALGORITHM = "ES256";

/** The KMS signing algorithm the agent asks for (kms.go `types.SigningAlgorithmSpecEcdsaSha256`). */
export const KMS_SIGNING_ALGORITHM_SPEC = "ECDSA_SHA_256";

/** The KMS key spec the agent accepts (kms.go `types.KeySpecEccNistP256`). */
export const KMS_KEY_SPEC = "ECC_NIST_P256";

const b64url = (bytes: Uint8Array | string) => Buffer.from(bytes).toString("base64url");

/** The protected header of a KMS-signed step: `{"alg":"ES256"}`, no `kid` (jwx writes one for a jwk.Key only). */
export const KMS_PROTECTED_HEADER = b64url(JSON.stringify({ alg: KMS_SIGNING_ALGORITHM }));

/** The JWS signing input of a detached payload: `<header>.<base64url(payload)>` (RFC 7515 §5.1). */
export function kmsSigningInput(payload: string): string {
    return `${KMS_PROTECTED_HEADER}.${b64url(payload)}`;
}

/** The SHA-256 digest KMS signs (MessageType DIGEST): of the signing input, as jwx hands a crypto.Signer. */
export function kmsSigningDigest(payload: string): Buffer {
    return createHash("sha256").update(kmsSigningInput(payload)).digest();
}

/**
 * An ASN.1 DER ECDSA signature (`SEQUENCE { INTEGER r, INTEGER s }`, what kms:Sign returns) as JOSE's R || S, each
 * left-padded to `size` bytes (RFC 7518 §3.4).
 *
 * @throws {Error} when the bytes are not such a sequence or an integer is wider than `size`.
 */
export function derToJose(der: Uint8Array, size = 32): Buffer {
    const bytes = Buffer.from(der);
    let at = 0;
    const length = (): number => {
        const first = bytes[at++];
        if (first === undefined) throw new Error("truncated DER signature");
        if (first < 0x80) return first;
        const count = first & 0x7f;
        if (count === 0 || count > 2) throw new Error("unsupported DER length");
        let n = 0;
        for (let i = 0; i < count; i++) n = (n << 8) | (bytes[at++] ?? 0);
        return n;
    };
    if (bytes[at++] !== 0x30) throw new Error("a DER ECDSA signature is a SEQUENCE");
    const total = length();
    if (at + total !== bytes.length) throw new Error("the DER sequence's length does not match its bytes");
    const integer = (): Buffer => {
        if (bytes[at++] !== 0x02) throw new Error("expected a DER INTEGER");
        const n = length();
        let value = bytes.subarray(at, at + n);
        at += n;
        if (value.length !== n) throw new Error("truncated DER signature");
        while (value.length > 1 && value[0] === 0) value = value.subarray(1);
        if (value.length > size) throw new Error(`an ECDSA integer is wider than ${size} bytes`);
        return Buffer.concat([Buffer.alloc(size - value.length), value]);
    };
    const r = integer();
    const s = integer();
    if (at !== bytes.length) throw new Error("trailing bytes after the DER signature");
    return Buffer.concat([r, s]);
}

/** The detached compact JWS of a DER signature of {@link kmsSigningDigest}: `<header>..<R || S>`. */
export function kmsSignatureValue(derSignature: Uint8Array): string {
    return `${KMS_PROTECTED_HEADER}..${b64url(derToJose(derSignature))}`;
}

/** The region of a KMS key ARN (`arn:<partition>:kms:<region>:<account>:key/<id>`), or undefined for another id. */
export function kmsKeyRegion(keyArn: string): string | undefined {
    return /^arn:aws[a-z-]*:kms:([a-z0-9-]+):\d{12}:key\/.+$/.exec(keyArn)?.[1];
}

/**
 * What a signature resource's state is keyed by: the payload and the key. Same payload and key, same signature: no
 * change shown, so previews stay clean although ECDSA is randomised.
 */
export function kmsSignatureChanged(
    olds: { readonly payload?: unknown; readonly keyArn?: unknown },
    news: { readonly payload?: unknown; readonly keyArn?: unknown },
): string[] {
    return (["payload", "keyArn"] as const).filter((k) => olds[k] !== news[k]);
}
