import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    clusterSchema,
    fleetSchema,
    packageSchema,
    pipelineSchema,
    platformConfigSchema,
    REPOSITORY_PATTERN,
    resolveIntermediateBuilds,
    scheduleSchema,
    secretsSchema,
    signingSchema,
    teamSchema,
    triggerSchema,
} from "../../components/config/schema";
import { AGENT_TEST_PUBLIC_JWKS } from "../signing/fixtures";

/* The shape of each `ci-platform:*` key, schema by schema. Whole configs through the parser, with paths and fixes:
 * bad-config.test.ts, fuzz.test.ts; signing mode kms: test/signing/kms-config.test.ts. */

type Issue = { path: PropertyKey[]; message: string; issues?: readonly { message: string }[] };
type Parse = { safeParse(v: unknown): { success: boolean; error?: { issues: Issue[] } } };
/** `path: message` of each issue; a record key's own problems (zod's invalid_key) as the parser reports them (load.ts). */
const problems = (schema: Parse, value: unknown) =>
    (schema.safeParse(value).error?.issues ?? []).map(
        (i) => `${i.path.join(".")}: ${i.message}${(i.issues ?? []).map((n) => `; ${n.message}`).join("")}`,
    );
const accepts = (schema: Parse, value: unknown) => assert.deepEqual(problems(schema, value), []);
const refuses = (schema: Parse, value: unknown, message: RegExp) => {
    const found = problems(schema, value);
    assert.ok(
        found.some((p) => message.test(p)),
        `expected ${message} in ${JSON.stringify(found)}`,
    );
};

const pipeline = (extra: Record<string, unknown> = {}) => ({ slug: "app", repository: "acme/app", ...extra });
const publicKey = JSON.parse(AGENT_TEST_PUBLIC_JWKS).keys[0];

describe("REPOSITORY_PATTERN (GitHub's owner and repository-name rules)", () => {
    for (const ok of ["acme/app", "a/b", "a-b/c.d_e-f", `${"o".repeat(39)}/${"r".repeat(100)}`, "acme/.github"])
        it(`takes ${ok.length > 40 ? "the longest names" : ok}`, () => assert.match(ok, REPOSITORY_PATTERN));
    for (const bad of [
        "acme",
        "-acme/app",
        "acme-/app",
        `${"o".repeat(40)}/app`,
        "acme/..",
        "acme/.",
        "acme/a/b",
        "acme/a b",
    ])
        it(`refuses ${bad.length > 40 ? "a 40-character owner" : bad}`, () =>
            assert.doesNotMatch(bad, REPOSITORY_PATTERN));
});

describe("pipelineSchema", () => {
    it("refuses a repository written with .git and says so", () => {
        refuses(pipelineSchema, pipeline({ repository: "acme/app.git" }), /without the \.git suffix/);
    });

    it("takes git branch names only (git-check-ref-format)", () => {
        for (const branch of ["main", "release/1.2", "feature/x-y_z"])
            accepts(pipelineSchema, pipeline({ defaultBranch: branch }));
        for (const branch of [
            "-x",
            "/x",
            "x/",
            "x.",
            "x.lock",
            "a..b",
            "a@{b",
            "a b",
            "a~1",
            "a^",
            "a:b",
            "a?",
            "a*",
            "a[b",
            "a\\b",
            "a//b",
            "a/.b",
        ])
            refuses(pipelineSchema, pipeline({ defaultBranch: branch }), /^defaultBranch: must be a git branch name/);
    });

    it("keeps artifacts inside the checkout: no leading /, no $, no .. segment, no backslash", () => {
        accepts(pipelineSchema, pipeline({ artifacts: ["dist/*.whl", "a..b/x"] }));
        for (const artifact of ["/etc/passwd", "$HOME/x", "dist/../../x", "dist\\x", "a b"])
            assert.ok(problems(pipelineSchema, pipeline({ artifacts: [artifact] })).length > 0, artifact);
    });

    it("a directory path may end with / (alwaysRebuildPaths); a backslash never", () => {
        accepts(pipelineSchema, pipeline({ alwaysRebuildPaths: ["ci/", "pyproject.toml"] }));
        refuses(pipelineSchema, pipeline({ alwaysRebuildPaths: ["ci\\x"] }), /must use \/ between directories/);
        refuses(packageSchema, { name: "p", path: "libs/" }, /"libs\/" /);
    });

    it("defaults what the README promises: https checkout, cluster and queue default, branch main, gate none", () => {
        const parsed = pipelineSchema.parse(pipeline());
        assert.deepEqual(
            [parsed.checkout, parsed.cluster, parsed.queue, parsed.defaultBranch, parsed.gate, parsed.webhook],
            ["https", "default", "default", "main", "none", "github"],
        );
        assert.equal(parsed.provider.buildPullRequestForks, false);
    });

    it("refuses control characters in a label, and allows tab and newline in free text", () => {
        refuses(pipelineSchema, pipeline({ name: "a\nb" }), /^name: must be one line without control characters/);
        accepts(pipelineSchema, pipeline({ description: "line one\n\tline two" }));
        refuses(pipelineSchema, pipeline({ description: "bell\u0007" }), /must not hold control characters/);
    });
});

