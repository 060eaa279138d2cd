import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkDeployRoles } from "../../components/access/checks";
import type { DeployRoleConfig } from "../../components/config/deploy-roles";
import type { PlatformConfig } from "../../components/config/schema";
import { mustParse, validRawConfig } from "../fixtures/config";

/*
 * components/access/checks.ts: the deploy roles' cross-references and trust rules, each problem at its config path.
 * The small config's cluster "default" runs app, installer, image and mono; "macos" runs mac-app alone.
 */

const base = mustParse(validRawConfig());
/** The small config with `roles` as its deploy roles, and `mutate` applied to a copy of its pipelines. */
function configWith(roles: DeployRoleConfig[], mutate: (c: PlatformConfig) => void = () => {}): PlatformConfig {
    const config: PlatformConfig = { ...structuredClone(base), deployRoles: roles };
    mutate(config);
    return config;
}
const buildkiteRole = (name: string, access: DeployRoleConfig["access"], pipeline: string): DeployRoleConfig => ({
    name,
    access,
    buildkite: { pipeline, branch: "main", steps: ["deploy"] },
    maxSessionDurationSeconds: 3600,
});
const prRole = (name: string, access: DeployRoleConfig["access"]): DeployRoleConfig => ({
    name,
    access,
    githubActions: { repository: "acme/app" },
    maxSessionDurationSeconds: 3600,
});
const paths = (config: PlatformConfig) => checkDeployRoles(config).map((i) => i.path.join("."));

describe("checkDeployRoles", () => {
    it("accepts a deploy role whose pipeline is alone in its cluster and builds no pull requests", () => {
        const config = configWith([buildkiteRole("deploy", "deploy", "mac-app"), prRole("pr", "preview")], (c) => {
            c.pipelines.find((p) => p.slug === "mac-app")!.provider.buildPullRequests = false;
        });
        assert.deepEqual(checkDeployRoles(config), []);
    });

    it("reports a repeated role name at the later entry, naming the first", () => {
        const config = configWith([prRole("pr", "preview"), prRole("other", "preview"), prRole("pr", "preview")]);
        assert.deepEqual(checkDeployRoles(config), [
            {
                path: ["deployRoles", 2, "name"],
                message: 'duplicate role name "pr" (first declared at index 0)',
                fix: "give each role a unique name",
            },
        ]);
    });

    it("gives pull request workflows preview access only: read and deploy are refused at the role's access", () => {
        for (const access of ["read", "deploy"] as const) {
            const [issue, ...rest] = checkDeployRoles(configWith([prRole("pr", access)]));
            assert.deepEqual(rest, []);
            assert.deepEqual(issue.path, ["deployRoles", 0, "access"]);
            assert.match(
                issue.message,
                new RegExp(`^role "pr" is assumed by pull request workflows, .* has ${access} access$`),
            );
            assert.match(issue.fix ?? "", /access: preview/);
        }
    });

    it("names an unknown pipeline with the nearest declared slug, and no dangling separator without one", () => {
        const [near] = checkDeployRoles(configWith([buildkiteRole("r", "deploy", "mac-ap")]));
        assert.deepEqual(near.path, ["deployRoles", 0, "buildkite", "pipeline"]);
        assert.equal(near.message, 'no pipeline "mac-ap"; did you mean "mac-app"?');
        assert.equal(near.unknownName, "mac-ap");
        const [far] = checkDeployRoles(configWith([buildkiteRole("r", "deploy", "zzzzzzzzzzzz")]));
        assert.equal(far.message, 'no pipeline "zzzzzzzzzzzz"');
        assert.equal(far.fix, "name a pipeline declared under ci-platform:pipelines");
    });

    it("refuses a deploy or read role whose pipeline shares its cluster, naming each neighbour and the move", () => {
        for (const access of ["deploy", "read"] as const) {
            const issues = checkDeployRoles(configWith([buildkiteRole("r", access, "installer")]));
            const shared = issues.find((i) => /whose cluster/.test(i.message));
            assert.ok(shared, JSON.stringify(issues));
            assert.deepEqual(shared.path, ["deployRoles", 0, "buildkite", "pipeline"]);
            assert.match(shared.message, /cluster "default" also runs "app", "image", "mono": /);
            assert.equal(shared.fix, 'move pipeline "installer" into a cluster of its own (and its fleet with it)');
        }
    });

    it("refuses a deploy or read role whose pipeline builds pull requests, and tells which setting to change", () => {
        for (const access of ["deploy", "read"] as const) {
            const issues = checkDeployRoles(
                configWith([buildkiteRole("r", access, "mac-app")], (c) => {
                    c.pipelines.find((p) => p.slug === "mac-app")!.provider.buildPullRequests = true;
                }),
            );
            assert.deepEqual(
                issues.map((i) => [i.path.join("."), i.fix]),
                [["deployRoles.0.buildkite.pipeline", 'set provider.buildPullRequests: false on pipeline "mac-app"']],
            );
        }
    });

    it("lets a preview role trust a pipeline that shares its cluster and builds pull requests", () => {
        const config = configWith([buildkiteRole("r", "preview", "app")], (c) => {
            c.pipelines.find((p) => p.slug === "app")!.provider.buildPullRequests = true;
        });
        assert.deepEqual(checkDeployRoles(config), []);
    });

    it("reports every problem of every role, in role order", () => {
        const config = configWith([
            prRole("a", "deploy"),
            buildkiteRole("b", "deploy", "nope"),
            buildkiteRole("a", "read", "installer"),
        ]);
        assert.deepEqual(paths(config), [
            "deployRoles.0.access",
            "deployRoles.1.buildkite.pipeline",
            "deployRoles.2.name",
            // "installer" shares cluster "default" and builds pull requests (the provider's default).
            "deployRoles.2.buildkite.pipeline",
            "deployRoles.2.buildkite.pipeline",
        ]);
    });
});
