import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    BUILD_SOURCES,
    BUILDKITE_ISSUER,
    GITHUB_ACTIONS_ISSUER,
    MANAGED_POLICIES,
    SESSION_TAGS,
    previewDenyPolicy,
    readRoleTokenKeysPolicy,
    trustPolicy,
    trustedSubjects,
} from "../../components/access";
import { formatIssue } from "../../components/config";
import { parsePlatformConfig } from "../../components/platform-config";
import { mustParse, prodRawConfig } from "../fixtures/config";
import { named, prodResources } from "../policy/invariants/plan-resources";

/*
 * Issue 12, "Deploy credentials": the roles that preview and deploy the stack are declared in it, each assumed per
 * job through OIDC; their trust admits one pipeline, branch and step (Buildkite) or pull requests of one repository
 * (GitHub Actions), and the config refuses a deploy role that other pipelines' jobs could reach.
 */

const prod = mustParse(prodRawConfig());
const role = (name: string) => {
    const r = prod.deployRoles.find((x) => x.name === name);
    assert.ok(r, `no deploy role ${name} in the prod config`);
    return r;
};
type Statement = {
    Effect: string;
    Principal?: { Federated: string };
    Action: string | string[];
    Resource?: string | string[];
    Condition?: Record<string, Record<string, string | string[]>>;
};
const statements = (doc: Record<string, unknown>) => doc.Statement as Statement[];

/** Whether a subject matches an IAM StringLike pattern (`*` any run, `?` one character). */
function like(pattern: string, value: string): boolean {
    const re = pattern
        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
        .replace(/\*/g, ".*")
        .replace(/\?/g, ".");
    return new RegExp(`^${re}$`).test(value);
}
/** A token as STS sees it: its `aud` and `sub`, and its session tags (`aws:RequestTag/<claim>`). */
interface Token {
    readonly aud: string;
    readonly sub: string;
    readonly tags?: Readonly<Record<string, string>>;
}
/**
 * Whether the trust policy admits `sts:AssumeRoleWithWebIdentity` with this token (the Buildkite or GitHub host's
 * keys): some Allow statement whose every condition holds (IAM: a key absent from the request fails StringEquals and
 * StringLike; a list of values is "any of"), and which also allows `sts:TagSession` when the token carries tags.
 */
function admits(doc: Record<string, unknown>, host: string, token: Token | string, sub?: string): boolean {
    const t: Token = typeof token === "string" ? { aud: token, sub: sub ?? "" } : token;
    const context: Record<string, string | undefined> = { [`${host}:aud`]: t.aud, [`${host}:sub`]: t.sub };
    for (const [k, v] of Object.entries(t.tags ?? {})) context[`aws:RequestTag/${k}`] = v;
    return statements(doc).some((s) => {
        const actions = ([] as string[]).concat(s.Action);
        if (s.Effect !== "Allow" || !actions.includes("sts:AssumeRoleWithWebIdentity")) return false;
        if (Object.keys(t.tags ?? {}).length > 0 && !actions.includes("sts:TagSession")) return false;
        return Object.entries(s.Condition ?? {}).every(([operator, keys]) =>
            Object.entries(keys).every(([key, values]) => {
                const value = context[key];
                const list = ([] as string[]).concat(values);
                if (value === undefined) return false;
                if (operator === "StringEquals") return list.includes(value);
                if (operator === "StringLike") return list.some((p) => like(p, value));
                throw new Error(`the test does not model ${operator}`);
            }),
        );
    });
}
const sub = (pipeline: string, ref: string, step: string, org = "learningequality") =>
    `organization:${org}:pipeline:${pipeline}:ref:${ref}:commit:0123456789abcdef0123456789abcdef01234567:step:${step}`;

const PIPELINE_ID = "0184990a-4782-42b5-afc1-16715b10b1f0";
const OTHER_PIPELINE_ID = "0184990a-4782-42b5-afc1-16715b10b1aa";
const buildkite = (pipelineId = PIPELINE_ID) => ({
    organization: prod.organization,
    providerArn: "arn:provider/buildkite",
    pipelineId,
});
/** A Buildkite token for STS with the session tags .buildkite/lib.bash asks for. */
const bk = (
    subject: string,
    build_source = "webhook",
    pipeline_id = PIPELINE_ID,
    aud = "sts.amazonaws.com",
): Token => ({ aud, sub: subject, tags: { build_source, pipeline_id } });

