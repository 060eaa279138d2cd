import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { diffPlans } from "../../scripts/plan/diff";
import { PlanDocument, PlanResource } from "../../scripts/plan/model";
import { secretVersionsOf } from "../../scripts/plan/redact";
import { renderDiffMarkdown, renderDiffText } from "../../scripts/plan/render";
import { securePlaceholder } from "../../scripts/plan/stack-file";
import { planResource } from "../fixtures/plan";
import { planInProcess, ROOT } from "../fixtures/cli";

/*
 * A secret set again (rotated) shows in the plan diff as an update of exactly the objects that carry it, by name: the
 * plan knows each `secure:` value only by a digest of its ciphertext, which changes whenever the value is set again.
 */

const OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2";
/** A secret object of a hand-made plan. */
const resource = (name: string, inputs: Record<string, unknown>): PlanResource => planResource(name, OBJECT, inputs);

describe("secret versions in the plan model", () => {
    it("are a digest of the ciphertext, never the ciphertext, and differ when it does", () => {
        const a = securePlaceholder("v1:abc:def");
        assert.match(a, /^\[secret:[0-9a-f]{16}\]$/);
        assert.equal(securePlaceholder("v1:abc:def"), a);
        assert.notEqual(securePlaceholder("v1:abd:def"), a);
        assert.ok(!a.includes("abc"));
    });

    it("are recorded by the path the plan shows as [secret], for secret outputs only as a whole", () => {
        const SIG = "4dabf18193072939515e22adb298388d";
        const secret = (value: unknown) => ({ [SIG]: "1b47061264138c4ac30d75fd1eb44270", value });
        const v1 = securePlaceholder("one");
        const v2 = securePlaceholder("two");
        assert.deepEqual(
            secretVersionsOf({
                key: "app/env",
                content: secret(`export A=${v2}\nexport B=${v1}\nexport C=${v2}\n`),
                nested: { list: ["plain", secret({ deep: v1 })] },
                plain: "no secret here",
            }),
            {
                content: [v1, v2]
                    .map((v) => v.slice(8, -1))
                    .sort()
                    .join(","),
                "nested.list[1]": v1.slice(8, -1),
            },
        );
    });
});

describe("diffPlans with secret versions", () => {
    const doc = (versions: Record<string, Record<string, string>> | undefined, ...resources: PlanResource[]) =>
        ({ project: "ci-platform", stack: "test", resources, secretVersions: versions }) as PlanDocument;
    const env = resource("secrets-us-east-1-secret-app/env", { key: "app/env", content: "[secret]" });
    const other = resource("secrets-us-east-1-secret-git-credentials", { key: "git-credentials", content: "[secret]" });

    it("updates exactly the resources whose secret versions changed, marked, with no value shown", () => {
        const base = doc({ [env.urn]: { content: "aaaa" }, [other.urn]: { content: "bbbb" } }, env, other);
        const head = doc({ [env.urn]: { content: "cccc" }, [other.urn]: { content: "bbbb" } }, env, other);
        const d = diffPlans(base, head);
        assert.deepEqual(
            d.updated.map((c) => [c.name, c.paths, c.rotated, c.values]),
            [[env.name, ["content"], ["content"], []]],
        );
        const text = renderDiffText(d);
        assert.match(
            text,
            /~ update {3}aws:s3\/bucketObjectv2:BucketObjectv2 {2}secrets-us-east-1-secret-app\/env: content \(secret set again\)/,
        );
        assert.match(text, /0 to create, 1 to update, 0 to replace, 0 to delete/);
        assert.match(renderDiffMarkdown(d, "test"), /`content` \(secret set again\)/);
        for (const out of [text, renderDiffMarkdown(d, "test")]) assert.ok(!/aaaa|cccc/.test(out));
    });

    it("counts a secret that appears or vanishes, and claims nothing against a plan without versions", () => {
        const base = doc({}, env);
        assert.equal(diffPlans(base, doc({ [env.urn]: { content: "cccc" } }, env)).updated.length, 1);
        assert.equal(diffPlans(doc(undefined, env), doc({ [env.urn]: { content: "cccc" } }, env)).updated.length, 0);
    });
});

