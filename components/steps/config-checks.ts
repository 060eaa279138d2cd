/**
 * The config checks of what a pipeline builds: its monorepo packages (names, paths, `dependsOn` and their cycles), the
 * artifacts they produce and use, the read token a skipped producer needs, the publish step, and the image their steps
 * run in. Pure: a config in, its problems out; components/platform-config.ts runs them with every other check.
 *
 * @module
 */
import { deliveredSecretNames, fleetsRunning } from "../config/access-checks";
import { ConfigIssue, didYouMean, duplicates } from "../config/issues";
import { RELEASE_READ_TOKEN_VAR } from "../config/release-checks";
import { PlatformConfig } from "../config/schema";
import { findCycle } from "../graph/order";
import { artifactIssues } from "./artifact-sources";

/** Each pipeline's packages, artifacts, publish step and step image, in pipeline order. */
export function packageIssues(
    config: Pick<PlatformConfig, "pipelines" | "fleets" | "secrets" | "clusters">,
): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    config.pipelines.forEach((pipeline, i) => {
        const at = (...rest: (string | number)[]) => ["pipelines", i, ...rest];
        const packageNames = pipeline.packages.map((p) => p.name);
        issues.push(
            ...duplicates(
                pipeline.packages,
                (p) => p.name,
                (j) => at("packages", j, "name"),
                "package name",
            ),
        );
        issues.push(
            ...duplicates(
                pipeline.packages,
                (p) => p.path,
                (j) => at("packages", j, "path"),
                "package path",
            ),
        );
        pipeline.packages.forEach((pkg, j) => {
            pkg.dependsOn.forEach((dep, k) => {
                if (dep === pkg.name)
                    issues.push({
                        path: at("packages", j, "dependsOn", k),
                        message: `package "${pkg.name}" depends on itself`,
                        fix: "remove it from its own dependsOn",
                    });
                else if (!packageNames.includes(dep))
                    issues.push({
                        path: at("packages", j, "dependsOn", k),
                        message: `unknown package "${dep}"; ${didYouMean(dep, packageNames)}packages of "${pipeline.slug}": ${packageNames.join(", ")}`,
                        fix: "name a package declared in this pipeline's packages",
                    });
            });
        });
        // Producers and users of artifacts (artifact-sources.ts).
        for (const issue of artifactIssues(pipeline.packages)) issues.push({ ...issue, path: at(...issue.path) });
        // The base build lookup reads Buildkite's REST API with the pipeline's read token: without it on an AWS
        // fleet, no skipped producer ever finds its base build and every one runs, silently.
        const producer = pipeline.packages.findIndex((p) => p.artifacts.length > 0);
        const fleets = fleetsRunning(config, pipeline);
        if (
            producer >= 0 &&
            fleets.some((f) => f.kind === "aws") &&
            !deliveredSecretNames(config, pipeline).has(RELEASE_READ_TOKEN_VAR)
        )
            issues.push({
                path: at("packages", producer, "artifacts"),
                message: `pipeline "${pipeline.slug}" has packages that produce artifacts, and a skipped producer finds the build that made them through Buildkite's REST API with ${RELEASE_READ_TOKEN_VAR}, but ci-platform:secrets holds no value for it: every producer would run in every build`,
                fix: `create a Buildkite API access token with only the read_builds scope and pulumi config set --secret --path 'ci-platform:secrets.pipelines.${pipeline.slug}.env.${RELEASE_READ_TOKEN_VAR}' <token>`,
            });
        if (pipeline.publish !== undefined) {
            if (pipeline.packages.length === 0)
                issues.push({
                    path: at("publish"),
                    message: `pipeline "${pipeline.slug}" has a publish step but no packages: it publishes the packages' artifacts`,
                    fix: "declare packages, or remove publish",
                });
            const delivered = deliveredSecretNames(config, pipeline);
            pipeline.publish.secrets.forEach((name, k) => {
                if (fleets.some((f) => f.kind === "aws") && !delivered.has(name))
                    issues.push({
                        path: at("publish", "secrets", k),
                        message: `pipeline "${pipeline.slug}" publishes with ${name}, but ci-platform:secrets holds no value for it`,
                        fix: `pulumi config set --secret --path 'ci-platform:secrets.pipelines.${pipeline.slug}.env.${name}' <value>`,
                    });
            });
        }
        const packageCycle = findCycle(
            packageNames,
            (n) => pipeline.packages.find((p) => p.name === n)?.dependsOn.filter((d) => d !== n) ?? [],
        );
        if (packageCycle)
            issues.push({
                path: at("packages"),
                message: `package dependencies form a cycle: ${[...packageCycle, packageCycle[0]].join(" -> ")}`,
                fix: "remove one dependsOn from the cycle",
            });
        if (pipeline.packages.length > 0 && pipeline.image === undefined && pipeline.packages.some((p) => !p.image))
            issues.push({
                path: at("image"),
                message: `pipeline "${pipeline.slug}" has packages but no image for their steps`,
                fix: "set image: { name, variant } on the pipeline or on every package",
            });
    });
    return issues;
}