describe("triggerSchema and scheduleSchema", () => {
    it("a trigger's dependsOn may be one key or a list; it is always a list after parsing", () => {
        assert.deepEqual(triggerSchema.parse({ pipeline: "b", dependsOn: "a" }).dependsOn, ["a"]);
        assert.deepEqual(triggerSchema.parse({ pipeline: "b" }).dependsOn, []);
    });

    it("a schedule's cron line is checked in Buildkite's dialect (cron.ts)", () => {
        accepts(scheduleSchema, { label: "nightly", cronline: "0 2 * * *" });
        refuses(scheduleSchema, { label: "often", cronline: "*/5 * * * *" }, /^cronline: runs 5 minutes apart/);
    });
});

describe("tags (AWS tag naming limits)", () => {
    it("refuses the aws: prefix in keys and values, in any case, and counts characters not UTF-16 units", () => {
        const config = (tags: Record<string, string>) => ({
            name: "f",
            kind: "static",
            cluster: "c",
            queue: "q",
            tags,
        });
        refuses(fleetSchema, config({ "AWS:team": "x" }), /the aws: prefix is reserved for AWS/);
        refuses(fleetSchema, config({ team: "aws:x" }), /tag values must not start with aws:/);
        // U+1D400 is a letter outside the BMP: two UTF-16 units, one character.
        accepts(fleetSchema, config({ team: "\u{1d400}".repeat(256) }));
        refuses(fleetSchema, config({ team: "x".repeat(257) }), /at most 256 characters/);
        refuses(fleetSchema, config({ team: "a;b" }), /letters, digits, spaces/);
    });
});

describe("fleetSchema", () => {
    it("names the two kinds when kind is missing or wrong", () => {
        refuses(fleetSchema, { name: "f", kind: "gcp", cluster: "c", queue: "q" }, /kind must be "aws" or "static"/);
    });

    it("bounds an AWS fleet as the Elastic CI Stack does (v6.71.1 aws-stack.yml), and by ours", () => {
        const aws = {
            name: "f",
            kind: "aws",
            cluster: "c",
            queue: "q",
            region: "us-east-1",
            instanceTypes: ["c7i.large"],
            minSize: 0,
            maxSize: 1,
        };
        const parsed = fleetSchema.parse(aws);
        assert.ok(parsed.kind === "aws");
        assert.deepEqual(
            [parsed.onDemandPercentage, parsed.agentsPerInstance, parsed.os, parsed.logRetentionDays],
            [100, 1, "linux", 30],
        );
        refuses(fleetSchema, { ...aws, instanceTypes: Array(26).fill("c7i.large") }, /at most 25 instance types/);
        refuses(fleetSchema, { ...aws, region: "us-east-9" }, /"us-east-9" is not an AWS region name/);
        refuses(fleetSchema, { ...aws, maxSize: 1001 }, /^maxSize/);
        refuses(fleetSchema, { ...aws, subnets: ["subnet-123"] }, /must be a subnet id/);
    });
});