describe("npm run plan --diff: rotating a secret of the prod stack file", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "rotation-"));
    const prodFile = path.join(ROOT, "Pulumi.prod.yaml");
    const text = readFileSync(prodFile, "utf8");
    const old = /gitCredentials:\n\s+secure: (v1:\S+)/.exec(text)?.[1] ?? "";
    // The organisation's git credentials, set again: a new ciphertext (what `pulumi config set --secret` writes).
    const rotatedCiphertext = "v1:cm90YXRlZEdpdENyZWRz:Pp0Qq1Rr2Ss3Tt4Uu5Vv6Ww7Xx8Yy9Zz";
    let base: PlanDocument;
    let diff: { code: number; stdout: string; stderr: string };
    let markdown: string;
    let headJson: string;

    before(async () => {
        assert.ok(old !== "", "the prod stack file sets the organisation's gitCredentials");
        const rotatedFile = path.join(dir, "Pulumi.prod.yaml");
        writeFileSync(rotatedFile, text.replace(old, rotatedCiphertext));
        const baseJson = path.join(dir, "base.json");
        const out = await planInProcess(...["--json", baseJson]);
        assert.equal(out.code, 0, out.stderr);
        base = JSON.parse(readFileSync(baseJson, "utf8")) as PlanDocument;
        const head = path.join(dir, "head.json");
        const md = path.join(dir, "diff.md");
        diff = await planInProcess(...["--config", rotatedFile, "--diff", baseJson, "--json", head, "--markdown", md]);
        markdown = readFileSync(md, "utf8");
        headJson = readFileSync(head, "utf8");
    });

    it("updates exactly the organisation's git-credentials objects, in the buckets of clusters that take them", () => {
        assert.equal(diff.code, 0, diff.stderr);
        const updated = diff.stdout
            .split("\n")
            .filter((l) => l.startsWith("~ update"))
            .map((l) => l.replace(/\s+/g, " "));
        // Clusters default (three regions) and deploy take the organisation's secrets; platform and dagster do not.
        assert.deepEqual(updated, [
            "~ update aws:s3/bucketObjectv2:BucketObjectv2 secrets-ap-southeast-1-secret-git-credentials: content (secret set again)",
            "~ update aws:s3/bucketObjectv2:BucketObjectv2 secrets-deploy-us-east-1-secret-git-credentials: content (secret set again)",
            "~ update aws:s3/bucketObjectv2:BucketObjectv2 secrets-eu-west-1-secret-git-credentials: content (secret set again)",
            "~ update aws:s3/bucketObjectv2:BucketObjectv2 secrets-us-east-1-secret-git-credentials: content (secret set again)",
        ]);
        assert.match(diff.stdout, /\n0 to create, 4 to update, 0 to replace, 0 to delete\n/);
        assert.equal((markdown.match(/\(secret set again\)/g) ?? []).length, 4);
        // The consequence names the secret by its config path, once, not the S3 objects one by one.
        assert.match(
            diff.stdout,
            /^Consequences:\n {2}! ci-platform:secrets\.organization\.gitCredentials rotated \(carried by aws s3 BucketObjectv2 secrets-ap-southeast-1-secret-git-credentials, .* and 1 more\)\n\n/,
        );
        assert.match(markdown, /- :key: ci-platform:secrets\.organization\.gitCredentials rotated/);
    });

    it("shows neither ciphertext nor any digest of it in the printed diff or the markdown", () => {
        const digest = (s: string) => createHash("sha256").update(s).digest("hex");
        const version = securePlaceholder(rotatedCiphertext).slice(8, -1);
        for (const out of [diff.stdout, diff.stderr, markdown])
            for (const leak of [rotatedCiphertext, old, digest(rotatedCiphertext), digest(old), version])
                assert.ok(!out.includes(leak), `${leak} in the output`);
        // The plan JSON shows the objects' content as [secret]; only the version (a digest of the public
        // ciphertext, with a fixed prefix) is recorded, never the ciphertext.
        assert.ok(!headJson.includes(rotatedCiphertext) && !headJson.includes(digest(rotatedCiphertext)));
        assert.ok(headJson.includes(version));
    });

    it("records versions only for the objects that carry stack secrets, and the same file gives the same versions", () => {
        const versions = base.secretVersions ?? {};
        const carriers = base.resources.filter((r) => versions[r.urn] !== undefined);
        assert.ok(carriers.length > 0);
        for (const r of carriers) {
            // Secret objects, and the SSM parameters of the clusters' private signing key sets (components/signing).
            if (r.type === "aws:ssm/parameter:Parameter") {
                assert.match(r.name, /-signing-jwks$/);
                assert.equal(r.inputs.value, "[secret]", r.name);
                continue;
            }
            assert.equal(r.type, OBJECT, r.name);
            assert.equal(r.inputs.content, "[secret]", r.name);
        }
        assert.ok(carriers.some((r) => r.type === OBJECT));
        // The rotated copy is a stack file named Pulumi.prod.yaml too: the same URNs.
        const again = JSON.parse(headJson) as PlanDocument;
        for (const r of carriers.filter((c) => c.type === OBJECT && c.inputs.key !== "git-credentials"))
            assert.deepEqual(again.secretVersions?.[r.urn], versions[r.urn], r.name);
        for (const r of carriers.filter((c) => c.type === OBJECT && c.inputs.key === "git-credentials"))
            assert.notDeepEqual(again.secretVersions?.[r.urn], versions[r.urn], r.name);
    });
});
