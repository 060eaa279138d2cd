import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkReleaseReadToken, RELEASE_READ_TOKEN_VAR } from "../../components/config/release-checks";
import type { PlatformConfig } from "../../components/config/schema";
import { mustParse, validRawConfig } from "../fixtures/config";

/* A gated child's release check reads the triggering build with a Buildkite API token of scope read_builds
 * (buildkite/docs pages/apis/rest_api/builds.md "Get a build": Required scope `read_builds`); each fleet that runs a
 * triggered, gated child that releases artifacts must get it. The fixture's "installer" is gated and triggered by
 * "app"; the tests give it artifacts and edit the parsed config (parsing runs this check too). */

const NAME = RELEASE_READ_TOKEN_VAR;

function releasing(edit: (c: PlatformConfig) => void = () => {}): PlatformConfig {
    const config = mustParse(validRawConfig());
    const installer = config.pipelines.find((p) => p.slug === "installer");
    assert.ok(installer);
    installer.artifacts = ["dist/*.exe"];
    edit(config);
    return config;
}
const index = (config: PlatformConfig, slug: string) => config.pipelines.findIndex((p) => p.slug === slug);

describe("checkReleaseReadToken", () => {
    it("names the variable Buildkite's read_builds token is read from", () => {
        assert.equal(NAME, "BUILDKITE_READ_BUILDS_TOKEN");
    });

    it("a triggered gated child that releases, on AWS fleets, without the token: at its gate, with the fix", () => {
        const config = releasing();
        const issues = checkReleaseReadToken(config);
        assert.deepEqual(
            issues.map((i) => i.path),
            [["pipelines", index(config, "installer"), "gate"]],
        );
        assert.match(issues[0].message, /pipeline "installer" is gated .* no build would ever be a release/);
        assert.match(
            issues[0].fix ?? "",
            /read_builds scope and pulumi config set --secret --path 'ci-platform:secrets\.pipelines\.installer\.env\.BUILDKITE_READ_BUILDS_TOKEN'/,
        );
    });

    it("the pipeline's own secret or the organisation's (where the cluster takes them) delivers it", () => {
        const own = releasing((c) => (c.secrets.pipelines.installer = { env: { [NAME]: "t" } }));
        assert.deepEqual(checkReleaseReadToken(own), []);
        const org = releasing((c) => (c.secrets.organization = { ...c.secrets.organization, env: { [NAME]: "t" } }));
        assert.deepEqual(checkReleaseReadToken(org), []);
        const refusesOrg = releasing((c) => {
            c.secrets.organization = { ...c.secrets.organization, env: { [NAME]: "t" } };
            c.clusters[0].organizationSecrets = false;
        });
        assert.equal(checkReleaseReadToken(refusesOrg).length, 1);
    });

    it("asks nothing of a child that is not triggered, releases nothing, or is not gated", () => {
        assert.deepEqual(checkReleaseReadToken(mustParse(validRawConfig())), [], "no artifacts");
        const untriggered = releasing((c) => {
            for (const p of c.pipelines) p.triggers = p.triggers.filter((t) => t.pipeline !== "installer");
        });
        assert.deepEqual(checkReleaseReadToken(untriggered), []);
        const ungated = releasing((c) => {
            const p = c.pipelines[index(c, "installer")];
            p.gate = "none";
        });
        assert.deepEqual(checkReleaseReadToken(ungated), []);
    });

    it("a static fleet running the child must provide the token itself, unless requiresSecrets already asks it", () => {
        const onStatic = (provides: string[], requires: string[] = []) =>
            releasing((c) => {
                const p = c.pipelines[index(c, "installer")];
                Object.assign(p, { cluster: "macos", queue: "macos", requiresSecrets: requires });
                const mac = c.fleets.find((f) => f.name === "mac-office");
                if (mac?.kind === "static") mac.providesSecrets = provides;
            });
        const config = onStatic([]);
        const macIndex = config.fleets.findIndex((f) => f.name === "mac-office");
        const issues = checkReleaseReadToken(config);
        assert.deepEqual(
            issues.map((i) => i.path),
            [["fleets", macIndex, "providesSecrets"]],
        );
        assert.match(issues[0].message, /static fleet "mac-office" runs gated pipeline "installer"/);
        assert.match(issues[0].fix ?? "", /requiresSecrets/);
        assert.deepEqual(checkReleaseReadToken(onStatic([NAME])), []);
        // Named in requiresSecrets: the access check compares it with providesSecrets, not this one.
        assert.deepEqual(checkReleaseReadToken(onStatic([], [NAME])), []);
    });
});
