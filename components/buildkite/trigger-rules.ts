import * as buildkite from "@pulumiverse/buildkite";
import * as pulumi from "@pulumi/pulumi";

/** The organization rule type that lets one pipeline's builds trigger another's across clusters. */
export const TRIGGER_RULE_TYPE = "pipeline.trigger_build.pipeline";

/** One cross-cluster trigger, by pipeline slug. */
export interface TriggerRuleEdge {
    /** Slug of the triggering pipeline. */
    readonly source: string;
    /** Slug of the triggered pipeline. */
    readonly target: string;
}

/** The rule's `value`: JSON naming the source and target pipelines by UUID. */
export function triggerRuleValue(sourceUuid: string, targetUuid: string): string {
    return JSON.stringify({ source_pipeline: sourceUuid, target_pipeline: targetUuid });
}

/** Inputs for {@link PipelineTriggerRules}. */
export interface PipelineTriggerRulesArgs {
    /** The triggers that cross clusters; a pair listed twice gets one rule. */
    readonly triggers: readonly TriggerRuleEdge[];
    /** Each pipeline's UUID (`buildkite.pipeline.Pipeline.uuid`), by slug; must hold every slug in `triggers`. */
    readonly pipelineUuids: Readonly<Record<string, pulumi.Input<string>>>;
}

/**
 * The organization rules that allow triggers between pipelines of different clusters (Buildkite refuses a trigger
 * step whose target is in another cluster unless a `pipeline.trigger_build.pipeline` rule allows it). One
 * `buildkite.organization.Rule` per (source, target) pair, named after both slugs.
 */
export class PipelineTriggerRules extends pulumi.ComponentResource {
    /** Rule resources by `source->target`. */
    public readonly rules: Record<string, buildkite.organization.Rule>;

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
            throw new pulumi.ResourceError(`no pipeline UUID for ${missing.map((s) => `"${s}"`).join(", ")}`, this);
        this.rules = {};
        for (const { source, target } of args.triggers) {
            const id = `${source}->${target}`;
            if (this.rules[id]) continue;
            this.rules[id] = new buildkite.organization.Rule(
                `${name}-${source}-to-${target}`,
                {
                    type: TRIGGER_RULE_TYPE,
                    description: `${source} triggers builds of ${target} (another cluster)`,
                    value: pulumi
                        .all([args.pipelineUuids[source], args.pipelineUuids[target]])
                        .apply(([s, t]) => triggerRuleValue(s, t)),
                },
                { parent: this },
            );
        }
        this.registerOutputs({ rules: this.rules });
    }
}
