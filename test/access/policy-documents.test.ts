import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    BUILDKITE_ISSUER,
    BUILD_SOURCES,
    GITHUB_ACTIONS_ISSUER,
    MANAGED_POLICIES,
    STS_AUDIENCE,
    issuerHost,
    issuerOf,
    previewDenyPolicy,
    readRoleTokenKeysPolicy,
    trustPolicy,
    trustedSubjects,
} from "../../components/access/policy-documents";
import type { DeployRoleConfig } from "../../components/config/deploy-roles";

/*
 * components/access/policy-documents.ts: the deploy roles' IAM documents, pure. The scenario file
 * test/access/deploy-roles.test.ts evaluates the prod roles' trust as STS would; this one pins each export's contract.
 */

const buildkite = (access: DeployRoleConfig["access"], steps = ["deploy"]): DeployRoleConfig => ({
    name: `bk-${access}`,
    access,
    buildkite: { pipeline: "infra", branch: "release/v2", steps },
    maxSessionDurationSeconds: 3600,
});
const github: DeployRoleConfig = {
    name: "pr",
    access: "preview",
    githubActions: { repository: "acme/infra" },
    maxSessionDurationSeconds: 3600,
};
const PROVIDER = "arn:aws:iam::123456789012:oidc-provider/agent.buildkite.com";
type Statement = {
    Effect: string;
    Action: string | string[];
    Resource?: string | string[];
    Principal?: unknown;
    Condition?: Record<string, Record<string, unknown>>;
};
const statements = (doc: Record<string, unknown>) => doc.Statement as Statement[];

describe("issuers", () => {
    it("takes Buildkite's issuer for a Buildkite trust and GitHub's for a GitHub Actions trust", () => {
        // buildkite/docs oidc.md "OIDC URLs"; github/docs "About security hardening with OpenID Connect".
        assert.equal(issuerOf(buildkite("deploy")), "https://agent.buildkite.com");
        assert.equal(issuerOf(github), "https://token.actions.githubusercontent.com");
        assert.equal(issuerHost(BUILDKITE_ISSUER), "agent.buildkite.com");
        assert.equal(issuerHost(GITHUB_ACTIONS_ISSUER), "token.actions.githubusercontent.com");
        assert.equal(issuerHost("agent.buildkite.com"), "agent.buildkite.com", "a bare host stays as it is");
    });
});

describe("trustedSubjects", () => {
    it("admits one subject per step, on the one branch, any commit (buildkite/docs oidc.md, Claims: sub)", () => {
        assert.deepEqual(trustedSubjects(buildkite("deploy", ["preview", "deploy"]), "acme"), [
            "organization:acme:pipeline:infra:ref:refs/heads/release/v2:commit:*:step:preview",
            "organization:acme:pipeline:infra:ref:refs/heads/release/v2:commit:*:step:deploy",
        ]);
    });

    it("admits a repository's pull request runs only for a GitHub Actions trust, whatever the organization", () => {
        assert.deepEqual(trustedSubjects(github, "acme"), ["repo:acme/infra:pull_request"]);
        assert.deepEqual(trustedSubjects(github, "other"), ["repo:acme/infra:pull_request"]);
    });

    it("admits nothing for a role without a trust", () => {
        const none: DeployRoleConfig = { name: "x", access: "read", maxSessionDurationSeconds: 3600 };
        assert.deepEqual(trustedSubjects(none, "acme"), []);
    });
});

