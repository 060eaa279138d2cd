import { PlatformConfig } from "../config/schema";
import { TriggerGraph, crossClusterEdges, triggerGraphOf } from "../graph/trigger-graph";
import { PipelineSteps, ResolveImage, stepsForPlatform } from "./pipeline-steps";

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
    RELEASE_GATE_IF,
    RELEASE_ONLY_IF,
    UPLOAD_ENV_VAR,
    briefSteps,
    escapeForUpload,
    stepsForPipeline,
    stepsForPlatform,
} from "./pipeline-steps";
export type { PipelineSteps, ResolveImage, StepsContext, UploadedDocument } from "./pipeline-steps";

/** What {@link generateSteps} returns: every pipeline's steps and what the organization must allow. */
export interface GeneratedSteps {
    /** The validated trigger graph. */
    readonly graph: TriggerGraph;
    /** Each pipeline's steps, by slug. */
    readonly bySlug: Readonly<Record<string, PipelineSteps>>;
    /** Triggers between clusters, each needing an organization rule. */
    readonly crossClusterTriggers: readonly { readonly source: string; readonly target: string }[];
}

/** The one entry point index.ts calls: the trigger graph, every pipeline's steps, and the cross-cluster triggers. */
export function generateSteps(config: PlatformConfig, resolveImage: ResolveImage): GeneratedSteps {
    const graph = triggerGraphOf(config);
    return {
        graph,
        bySlug: stepsForPlatform(config, graph, resolveImage),
        crossClusterTriggers: crossClusterEdges(graph).map((e) => ({ source: e.from, target: e.to })),
    };
}