describe("deploy roles: trust policies (Buildkite OIDC subject organization:ORG:pipeline:SLUG:ref:REF:commit:SHA:step:KEY)", () => {
    const deploy = trustPolicy(role("ci-platform-deploy"), buildkite());
    const read = trustPolicy(role("ci-platform-read"), buildkite());
    const host = "agent.buildkite.com";

    it("admits the deploy step of ci-platform-deploy on main, for the STS audience, and nothing else", () => {
        assert.equal(statements(deploy)[0].Principal?.Federated, "arn:provider/buildkite");
        assert.deepEqual(statements(deploy)[0].Action, ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"]);
        assert.ok(admits(deploy, host, bk(sub("ci-platform-deploy", "refs/heads/main", "deploy"))));
        for (const [aud, subject] of [
            ["https://buildkite.com/learningequality", sub("ci-platform-deploy", "refs/heads/main", "deploy")],
            ["sts.amazonaws.com", sub("ci-platform-deploy", "refs/heads/main", "preview")],
            ["sts.amazonaws.com", sub("ci-platform-deploy", "refs/heads/feature", "deploy")],
            ["sts.amazonaws.com", sub("ci-platform-deploy", "refs/heads/main-x", "deploy")],
            ["sts.amazonaws.com", sub("ci-platform-deploy", "refs/tags/main", "deploy")],
            ["sts.amazonaws.com", sub("ci-platform", "refs/heads/main", "deploy")],
            ["sts.amazonaws.com", sub("kolibri-python-package", "refs/heads/main", "deploy")],
            ["sts.amazonaws.com", sub("ci-platform-deploy", "refs/heads/main", "deploy", "someone-else")],
            ["sts.amazonaws.com", "ci-platform-deploy"], // a custom subject claim (--subject-claim pipeline_slug)
        ])
            assert.equal(admits(deploy, host, bk(subject, "webhook", PIPELINE_ID, aud)), false, `${aud} ${subject}`);
    });

    it("admits the deploy step only in a build a push started, never one created through the API, the UI, a trigger or a schedule", () => {
        // The blocker: anyone with a Buildkite API token that can write builds (or the Build permission) could
        // create a build of main at any commit and upload a step keyed `deploy`; its subject is a push's subject.
        const subject = sub("ci-platform-deploy", "refs/heads/main", "deploy");
        assert.deepEqual(BUILD_SOURCES.deploy, ["webhook"]);
        for (const source of ["api", "ui", "trigger_job", "schedule", ""])
            assert.equal(admits(deploy, host, bk(subject, source)), false, `build_source ${source}`);
        assert.equal(admits(deploy, host, bk(subject, "webhook", OTHER_PIPELINE_ID)), false, "another pipeline's UUID");
        assert.equal(admits(deploy, host, { aud: "sts.amazonaws.com", sub: subject }), false, "a token without tags");
        assert.equal(
            admits(deploy, host, { aud: "sts.amazonaws.com", sub: subject, tags: { build_source: "webhook" } }),
            false,
            "a token without pipeline_id",
        );
        assert.deepEqual(statements(deploy)[0].Condition?.StringEquals, {
            "agent.buildkite.com:aud": "sts.amazonaws.com",
            "aws:RequestTag/pipeline_id": PIPELINE_ID,
            "aws:RequestTag/build_source": ["webhook"],
        });
    });

    it("requires exactly the session tags the Buildkite scripts ask for", () => {
        const tags = Object.keys(statements(deploy)[0].Condition?.StringEquals ?? {})
            .filter((k) => k.startsWith("aws:RequestTag/"))
            .map((k) => k.slice("aws:RequestTag/".length))
            .sort();
        assert.deepEqual(tags, [...SESSION_TAGS].sort());
    });

    it("refuses to write a Buildkite trust without the pipeline's UUID", () => {
        assert.throws(
            () => trustPolicy(role("ci-platform-deploy"), buildkite("")),
            /the UUID of pipeline "ci-platform-deploy" is not known/,
        );
    });

    it("gives preview and drift the read role, and them only, in builds a push or the schedule started", () => {
        for (const step of ["preview", "drift"])
            for (const source of ["webhook", "schedule"])
                assert.ok(admits(read, host, bk(sub("ci-platform-deploy", "refs/heads/main", step), source)));
        for (const source of ["api", "ui", "trigger_job"])
            assert.equal(
                admits(read, host, bk(sub("ci-platform-deploy", "refs/heads/main", "drift"), source)),
                false,
                source,
            );
        assert.equal(admits(read, host, bk(sub("ci-platform-deploy", "refs/heads/main", "deploy"))), false);
        assert.deepEqual(trustedSubjects(role("ci-platform-read"), "learningequality"), [
            "organization:learningequality:pipeline:ci-platform-deploy:ref:refs/heads/main:commit:*:step:preview",
            "organization:learningequality:pipeline:ci-platform-deploy:ref:refs/heads/main:commit:*:step:drift",
        ]);
    });

    it("gives same-repository pull request workflows the preview role, never the deploy or read role", () => {
        const preview = role("ci-platform-pr-preview");
        const doc = trustPolicy(preview, { organization: prod.organization, providerArn: "arn:provider/github" });
        const host = "token.actions.githubusercontent.com";
        assert.ok(admits(doc, host, "sts.amazonaws.com", "repo:learningequality/ci-platform:pull_request"));
        for (const subject of [
            "repo:learningequality/ci-platform:ref:refs/heads/main",
            "repo:learningequality/ci-platform:environment:production",
            "repo:someone/ci-platform:pull_request",
        ])
            assert.equal(admits(doc, host, "sts.amazonaws.com", subject), false, subject);
        assert.equal(preview.access, "preview");
        for (const r of prod.deployRoles.filter((x) => x.access !== "preview"))
            assert.equal(r.githubActions, undefined, `${r.name} is assumed from pull request workflows`);
    });

    it("uses Buildkite's and GitHub's issuers", () => {
        assert.equal(BUILDKITE_ISSUER, "https://agent.buildkite.com");
        assert.equal(GITHUB_ACTIONS_ISSUER, "https://token.actions.githubusercontent.com");
    });
});

describe("deploy roles: what each may do", () => {
    it("attaches AdministratorAccess to the deploy role only; read and preview get ReadOnlyAccess", () => {
        assert.deepEqual(MANAGED_POLICIES.deploy, ["arn:aws:iam::aws:policy/AdministratorAccess"]);
        assert.deepEqual(MANAGED_POLICIES.read, ["arn:aws:iam::aws:policy/ReadOnlyAccess"]);
        assert.deepEqual(MANAGED_POLICIES.preview, ["arn:aws:iam::aws:policy/ReadOnlyAccess"]);
    });

    it("denies a pull request preview every secret value ReadOnlyAccess would let it read", () => {
        const deny = statements(previewDenyPolicy());
        assert.ok(deny.every((s) => s.Effect === "Deny"));
        const denied = (action: string, resource: string) =>
            deny.some(
                (s) =>
                    ([] as string[]).concat(s.Action).includes(action) &&
                    ([] as string[]).concat(s.Resource ?? []).some((r) => like(r, resource)),
            );
        assert.ok(denied("s3:GetObject", "arn:aws:s3:::secrets-us-east-1-bucket-abc1234/ci-platform-deploy/env"));
        assert.ok(denied("s3:GetObjectVersion", "arn:aws:s3:::secrets-deploy-us-east-1-bucket-abc1234/x"));
        assert.ok(denied("ssm:GetParameter", "arn:aws:ssm:us-east-1:1:parameter/ci-platform/x/buildkite-agent-token"));
        assert.ok(denied("kms:Decrypt", "arn:aws:kms:us-east-1:1:key/k"));
        assert.ok(denied("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:1:secret:s"));
    });
});

describe("deploy roles: the read role refreshes SecureString parameters", () => {
    const keys = [
        "arn:aws:kms:us-east-1:123456789012:key/2b2b",
        "arn:aws:kms:us-east-1:123456789012:key/1a1a",
        "arn:aws:kms:us-east-1:123456789012:key/1a1a",
    ];

    it("may decrypt with the platform's token keys, through SSM only", () => {
        const [s, ...rest] = statements(readRoleTokenKeysPolicy(keys));
        assert.equal(rest.length, 0);
        assert.equal(s.Effect, "Allow");
        assert.equal(s.Action, "kms:Decrypt");
        assert.deepEqual(s.Resource, [
            "arn:aws:kms:us-east-1:123456789012:key/1a1a",
            "arn:aws:kms:us-east-1:123456789012:key/2b2b",
        ]);
        assert.deepEqual(s.Condition, { StringLike: { "kms:ViaService": "ssm.*.amazonaws.com" } });
        assert.ok(like("ssm.*.amazonaws.com", "ssm.eu-west-1.amazonaws.com"));
        assert.equal(like("ssm.*.amazonaws.com", "s3.us-east-1.amazonaws.com"), false);
    });

    it("is attached to the read role of the prod plan with every token key, and to no other role", async () => {
        const resources = await prodResources();
        const policies = resources.filter(
            (r) => r.type === "aws:iam/rolePolicy:RolePolicy" && /kms:Decrypt/.test(String(r.inputs.policy)),
        );
        const allows = policies.filter((r) =>
            statements(JSON.parse(String(r.inputs.policy)) as Record<string, unknown>).some(
                (s) => s.Effect === "Allow",
            ),
        );
        assert.deepEqual(
            allows.filter((r) => r.parent?.includes("DeployRoles")).map((r) => r.inputs.role),
            ["ci-platform-read"],
        );
        const tokenKeys = resources
            .filter((r) => r.type === "aws:kms/alias:Alias" && /agent-tokens/.test(String(r.inputs.namePrefix)))
            .map((r) => r.inputs.targetKeyId);
        assert.ok(tokenKeys.length > 0);
        const granted = statements(
            JSON.parse(
                String(named(resources, "deploy-roles-ci-platform-read-token-parameters").inputs.policy),
            ) as Record<string, unknown>,
        )[0];
        assert.equal(([] as string[]).concat(granted.Resource ?? []).length, tokenKeys.length);
        assert.ok(([] as string[]).concat(granted.Resource ?? []).every((arn) => /^arn:aws:kms:/.test(arn)));
    });
});

describe("deploy roles: config checks", () => {
    const problems = (mutate: (raw: Record<string, unknown>) => void): string[] => {
        const raw = prodRawConfig();
        mutate(raw);
        const parsed = parsePlatformConfig(raw);
        return parsed.ok ? [] : parsed.error.map(formatIssue);
    };
    const roles = (raw: Record<string, unknown>) => raw.deployRoles as Record<string, unknown>[];
    const pipelines = (raw: Record<string, unknown>) => raw.pipelines as Record<string, unknown>[];

    it("accepts the prod config's roles", () => {
        assert.deepEqual(
            problems(() => {}),
            [],
        );
        assert.deepEqual(
            prod.deployRoles.map((r) => [r.name, r.access]),
            [
                ["ci-platform-deploy", "deploy"],
                ["ci-platform-read", "read"],
                ["ci-platform-pr-preview", "preview"],
            ],
        );
    });

    it("refuses a deploy role whose pipeline shares its cluster with another pipeline", () => {
        const found = problems((raw) => {
            const ci = pipelines(raw).find((p) => p.slug === "ci-platform") as Record<string, unknown>;
            ci.cluster = "deploy";
            ci.queue = "deploy";
        });
        assert.ok(
            found.some((m) =>
                /^ci-platform:deployRoles\[0\]\.buildkite\.pipeline: deploy role "ci-platform-deploy" trusts pipeline "ci-platform-deploy", whose cluster "deploy" also runs "ci-platform"/.test(
                    m,
                ),
            ),
            found.join("\n"),
        );
    });

    it("refuses a deploy role whose pipeline builds pull requests", () => {
        const found = problems((raw) => {
            const d = pipelines(raw).find((p) => p.slug === "ci-platform-deploy") as Record<string, unknown>;
            (d.provider as Record<string, unknown>).buildPullRequests = true;
        });
        assert.ok(
            found.some((m) => /deployRoles\[0\]\.buildkite\.pipeline: .*builds pull requests/.test(m)),
            found.join("\n"),
        );
    });

    it("keeps a read role's pipeline apart too: it decrypts every agent token", () => {
        const found = problems((raw) => {
            const r = roles(raw);
            (r[1].buildkite as Record<string, unknown>).pipeline = "kolibri-python-package";
        });
        assert.ok(
            found.some((m) =>
                /deployRoles\[1\]\.buildkite\.pipeline: .*"kolibri-python-package", whose cluster/.test(m),
            ),
            found.join("\n"),
        );
        assert.ok(
            found.some((m) => /deployRoles\[1\]\.buildkite\.pipeline: .*builds pull requests/.test(m)),
            found.join("\n"),
        );
    });

    it("refuses pull request workflows any access but preview, an unknown pipeline, both or no trust, wildcards", () => {
        const found = problems((raw) => {
            const r = roles(raw);
            r[2].access = "deploy";
            (r[1].buildkite as Record<string, unknown>).pipeline = "ci-platform-deplo";
            r.push({ name: "both", access: "read", buildkite: r[0].buildkite, githubActions: r[2].githubActions });
            r.push({ name: "none", access: "read" });
            r.push({
                name: "wild",
                access: "read",
                buildkite: { pipeline: "ci-platform-deploy", branch: "*", steps: ["x"] },
            });
            r.push({
                name: "ci-platform-deploy",
                access: "read",
                buildkite: { pipeline: "ci-platform-deploy", branch: "main", steps: [] },
            });
        });
        const expect = [
            /^ci-platform:deployRoles\[2\]\.access: role "ci-platform-pr-preview" is assumed by pull request workflows, .* but has deploy access/,
            /^ci-platform:deployRoles\[1\]\.buildkite\.pipeline: no pipeline "ci-platform-deplo"; did you mean "ci-platform-deploy"\?/,
            /^ci-platform:deployRoles\[3\]: give exactly one of buildkite or githubActions/,
            /^ci-platform:deployRoles\[4\]: give exactly one of buildkite or githubActions/,
            /^ci-platform:deployRoles\[5\]\.buildkite\.branch: must be a branch name/,
            /^ci-platform:deployRoles\[6\]\.buildkite\.steps: name at least one step key/,
        ];
        for (const re of expect)
            assert.ok(
                found.some((m) => re.test(m)),
                `${re}\n${found.join("\n")}`,
            );
    });
});
