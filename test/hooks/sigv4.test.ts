/**
 * The pre-bootstrap hook's signed S3 GET (hooks/lib/s3-read.bash `s3_read`, real bash and real curl) against a
 * stand-in S3 that verifies AWS Signature Version 4 with botocore as the oracle (test/hooks/sigv4-server.py). s3rver,
 * which the other hook tests use, accepts any signature; a signature S3 refuses would refuse every job of every Linux
 * fleet, so this is the test that the signature is one S3 accepts.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcessByStdio } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Readable, Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { fleetPhysicalName } from "../../components/agents/naming";
import { allowlistObjectContent } from "../../components/hooks/allowlist";
import { allowlistObjectKey } from "../../components/hooks/bundle";
import { prodConfig } from "../fixtures/config";
import { ALLOWLIST, HOOKS_DIR, IMDS_CREDENTIALS, ImdsFixture, runBash, type RunResult } from "./harness";

const SERVER_SCRIPT = path.join(__dirname, "sigv4-server.py");
const BUCKET = "ci-platform-eu-west-2-default-secrets-0123456";
/** Not us-east-1: a region left out of the signature, or defaulted, shows. */
const REGION = "eu-west-2";
const KEY = allowlistObjectKey("linux-eu-west-2");
/** The allow-list object, with its trailing newline: the body must come back byte for byte. */
const BODY = allowlistObjectContent(ALLOWLIST);

/** Credentials shaped as STS's: a secret with '/' and '+', a session token with '/', '+' and '='. */
const CREDENTIALS = {
    accessKeyId: "ASIAEXAMPLE0SIGV4TST",
    secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    sessionToken: "IQoJb3JpZ2luX2VjEXAMPLE//session+token/for+sigv4==",
};

/**
 * As sigv4-server.py imports botocore: its own (pip, or Debian's python3-botocore), else the AWS CLI v2's, which
 * Debian's awscli carries inside the awscli package (bookworm's awscli 2.9.19 depends on no python3-botocore).
 */
const IMPORT_BOTOCORE = [
    "try:",
    "    import botocore.auth",
    "except ImportError:",
    "    import awscli",
    "    import botocore.auth",
    "import botocore.awsrequest, botocore.credentials",
    "print(botocore.__file__)",
].join("\n");

/** The first interpreter that imports botocore: `python3` on PATH (pyenv's, a developer's), then Debian's. */
function findPython(): { python: string; botocore: string } | { skip: string } {
    const tried: string[] = [];
    for (const python of ["python3", "/usr/bin/python3"]) {
        const result = spawnSync(python, ["-c", IMPORT_BOTOCORE], { encoding: "utf8" });
        if (result.error === undefined && result.status === 0) return { python, botocore: result.stdout.trim() };
        tried.push(`${python}: ${result.error?.message ?? lastNonEmptyLine(result.stderr)}`);
    }
    return { skip: `no Python imports botocore (install awscli or python3-botocore): ${tried.join("; ")}` };
}

const lastNonEmptyLine = (text: string): string =>
    text
        .split("\n")
        .filter((l) => l !== "")
        .pop() ?? "";

/** One request as the server logged it. */
interface LoggedRequest {
    readonly method: string;
    readonly path: string;
    readonly status: number;
    readonly code: string | null;
    readonly signedHeaders: string | null;
    readonly canonicalRequest: string | null;
}

interface ServerConfig {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken: string | null;
    readonly region: string;
    /** Request path (as sent: /bucket/key path-style, /key virtual-hosted) to body. */
    readonly objects: Readonly<Record<string, string>>;
    /** Serve HTTPS with this certificate and key (PEM files). */
    readonly tls?: { readonly cert: string; readonly key: string };
}

/** A running sigv4-server.py: its endpoint and the requests it has answered. */
class SigV4Server {
    private constructor(
        private readonly child: ChildProcessByStdio<Writable, Readable, Readable>,
        readonly endpoint: string,
        private readonly lines: string[],
        private readonly stderr: () => string,
    ) {}

