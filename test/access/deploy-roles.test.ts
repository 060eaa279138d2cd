import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    BUILDKITE_ISSUER,
    GITHUB_ACTIONS_ISSUER,
    MANAGED_POLICIES,
    previewDenyPolicy,
    trustPolicy,
    trustedSubjects,
} from "../../components/access";
import { formatIssue, parsePlatformConfig } from "../../components/config";
import { mustParse, prodRawConfig } from "../fixtures/config";

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
/** Whether the trust policy admits a token with this `aud` and `sub` (the Buildkite or GitHub host's keys). */
function admits(doc: Record<string, unknown>, host: string, aud: string, sub: string): boolean {
    return statements(doc).some((s) => {
        const equals = s.Condition?.StringEquals?.[`${host}:aud`];
        const patterns = ([] as string[]).concat(s.Condition?.StringLike?.[`${host}:sub`] ?? []);
        return s.Effect === "Allow" && equals === aud && patterns.some((p) => like(p, sub));
    });
}
const sub = (pipeline: string, ref: string, step: string, org = "learningequality") =>
    `organization:${org}:pipeline:${pipeline}:ref:${ref}:commit:0123456789abcdef0123456789abcdef01234567:step:${step}`;

describe("deploy roles: trust policies (Buildkite OIDC subject organization:ORG:pipeline:SLUG:ref:REF:commit:SHA:step:KEY)", () => {
    const deploy = trustPolicy(role("ci-platform-deploy"), prod.organization, "arn:provider/buildkite");
    const read = trustPolicy(role("ci-platform-read"), prod.organization, "arn:provider/buildkite");

    it("admits the deploy step of ci-platform-deploy on main, for the STS audience, and nothing else", () => {
        const host = "agent.buildkite.com";
        assert.equal(statements(deploy)[0].Principal?.Federated, "arn:provider/buildkite");
        assert.equal(statements(deploy)[0].Action, "sts:AssumeRoleWithWebIdentity");
        assert.ok(admits(deploy, host, "sts.amazonaws.com", sub("ci-platform-deploy", "refs/heads/main", "deploy")));
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
            assert.equal(admits(deploy, host, aud, subject), false, `${aud} ${subject}`);
    });

    it("gives preview and drift the read role, and them only", () => {
        const host = "agent.buildkite.com";
        for (const step of ["preview", "drift"])
            assert.ok(admits(read, host, "sts.amazonaws.com", sub("ci-platform-deploy", "refs/heads/main", step)));
        assert.equal(
            admits(read, host, "sts.amazonaws.com", sub("ci-platform-deploy", "refs/heads/main", "deploy")),
            false,
        );
        assert.deepEqual(trustedSubjects(role("ci-platform-read"), "learningequality"), [
            "organization:learningequality:pipeline:ci-platform-deploy:ref:refs/heads/main:commit:*:step:preview",
            "organization:learningequality:pipeline:ci-platform-deploy:ref:refs/heads/main:commit:*:step:drift",
        ]);
    });

    it("gives same-repository pull request workflows the preview role, never the deploy or read role", () => {
        const preview = role("ci-platform-pr-preview");
        const doc = trustPolicy(preview, prod.organization, "arn:provider/github");
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