describe("signingSchema (mode jwks and off)", () => {
    const jwks = { mode: "jwks", verificationKeys: [publicKey] };
    it("takes a JWKS cluster with its public key, blocking by default", () => {
        assert.equal(signingSchema.parse(jwks).failureBehavior, "block");
    });
    it("refuses jwks without keys, two keys with one kid, and a signingKeyId that is no key's kid", () => {
        refuses(signingSchema, { mode: "jwks" }, /mode jwks needs verificationKeys/);
        refuses(
            signingSchema,
            { ...jwks, verificationKeys: [publicKey, publicKey] },
            /^verificationKeys: two keys share a kid/,
        );
        refuses(
            signingSchema,
            { ...jwks, signingKeyId: "other" },
            /^signingKeyId: "other" is not the kid of a verificationKeys entry/,
        );
    });
    it("asks for a reason to turn signing off or only warn", () => {
        refuses(signingSchema, { mode: "off" }, /signing off needs a reason/);
        refuses(
            signingSchema,
            { ...jwks, failureBehavior: "warn" },
            /failureBehavior warn runs jobs that fail verification/,
        );
        accepts(signingSchema, { mode: "off", reason: "Windows agents only" });
    });
    it("refuses a key that is not Ed25519 or not 32 bytes", () => {
        refuses(
            signingSchema,
            { ...jwks, verificationKeys: [{ ...publicKey, crv: "P-256" }] },
            /expected crv "Ed25519"/,
        );
        refuses(signingSchema, { ...jwks, verificationKeys: [{ ...publicKey, x: "short" }] }, /43 characters/);
    });
});

describe("clusterSchema, teamSchema, secretsSchema", () => {
    it("a cluster takes the organisation's secrets by default; a colour is #RRGGBB", () => {
        assert.equal(clusterSchema.parse({ name: "default" }).organizationSecrets, true);
        refuses(clusterSchema, { name: "default", color: "red" }, /hex colour/);
    });
    it("a team is visible, not the default team, with members by default", () => {
        const team = teamSchema.parse({ name: "platform" });
        assert.deepEqual([team.privacy, team.isDefaultTeam, team.defaultMemberRole], ["VISIBLE", false, "MEMBER"]);
    });
    it("secret files are named as variables; git-credentials is one line or a non-empty list", () => {
        accepts(secretsSchema, { pipelines: { app: { gitCredentials: ["a", "b"], files: { NPMRC: "x" } } } });
        refuses(secretsSchema, { pipelines: { app: { gitCredentials: [] } } }, /pipelines\.app\.gitCredentials/);
        refuses(
            secretsSchema,
            { pipelines: { app: { files: { "npm.rc": "x" } } } },
            /secret file names are environment variable names/,
        );
        refuses(secretsSchema, { pipelines: { App: {} } }, /must be lowercase letters/);
    });
});

describe("resolveIntermediateBuilds", () => {
    it("skips and cancels intermediate builds except of pipelines a trigger targets; a set value stays", () => {
        const parsed = [
            pipelineSchema.parse(pipeline({ slug: "parent", triggers: [{ pipeline: "child" }] })),
            pipelineSchema.parse(pipeline({ slug: "child" })),
            pipelineSchema.parse(pipeline({ slug: "pinned", skipIntermediateBuilds: false })),
        ];
        assert.deepEqual(
            resolveIntermediateBuilds(parsed).map((p) => [
                p.slug,
                p.skipIntermediateBuilds,
                p.cancelIntermediateBuilds,
            ]),
            [
                ["parent", true, true],
                ["child", false, false],
                ["pinned", false, true],
            ],
        );
    });
});

describe("platformConfigSchema", () => {
    const minimal = {
        organization: "acme",
        github: { owner: "acme" },
        homeRegion: "us-east-1",
        elasticStack: { version: "v6.71.1" },
        clusters: [{ name: "default" }],
        teams: [{ name: "platform" }],
    };
    it("reads organizationRules given as text, as Pulumi hands a top-level scalar", () => {
        assert.equal(platformConfigSchema.parse({ ...minimal, organizationRules: "true" }).organizationRules, true);
        assert.equal(platformConfigSchema.parse(minimal).organizationRules, false);
        refuses(platformConfigSchema, { ...minimal, organizationRules: "yes" }, /^organizationRules/);
    });
    it("refuses an unknown key rather than ignoring a typo", () => {
        refuses(platformConfigSchema, { ...minimal, pipeline: [] }, /pipeline/);
    });
    it("asks for a cluster and a team, and takes only IAM role or user ARNs as KMS administrators", () => {
        refuses(platformConfigSchema, { ...minimal, clusters: [] }, /declare at least one cluster/);
        refuses(platformConfigSchema, { ...minimal, teams: [] }, /declare at least one team/);
        refuses(
            platformConfigSchema,
            { ...minimal, kmsAdministrators: ["arn:aws:iam::123456789012:group/x"] },
            /IAM role or user ARN/,
        );
    });
});
