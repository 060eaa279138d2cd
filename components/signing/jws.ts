/**
 * Detached compact JWS with Ed25519 (`EdDSA`) keys from a JSON Web Key Set: what buildkite-agent signs steps with
 * and verifies them against.
 *
 * Pure module (node:crypto only). Facts, all from buildkite/go-pipeline signature/sign.go (commit fd45720):
 * - `Sign` calls jwx `jws.Sign` with `WithDetachedPayload` and `WithCompact`, and no `b64` header: the value is
 *   `<protected header>..<signature>` and the signing input is `<protected header>.<base64url(payload)>`
 *   (RFC 7515 §5.1, Appendix F).
 * - The protected header holds `alg` and the key's `kid`: the EdDSA vector of signature/sign_test.go
 *   `TestSignVerify` starts `eyJhbGciOiJFZERTQSIsImtpZCI6IlRFU1RfRE9fTk9UX1VTRSJ9`, i.e.
 *   `{"alg":"EdDSA","kid":"TEST_DO_NOT_USE"}`.
 * - `Verify` hands the whole key set to jwx (`jws.WithKeySet`): a JWKS with several keys (a rotation) verifies a
 *   signature by any of them; the key is chosen by the header's `kid`.
 * Ed25519 signatures are deterministic (RFC 8032 §5.1.6), so the same key and payload give the same value: the
 * stored steps this program signs do not change from one preview to the next.
 */
import { createPrivateKey, createPublicKey, sign, verify, KeyObject } from "node:crypto";

/** The one algorithm the program signs with (and the only one its verifier accepts). */
export const SIGNING_ALGORITHM = "EdDSA";

/** A public Ed25519 JWK, as a verification JWKS holds it. */
export interface PublicJwk {
    readonly kty: "OKP";
    readonly crv: "Ed25519";
    readonly x: string;
    readonly kid: string;
    readonly alg?: string;
    readonly use?: string;
}

/** A private Ed25519 JWK (the signing JWKS's key). */
export interface PrivateJwk extends PublicJwk {
    readonly d: string;
}

/** A key ready to sign with. */
export interface SigningKey {
    readonly kid: string;
    readonly jwk: PrivateJwk;
    readonly key: KeyObject;
}

const b64url = (bytes: Uint8Array | string) => Buffer.from(bytes).toString("base64url");