    static start(python: string, config: ServerConfig): Promise<SigV4Server> {
        const child = spawn(python, [SERVER_SCRIPT, JSON.stringify({ ...config, maxSeconds: 120 })], {
            stdio: ["pipe", "pipe", "pipe"],
        });
        const lines: string[] = [];
        let pending = "";
        let stderr = "";
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        return new Promise((resolve, reject) => {
            child.on("error", reject);
            child.on("exit", (code) =>
                reject(new Error(`sigv4-server.py exited (${code}) before its port: ${stderr}`)),
            );
            child.stdout.on("data", (d: Buffer) => {
                pending += d.toString();
                const parts = pending.split("\n");
                pending = parts.pop() ?? "";
                for (const line of parts) {
                    if (lines.length === 0 && !/^\d+$/.test(line)) reject(new Error(`not a port: ${line}`));
                    lines.push(line);
                    if (lines.length === 1)
                        resolve(new SigV4Server(child, `http://127.0.0.1:${line}`, lines, () => stderr));
                }
            });
        });
    }

    /** The requests answered so far, oldest first. */
    requests(): LoggedRequest[] {
        return this.lines.slice(1).map((l) => JSON.parse(l) as LoggedRequest);
    }

    /** Closes its stdin (it exits on that) and waits for it; fails if it wrote to stderr (a crash in a request). */
    async stop(): Promise<void> {
        const exited = new Promise<void>((resolve) => this.child.once("close", () => resolve()));
        this.child.stdin.end();
        await exited;
        assert.equal(this.stderr(), "", "sigv4-server.py wrote to stderr");
    }
}

/** `s3_read BUCKET KEY REGION` in bash with only PATH, an empty HOME (no ~/.curlrc) and ENV. */
async function s3Read(
    env: Readonly<Record<string, string | undefined>>,
    home: string,
    key = KEY,
    bucket = BUCKET,
): Promise<RunResult> {
    const script = `source ${JSON.stringify(path.join(HOOKS_DIR, "lib/s3-read.bash"))}; s3_read "$@"`;
    return runBash(["-c", script, "s3-read", bucket, key, REGION], { PATH: process.env.PATH, HOME: home, ...env });
}

/** Credentials in the hook's environment; an undefined value leaves the variable unset. */
const envCredentials = (
    endpoint: string | undefined,
    secret = CREDENTIALS.secretAccessKey,
    token = CREDENTIALS.sessionToken,
) => ({
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: secret,
    AWS_SESSION_TOKEN: token,
});

const found = findPython();

