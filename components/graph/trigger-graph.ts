/**
 * The trigger graph: which pipeline's builds trigger which, from each pipeline's `triggers`.
 *
 * Pure module: a validated config in, plain data out. The checks (unknown targets, self-triggers, unknown or
 * cyclic `dependsOn` keys, cycles across pipelines, triggers across clusters without rules) live beside it
 * (`./config-checks.ts`) and run when the config is loaded; {@link buildTriggerGraph} runs them (only them) again
 * and only builds the graph from a config they accept.
 *
 * @module
 */
import { ConfigIssue, Result } from "../config/issues";
import { crossClusterTriggerIssues, triggerIssues } from "./config-checks";
import { dependencyOrder } from "./order";
import { PipelineConfig, PlatformConfig } from "../config/schema";

/** One trigger: `from` creates a build of `to`. */
export interface TriggerEdge {
    /** Slug of the triggering (parent) pipeline. */
    readonly from: string;
    /** Slug of the triggered (child) pipeline. */
    readonly to: string;
    /** Index of the trigger in the parent's `triggers`, for config paths. */
    readonly index: number;
    /** The trigger step's key: the config's `key`, or `trigger-<child slug>`. */
    readonly key: string;
    /** Keys of the parent's other triggers this one waits for. */
    readonly dependsOn: readonly string[];
    readonly async: boolean;
    /** Branch filter of the trigger step, if any. */
    readonly branches?: string;
    readonly label?: string;
    /** Extra environment for the child build. */
    readonly env: Readonly<Record<string, string>>;
    /** Parent and child run in different Buildkite clusters, which needs an organization rule. */
    readonly crossesClusters: boolean;
    /** The child stops non-release triggered builds at a block step. */
    readonly gated: boolean;
}

/** A pipeline as the graph sees it. */
export interface TriggerNode {
    readonly slug: string;
    readonly cluster: string;
    readonly gate: PipelineConfig["gate"];
}

/** The whole graph. Nodes in config order; edges in parent config order, then trigger order. */
export interface TriggerGraph {
    readonly nodes: readonly TriggerNode[];
    readonly edges: readonly TriggerEdge[];
}

/** The step key of a trigger: its own key, or one derived from the child's slug. */
export function triggerKey(trigger: { readonly pipeline: string; readonly key?: string }): string {
    return trigger.key ?? `trigger-${trigger.pipeline}`;
}

/**
 * The trigger graph of a config, or the config model's trigger issues (each with its config path) when the
 * triggers are not valid. A config loaded through `parsePlatformConfig` has none.
 */
export function buildTriggerGraph(config: PlatformConfig): Result<TriggerGraph, ConfigIssue[]> {
    const issues = [...triggerIssues(config), ...crossClusterTriggerIssues(config)];
    if (issues.length > 0) return { ok: false, error: issues };
    const bySlug = new Map(config.pipelines.map((p) => [p.slug, p]));
    const nodes = config.pipelines.map((p) => ({ slug: p.slug, cluster: p.cluster, gate: p.gate }));
    const edges = config.pipelines.flatMap((parent) =>
        parent.triggers.map((t, index): TriggerEdge => {
            const child = bySlug.get(t.pipeline) as PipelineConfig;
            return {
                from: parent.slug,
                to: t.pipeline,
                index,
                key: triggerKey(t),
                dependsOn: [...t.dependsOn],
                async: t.async,
                branches: t.branches,
                label: t.label,
                env: { ...t.env },
                crossesClusters: parent.cluster !== child.cluster,
                gated: child.gate === "release",
            };
        }),
    );
    return { ok: true, value: { nodes, edges } };
}

/** {@link buildTriggerGraph} for a config already validated: throws (a programming error) if it is not. */
export function triggerGraphOf(config: PlatformConfig): TriggerGraph {
    const result = buildTriggerGraph(config);
    if (!result.ok) throw new Error(`invalid triggers: ${result.error.map((i) => i.message).join("; ")}`);
    return result.value;
}

/** The triggers a pipeline's builds create, in its config order. */
export function childrenOf(graph: TriggerGraph, slug: string): TriggerEdge[] {
    return graph.edges.filter((e) => e.from === slug);
}

/** The triggers that create builds of a pipeline. */
export function parentsOf(graph: TriggerGraph, slug: string): TriggerEdge[] {
    return graph.edges.filter((e) => e.to === slug);
}

/** The edges between clusters: each needs a `pipeline.trigger_build.pipeline` organization rule. */
export function crossClusterEdges(graph: TriggerGraph): TriggerEdge[] {
    return graph.edges.filter((e) => e.crossesClusters);
}

/**
 * Every pipeline slug with each parent before its children; among pipelines ready at once, config order wins.
 * @throws {Error} naming the pipelines left when the graph has a cycle (the config checks report cycles first).
 */
export function topologicalOrder(graph: TriggerGraph): string[] {
    const { order, left } = dependencyOrder(
        graph.nodes.map((n) => n.slug),
        (slug) => parentsOf(graph, slug).map((e) => e.from),
    );
    if (left.length > 0) throw new Error(`pipelines trigger each other in a cycle: ${left.join(", ")}`);
    return order;
}
