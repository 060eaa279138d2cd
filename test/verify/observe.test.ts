import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, it, mock } from "node:test";
import { sha256Hex } from "../../scripts/verify/expected";
import { listClusterTokens, listImageTags, observeImages, readBucket, type Reach } from "../../scripts/verify/observe";

/*
 * The reads of the clouds, against a stand-in AWS CLI (a few lines of sh: it records its arguments, prints what the
 * test put in $FAKE_AWS_OUT, or fails with $FAKE_AWS_ERR on stderr; `s3 cp` copies $FAKE_BUCKET into the target
 * directory) and a stand-in fetch for Buildkite. test/plan/verify.test.ts runs the real CLI against an S3 server.
 */
const dir = mkdtempSync(path.join(tmpdir(), "observe-"));
const FAKE_AWS = path.join(dir, "aws");
writeFileSync(
    FAKE_AWS,
    [
        "#!/bin/sh",
        'printf "%s\\n" "$*" >> "$FAKE_AWS_LOG"',
        'if [ -n "$FAKE_AWS_ERR" ]; then printf "noise\\n%s\\n" "$FAKE_AWS_ERR" >&2; exit 1; fi',
        'if [ "$1" = s3 ] && [ "$2" = cp ]; then cp -R "$FAKE_BUCKET/." "$4"; exit 0; fi',
        'printf "%s" "$FAKE_AWS_OUT"',
        "",
    ].join("\n"),
);
chmodSync(FAKE_AWS, 0o755);

let runs = 0;
/** A reach through the stand-in CLI with these variables; returns it and a reader of the CLI's recorded calls. */
function fakeReach(env: Record<string, string>, extra: Partial<Reach> = {}) {
    const log = path.join(dir, `log-${runs++}`);
    writeFileSync(log, "");
    const reach: Reach = {
        awsCli: FAKE_AWS,
        buildkiteApiUrl: "https://api.example.test/",
        env: { PATH: process.env.PATH, FAKE_AWS_LOG: log, ...env },
        ...extra,
    };
    return { reach, calls: () => readFileSync(log, "utf8").trim().split("\n").filter(Boolean) };
}

describe("readBucket", () => {
    const bucket = { name: "secrets-abc", region: "eu-west-1" };

    it("etag mode: one listing of the bucket, each wanted key's ETag without quotes, or not found", async () => {
        const listing = {
            Contents: [
                { Key: "env", ETag: '"abc123"' },
                { Key: "other", ETag: '"x"' },
            ],
        };
        const { reach, calls } = fakeReach(
            { FAKE_AWS_OUT: JSON.stringify(listing) },
            { s3EndpointUrl: "http://s3.test" },
        );
        const read = await readBucket(reach, bucket, ["env", "gone"], "etag");
        assert.deepEqual(Object.fromEntries(read), { env: { found: true, etag: "abc123" }, gone: { found: false } });
        assert.deepEqual(calls(), [
            "s3api list-objects-v2 --bucket secrets-abc --region eu-west-1 --output json --endpoint-url http://s3.test --no-cli-pager",
        ]);
    });

    it("etag mode: an empty bucket (the CLI prints nothing) holds none of the keys", async () => {
        const { reach } = fakeReach({ FAKE_AWS_OUT: "" });
        assert.deepEqual(Object.fromEntries(await readBucket(reach, bucket, ["env"], "etag")), {
            env: { found: false },
        });
    });

    it("content mode: the digest of each wanted key's bytes, nested keys included", async () => {
        const content = path.join(dir, "bucket");
        mkdirSync(path.join(content, "hooks"), { recursive: true });
        writeFileSync(path.join(content, "env"), "A=1\n");
        writeFileSync(path.join(content, "hooks", "x.sh"), "echo\n");
        const { reach, calls } = fakeReach({ FAKE_BUCKET: content });
        const read = await readBucket(reach, bucket, ["env", "hooks/x.sh", "missing"], "content");
        assert.deepEqual(Object.fromEntries(read), {
            env: { found: true, sha256: sha256Hex("A=1\n") },
            "hooks/x.sh": { found: true, sha256: sha256Hex("echo\n") },
            missing: { found: false },
        });
        assert.match(
            calls()[0],
            /^s3 cp s3:\/\/secrets-abc\/ \S+ --recursive --only-show-errors --region eu-west-1 --no-cli-pager$/,
        );
    });

    it("a failed CLI run gives every key the CLI's last stderr line, in both modes", async () => {
        for (const mode of ["etag", "content"] as const) {
            const { reach } = fakeReach({ FAKE_AWS_ERR: "An error occurred (AccessDenied)" });
            assert.deepEqual(Object.fromEntries(await readBucket(reach, bucket, ["a", "b"], mode)), {
                a: { error: "An error occurred (AccessDenied)" },
                b: { error: "An error occurred (AccessDenied)" },
            });
        }
    });
});