describe(
    `s3_read's SigV4 signature, checked by botocore${"botocore" in found ? ` (${found.botocore})` : ""}`,
    { skip: "skip" in found ? found.skip : false },
    () => {
        const python = "python" in found ? found.python : "";
        let home = "";
        let server: SigV4Server;
        let since = 0;
        /** The requests of the current case. */
        const caseRequests = (): LoggedRequest[] => server.requests().slice(since);

        before(async () => {
            home = fs.mkdtempSync(path.join(os.tmpdir(), "ci-sigv4-home-"));
            server = await SigV4Server.start(python, {
                ...CREDENTIALS,
                region: REGION,
                objects: {
                    [`/${BUCKET}/${KEY}`]: BODY,
                    [`/${BUCKET}/${allowlistObjectKey("Fleet.name_9-x")}`]: "every character a key may have\n",
                },
            });
        });
        after(async () => {
            await server.stop();
            fs.rmSync(home, { recursive: true, force: true });
        });
        const mark = (): void => {
            since = server.requests().length;
        };

        it("reads the object with environment credentials and a session token: S3's signature, the body byte for byte", async () => {
            mark();
            const result = await s3Read(envCredentials(server.endpoint), home);
            assert.equal(result.stderr, "");
            assert.equal(result.code, 0);
            assert.equal(result.stdout, BODY);
            const [request, ...more] = caseRequests();
            assert.deepEqual(more, []);
            assert.equal(request?.status, 200);
            assert.equal(request?.method, "GET");
            assert.equal(request?.path, `/${BUCKET}/${KEY}`);
            // The session token is signed, and so are the content hash S3 requires and the date.
            assert.equal(request?.signedHeaders, "host;x-amz-content-sha256;x-amz-date;x-amz-security-token");
        });

        it("reads the object with long-lived keys (no session token): no token header, still S3's signature", async (t) => {
            const plain = await SigV4Server.start(python, {
                ...CREDENTIALS,
                sessionToken: null,
                region: REGION,
                objects: { [`/${BUCKET}/${KEY}`]: BODY },
            });
            t.after(() => plain.stop());
            const result = await s3Read({ ...envCredentials(plain.endpoint), AWS_SESSION_TOKEN: undefined }, home);
            assert.equal(result.stderr, "");
            assert.equal(result.stdout, BODY);
            assert.deepEqual(
                plain.requests().map((r) => [r.status, r.signedHeaders]),
                [[200, "host;x-amz-content-sha256;x-amz-date"]],
            );
        });

        it("reads the object with the instance role's credentials from IMDSv2", async (t) => {
            const imds = await ImdsFixture.start();
            const roleServer = await SigV4Server.start(python, {
                accessKeyId: IMDS_CREDENTIALS.accessKeyId,
                secretAccessKey: IMDS_CREDENTIALS.secretAccessKey,
                sessionToken: IMDS_CREDENTIALS.token,
                region: REGION,
                objects: { [`/${BUCKET}/${KEY}`]: BODY },
            });
            t.after(async () => {
                await roleServer.stop();
                await imds.stop();
            });
            const env = { ...imds.env(), AWS_ENDPOINT_URL: roleServer.endpoint };
            const result = await s3Read(env, home);
            assert.equal(result.stderr, "");
            assert.equal(result.stdout, BODY);
            assert.deepEqual(
                roleServer.requests().map((r) => [r.status, r.signedHeaders]),
                [[200, "host;x-amz-content-sha256;x-amz-date;x-amz-security-token"]],
            );
        });

        it("signs the production request: virtual-hosted HTTPS at the region's endpoint, without AWS_ENDPOINT_URL", async (t) => {
            // The URL, Host header and TLS are production's; only the connection goes to 127.0.0.1, through a `curl`
            // first on PATH that adds --connect-to (which leaves the URL and Host alone) and trusts a throwaway CA.
            const host = `${BUCKET}.s3.${REGION}.amazonaws.com`;
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ci-sigv4-tls-"));
            const cert = path.join(dir, "cert.pem");
            const key = path.join(dir, "key.pem");
            const made = spawnSync(
                "openssl",
                [
                    ...[
                        "req",
                        "-x509",
                        "-newkey",
                        "rsa:2048",
                        "-nodes",
                        "-days",
                        "1",
                        "-subj",
                        "/CN=ci-platform sigv4 test",
                    ],
                    ...["-addext", `subjectAltName=DNS:${host}`, "-keyout", key, "-out", cert],
                ],
                { encoding: "utf8" },
            );
            if (made.error !== undefined) {
                fs.rmSync(dir, { recursive: true, force: true });
                return t.skip(`no openssl to make a certificate: ${made.error.message}`);
            }
            assert.equal(made.status, 0, made.stderr);
            const tlsServer = await SigV4Server.start(python, {
                ...CREDENTIALS,
                region: REGION,
                objects: { [`/${KEY}`]: BODY },
                tls: { cert, key },
            });
            t.after(async () => {
                await tlsServer.stop();
                fs.rmSync(dir, { recursive: true, force: true });
            });
            const realCurl = spawnSync("bash", ["-c", "command -v curl"], { encoding: "utf8" }).stdout.trim();
            const port = new URL(tlsServer.endpoint).port;
            fs.mkdirSync(path.join(dir, "bin"));
            fs.writeFileSync(
                path.join(dir, "bin/curl"),
                `#!/bin/bash\nexec ${realCurl} --connect-to ${host}:443:127.0.0.1:${port} --cacert ${cert} "$@"\n`,
                { mode: 0o755 },
            );
            const result = await s3Read(
                { ...envCredentials(undefined), PATH: `${path.join(dir, "bin")}:${process.env.PATH}` },
                home,
            );
            assert.equal(result.stderr, "");
            assert.equal(result.stdout, BODY);
            const [request, ...more] = tlsServer.requests();
            assert.deepEqual(more, []);
            assert.equal(request?.status, 200);
            assert.equal(request?.path, `/${KEY}`);
            assert.match(request?.canonicalRequest ?? "", new RegExp(`^host:${host.replace(/\./g, "[.]")}$`, "m"));
        });

        it("ignores a ~/.curlrc a job could write (the hook runs as the jobs' user): no proxy, no extra header", async () => {
            const jobHome = fs.mkdtempSync(path.join(os.tmpdir(), "ci-sigv4-curlrc-"));
            try {
                // A proxy on a closed port: honoured, the read would fail; a header: honoured, it would be sent.
                fs.writeFileSync(
                    path.join(jobHome, ".curlrc"),
                    'proxy = "http://127.0.0.1:9"\nheader = "x-amz-meta-curlrc: injected"\n',
                );
                mark();
                const result = await s3Read(envCredentials(server.endpoint), jobHome);
                assert.equal(result.stderr, "");
                assert.equal(result.code, 0);
                assert.equal(result.stdout, BODY);
                assert.equal(
                    caseRequests()[0]?.signedHeaders,
                    "host;x-amz-content-sha256;x-amz-date;x-amz-security-token",
                );
            } finally {
                fs.rmSync(jobHome, { recursive: true, force: true });
            }
        });

        it("is refused with a wrong secret (the oracle checks the signature), naming S3's error and no secret", async () => {
            mark();
            const wrong = CREDENTIALS.secretAccessKey.replace("EXAMPLEKEY", "EXAMPLEKEz");
            const result = await s3Read(envCredentials(server.endpoint, wrong), home);
            assert.equal(result.code, 2);
            assert.equal(result.stdout, "");
            assert.match(result.stderr, /^s3: GET http:\/\/127\.0\.0\.1:\d+\/\S+: HTTP 403 SignatureDoesNotMatch\n$/);
            assert.ok(!result.stderr.includes(wrong));
            // A 403 is not retried: one request.
            assert.deepEqual(
                caseRequests().map((r) => [r.status, r.code]),
                [[403, "SignatureDoesNotMatch"]],
            );
        });

        it("is refused with another session token: the token is part of what is signed", async () => {
            mark();
            const result = await s3Read(envCredentials(server.endpoint, undefined, "IQoJb3JpZ2luOTHERtoken"), home);
            assert.equal(result.code, 2);
            assert.match(result.stderr, /HTTP 403 SignatureDoesNotMatch$/m);
            assert.deepEqual(
                caseRequests().map((r) => r.code),
                ["SignatureDoesNotMatch"],
            );
        });

        it("reads a key with every character s3_read admits ('_', '.', '-', '/', both cases, digits)", async () => {
            mark();
            const key = allowlistObjectKey("Fleet.name_9-x");
            const result = await s3Read(envCredentials(server.endpoint), home, key);
            assert.equal(result.stderr, "");
            assert.equal(result.stdout, "every character a key may have\n");
            assert.deepEqual(
                caseRequests().map((r) => [r.status, r.path]),
                [[200, `/${BUCKET}/${key}`]],
            );
        });
    },
);

