import assert from "node:assert/strict";
import { generateKeyPairSync, sign } from "node:crypto";
import { describe, it } from "node:test";
import {
    parseJwks,
    publicJwks,
    readDetached,
    signDetached,
    signingKeyOf,
    SIGNING_ALGORITHM,
    verifyDetached,
} from "../../components/signing/jws";
import { AGENT_TEST_PRIVATE_JWKS, AGENT_TEST_PUBLIC_JWKS } from "./fixtures";

/* Detached compact JWS with Ed25519 keys, as buildkite/go-pipeline signature/sign.go signs steps (jwx `jws.Sign` with
 * WithDetachedPayload and WithCompact: `<header>..<signature>`, RFC 7515 Appendix F). */

const b64 = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

function privateKey(kid: string): Record<string, unknown> {
    const jwk = generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" });
    return { ...jwk, kid, alg: "EdDSA" };
}
const set = (...keys: Record<string, unknown>[]) => JSON.stringify({ keys });
const publicOf = ({ d: _d, ...rest }: Record<string, unknown>) => rest;

describe("parseJwks", () => {
    it("reads the agent's published test sets, private and public", () => {
        assert.deepEqual(
            parseJwks(AGENT_TEST_PRIVATE_JWKS, true).map((k) => k.kid),
            ["TEST_DO_NOT_USE"],
        );
        assert.equal(parseJwks(AGENT_TEST_PUBLIC_JWKS, false)[0].x, "1qWvxwM10mDkEp1iKU2ODZqaxYkIW6qCiuaJEV1JWrY");
    });

    for (const [what, text, error] of [
        ["text that is not JSON", "{keys:", /is not JSON/],
        ["a JSON value that is not a set", "[]", /is not a JSON Web Key Set/],
        ["a set without keys", '{"keys":[]}', /at least one key/],
        ["a key that is not an object", '{"keys":["k"]}', /keys\[0\] is not an object/],
    ] as const)
        it(`refuses ${what}`, () => assert.throws(() => parseJwks(text, false), error));

    it("refuses a key whose alg is not EdDSA, a key without kid, and a kid twice", () => {
        const k = publicOf(privateKey("a"));
        assert.throws(() => parseJwks(set({ ...k, alg: "ES256" }), false), /has alg "ES256"/);
        assert.throws(() => parseJwks(set({ ...k, kid: "" }), false), /keys\[0\] has no "kid"/);
        assert.throws(
            () => parseJwks(set(k, { ...publicOf(privateKey("b")), kid: "a" }), false),
            /keys\[1\] repeats kid "a"/,
        );
    });

    it("refuses an x or d that is not 32 bytes, naming the key by kid", () => {
        const k = privateKey("short");
        assert.throws(
            () => parseJwks(set({ ...publicOf(k), x: b64("too short") }), false),
            /\("short"\) has no 32-byte "x"/,
        );
        assert.throws(
            () => parseJwks(set({ ...k, d: b64("too short") }), true),
            /\("short"\) has no 32-byte private "d"/,
        );
    });

    it("never quotes key material in an error", () => {
        const k = privateKey("leak");
        for (const [text, needPrivate] of [
            [set(k), false],
            [set({ ...k, alg: undefined }), true],
        ] as const)
            assert.throws(
                () => parseJwks(text, needPrivate),
                (e: Error) => !e.message.includes(String(k.d)) && !e.message.includes(String(k.x)),
            );
    });
});

describe("signingKeyOf", () => {
    it("refuses a key whose d does not belong to its x", () => {
        const a = privateKey("a");
        const b = privateKey("b");
        assert.throws(() => signingKeyOf(set({ ...a, x: b.x })), /key "a": its "x" is not the public key of its "d"/);
    });
});

