/*
 * Every trigger across clusters has the organization rules it needs: Buildkite refuses a trigger step whose target
 * pipeline is in another cluster unless a `pipeline.trigger_build.pipeline` rule allows it (source: the parent,
 * target: the child), and the child's `buildkite-agent artifact download` from the parent's build unless a
 * `pipeline.artifacts_read.pipeline` rule allows it (source: the child, the reader; target: the parent). Buildkite
 * docs, pipelines/rules; value JSON `{ source_pipeline, target_pipeline }` with pipeline UUIDs or slugs
 * (terraform-provider-buildkite docs/resources/organization_rule.md, buildkite/resource_organization_rule_test.go).
 *
 * A rule names its pipelines by UUID, which the offline plan and a first preview do not know (the pipelines do not
 * exist yet); the rule's dependencies name them instead. A side is matched by slug, or by UUID when the pipeline
 * resource carries one (a preview of an existing stack); otherwise a rule depending on both pipelines counts, and
 * the trigger and artifacts-read rules of an edge must name the pair in opposite directions.
 */
import type { StackFinding, StackRule } from "../rules";
import { isOpaque, jsonDocument, type PlanResource } from "../resource";
import { type DeployedPipeline, type Platform, readPlatform } from "../platform";

export const TRIGGER_RULE_TYPE = "pipeline.trigger_build.pipeline";
export const ARTIFACTS_READ_RULE_TYPE = "pipeline.artifacts_read.pipeline";

/** A trigger step in a pipeline of one cluster naming a pipeline of another. */
export interface CrossClusterEdge {
    readonly parent: DeployedPipeline;
    readonly child: DeployedPipeline;
}

/** Every cross-cluster trigger edge of the platform, once per (parent, child). */
export function crossClusterEdges(platform: Platform): CrossClusterEdge[] {
    const bySlug = new Map(platform.pipelines.map((p) => [p.slug, p]));
    const seen = new Set<string>();
    const edges: CrossClusterEdge[] = [];
    for (const parent of platform.pipelines)
        for (const step of parent.steps) {
            const child = step.kind === "trigger" && step.trigger ? bySlug.get(step.trigger) : undefined;
            if (!child || child.cluster === undefined || parent.cluster === undefined) continue;
            if (child.cluster === parent.cluster || seen.has(`${parent.slug}>${child.slug}`)) continue;
            seen.add(`${parent.slug}>${child.slug}`);
            edges.push({ parent, child });
        }
    return edges;
}

/** How a rule's value names one side: matches the pipeline, names another one, or cannot be told offline. */
function side(
    value: unknown,
    pipeline: DeployedPipeline,
    uuidOf: ReadonlyMap<string, string>,
): "yes" | "no" | "unknown" {
    if (typeof value !== "string" || isOpaque(value)) return "unknown";
    if (value === pipeline.slug || value === uuidOf.get(pipeline.urn)) return "yes";
    if (uuidOf.size > 0 || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) return "no";
    return "unknown";
}

/** The rules of `type` that allow `source` to act on `target`. */
function rulesFor(
    rules: readonly PlanResource[],
    type: string,
    source: DeployedPipeline,
    target: DeployedPipeline,
    uuidOf: ReadonlyMap<string, string>,
): { rule: PlanResource; value: Record<string, unknown> | undefined }[] {
    return rules.flatMap((rule) => {
        if (rule.inputs.type !== type) return [];
        const value = jsonDocument(rule.inputs.value);
        const s = side(value?.source_pipeline, source, uuidOf);
        const t = side(value?.target_pipeline, target, uuidOf);
        if (s === "no" || t === "no") return [];
        if (s === "yes" && t === "yes") return [{ rule, value }];
        // A UUID the plan cannot resolve: the rule must at least be built from both pipelines.
        const deps = rule.dependsOn ?? [];
        return deps.includes(source.urn) && deps.includes(target.urn) ? [{ rule, value }] : [];
    });
}

export const crossClusterTriggerRules: StackRule = {
    kind: "stack",
    name: "cross-cluster-trigger-rules",
    description:
        "Every trigger from a pipeline of one cluster to a pipeline of another has an organization rule allowing the trigger and one allowing the child to read the parent's artifacts.",
    enforcementLevel: "mandatory",
    severity: "high",
    types: ["buildkite:Pipeline/pipeline:Pipeline", "buildkite:Organization/rule:Rule"],
    remediation:
        "Enable Buildkite's rules feature for the organization and set ci-platform:organizationRules: true (the platform declares both rules for every cross-cluster trigger), or put both pipelines in one cluster.",
    check(resources): StackFinding[] {
        const platform = readPlatform(resources);
        const uuidOf = new Map<string, string>();
        for (const r of resources)
            if (
                r.type === "buildkite:Pipeline/pipeline:Pipeline" &&
                typeof r.inputs.uuid === "string" &&
                !isOpaque(r.inputs.uuid)
            )
                uuidOf.set(r.urn, r.inputs.uuid);
        return crossClusterEdges(platform).flatMap(({ parent, child }): StackFinding[] => {
            const triggers = rulesFor(platform.organizationRules, TRIGGER_RULE_TYPE, parent, child, uuidOf);
            const reads = rulesFor(platform.organizationRules, ARTIFACTS_READ_RULE_TYPE, child, parent, uuidOf);
            const crossing = `"${parent.slug}" (cluster ${parent.cluster}) triggers "${child.slug}" (cluster ${child.cluster})`;
            const findings: StackFinding[] = [];
            if (triggers.length === 0)
                findings.push({
                    urn: parent.urn,
                    message: `Buildkite pipeline ${crossing}, but no ${TRIGGER_RULE_TYPE} rule allows it (source_pipeline: ${parent.slug}, target_pipeline: ${child.slug}); Buildkite refuses the trigger step. Fix: set ci-platform:organizationRules: true once the organization has the rules feature, or put both pipelines in one cluster.`,
                });
            if (reads.length === 0)
                findings.push({
                    urn: child.urn,
                    message: `Buildkite pipeline ${crossing}, but no ${ARTIFACTS_READ_RULE_TYPE} rule lets "${child.slug}" read the artifacts of "${parent.slug}" (source_pipeline: ${child.slug}, target_pipeline: ${parent.slug}); the child's artifact download from the parent's build fails. Fix: set ci-platform:organizationRules: true once the organization has the rules feature, or put both pipelines in one cluster.`,
                });
            // Offline, UUIDs are opaque: the two rules of an edge must at least name the pair in opposite directions.
            const consistent = triggers.some(({ value: t }) =>
                reads.some(
                    ({ value: r }) =>
                        t === undefined ||
                        r === undefined ||
                        (t.source_pipeline === r.target_pipeline && t.target_pipeline === r.source_pipeline),
                ),
            );
            if (triggers.length > 0 && reads.length > 0 && !consistent)
                findings.push({
                    urn: child.urn,
                    message: `Buildkite pipeline ${crossing}, but its ${ARTIFACTS_READ_RULE_TYPE} rule does not name the pair opposite to the trigger rule: the child (source_pipeline) reads the parent (target_pipeline). Fix: swap source_pipeline and target_pipeline in the artifacts-read rule.`,
                });
            return findings;
        });
    },
};
