import * as buildkite from "@pulumiverse/buildkite";
import * as pulumi from "@pulumi/pulumi";

/*
 * Organization rules for triggers across clusters. Rule types and their value JSON: terraform-provider-buildkite
 * docs/resources/organization_rule.md and buildkite/resource_organization_rule_test.go (the provider @pulumiverse/buildkite
 * wraps): `type` is `pipeline.<action>.pipeline`, `value` is JSON `{ source_pipeline, target_pipeline }` holding
 * pipeline UUIDs (or slugs). Buildkite docs, pipelines/rules: trigger_build lets the source trigger the target's
 * builds; artifacts_read lets the source read the target's artifacts. Rules are an opt-in organization feature
 * (`ci-platform:organizationRules`).
 */

/** The organization rule type that lets one pipeline's builds trigger another's across clusters. */
export const TRIGGER_RULE_TYPE = "pipeline.trigger_build.pipeline";

/** The organization rule type that lets one pipeline's builds read another's artifacts across clusters. */
export const ARTIFACTS_READ_RULE_TYPE = "pipeline.artifacts_read.pipeline";

/** One cross-cluster trigger, by pipeline slug. */
export interface TriggerRuleEdge {
    /** Slug of the triggering pipeline. */
    readonly source: string;
    /** Slug of the triggered pipeline. */
    readonly target: string;
}

/** The trigger rule's `value`: the parent (source) may trigger the child (target). */
export function triggerRuleValue(sourceUuid: string, targetUuid: string): string {
    return JSON.stringify({ source_pipeline: sourceUuid, target_pipeline: targetUuid });
}

/**
 * The artifacts-read rule's `value` for a trigger edge: the child (the rule's source, the reader) may read the
 * parent's (the rule's target) artifacts, e.g. `buildkite-agent artifact download --build <parent build>`.
 */
export function artifactsReadRuleValue(readerUuid: string, parentUuid: string): string {
    return JSON.stringify({ source_pipeline: readerUuid, target_pipeline: parentUuid });
}

/** Inputs for {@link PipelineTriggerRules}. */
export interface PipelineTriggerRulesArgs {
    /** The triggers that cross clusters; a pair listed twice gets one pair of rules. */
    readonly triggers: readonly TriggerRuleEdge[];
    /** Each pipeline's UUID (`buildkite.pipeline.Pipeline.uuid`), by slug; must hold every slug in `triggers`. */
    readonly pipelineUuids: Readonly<Record<string, pulumi.Input<string>>>;
    /** Earlier slugs of renamed pipelines (`pipelines[].renamedFrom`), by current slug: the rules keep their objects. */
    readonly renamedFrom?: Readonly<Record<string, readonly string[]>>;
}

/**
 * Every earlier (source, target) pair of a trigger whose pipelines were renamed: each combination of a current or
 * earlier slug of each side, without the current pair. A rule's name holds both slugs, so each is an old name.
 */
export function earlierPairs(
    source: string,
    target: string,
    renamedFrom: Readonly<Record<string, readonly string[]>> = {},
): { source: string; target: string }[] {
    const sources = [source, ...(renamedFrom[source] ?? [])];
    const targets = [target, ...(renamedFrom[target] ?? [])];
    return sources
        .flatMap((s) => targets.map((t) => ({ source: s, target: t })))
        .filter((p) => p.source !== source || p.target !== target);
}

/**
 * The organization rules a trigger between pipelines of different clusters needs: Buildkite refuses the trigger
 * step unless a `pipeline.trigger_build.pipeline` rule allows it, and the child's download of the parent's
 * artifacts unless a `pipeline.artifacts_read.pipeline` rule does. Per (source, target) pair: the trigger rule,
 * `<name>-<source>-to-<target>`, and the artifacts-read rule, `<name>-<target>-reads-<source>`.
 */
export class PipelineTriggerRules extends pulumi.ComponentResource {
    /** Trigger rule resources by `source->target`. */
    public readonly rules: Record<string, buildkite.organization.Rule>;
    /** Artifacts-read rule resources by `source->target` (of the trigger: the target reads the source). */
    public readonly artifactRules: Record<string, buildkite.organization.Rule>;

    /**
     * @param name The _unique_ name of this component.
     * @param args The cross-cluster triggers and the pipelines' UUIDs.
     * @param opts A bag of options; pass the Buildkite provider in `providers`.
     */
    constructor(name: string, args: PipelineTriggerRulesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ci-platform:buildkite:TriggerRules", name, {}, opts);
        const missing = [...new Set(args.triggers.flatMap((t) => [t.source, t.target]))].filter(
            (slug) => args.pipelineUuids[slug] === undefined,
        );
        if (missing.length > 0)
            throw new pulumi.InputPropertiesError({
                message: `trigger rules ${name}: no pipeline UUID for ${missing.map((s) => `"${s}"`).join(", ")}`,
                errors: missing.map((slug) => ({
                    propertyPath: `pipelineUuids.${slug}`,
                    reason: `a cross-cluster trigger names pipeline ${slug}: pass its UUID (the BuildkitePipeline's pipeline.uuid)`,
                })),
            });
        this.rules = {};
        this.artifactRules = {};
        for (const { source, target } of args.triggers) {
            const id = `${source}->${target}`;
            if (this.rules[id]) continue;
            const uuids = pulumi.all([args.pipelineUuids[source], args.pipelineUuids[target]]);
            const earlier = earlierPairs(source, target, args.renamedFrom);
            this.rules[id] = new buildkite.organization.Rule(
                `${name}-${source}-to-${target}`,
                {
                    type: TRIGGER_RULE_TYPE,
                    description: `${source} triggers builds of ${target} (another cluster)`,
                    value: uuids.apply(([s, t]) => triggerRuleValue(s, t)),
                },
                { parent: this, aliases: earlier.map((p) => ({ name: `${name}-${p.source}-to-${p.target}` })) },
            );
            this.artifactRules[id] = new buildkite.organization.Rule(
                `${name}-${target}-reads-${source}`,
                {
                    type: ARTIFACTS_READ_RULE_TYPE,
                    description: `${target} reads the artifacts of the ${source} build that triggered it (another cluster)`,
                    value: uuids.apply(([s, t]) => artifactsReadRuleValue(t, s)),
                },
                { parent: this, aliases: earlier.map((p) => ({ name: `${name}-${p.target}-reads-${p.source}` })) },
            );
        }
        this.registerOutputs({ rules: this.rules, artifactRules: this.artifactRules });
    }
}
