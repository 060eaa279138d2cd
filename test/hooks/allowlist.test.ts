/**
 * The allow-list model (components/hooks/allowlist.ts): the agent's anchored patterns, the per-pipeline pairs, which
 * fleets admit which pipelines in prod, and that no retry rule of the generated prod steps retries a refused job.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { checkoutUrl, pipelinesServed } from "../../components/config/access-checks";
import {
    AGENT_REFUSAL,
    agentEnvFileContent,
    allowedPipelinesSetting,
    allowedRepositoriesValue,
    ALLOWLIST_OBJECT_HEADER,
    allowlistObjectContent,
    coarseAllowedRepositoriesValue,
    fleetAllowlist,
    type FleetAllowlist,
    ownerPattern,
    MATCH_NOTHING,
    REFUSED_JOB_EXIT_STATUS,
    repositoryPattern,
    retriesRefusal,
    retryRuleMatches,
    splitAllowedRepositories,
    type RetryRuleLike,
} from "../../components/hooks/allowlist";
import { parseVersionsText, readImageFiles, stepImageResolver } from "../../components/images";
import { generateSteps } from "../../components/steps";
import { prodConfig } from "../fixtures/config";

const ROOT = path.resolve(__dirname, "../..");

/** The agent's test: Go's regexp.MatchString, unanchored; JavaScript's RegExp agrees on these patterns (no flags). */
const agentAdmits = (value: string, repo: string): boolean =>
    splitAllowedRepositories(value).some((p) => new RegExp(p).test(repo));

describe("allow-list patterns", () => {
    const KOLIBRI = "https://github.com/learningequality/kolibri.git";

    it("anchor the exact URL, with no backslash", () => {
        assert.equal(repositoryPattern(KOLIBRI), "^https://github[.]com/learningequality/kolibri[.]git$");
        assert.equal(repositoryPattern("git@github.com:a/b.c+d.git"), "^git@github[.]com:a/b[.]c[+]d[.]git$");
        assert.throws(() => repositoryPattern("https://github.com/a/b,^.*$"), /cannot carry/);
    });

    it("admit the configured URL and none of its variants", () => {
        const value = allowedRepositoriesValue({ pipelines: [{ slug: "kolibri", repositoryUrls: [KOLIBRI] }] });
        assert.ok(agentAdmits(value, KOLIBRI));
        for (const variant of [
            "https://github.com/learningequality/kolibri",
            "https://github.com/LearningEquality/kolibri.git",
            "git@github.com:learningequality/kolibri.git",
            "ssh://git@github.com/learningequality/kolibri.git",
            "git://github.com/learningequality/kolibri.git",
            "https://user@github.com/learningequality/kolibri.git",
            "https://github.com:443/learningequality/kolibri.git",
            "https://github.com/learningequality/kolibri.git/",
            "https://github.com/x/../learningequality/kolibri.git",
            "https://githubXcom/learningequality/kolibriXgit",
            `${KOLIBRI}\nhttps://evil.example/x.git`,
            `https://evil.example/?${KOLIBRI}`,
            "",
        ])
            assert.ok(!agentAdmits(value, variant), variant);
    });

    it("admit nothing, rather than everything, for a fleet that serves no pipeline", () => {
        const value = allowedRepositoriesValue({ pipelines: [] });
        assert.equal(value, MATCH_NOTHING);
        for (const repo of ["", KOLIBRI, "x", "\n"]) assert.ok(!agentAdmits(value, repo), repo);
        assert.equal(allowedPipelinesSetting({ pipelines: [] }), "");
    });

    it("go to a Windows agent as one unquoted env line", () => {
        const allowlist = { pipelines: [{ slug: "kolibri", repositoryUrls: [KOLIBRI] }] };
        assert.equal(
            agentEnvFileContent(allowlist),
            "BUILDKITE_ALLOWED_REPOSITORIES=^https://github[.]com/learningequality/kolibri[.]git$\n",
        );
    });
});

describe("the prod fleets' allow-lists", () => {
    const config = prodConfig();

    it("admit exactly the pipelines each fleet serves, with their checkout URLs", () => {
        for (const fleet of config.fleets) {
            const allowlist = fleetAllowlist(config, fleet);
            const served = pipelinesServed(config, fleet);
            assert.deepEqual(
                allowlist.pipelines,
                served.map((p) => ({ slug: p.slug, repositoryUrls: [checkoutUrl(p.repository, p.checkout)] })),
                fleet.name,
            );
            const value = allowedRepositoriesValue(allowlist);
            for (const p of config.pipelines) {
                const url = checkoutUrl(p.repository, p.checkout);
                const sameRepositoryServed = served.some((s) => checkoutUrl(s.repository, s.checkout) === url);
                assert.equal(agentAdmits(value, url), sameRepositoryServed, `${fleet.name} / ${p.slug}`);
            }
        }
    });

    it("tell apart two pipelines of one repository in different clusters (ci-platform and ci-platform-deploy)", () => {
        const deploy = config.fleets.find((f) => f.cluster === "deploy");
        const platform = config.fleets.find((f) => f.cluster === "platform");
        assert.ok(deploy && platform);
        assert.deepEqual(
            fleetAllowlist(config, deploy).pipelines.map((p) => p.slug),
            ["ci-platform-deploy"],
        );
        assert.deepEqual(
            fleetAllowlist(config, platform).pipelines.map((p) => p.slug),
            ["ci-platform"],
        );
        // Same repository, so the agent's per-repository list cannot tell them apart; the per-pipeline list does.
        assert.equal(
            allowedRepositoriesValue(fleetAllowlist(config, deploy)),
            allowedRepositoriesValue(fleetAllowlist(config, platform)),
        );
        assert.notEqual(
            allowedPipelinesSetting(fleetAllowlist(config, deploy)),
            allowedPipelinesSetting(fleetAllowlist(config, platform)),
        );
    });
});

