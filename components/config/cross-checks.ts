import { ConfigIssue, didYouMean, duplicates, suggestion } from "./issues";
import { PlatformConfig } from "./schema";

/*
 * The config checks of names and references: names declared twice, and references to clusters, queues, teams and
 * pipelines that are not declared. The checks of each other concern sit beside that concern's pure modules (fleets:
 * agents/config-checks.ts, packages: steps/config-checks.ts, image references: images/config-checks.ts, triggers:
 * graph/config-checks.ts); components/platform-config.ts runs them all. This module imports nothing above config/.
 */

/** Every name declared twice, and every reference to a cluster, queue, team or pipeline that is not declared. */
export function referenceIssues(config: PlatformConfig): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    const clusterNames = config.clusters.map((c) => c.name);
    const teamNames = config.teams.map((t) => t.name);
    const slugs = config.pipelines.map((p) => p.slug);

    issues.push(
        ...duplicates(
            config.clusters,
            (c) => c.name,
            (i) => ["clusters", i, "name"],
            "cluster name",
        ),
        ...duplicates(
            config.teams,
            (t) => t.name,
            (i) => ["teams", i, "name"],
            "team name",
        ),
        ...duplicates(
            config.fleets,
            (f) => f.name,
            (i) => ["fleets", i, "name"],
            "fleet name",
        ),
        ...duplicates(
            config.images,
            (m) => m.name,
            (i) => ["images", i, "name"],
            "image name",
        ),
        ...duplicates(
            config.pipelines,
            (p) => p.slug,
            (i) => ["pipelines", i, "slug"],
            "pipeline slug",
        ),
        ...duplicates(
            config.pipelines,
            (p) => p.name,
            (i) => ["pipelines", i, "name"],
            "pipeline name",
        ),
    );

    const checkCluster = (cluster: string, path: (string | number)[]) => {
        if (!clusterNames.includes(cluster))
            issues.push({
                path,
                unknownName: cluster,
                message: `unknown cluster "${cluster}"; ${didYouMean(cluster, clusterNames)}declared clusters: ${clusterNames.join(", ")}`,
                fix: "use the name of a cluster in ci-platform:clusters, or declare it there",
            });
    };

    config.fleets.forEach((fleet, i) => checkCluster(fleet.cluster, ["fleets", i, "cluster"]));

    config.pipelines.forEach((pipeline, i) => {
        const at = (...rest: (string | number)[]) => ["pipelines", i, ...rest];
        checkCluster(pipeline.cluster, at("cluster"));
        // A fleet naming an unknown cluster is reported on its own; do not report its queue as unserved too.
        const servingFleets = config.fleets.filter(
            (f) => f.queue === pipeline.queue && (f.cluster === pipeline.cluster || !clusterNames.includes(f.cluster)),
        );
        if (clusterNames.includes(pipeline.cluster) && servingFleets.length === 0) {
            const queues = [
                ...new Set(config.fleets.filter((f) => f.cluster === pipeline.cluster).map((f) => f.queue)),
            ];
            issues.push({
                path: at("queue"),
                unknownName: pipeline.queue,
                message: `no fleet serves queue "${pipeline.queue}" in cluster "${pipeline.cluster}"; ${didYouMean(pipeline.queue, queues)}queues served there: ${queues.join(", ") || "none"}`,
                fix: "use a queue a fleet of that cluster serves, or add a fleet for it in ci-platform:fleets",
            });
        }
        for (const [path, team] of [
            [at("team"), pipeline.team] as const,
            ...pipeline.teams.map((t, j) => [at("teams", j, "team"), t.team] as const),
        ]) {
            if (team !== undefined && !teamNames.includes(team))
                issues.push({
                    path,
                    unknownName: team,
                    message: `unknown team "${team}"; ${didYouMean(team, teamNames)}declared teams: ${teamNames.join(", ")}`,
                    fix: "use the name of a team in ci-platform:teams, or declare it there",
                });
        }
        issues.push(
            ...duplicates(
                pipeline.teams,
                (t) => t.team,
                (j) => at("teams", j, "team"),
                "team",
            ),
        );
        issues.push(
            ...duplicates(
                pipeline.schedules,
                (s) => s.label,
                (j) => at("schedules", j, "label"),
                "schedule label",
            ),
        );
    });

    // Secrets may only name declared pipelines.
    for (const slug of Object.keys(config.secrets.pipelines)) {
        if (!slugs.includes(slug))
            issues.push({
                path: ["secrets", "pipelines", slug],
                unknownName: slug,
                message: `secrets for unknown pipeline "${slug}"${suggestion(slug, slugs)}`,
                fix: "use the slug of a pipeline in ci-platform:pipelines (pulumi config set --secret --path 'ci-platform:secrets.pipelines.<slug>.env.NAME' ...), or remove them",
            });
    }
    return issues;
}
