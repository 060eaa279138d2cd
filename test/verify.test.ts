import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { parse, stringify } from "yaml";
import { captureProgram } from "../scripts/plan/capture";
import { readStackFile } from "../scripts/plan/stack-file";
import { expectedFromProgram, Expectations, VERIFIED_TYPES, wireValue } from "../scripts/verify/expected";
import { main as verifyMain } from "../scripts/verify";
import { cutProd, ROOT, runInProcess } from "./fixtures/cli";
import { AWS_CLI, S3Fixture } from "./hooks/harness";

/*
 * The drift verifier against real endpoints on 127.0.0.1: s3rver for the buckets (read by the real AWS CLI), and a
 * fake Buildkite REST API and ECR API. The test "deploys" a stack cut from prod as `pulumi up` would (every object
 * the program declares, uploaded; a state export recording what was written), then tampers with it out of band.
 */
const dir = mkdtempSync(path.join(tmpdir(), "verify-"));
/**
 * Prod cut to the default cluster's fleets in the home region and in eu-west-1 (fixtures/cli.ts cutProd): a secrets
 * bucket and the image repositories in each of two regions, so the verifier's per-region reads (one per bucket, one
 * per repository and region) run in both, with a hook bundle, secret objects, agent tokens and image tags to check;
 * every AWS CLI call costs ~0.7 CPU s, and prod's 6 buckets and 6 repository listings made 30 of them.
 */
const STACK_FILE = path.join(dir, "Pulumi.prod.yaml");
{
    const doc = parse(readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, unknown> };
    cutProd(doc.config, { clusters: ["default"], fleets: ["linux-us-east-1", "linux-eu-west-1"], pipelines: [] });
    writeFileSync(STACK_FILE, stringify(doc));
}
const TAMPERED = "TAMPERED-BODY-5c1e";

interface Deployed {
    urn: string;
    bucket: string;
    key: string;
    content: string;
}
const objects: Deployed[] = [];
const tokens: { urn: string; uuid: string; cluster: string }[] = [];
/** Cluster UUID to the token ids it lists. */
const listed = new Map<string, string[]>();
/** `registry/repository` to its tags. */
const tags = new Map<string, Set<string>>();
const images: string[] = [];
let s3: S3Fixture;
let api: Server;
let apiUrl = "";
const stateFile = path.join(dir, "state.json");
const pulumiConfigFile = path.join(dir, "config.json");

function fakeApi(req: IncomingMessage, res: ServerResponse): void {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
        const target = String(req.headers["x-amz-target"] ?? "");
        if (target.endsWith(".ListImages")) {
            const { registryId, repositoryName } = JSON.parse(body) as Record<string, string>;
            // The region the CLI signed for (SigV4 credential scope: <key>/<date>/<region>/ecr/aws4_request).
            const region = /Credential=[^/]+\/[^/]+\/([^/]+)\//.exec(String(req.headers.authorization))?.[1];
            const found = tags.get(`${registryId}/${region}/${repositoryName}`);
            res.writeHead(found ? 200 : 400, { "content-type": "application/x-amz-json-1.1" });
            res.end(
                JSON.stringify(
                    found
                        ? {
                              imageIds: [...found].map((t) => ({
                                  imageTag: t,
                                  imageDigest: `sha256:${"0".repeat(64)}`,
                              })),
                          }
                        : { __type: "RepositoryNotFoundException", message: "no such repository" },
                ),
            );
            return;
        }
        const m = /^\/v2\/organizations\/([^/]+)\/clusters\/([^/]+)\/tokens/.exec(req.url ?? "");
        if (!m || req.headers.authorization !== "Bearer bk-test-token") {
            res.writeHead(m ? 401 : 404).end();
            return;
        }
        // Two pages, as the REST API paginates (Link header), so the verifier must follow `next`.
        const all = [{ id: "unrelated-token", expires_at: null }, ...(listed.get(m[2]) ?? []).map((id) => ({ id }))];
        const second = (req.url ?? "").includes("page=2");
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (!second) headers.link = `<${apiUrl}${req.url}&page=2>; rel="next"`;
        res.writeHead(200, headers).end(JSON.stringify(second ? all.slice(1) : all.slice(0, 1)));
    });
}

/** What process.env held before this file set its own values. */
const savedEnv: Record<string, string | undefined> = {};

