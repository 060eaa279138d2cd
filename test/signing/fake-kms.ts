/**
 * A fake AWS KMS on 127.0.0.1 for tests: GetPublicKey and Sign (MessageType DIGEST, ECDSA_SHA_256) of one P-256 key,
 * over the AWS JSON 1.1 protocol (`X-Amz-Target: TrentService.<Operation>`, blobs as base64). It stops itself after
 * `lifetimeMs` if a test forgets to; tests stop it in `after`.
 *
 * Node's crypto signs a message, not a digest (it hashes what it is given), so the fake signs the digest with ECDSA
 * written out over bigints (SEC 1 §4.1.3) with the key's private scalar; the signature is DER, as KMS returns it.
 */
import { generateKeyPairSync, KeyObject, randomBytes } from "node:crypto";
import { createServer, IncomingMessage, Server } from "node:http";
import type { AddressInfo } from "node:net";

// NIST P-256 (SEC 2 §2.4.2).
const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const A = P - 3n;
const G: Point = [
    0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
    0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
];
type Point = readonly [bigint, bigint] | null;

const mod = (a: bigint, m: bigint) => ((a % m) + m) % m;
function inv(a: bigint, m: bigint): bigint {
    let [r0, r1, t0, t1] = [mod(a, m), m, 1n, 0n];
    while (r1 !== 0n) {
        const q = r0 / r1;
        [r0, r1] = [r1, r0 - q * r1];
        [t0, t1] = [t1, t0 - q * t1];
    }
    return mod(t0, m);
}
function add(p: Point, q: Point): Point {
    if (p === null) return q;
    if (q === null) return p;
    if (p[0] === q[0] && mod(p[1] + q[1], P) === 0n) return null;
    const l =
        p[0] === q[0] && p[1] === q[1]
            ? mod((3n * p[0] * p[0] + A) * inv(2n * p[1], P), P)
            : mod((q[1] - p[1]) * inv(q[0] - p[0], P), P);
    const x = mod(l * l - p[0] - q[0], P);
    return [x, mod(l * (p[0] - x) - p[1], P)];
}
function mul(k: bigint, p: Point): Point {
    let out: Point = null;
    let addend = p;
    while (k > 0n) {
        if (k & 1n) out = add(out, addend);
        addend = add(addend, addend);
        k >>= 1n;
    }
    return out;
}
const big = (b: Buffer) => BigInt(`0x${b.toString("hex") || "0"}`);

function derInteger(v: bigint): Buffer {
    let hex = v.toString(16);
    if (hex.length % 2) hex = `0${hex}`;
    let bytes = Buffer.from(hex, "hex");
    if (bytes[0] & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
    return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
}

/** ECDSA over P-256 of a 32-byte digest, DER-encoded. */
export function signDigest(digest: Buffer, privateScalar: bigint): Buffer {
    const z = big(digest);
    for (;;) {
        const k = mod(big(randomBytes(32)), N);
        if (k === 0n) continue;
        const point = mul(k, G);
        if (point === null) continue;
        const r = mod(point[0], N);
        const s = mod(inv(k, N) * (z + r * privateScalar), N);
        if (r === 0n || s === 0n) continue;
        const body = Buffer.concat([derInteger(r), derInteger(s)]);
        return Buffer.concat([Buffer.from([0x30, body.length]), body]);
    }
}

/** A running fake KMS. */
export interface FakeKms {
    /** `http://127.0.0.1:<port>` */
    readonly endpoint: string;
    readonly keyArn: string;
    readonly publicKey: KeyObject;
    /** The requests seen: operation and parsed body. */
    readonly requests: { readonly operation: string; readonly body: Record<string, unknown> }[];
    stop(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<Record<string, unknown>> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Record<string, unknown>;
}

/** Starts a fake KMS holding one new P-256 key, answering for `keyArn` only. */
export async function startFakeKms(
    keyArn = "arn:aws:kms:us-east-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef",
    lifetimeMs = 60_000,
): Promise<FakeKms> {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const d = big(Buffer.from(privateKey.export({ format: "jwk" }).d ?? "", "base64url"));
    const requests: FakeKms["requests"] = [];
    const reply = (status: number, json: unknown) => ({ status, json });
    const handle = (operation: string, b: Record<string, unknown>) => {
        if (b.KeyId !== keyArn)
            return reply(400, { __type: "NotFoundException", message: `Key '${String(b.KeyId)}' does not exist` });
        if (operation === "GetPublicKey")
            return reply(200, {
                KeyId: keyArn,
                KeySpec: "ECC_NIST_P256",
                KeyUsage: "SIGN_VERIFY",
                SigningAlgorithms: ["ECDSA_SHA_256"],
                PublicKey: publicKey.export({ format: "der", type: "spki" }).toString("base64"),
            });
        if (operation === "Sign") {
            const digest = Buffer.from(String(b.Message), "base64");
            if (b.MessageType !== "DIGEST" || b.SigningAlgorithm !== "ECDSA_SHA_256" || digest.length !== 32)
                return reply(400, { __type: "ValidationException", message: "expected a SHA-256 DIGEST" });
            return reply(200, {
                KeyId: keyArn,
                SigningAlgorithm: "ECDSA_SHA_256",
                Signature: signDigest(digest, d).toString("base64"),
            });
        }
        return reply(400, { __type: "UnsupportedOperationException", message: operation });
    };
    const server: Server = createServer((req, res) => {
        const target = String(req.headers["x-amz-target"] ?? "");
        void body(req).then((b) => {
            const operation = target.replace(/^TrentService\./, "");
            requests.push({ operation, body: b });
            const { status, json } = handle(operation, b);
            res.writeHead(status, { "content-type": "application/x-amz-json-1.1" });
            res.end(JSON.stringify(json));
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const timer = setTimeout(() => server.close(), lifetimeMs);
    timer.unref();
    const port = (server.address() as AddressInfo).port;
    return {
        endpoint: `http://127.0.0.1:${port}`,
        keyArn,
        publicKey,
        requests,
        stop: () =>
            new Promise<void>((resolve) => {
                clearTimeout(timer);
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
}