describe("trustPolicy", () => {
    it("conditions a Buildkite trust on audience, subject, pipeline UUID and the access level's build sources", () => {
        for (const access of ["deploy", "read"] as const) {
            const [s, ...rest] = statements(
                trustPolicy(buildkite(access), { organization: "acme", providerArn: PROVIDER, pipelineId: "uuid-1" }),
            );
            assert.deepEqual(rest, []);
            assert.equal(s.Effect, "Allow");
            assert.deepEqual(s.Principal, { Federated: PROVIDER });
            // AWS IAM User Guide, "Passing session tags using AssumeRoleWithWebIdentity": tags need sts:TagSession.
            assert.deepEqual(s.Action, ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"]);
            assert.deepEqual(s.Condition, {
                StringEquals: {
                    "agent.buildkite.com:aud": STS_AUDIENCE,
                    "aws:RequestTag/pipeline_id": "uuid-1",
                    "aws:RequestTag/build_source": [...BUILD_SOURCES[access]],
                },
                StringLike: { "agent.buildkite.com:sub": trustedSubjects(buildkite(access), "acme") },
            });
        }
    });

    it("admits only pushes for deploy, pushes and schedules for read, never api, ui or trigger_job", () => {
        assert.deepEqual(BUILD_SOURCES.deploy, ["webhook"]);
        assert.deepEqual([...BUILD_SOURCES.read].sort(), ["schedule", "webhook"]);
        for (const sources of Object.values(BUILD_SOURCES))
            for (const forgeable of ["api", "ui", "trigger_job"]) assert.ok(!sources.includes(forgeable));
    });

    it("gives a GitHub Actions trust no session tags and no TagSession: its tokens carry no Buildkite claims", () => {
        const [s] = statements(trustPolicy(github, { organization: "acme", providerArn: PROVIDER }));
        assert.equal(s.Action, "sts:AssumeRoleWithWebIdentity");
        assert.deepEqual(s.Condition, {
            StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" },
            StringLike: { "token.actions.githubusercontent.com:sub": ["repo:acme/infra:pull_request"] },
        });
    });

    it("refuses a Buildkite trust without the pipeline's UUID, naming the role and the pipeline", () => {
        for (const pipelineId of [undefined, ""])
            assert.throws(
                () => trustPolicy(buildkite("deploy"), { organization: "acme", providerArn: PROVIDER, pipelineId }),
                { message: 'deploy role "bk-deploy": the UUID of pipeline "infra" is not known' },
            );
    });
});

describe("permission policies", () => {
    it("attaches AdministratorAccess to deploy and ReadOnlyAccess to read and preview", () => {
        assert.deepEqual(MANAGED_POLICIES, {
            deploy: ["arn:aws:iam::aws:policy/AdministratorAccess"],
            read: ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
            preview: ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
        });
    });

    it("denies a preview only: secrets bucket objects (secrets-*), and every secret value read, on any resource", () => {
        const doc = previewDenyPolicy();
        assert.equal(doc.Version, "2012-10-17");
        const all = statements(doc);
        assert.ok(all.every((s) => s.Effect === "Deny"));
        const actions = all.flatMap((s) => [s.Action].flat());
        for (const action of ["s3:GetObject", "ssm:GetParameter", "secretsmanager:GetSecretValue", "kms:Decrypt"])
            assert.ok(actions.includes(action), action);
        const objects = all.find((s) => [s.Action].flat().includes("s3:GetObject"));
        // components/agents/naming.ts secretsBucketName: every secrets bucket's name starts with `secrets-`.
        assert.deepEqual(objects?.Resource, ["arn:aws:s3:::secrets-*/*"]);
    });

    it("lets a read role decrypt through SSM only, with each token key once, in a stable order", () => {
        const keys = [
            "arn:aws:kms:eu-west-1:1:key/b",
            "arn:aws:kms:us-east-1:1:key/a",
            "arn:aws:kms:eu-west-1:1:key/b",
        ];
        const [s, ...rest] = statements(readRoleTokenKeysPolicy(keys));
        assert.deepEqual(rest, []);
        assert.equal(s.Effect, "Allow");
        assert.equal(s.Action, "kms:Decrypt");
        assert.deepEqual(s.Resource, ["arn:aws:kms:eu-west-1:1:key/b", "arn:aws:kms:us-east-1:1:key/a"]);
        // AWS KMS Developer Guide, "kms:ViaService": the service that made the request on the caller's behalf.
        assert.deepEqual(s.Condition, { StringLike: { "kms:ViaService": "ssm.*.amazonaws.com" } });
        assert.deepEqual(readRoleTokenKeysPolicy([...keys].reverse()), readRoleTokenKeysPolicy(keys));
    });
});
