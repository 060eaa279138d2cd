import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    buildkiteTrustSchema,
    DEPLOY_ACCESS,
    deployRoleSchema,
    githubActionsTrustSchema,
} from "../../components/config/deploy-roles";

/* `ci-platform:deployRoles`: the schema of one role. The patterns bound what lands in an OIDC token's subject, which
 * IAM matches with StringLike: a Buildkite token's branch and step key (`buildkite-agent oidc request-token`), a GitHub
 * Actions token's `repo:<owner>/<name>:pull_request`. The roles' trust and policies: test/access/deploy-roles.test.ts. */

const trust = { pipeline: "ci-platform", branch: "main", steps: ["deploy"] };
const messages = (result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }) =>
    (result.error?.issues ?? []).map((i) => `${i.path.join(".")}: ${i.message}`);

describe("deployRoleSchema", () => {
    it("takes a Buildkite trust, defaults the session to an hour, and knows three accesses", () => {
        assert.deepEqual([...DEPLOY_ACCESS], ["deploy", "read", "preview"]);
        const role = deployRoleSchema.parse({ name: "ci-platform-deploy", access: "deploy", buildkite: trust });
        assert.equal(role.maxSessionDurationSeconds, 3600);
    });

    it("asks for exactly one of buildkite and githubActions", () => {
        for (const role of [
            { name: "r", access: "preview" },
            { name: "r", access: "preview", buildkite: trust, githubActions: { repository: "acme/ci" } },
        ])
            assert.deepEqual(messages(deployRoleSchema.safeParse(role)), [
                ": give exactly one of buildkite or githubActions: who may assume the role",
            ]);
    });

    it("bounds the session as IAM does (3600 to 43200 seconds) and the name to IAM's 64 characters", () => {
        const base = { name: "r", access: "read", buildkite: trust };
        assert.equal(deployRoleSchema.safeParse({ ...base, maxSessionDurationSeconds: 43200 }).success, true);
        assert.equal(deployRoleSchema.safeParse({ ...base, maxSessionDurationSeconds: 43201 }).success, false);
        assert.equal(deployRoleSchema.safeParse({ ...base, maxSessionDurationSeconds: 1800 }).success, false);
        assert.equal(deployRoleSchema.safeParse({ ...base, name: "r".repeat(64) }).success, true);
        assert.match(
            messages(deployRoleSchema.safeParse({ ...base, name: "r".repeat(65) })).join(),
            /^name: IAM role names/,
        );
        assert.equal(deployRoleSchema.safeParse({ ...base, name: "a/b" }).success, false);
    });

    it("refuses unknown keys and an access it does not know", () => {
        assert.equal(deployRoleSchema.safeParse({ name: "r", access: "admin", buildkite: trust }).success, false);
        assert.equal(
            deployRoleSchema.safeParse({ name: "r", access: "read", buildkite: trust, arn: "x" }).success,
            false,
        );
    });
});

describe("buildkiteTrustSchema", () => {
    it("refuses what could widen the token's subject match: wildcards, ':' and '..' in a branch, glob step keys", () => {
        for (const branch of ["main*", "release/?", "a:b", "a..b", ""])
            assert.equal(buildkiteTrustSchema.safeParse({ ...trust, branch }).success, false, branch);
        assert.equal(buildkiteTrustSchema.safeParse({ ...trust, branch: "release/v1.2_x-y" }).success, true);
        assert.match(
            messages(buildkiteTrustSchema.safeParse({ ...trust, steps: ["deploy*"] })).join(),
            /steps\.0: step keys are letters, digits, '_' and '-'/,
        );
        assert.match(
            messages(buildkiteTrustSchema.safeParse({ ...trust, steps: [] })).join(),
            /name at least one step key/,
        );
    });

    it("takes a pipeline slug only", () => {
        assert.equal(buildkiteTrustSchema.safeParse({ ...trust, pipeline: "CI_Platform" }).success, false);
        assert.equal(buildkiteTrustSchema.safeParse({ ...trust, pipeline: "-ci" }).success, false);
    });
});

describe("githubActionsTrustSchema", () => {
    it("takes owner/name, and no wildcard or extra segment", () => {
        assert.equal(githubActionsTrustSchema.safeParse({ repository: "acme/ci-platform.v2" }).success, true);
        for (const repository of ["acme", "acme/*", "acme/ci/extra", "*/ci", "acme/ci:pull_request"])
            assert.equal(githubActionsTrustSchema.safeParse({ repository }).success, false, repository);
    });
});