function isRecord(v: unknown): v is Record<string, unknown> {
    return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * The keys of a JWKS text (`{"keys":[...]}`), each an Ed25519 key with a `kid`. `needPrivate` asks for private
 * keys (`d`). Error messages never quote a key's material.
 *
 * @throws {Error} when the text is not such a set.
 */
export function parseJwks(text: string, needPrivate: boolean): PublicJwk[] {
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch {
        throw new Error('is not JSON: expected a JSON Web Key Set, {"keys": [...]}');
    }
    if (!isRecord(parsed) || !Array.isArray(parsed.keys) || parsed.keys.length === 0)
        throw new Error('is not a JSON Web Key Set: expected {"keys": [...]} with at least one key');
    const kids = new Set<string>();
    return parsed.keys.map((k: unknown, i: number) => {
        if (!isRecord(k)) throw new Error(`keys[${i}] is not an object`);
        if (k.kty !== "OKP" || k.crv !== "Ed25519")
            throw new Error(`keys[${i}] is not an Ed25519 key (kty "OKP", crv "Ed25519"): sign with EdDSA keys only`);
        if (k.alg !== undefined && k.alg !== SIGNING_ALGORITHM)
            throw new Error(`keys[${i}] has alg "${String(k.alg)}": an Ed25519 key signs with "EdDSA"`);
        // The private set reaches the signing fleets' agents verbatim, and `pipeline upload` loads it with go-pipeline's
        // jwkutil.LoadKey, whose Validate refuses a key without alg (jwkutil/validate.go ErrKeyMissingAlg).
        if (needPrivate && k.alg === undefined)
            throw new Error(`keys[${i}] has no "alg": the agent refuses a signing key without one; set "alg": "EdDSA"`);
        if (typeof k.kid !== "string" || k.kid === "") throw new Error(`keys[${i}] has no "kid"`);
        if (kids.has(k.kid)) throw new Error(`keys[${i}] repeats kid "${k.kid}"`);
        kids.add(k.kid);
        if (typeof k.x !== "string" || Buffer.from(k.x, "base64url").length !== 32)
            throw new Error(`keys[${i}] ("${k.kid}") has no 32-byte "x"`);
        if (needPrivate && (typeof k.d !== "string" || Buffer.from(k.d, "base64url").length !== 32))
            throw new Error(`keys[${i}] ("${k.kid}") has no 32-byte private "d"`);
        if (!needPrivate && k.d !== undefined)
            throw new Error(`keys[${i}] ("${k.kid}") holds a private key ("d"): a verification set is public only`);
        return k as unknown as PublicJwk;
    });
}

/**
 * The signing key of a private JWKS: the one named `kid`, or its only key.
 *
 * @throws {Error} when the set is invalid, `kid` is not in it, or no `kid` is given for a set of several keys.
 */
export function signingKeyOf(jwksText: string, kid?: string): SigningKey {
    const keys = parseJwks(jwksText, true) as PrivateJwk[];
    const jwk = kid === undefined ? (keys.length === 1 ? keys[0] : undefined) : keys.find((k) => k.kid === kid);
    if (jwk === undefined)
        throw new Error(
            kid === undefined ? "holds several keys: name the signing key's kid" : `holds no key with kid "${kid}"`,
        );
    const key = createPrivateKey({ key: { kty: "OKP", crv: "Ed25519", x: jwk.x, d: jwk.d }, format: "jwk" });
    // The private part must belong to the public part the verifiers are given.
    const derived = createPublicKey(key).export({ format: "jwk" });
    if (derived.x !== jwk.x) throw new Error(`key "${jwk.kid}": its "x" is not the public key of its "d"`);
    return { kid: jwk.kid, jwk, key };
}

/** The public JWKS of a private one (what verifying fleets get). */
export function publicJwks(keys: readonly PublicJwk[]): { keys: PublicJwk[] } {
    return {
        keys: keys.map((k) => ({
            kty: "OKP",
            crv: "Ed25519",
            x: k.x,
            kid: k.kid,
            alg: SIGNING_ALGORITHM,
            use: "sig",
        })),
    };
}

/** A detached compact JWS (`header..signature`) of `payload`. Deterministic for Ed25519. */
export function signDetached(payload: string, key: SigningKey): string {
    // Member order as the agent's vector has it: alg, then kid.
    const header = b64url(JSON.stringify({ alg: SIGNING_ALGORITHM, kid: key.kid }));
    const signature = sign(null, Buffer.from(`${header}.${b64url(payload)}`), key.key);
    return `${header}..${b64url(signature)}`;
}

/**
 * A detached compact JWS (`header..signature`) read for verification against `payload`: its header, when the header
 * is a JSON object naming `alg` and carrying neither `crit` nor `b64` (which would change what is signed), the
 * signing input and the signature bytes; undefined for anything else. Both modes verify through it (kms.ts).
 */
export function readDetached(
    value: string,
    payload: string,
    alg: string,
): { header: Record<string, unknown>; input: Buffer; signature: Buffer } | undefined {
    const parts = value.split(".");
    if (parts.length !== 3 || parts[1] !== "") return undefined;
    let header: unknown;
    try {
        header = JSON.parse(Buffer.from(parts[0], "base64url").toString("utf8"));
    } catch {
        return undefined;
    }
    if (!isRecord(header) || header.alg !== alg || "crit" in header || "b64" in header) return undefined;
    return {
        header,
        input: Buffer.from(`${parts[0]}.${b64url(payload)}`),
        signature: Buffer.from(parts[2], "base64url"),
    };
}

/**
 * Whether `value` (a detached compact JWS) signs `payload` with a key of `keys`: the key the header's `kid` names,
 * or, without a `kid`, any key. Only `EdDSA` is accepted, and a header with `crit` or `b64` is refused.
 */
export function verifyDetached(value: string, payload: string, keys: readonly PublicJwk[]): boolean {
    const jws = readDetached(value, payload, SIGNING_ALGORITHM);
    if (jws === undefined) return false;
    const { header, input, signature } = jws;
    const candidates = typeof header.kid === "string" ? keys.filter((k) => k.kid === header.kid) : keys;
    return candidates.some((k) =>
        verify(null, input, createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: k.x }, format: "jwk" }), signature),
    );
}
