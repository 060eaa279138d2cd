import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    checkImage,
    checkObject,
    checkToken,
    exitCodeOf,
    parseEcrImage,
    renderReport,
} from "../../scripts/verify/checks";
import { ExpectedObject, sha256Hex } from "../../scripts/verify/expected";
import { stackConfigFromPulumiJson } from "../../scripts/verify";

const NOW = new Date("2026-11-30T12:00:00Z");
const object = (content: string, secret: boolean): ExpectedObject => ({
    urn: "urn:pulumi:prod::ci-platform::aws:s3/bucketObjectv2:BucketObjectv2::o",
    key: "env",
    region: "us-east-1",
    sha256: sha256Hex(content),
    secret,
});
const at = { bucket: "b", key: "env", etag: "abc" };
const token = { urn: "urn:pulumi:prod::ci-platform::buildkite:Cluster/clusterAgentToken:ClusterAgentToken::t" };

describe("drift verifier decisions", () => {
    it("compares contents by digest and never prints a secret object's digests", () => {
        const expected = object("PASSWORD='hunter2'\n", true);
        const digest = sha256Hex("PASSWORD='hunter2'\n");
        const tampered = sha256Hex("PASSWORD='other'\n");
        assert.equal(checkObject(expected, at, { found: true, sha256: digest }, "content").status, "ok");
        const drift = checkObject(expected, at, { found: true, sha256: tampered }, "content");
        assert.equal(drift.status, "drift");
        assert.ok(!drift.message.includes(tampered.slice(0, 12)) && !drift.message.includes(digest.slice(0, 12)));
        const plain = checkObject(object("#!/bin/bash\n", false), at, { found: true, sha256: tampered }, "content");
        assert.match(plain.message, new RegExp(tampered.slice(0, 12)));
    });

    it("reports a missing object as drift and an unreadable one as not verified", () => {
        assert.equal(checkObject(object("x", false), at, { found: false }, "content").status, "drift");
        assert.equal(checkObject(object("x", false), at, { error: "AccessDenied" }, "content").status, "unverified");
        assert.equal(checkObject(object("x", false), undefined, undefined, "content").status, "unverified");
    });

    it("does not judge content it cannot know: a secure value the stack file could not decrypt", () => {
        const unknown = { ...object("x", true), sha256: null };
        const finding = checkObject(unknown, at, { found: true, sha256: sha256Hex("x") }, "content");
        assert.equal(finding.status, "unverified");
        assert.match(finding.message, /--pulumi-config/);
    });

    it("compares ETags without quotes, as the provider stores them", () => {
        assert.equal(checkObject(object("x", false), at, { found: true, etag: '"abc"' }, "etag").status, "ok");
        assert.equal(checkObject(object("x", false), at, { found: true, etag: '"abd"' }, "etag").status, "drift");
        assert.equal(
            checkObject(object("x", false), { bucket: "b", key: "env" }, { found: true, etag: "abc" }, "etag").status,
            "unverified",
        );
    });

    it("reports a token its cluster no longer lists, or one that expired", () => {
        const where = { id: "u1", cluster: "c1" };
        assert.equal(checkToken(token, where, { tokens: [{ id: "u1", expires_at: null }] }, NOW).status, "ok");
        assert.equal(
            checkToken(token, where, { tokens: [{ id: "u1", expires_at: "2027-01-01T00:00:00Z" }] }, NOW).status,
            "ok",
        );
        assert.match(checkToken(token, where, { tokens: [{ id: "u2" }] }, NOW).message, /revoked/);
        assert.match(
            checkToken(token, where, { tokens: [{ id: "u1", expires_at: "2026-11-01T00:00:00Z" }] }, NOW).message,
            /expired/,
        );
        assert.equal(checkToken(token, where, { error: "HTTP 401" }, NOW).status, "unverified");
    });

    it("reads ECR references and reports a tag gone from its registry", () => {
        assert.deepEqual(parseEcrImage("123456789012.dkr.ecr.eu-west-1.amazonaws.com/ci-platform/x:1.2-abc"), {
            registryId: "123456789012",
            region: "eu-west-1",
            repository: "ci-platform/x",
            tag: "1.2-abc",
        });
        assert.equal(parseEcrImage("docker.io/library/node:22"), undefined);
        const image = { urn: "urn:i", imageName: "r:1" };
        assert.equal(checkImage(image, { found: false }).status, "drift");
        assert.equal(checkImage(image, undefined).status, "unverified");
    });

    it("exits 1 on drift, 4 when only some checks could not run, 0 when all is as declared", () => {
        const ok = checkImage({ urn: "a", imageName: "r:1" }, { found: true });
        const unverified = checkImage({ urn: "b", imageName: "r:2" }, { error: "AccessDenied" });
        const drift = checkImage({ urn: "c", imageName: "r:3" }, { found: false });
        assert.equal(exitCodeOf([ok]), 0);
        assert.equal(exitCodeOf([ok, unverified]), 4);
        assert.equal(exitCodeOf([ok, unverified, drift]), 1);
        const report = renderReport([ok, unverified, drift]);
        assert.match(
            report,
            /^DRIFT image r:3: .*\n {2}restore: pulumi up --stack <stack> --replace 'c'\nUNVERIFIED image r:2/,
        );
        assert.match(report, /1 drifted, 1 not verified, 1 as declared/);
    });

    it("reads `pulumi config --json --show-secrets` as the engine hands config to the program", () => {
        const parsed = stackConfigFromPulumiJson(
            JSON.stringify({
                "ci-platform:organization": { value: "acme", secret: false },
                "ci-platform:secrets": { value: '{"pipelines":{}}', objectValue: { pipelines: {} }, secret: true },
            }),
        );
        assert.deepEqual(parsed, {
            config: { "ci-platform:organization": "acme", "ci-platform:secrets": '{"pipelines":{}}' },
            secretKeys: ["ci-platform:secrets"],
        });
    });
});