describe("refused jobs and retry rules", () => {
    it("match Buildkite's rule semantics: every named attribute must match", () => {
        assert.ok(retryRuleMatches({ exit_status: -1, limit: 2 }, AGENT_REFUSAL));
        assert.ok(!retryRuleMatches({ exit_status: -1, signal_reason: "none", limit: 2 }, AGENT_REFUSAL));
        assert.ok(retryRuleMatches({ exit_status: -1, signal_reason: "none", limit: 2 }, { exitStatus: -1 }));
        assert.ok(retryRuleMatches({ signal_reason: "agent_refused", limit: 1 }, AGENT_REFUSAL));
        assert.ok(retryRuleMatches({ exit_status: "*", limit: 1 }, { exitStatus: REFUSED_JOB_EXIT_STATUS }));
        assert.ok(retryRuleMatches({ exit_status: [1, 78], limit: 1 }, { exitStatus: 78 }));
        assert.ok(!retryRuleMatches({ signal_reason: "agent_stop", limit: 2 }, AGENT_REFUSAL));
        assert.ok(!retryRuleMatches({ exit_status: 78, limit: 0 }, { exitStatus: 78 }));
    });

    it("no retry rule of the generated prod steps, stored or uploaded, retries a refused job", () => {
        const config = prodConfig();
        const versions = parseVersionsText(readImageFiles(ROOT).versionsJson ?? "{}").value ?? {};
        const steps = generateSteps(config, stepImageResolver(config.images, versions));
        const rules: RetryRuleLike[] = [];
        const collect = (node: unknown): void => {
            if (Array.isArray(node)) node.forEach(collect);
            else if (node !== null && typeof node === "object") {
                const record = node as Record<string, unknown>;
                const retry = record.retry as { automatic?: unknown } | undefined;
                if (retry && typeof retry === "object" && Array.isArray(retry.automatic))
                    rules.push(...(retry.automatic as RetryRuleLike[]));
                Object.values(record).forEach(collect);
            }
        };
        for (const p of config.pipelines) {
            const generated = steps.bySlug[p.slug];
            collect(parse(generated.document));
            for (const doc of generated.uploaded) collect(parse(doc.yaml));
        }
        assert.ok(rules.length > 50, `only ${rules.length} retry rules found`);
        assert.ok(
            rules.some((r) => retryRuleMatches(r, { exitStatus: -1 })),
            "a lost agent is still retried",
        );
        assert.deepEqual(retriesRefusal(rules), []);
    });
});

describe("allow-list object and the agent's coarse list", () => {
    const two: FleetAllowlist = {
        pipelines: [
            { slug: "dagster", repositoryUrls: ["git@github.com:dagster-io/dagster.git"] },
            { slug: "kolibri", repositoryUrls: ["https://github.com/learningequality/kolibri.git"] },
            { slug: "kolibri-docs", repositoryUrls: ["https://github.com/learningequality/kolibri.git"] },
        ],
    };

    it("writes the header, then one sorted `slug url` line per pipeline and URL; the header alone for none", () => {
        assert.equal(
            allowlistObjectContent(two),
            [
                ALLOWLIST_OBJECT_HEADER,
                "dagster git@github.com:dagster-io/dagster.git",
                "kolibri https://github.com/learningequality/kolibri.git",
                "kolibri-docs https://github.com/learningequality/kolibri.git",
                "",
            ].join("\n"),
        );
        assert.equal(allowlistObjectContent({ pipelines: [] }), `${ALLOWLIST_OBJECT_HEADER}\n`);
        assert.throws(
            () => allowlistObjectContent({ pipelines: [{ slug: "Bad", repositoryUrls: ["x y"] }] }),
            /is not a pipeline slug/,
        );
    });

    it("gives the agent one anchored pattern per owner, which admits that owner's repositories only", () => {
        const value = coarseAllowedRepositoriesValue(two);
        assert.deepEqual(splitAllowedRepositories(value), [
            "^git@github[.]com:dagster-io/[A-Za-z0-9._-]+$",
            "^https://github[.]com/learningequality/[A-Za-z0-9._-]+$",
        ]);
        const admits = (url: string) => splitAllowedRepositories(value).some((p) => new RegExp(p).test(url));
        assert.ok(admits("https://github.com/learningequality/kolibri-new.git"));
        assert.ok(admits("git@github.com:dagster-io/other.git"));
        for (const url of [
            "https://github.com/someone-else/kolibri.git",
            "https://github.com/learningequality/a/b.git",
            "https://github.com.evil.example/learningequality/kolibri.git",
            "https://evil.example/?https://github.com/learningequality/kolibri.git",
            "git@github.com:dagster-io/../x.git",
        ])
            assert.ok(!admits(url), url);
        assert.ok(!admits("https://github.com/learningequality/kolibri.git/x"));
        assert.equal(coarseAllowedRepositoriesValue({ pipelines: [] }), MATCH_NOTHING);
        assert.equal(ownerPattern("git@example.com:repo.git"), "^git@example[.]com:[A-Za-z0-9._-]+$");
    });
});