describe("publicJwks", () => {
    it("keeps only the public members, and writes alg EdDSA and use sig on every key", () => {
        const a = privateKey("a");
        const { alg: _alg, ...withoutAlg } = publicOf(a);
        void _alg;
        const keys = parseJwks(set(withoutAlg), false);
        assert.deepEqual(publicJwks(keys), {
            keys: [{ kty: "OKP", crv: "Ed25519", x: a.x, kid: "a", alg: SIGNING_ALGORITHM, use: "sig" }],
        });
        // What it writes is a valid verification set.
        assert.equal(parseJwks(JSON.stringify(publicJwks(keys)), false).length, 1);
    });
});

describe("signDetached and verifyDetached", () => {
    const key = signingKeyOf(AGENT_TEST_PRIVATE_JWKS);
    const keys = parseJwks(AGENT_TEST_PUBLIC_JWKS, false);

    it("writes <header>..<signature> with the header {alg, kid} in the agent's member order", () => {
        const value = signDetached("payload", key);
        const [header, empty, signature] = value.split(".");
        assert.equal(empty, "");
        assert.equal(Buffer.from(header, "base64url").toString(), '{"alg":"EdDSA","kid":"TEST_DO_NOT_USE"}');
        assert.equal(Buffer.from(signature, "base64url").length, 64);
        // Ed25519 is deterministic (RFC 8032 §5.1.6).
        assert.equal(signDetached("payload", key), value);
    });

    it("verifies the payload it signed, and no other", () => {
        const value = signDetached("payload", key);
        assert.equal(verifyDetached(value, "payload", keys), true);
        assert.equal(verifyDetached(value, "payload ", keys), false);
    });

    it("looks the key up by the header's kid: a kid not in the set verifies nothing", () => {
        const other = privateKey("other");
        const value = signDetached("p", signingKeyOf(set(other)));
        const both = parseJwks(set(publicOf(other), JSON.parse(AGENT_TEST_PUBLIC_JWKS).keys[0]), false);
        assert.equal(verifyDetached(value, "p", both), true);
        assert.equal(verifyDetached(value, "p", keys), false);
    });

    it("without a kid in the header, tries every key of the set", () => {
        const other = privateKey("other");
        const both = parseJwks(set(publicOf(other), JSON.parse(AGENT_TEST_PUBLIC_JWKS).keys[0]), false);
        const header = b64({ alg: "EdDSA" });
        const signature = sign(null, Buffer.from(`${header}.${b64("p")}`), key.key).toString("base64url");
        assert.equal(verifyDetached(`${header}..${signature}`, "p", both), true);
    });

    it("refuses a header that changes what is signed (crit, b64) or names another algorithm", () => {
        for (const extra of [{ b64: false }, { crit: ["b64"] }, { alg: "none" }]) {
            const header = b64({ alg: "EdDSA", kid: key.kid, ...extra });
            const signature = sign(null, Buffer.from(`${header}.${b64("p")}`), key.key).toString("base64url");
            assert.equal(verifyDetached(`${header}..${signature}`, "p", keys), false, JSON.stringify(extra));
        }
    });
});

describe("readDetached", () => {
    it("gives the header, the signing input and the signature bytes of a detached value", () => {
        const header = b64({ alg: "ES256" });
        const read = readDetached(`${header}..${b64("sig")}`, "payload", "ES256");
        assert.deepEqual(read?.header, { alg: "ES256" });
        assert.equal(read?.input.toString(), `${header}.${b64("payload")}`);
        assert.equal(read?.signature.toString(), "sig");
    });

    it("reads nothing from a value that is not detached, not three parts, or whose header is not a JSON object", () => {
        const header = b64({ alg: "EdDSA" });
        for (const value of [
            `${header}.${b64("p")}.${b64("s")}`,
            `${header}..`.slice(0, -1),
            `${header}...x`,
            `${b64("not json")}..${b64("s")}`,
            `${b64([1])}..${b64("s")}`,
        ])
            assert.equal(readDetached(value, "p", "EdDSA"), undefined, value);
    });
});
