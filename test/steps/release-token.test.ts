import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigIssue } from "../../components/config";
import { parsePlatformConfig } from "../../components/platform-config";
import { RELEASE_READ_TOKEN_VAR } from "../../components/steps/pipeline-steps";
import { Mutable, entry, prodRawConfig, validRawConfig } from "../fixtures/config";

/*
 * The release check reads the triggering build from Buildkite's REST API with a read_builds token: a gated child a
 * trigger reaches is refused unless that token reaches every fleet that runs it.
 */

const issuesOf = (raw: Record<string, unknown>): ConfigIssue[] => {
    const result = parsePlatformConfig(raw);
    return result.ok ? [] : result.error;
};
const about = (issues: readonly ConfigIssue[]) => issues.filter((i) => i.message.includes(RELEASE_READ_TOKEN_VAR));
type Secrets = { organization?: Mutable; pipelines: Record<string, { env?: Record<string, unknown> }> };

describe("release gate: the read_builds token reaches every fleet that runs a gated child", () => {
    it("accepts the prod stack, whose gated children all have it", () => {
        assert.deepEqual(about(issuesOf(prodRawConfig())), []);
    });

    it("refuses a triggered gated child on AWS fleets without it, at its gate, with the fix", () => {
        const raw = prodRawConfig();
        const secrets = raw.secrets as Secrets;
        delete secrets.pipelines["kolibri-installer-debian"].env?.[RELEASE_READ_TOKEN_VAR];
        const issues = about(issuesOf(raw));
        const i = (raw.pipelines as Mutable[]).findIndex((p) => p.slug === "kolibri-installer-debian");
        assert.equal(issues.length, 1, JSON.stringify(issues));
        assert.deepEqual(issues[0].path, ["pipelines", i, "gate"]);
        assert.match(issues[0].message, /"kolibri-installer-debian" is gated/);
        assert.match(
            issues[0].fix ?? "",
            /read_builds scope .*ci-platform:secrets\.pipelines\.kolibri-installer-debian\.env\.BUILDKITE_READ_BUILDS_TOKEN/,
        );
    });

    it("refuses a static fleet serving a gated child that does not provide it", () => {
        const raw = prodRawConfig();
        const fleets = raw.fleets as Mutable[];
        const k = fleets.findIndex((f) => f.kind === "static" && f.queue === "macos");
        const mac = fleets[k];
        mac.providesSecrets = (mac.providesSecrets as string[]).filter((n) => n !== RELEASE_READ_TOKEN_VAR);
        const macos = (raw.pipelines as Mutable[]).find((p) => p.slug === "kolibri-installer-macos") as Mutable;
        macos.requiresSecrets = (macos.requiresSecrets as string[]).filter((n) => n !== RELEASE_READ_TOKEN_VAR);
        const issues = about(issuesOf(raw));
        assert.equal(issues.length, 1, JSON.stringify(issues));
        assert.deepEqual(issues[0].path, ["fleets", k, "providesSecrets"]);
        assert.match(issues[0].message, /static fleet .* runs gated pipeline "kolibri-installer-macos"/);
    });

    it("takes the organisation's token where the cluster takes organisation secrets; none without a release", () => {
        const releasing = () => {
            const raw = validRawConfig();
            entry(raw, "pipelines", 1).artifacts = ["dist/*.deb"];
            entry(raw, "pipelines", 2).artifacts = ["dist/*.img"];
            return raw;
        };
        // The fixture's gated children declare no artifacts: they release nothing, and need no token.
        assert.deepEqual(about(issuesOf(validRawConfig())), []);
        const raw = releasing();
        assert.deepEqual(
            about(issuesOf(raw)).map((i) => i.path),
            [
                ["pipelines", 1, "gate"],
                ["pipelines", 2, "gate"],
            ],
        );
        ((raw.secrets as Secrets).organization as Mutable).env = { [RELEASE_READ_TOKEN_VAR]: "not-a-real-token" };
        assert.deepEqual(about(issuesOf(raw)), []);
        // A gated child no trigger reaches is never checked for a release.
        const untriggered = releasing();
        entry(untriggered, "pipelines", 0).triggers = [];
        assert.deepEqual(about(issuesOf(untriggered)), []);
    });
});
