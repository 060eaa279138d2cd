/**
 * The config checks of triggers: each pipeline's trigger targets, keys and `dependsOn` (and their cycles), the
 * trigger graph across pipelines (it must be acyclic), and triggers across clusters (they need organization rules).
 * Pure: a config in, its problems out. components/platform-config.ts runs them with every other check;
 * {@link ./trigger-graph.buildTriggerGraph} runs only these.
 *
 * @module
 */
import { ConfigIssue, didYouMean, duplicates, suggestion } from "../config/issues";
import { PlatformConfig } from "../config/schema";
import { findCycle } from "./order";

type TriggerConfig = Pick<PlatformConfig, "pipelines">;

/**
 * Each pipeline's triggers (in config order: duplicate keys, then per trigger its target and its `dependsOn`, then a
 * cycle among its triggers), then a cycle of triggers across pipelines.
 */
export function triggerIssues(config: TriggerConfig): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    const slugs = config.pipelines.map((p) => p.slug);
    config.pipelines.forEach((pipeline, i) => {
        const at = (...rest: (string | number)[]) => ["pipelines", i, ...rest];
        const keys = pipeline.triggers.map((t) => t.key).filter((k): k is string => k !== undefined);
        issues.push(
            ...duplicates(
                pipeline.triggers,
                (t) => t.key,
                (j) => at("triggers", j, "key"),
                "trigger key",
            ),
        );
        pipeline.triggers.forEach((trigger, j) => {
            if (trigger.pipeline === pipeline.slug)
                issues.push({
                    path: at("triggers", j, "pipeline"),
                    message: `pipeline "${pipeline.slug}" triggers itself`,
                    fix: "remove the trigger; a pipeline cannot trigger its own builds",
                });
            else if (!slugs.includes(trigger.pipeline))
                issues.push({
                    path: at("triggers", j, "pipeline"),
                    unknownName: trigger.pipeline,
                    message: `unknown pipeline "${trigger.pipeline}"${suggestion(trigger.pipeline, slugs)}`,
                    fix: "set it to the slug of a pipeline declared in ci-platform:pipelines",
                });
            trigger.dependsOn.forEach((dep, k) => {
                if (!keys.includes(dep))
                    issues.push({
                        path: at("triggers", j, "dependsOn", k),
                        message: `no trigger of "${pipeline.slug}" has the key "${dep}"; ${didYouMean(dep, keys)}keys: ${keys.join(", ") || "none"}`,
                        fix: "set `key` on the trigger this one waits for, and name that key here",
                    });
                else if (dep === trigger.key)
                    issues.push({
                        path: at("triggers", j, "dependsOn", k),
                        message: `trigger "${dep}" depends on itself`,
                        fix: "remove the dependency",
                    });
            });
        });
        const triggerCycle = findCycle(keys, (key) => pipeline.triggers.find((t) => t.key === key)?.dependsOn ?? []);
        if (triggerCycle)
            issues.push({
                path: at("triggers"),
                message: `trigger dependencies form a cycle: ${[...triggerCycle, triggerCycle[0]].join(" -> ")}`,
                fix: "remove one dependsOn from the cycle",
            });
    });

    // The trigger graph across pipelines must be acyclic.
    const bySlug = new Map(config.pipelines.map((p) => [p.slug, p]));
    const graphCycle = findCycle(slugs, (s) =>
        (bySlug.get(s)?.triggers ?? []).map((t) => t.pipeline).filter((t) => t !== s && bySlug.has(t)),
    );
    if (graphCycle) {
        const first = config.pipelines.findIndex((p) => p.slug === graphCycle[0]);
        issues.push({
            path: ["pipelines", first, "triggers"],
            message: `pipelines trigger each other in a cycle: ${[...graphCycle, graphCycle[0]].join(" -> ")}`,
            fix: "remove one trigger from the cycle; a build must not be able to trigger itself again",
        });
    }
    return issues;
}

/**
 * Triggers between pipelines of two declared clusters when the organization is not declared to have rules.
 * Buildkite docs, pipelines/rules: a trigger between clusters needs a pipeline.trigger_build.pipeline rule, and
 * reading the other build's artifacts a pipeline.artifacts_read.pipeline rule; rules are an opt-in organization
 * feature (terraform-provider-buildkite docs/resources/organization_rule.md).
 */
export function crossClusterTriggerIssues(
    config: Pick<PlatformConfig, "pipelines" | "clusters" | "organizationRules">,
): ConfigIssue[] {
    if (config.organizationRules) return [];
    // The first pipeline of a slug (a duplicate slug is reported on its own).
    const bySlug = new Map<string, PlatformConfig["pipelines"][number]>();
    for (const p of config.pipelines) if (!bySlug.has(p.slug)) bySlug.set(p.slug, p);
    const clusterNames = new Set(config.clusters.map((c) => c.name));
    return config.pipelines.flatMap((pipeline, i) =>
        pipeline.triggers.flatMap((trigger, j): ConfigIssue[] => {
            const target = bySlug.get(trigger.pipeline);
            if (target === undefined || target.cluster === pipeline.cluster) return [];
            // An undeclared cluster is reported on its own.
            if (!clusterNames.has(target.cluster) || !clusterNames.has(pipeline.cluster)) return [];
            return [
                {
                    path: ["pipelines", i, "triggers", j, "pipeline"],
                    message: `pipeline "${pipeline.slug}" (cluster "${pipeline.cluster}") triggers "${target.slug}" (cluster "${target.cluster}"): Buildkite refuses a trigger across clusters, and the child's download of the parent's artifacts, unless organization rules allow them, and the organization is not declared to have the rules feature`,
                    fix: `ask Buildkite support to enable rules for the organization and set ci-platform:organizationRules: true (the platform then declares both rules), or put both pipelines in one cluster`,
                },
            ];
        }),
    );
}
