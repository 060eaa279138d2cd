import { PlatformConfig } from "../config/schema";
import { TriggerGraph, childrenOf, triggerGraphOf } from "../graph/trigger-graph";
import { PipelineSteps, ResolveImage, artifactSource, stepsForPlatform } from "./pipeline-steps";

export {
    AUTOMATIC_RETRIES,
    PLUGINS,
    RETRY_REASONS,
    renderPipeline,
    renderStoredPipeline,
    toBuildkite,
} from "./step-model";
export type { Step, StepKind } from "./step-model";
export {
    PARENT_ENV,
    RELEASE_CHECK_MARKER,
    RELEASE_GATE_BLOCK,
    RELEASE_ONLY_IF,
    TRIGGERED_IF,
    UPLOAD_ENV_VAR,
    briefSteps,
    escapeForUpload,
    stepsForPipeline,
    stepsForPlatform,
} from "./pipeline-steps";
export type { PipelineSteps, ResolveImage, StepsContext, UploadedDocument } from "./pipeline-steps";
export { generatedStepIssues } from "./schema-checks";

/** What {@link generateSteps} returns: every pipeline's steps and what the organization must allow. */
export interface GeneratedSteps {
    /** The validated trigger graph. */
    readonly graph: TriggerGraph;
    /** Each pipeline's steps, by slug. */
    readonly bySlug: Readonly<Record<string, PipelineSteps>>;
    /** Triggers between clusters, each needing an organization rule. */
    readonly crossClusterTriggers: readonly { readonly source: string; readonly target: string }[];
}

/**
 * The triggers that cross clusters, by the pipeline whose builds run the trigger step: the parent, or for a
 * trigger that downloads from a sibling's build, that sibling's pipeline (it runs the trigger: `chainedTriggers`).
 */
export function crossClusterTriggers(
    config: PlatformConfig,
    graph: TriggerGraph,
): { readonly source: string; readonly target: string }[] {
    const bySlug = new Map(config.pipelines.map((p) => [p.slug, p]));
    return graph.edges.flatMap((edge) => {
        const source = artifactSource(edge, childrenOf(graph, edge.from), bySlug)?.to ?? edge.from;
        const [from, to] = [bySlug.get(source), bySlug.get(edge.to)];
        return from !== undefined && to !== undefined && from.cluster !== to.cluster
            ? [{ source, target: edge.to }]
            : [];
    });
}

/** The one entry point index.ts calls: the trigger graph, every pipeline's steps, and the cross-cluster triggers. */
export function generateSteps(config: PlatformConfig, resolveImage: ResolveImage): GeneratedSteps {
    const graph = triggerGraphOf(config);
    return {
        graph,
        bySlug: stepsForPlatform(config, graph, resolveImage),
        crossClusterTriggers: crossClusterTriggers(config, graph),
    };
}
