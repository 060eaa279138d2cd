import { deliveredSecretNames, fleetsRunning } from "./access-checks";
import type { ConfigIssue } from "./issues";
import type { PlatformConfig } from "./schema";

/*
 * What a gated child's release check needs on the machines that run it (components/steps/pipeline-steps.ts
 * `releaseCheckScript`): a Buildkite API access token to read the triggering build with.
 */

/**
 * The pipeline secret the release check reads the triggering build from Buildkite's REST API with: an API access
 * token with the `read_builds` scope only (buildkite/docs pages/apis/rest_api/builds.md "Get a build": Required
 * scope: `read_builds`).
 */
export const RELEASE_READ_TOKEN_VAR = "BUILDKITE_READ_BUILDS_TOKEN";

/**
 * Every gated child (`gate: release`) that a trigger reaches and that releases something (declares `artifacts`, so
 * it ends with `release-upload`) needs {@link RELEASE_READ_TOKEN_VAR} on each fleet that runs it: without it the
 * check can never see a release (it fails closed), so every release would wait at the block step and upload
 * nothing. (A gated child without artifacts releases nothing: without the token each triggered build just waits at
 * its block step, as a non-release does.) AWS fleets get it from the pipeline's (or, where the cluster takes them,
 * the organisation's) secrets; static fleets from their machines (`providesSecrets`). One issue per missing
 * delivery.
 */
export function checkReleaseReadToken(config: PlatformConfig): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    const name = RELEASE_READ_TOKEN_VAR;
    const triggered = new Set(config.pipelines.flatMap((p) => p.triggers.map((t) => t.pipeline)));
    config.pipelines.forEach((pipeline, i) => {
        if (pipeline.gate !== "release" || !triggered.has(pipeline.slug) || pipeline.artifacts.length === 0) return;
        const fleets = fleetsRunning(config, pipeline);
        if (fleets.some((f) => f.kind === "aws") && !deliveredSecretNames(config, pipeline).has(name))
            issues.push({
                path: ["pipelines", i, "gate"],
                message: `pipeline "${pipeline.slug}" is gated (gate: release), triggered and releases its artifacts, and its release check reads the triggering build from Buildkite's REST API with ${name}, but ci-platform:secrets holds no value for it: no build would ever be a release`,
                fix: `create a Buildkite API access token with only the read_builds scope and pulumi config set --secret --path 'ci-platform:secrets.pipelines.${pipeline.slug}.env.${name}' <token>, or set gate: none`,
            });
        // A name in requiresSecrets is checked against providesSecrets already (access-checks.ts).
        if (pipeline.requiresSecrets.includes(name)) return;
        for (const fleet of fleets)
            if (fleet.kind === "static" && !fleet.providesSecrets.includes(name))
                issues.push({
                    path: ["fleets", config.fleets.indexOf(fleet), "providesSecrets"],
                    message: `static fleet "${fleet.name}" runs gated pipeline "${pipeline.slug}", whose release check reads the triggering build from Buildkite's REST API with ${name}; an on-premises fleet reads no secrets bucket, so its machines must set it`,
                    fix: `set ${name} (a Buildkite API access token with only the read_builds scope) on the machines, add it here and to ci-platform:pipelines[${i}].requiresSecrets`,
                });
    });
    return issues;
}