describe("the allow-list keys s3_read signs", () => {
    // S3's canonical URI is the path with each character outside RFC 3986's unreserved set (and '/') percent-encoded
    // once (Amazon S3 API Reference, "Signature Calculations for the Authorization Header": UriEncode, not twice for
    // S3); made of unreserved characters only, the key is its own canonical URI, so there is no encoding to get wrong.
    const UNRESERVED_PATH = /^[A-Za-z0-9\-._~/]+$/;

    it("are the prod fleets' keys, made only of characters that need no URI encoding", () => {
        const keys = prodConfig()
            .fleets.filter((f) => f.kind === "aws")
            .map((f) => allowlistObjectKey(fleetPhysicalName(f)));
        assert.ok(keys.length > 0);
        for (const key of keys) assert.match(key, UNRESERVED_PATH);
    });

    it("refuses any key with a character that would need encoding, before any request", async () => {
        for (const key of [
            "_ci-platform/allowlist/a b",
            "_ci-platform/allowlist/a+b",
            "_ci-platform/allowlist/a%2Fb",
        ]) {
            const result = await s3Read(
                { AWS_ENDPOINT_URL: "http://127.0.0.1:9", AWS_EC2_METADATA_DISABLED: "true" },
                os.tmpdir(),
                key,
            );
            assert.equal(result.code, 2, key);
            assert.match(result.stderr, /unexpected characters/, key);
        }
        assert.throws(() => allowlistObjectKey("a+b"), /may only use/);
    });
});