describe("listImageTags and observeImages", () => {
    const repo = { registryId: "123456789012", region: "us-east-1", repository: "ci/base" };

    it("lists a repository's tagged images", async () => {
        const out = { imageIds: [{ imageTag: "1.0" }, { imageDigest: "sha256:x" }, { imageTag: "2.0" }] };
        const { reach, calls } = fakeReach({ FAKE_AWS_OUT: JSON.stringify(out) });
        assert.deepEqual(await listImageTags(reach, repo), new Set(["1.0", "2.0"]));
        assert.match(
            calls()[0],
            /^ecr list-images --registry-id 123456789012 --repository-name ci\/base --filter tagStatus=TAGGED --region us-east-1/,
        );
    });

    it("reads a deleted repository as one without tags (drift), any other failure as an error", async () => {
        const gone = fakeReach({
            FAKE_AWS_ERR: "An error occurred (RepositoryNotFoundException) when calling ListImages",
        });
        assert.deepEqual(await listImageTags(gone.reach, repo), new Set());
        const denied = fakeReach({ FAKE_AWS_ERR: "An error occurred (AccessDeniedException)" });
        assert.deepEqual(await listImageTags(denied.reach, repo), {
            error: "An error occurred (AccessDeniedException)",
        });
    });

    it("observeImages asks once per repository, and leaves out what is not an ECR reference", async () => {
        const { reach, calls } = fakeReach({ FAKE_AWS_OUT: JSON.stringify({ imageIds: [{ imageTag: "1.0" }] }) });
        const base = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ci/base";
        const seen = await observeImages(reach, [
            { urn: "a", imageName: `${base}:1.0` },
            { urn: "b", imageName: `${base}:9.9` },
            { urn: "c", imageName: "docker.io/library/alpine:3" },
        ]);
        assert.deepEqual(Object.fromEntries(seen), { a: { found: true }, b: { found: false } });
        assert.equal(calls().length, 1);
    });
});

describe("listClusterTokens", () => {
    it("says what is missing when there is no Buildkite token, without a request", async () => {
        const fetchMock = mock.method(globalThis, "fetch", () => assert.fail("fetched"));
        try {
            const { reach } = fakeReach({});
            assert.deepEqual(await listClusterTokens(reach, "acme", "c1"), {
                error: "no Buildkite API token (set BUILDKITE_API_TOKEN)",
            });
        } finally {
            fetchMock.mock.restore();
        }
    });

    it("follows the Link pages of the cluster's tokens with the bearer token, and reports an HTTP error by path", async () => {
        const asked: { url: string; auth: string | undefined }[] = [];
        const pages: Response[] = [
            new Response(JSON.stringify([{ id: "t1" }]), {
                headers: {
                    link: '<https://api.example.test/v2/organizations/acme/clusters/c%201/tokens?page=2>; rel="next"',
                },
            }),
            new Response(JSON.stringify([{ id: "t2", expires_at: null }])),
            new Response("{}", { status: 403 }),
        ];
        const fetchMock = mock.method(globalThis, "fetch", async (url: string, init: RequestInit) => {
            asked.push({ url, auth: (init.headers as Record<string, string>).Authorization });
            return pages.shift() ?? assert.fail("too many requests");
        });
        try {
            const { reach } = fakeReach({}, { buildkiteToken: "bk-token" });
            assert.deepEqual(await listClusterTokens(reach, "acme", "c 1"), {
                tokens: [{ id: "t1" }, { id: "t2", expires_at: null }],
            });
            assert.deepEqual(asked, [
                {
                    url: "https://api.example.test/v2/organizations/acme/clusters/c%201/tokens?per_page=100",
                    auth: "Bearer bk-token",
                },
                {
                    url: "https://api.example.test/v2/organizations/acme/clusters/c%201/tokens?page=2",
                    auth: "Bearer bk-token",
                },
            ]);
            assert.deepEqual(await listClusterTokens(reach, "acme", "c1"), {
                error: "GET /v2/organizations/acme/clusters/c1/tokens: HTTP 403",
            });
        } finally {
            fetchMock.mock.restore();
        }
    });

    it("reports a request that fails", async () => {
        const fetchMock = mock.method(globalThis, "fetch", () => Promise.reject(new Error("ECONNREFUSED")));
        try {
            const { reach } = fakeReach({}, { buildkiteToken: "bk-token" });
            assert.deepEqual(await listClusterTokens(reach, "acme", "c1"), { error: "ECONNREFUSED" });
        } finally {
            fetchMock.mock.restore();
        }
    });
});