before(async () => {
    s3 = await S3Fixture.start();
    api = createServer(fakeApi);
    await new Promise<void>((r) => api.listen(0, "127.0.0.1", r));
    apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;

    // What the program declares, with the plan's mock outputs (bucket names, registry URLs) as the cloud's.
    const { config, secretKeys } = readStackFile(STACK_FILE);
    await captureProgram({
        project: "ci-platform",
        stack: "prod",
        config,
        secretKeys,
        programPath: path.join(ROOT, "index.ts"),
        observe: (resource, raw) => {
            const inputs = raw as Record<string, unknown>;
            if (resource.type === VERIFIED_TYPES.object)
                objects.push({
                    urn: resource.urn,
                    bucket: String(wireValue(inputs.bucket)),
                    key: String(wireValue(inputs.key)),
                    content: String(wireValue(inputs.content)),
                });
            if (resource.type === VERIFIED_TYPES.token) {
                const n = tokens.length;
                tokens.push({ urn: resource.urn, uuid: `token-uuid-${n}`, cluster: `cluster-uuid-${n % 3}` });
            }
            if (resource.type === VERIFIED_TYPES.image) images.push(String(wireValue(inputs.imageName)));
        },
    });

    // `pulumi up`: every object uploaded, every token created, every tag pushed; the state records what was written.
    const resources: Record<string, unknown>[] = [];
    for (const o of objects) {
        await s3.createBucket(o.bucket);
        const response = await fetch(`${s3.endpoint}/${o.bucket}/${o.key}`, { method: "PUT", body: o.content });
        assert.ok(response.ok, `PUT ${o.key}`);
        await response.text();
        const etag = (response.headers.get("etag") ?? "").replace(/"/g, "");
        resources.push({
            urn: o.urn,
            type: VERIFIED_TYPES.object,
            id: `${o.bucket}/${o.key}`,
            outputs: { bucket: o.bucket, key: o.key, etag },
        });
    }
    for (const t of tokens) {
        listed.set(t.cluster, [...(listed.get(t.cluster) ?? []), t.uuid]);
        resources.push({
            urn: t.urn,
            type: VERIFIED_TYPES.token,
            id: `graphql-${t.uuid}`,
            outputs: {
                uuid: t.uuid,
                clusterUuid: t.cluster,
                token: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: "v1:abc" },
            },
        });
    }
    for (const image of images) {
        const m = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com\/([^:]+):(.+)$/.exec(image);
        assert.ok(m, image);
        const id = `${m[1]}/${m[2]}/${m[3]}`;
        tags.set(id, (tags.get(id) ?? new Set()).add(m[4]));
    }
    writeFileSync(stateFile, JSON.stringify({ version: 3, deployment: { resources } }));
    // What `pulumi config --json --show-secrets` prints; the "decrypted" values are the plan's stand-ins, which is
    // also what the test deployed.
    writeFileSync(
        pulumiConfigFile,
        JSON.stringify(
            Object.fromEntries(
                Object.entries(config).map(([k, v]) => [k, { value: v, secret: secretKeys.includes(k) }]),
            ),
        ),
    );

    // The scripts run with these; restored after this file's tests, since other test files share the process.
    const env = {
        AWS_ACCESS_KEY_ID: "S3RVER",
        AWS_SECRET_ACCESS_KEY: "S3RVER",
        AWS_CONFIG_FILE: path.join(dir, "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE: path.join(dir, "no-aws-credentials"),
        AWS_EC2_METADATA_DISABLED: "true",
        CI_PLATFORM_AWS_CLI: AWS_CLI,
        BUILDKITE_API_TOKEN: "bk-test-token",
    };
    for (const key of Object.keys(env)) savedEnv[key] = process.env[key];
    Object.assign(process.env, env);
});

after(async () => {
    for (const [key, value] of Object.entries(savedEnv))
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
    await s3?.stop();
    await new Promise((r) => api?.close(r));
    rmSync(dir, { recursive: true, force: true });
});

/**
 * What the verifier expects, by the program's inputs: every run below reads the same stack config and state, so the
 * program runs once for them (each run gets a copy), not once per run.
 */
const expectations = new Map<string, Promise<Expectations>>();
const sharedExpected: typeof expectedFromProgram = async (args) => {
    const key = JSON.stringify([
        args.root,
        args.project,
        args.stack,
        args.stackConfig,
        args.decrypted,
        [...args.state],
    ]);
    let expected = expectations.get(key);
    if (expected === undefined) {
        expected = expectedFromProgram(args);
        expectations.set(key, expected);
    }
    return structuredClone(await expected);
};

/** `npm run verify` against the fixtures, its `main` run in this process (its exit codes: test/cli.test.ts). */
const verify = (...extra: string[]) =>
    runInProcess("verify", (argv, io) => verifyMain(argv, { ...io, expectedFromProgram: sharedExpected }), [
        "--stack",
        "prod",
        "--pulumi-config",
        pulumiConfigFile,
        "--state",
        stateFile,
        "--s3-endpoint-url",
        s3.endpoint,
        "--ecr-endpoint-url",
        apiUrl,
        "--buildkite-api-url",
        apiUrl,
        ...extra,
    ]);

/** No secret value of the stack file (its `[secret:<version>]` stand-ins) and no tampered body in the output. */
function assertNoSecrets(output: string): void {
    assert.deepEqual(output.match(/\[secret:[0-9a-f]{16}\]/g) ?? [], []);
    assert.ok(!output.includes(TAMPERED));
}

describe("npm run verify", () => {
    it("declares objects, tokens and images to check, in two regions", () => {
        assert.ok(objects.length >= 30 && tokens.length >= 2 && images.length >= 5);
        assert.ok(
            objects.some((o) => o.content.includes("[secret:")),
            "secret objects among them",
        );
        // The verifier reads per bucket and per repository and region: both regions have their own.
        assert.equal(new Set(objects.map((o) => o.bucket)).size, 2, "a secrets bucket per region");
        assert.deepEqual([...new Set(images.map((i) => /\.ecr\.([a-z0-9-]+)\./.exec(i)?.[1]))].sort(), [
            "eu-west-1",
            "us-east-1",
        ]);
    });

    it("passes a clean state: every object, token and tag as declared", async () => {
        const result = await verify();
        assert.equal(result.code, 0, result.stdout + result.stderr);
        assert.match(
            result.stdout,
            new RegExp(`0 drifted, 0 not verified, ${objects.length + tokens.length + images.length} as declared`),
        );
        assertNoSecrets(result.stdout + result.stderr);
    });

    describe("after changes outside Pulumi", () => {
        let secretObject: Deployed;
        let hookObject: Deployed;
        before(async () => {
            secretObject = objects.find((o) => o.content.includes("[secret:"))!;
            hookObject = objects.find((o) => o.key.includes("hooks") && !o.content.includes("[secret:"))!;
            await s3.put(secretObject.bucket, secretObject.key, TAMPERED);
            await s3.put(hookObject.bucket, hookObject.key, `#!/bin/bash\necho ${TAMPERED}\n`);
            listed.set(
                tokens[0].cluster,
                (listed.get(tokens[0].cluster) ?? []).filter((id) => id !== tokens[0].uuid),
            );
            const [repo, tagSet] = [...tags.entries()][0];
            const removed = [...tagSet][0];
            tagSet.delete(removed);
            images.splice(
                images.indexOf(images.find((i) => i.endsWith(`/${repo.split("/")[1]}:${removed}`))!),
                1,
                `removed:${repo}:${removed}`,
            );
        });

        it("reports the tampered objects, the revoked token and the missing tag, and exits 1", async () => {
            const result = await verify();
            assert.equal(result.code, 1, result.stdout + result.stderr);
            const drift = result.stdout.split("\n").filter((l) => l.startsWith("DRIFT "));
            assert.equal(drift.length, 4, result.stdout);
            assert.ok(
                drift.some(
                    (l) =>
                        l.includes(`s3://${secretObject.bucket}/${secretObject.key}`) &&
                        /secret object's content differs/.test(l),
                ),
            );
            assert.ok(
                drift.some(
                    (l) => l.includes(`s3://${hookObject.bucket}/${hookObject.key}`) && /sha256 [0-9a-f]{12}/.test(l),
                ),
            );
            assert.ok(drift.some((l) => l.includes(`token ${tokens[0].uuid}`) && /revoked/.test(l)));
            assert.ok(drift.some((l) => l.startsWith("DRIFT image ") && /gone from the registry/.test(l)));
            assertNoSecrets(result.stdout + result.stderr);
        });

        it("sees the rewrites with S3 read access only (ETags against the state's)", async () => {
            const result = await verify("--objects", "etag", "--skip", "tokens,images");
            assert.equal(result.code, 1, result.stdout + result.stderr);
            const drift = result.stdout.split("\n").filter((l) => l.startsWith("DRIFT "));
            assert.equal(drift.length, 2, result.stdout);
            assert.ok(drift.every((l) => /rewritten outside Pulumi/.test(l)));
            assertNoSecrets(result.stdout + result.stderr);
        });
    });
});
