import type { PipelineConfig, PlatformConfig } from "../config";
import type { PipelineSteps, Step } from "../steps";
import { REPOSITORY_PREFIX } from "./image-ref";

/*
 * Which image pushes a pipeline's builds need, read from the steps the program generated for it. Pure: config and
 * steps in, `(region, reference)` pairs out; index.ts turns them into the pipeline's dependsOn on the pushes.
 */

/** One push a pipeline's jobs pull: an image tag in one region's registry. */
export interface ImageNeed {
    /** `ci-platform/<image>:<tag>`: the repository and tag, without the registry host. */
    readonly reference: string;
    /** The region whose registry the job pulls it from. */
    readonly region: string;
}

/** The `ci-platform/<image>:<tag>` part of a step's image reference, whatever (escaped) registry precedes it. */
export function imagePath(image: string): string | undefined {
    const prefix = REPOSITORY_PREFIX.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    return new RegExp(`(?:^|/)(${prefix}[a-z0-9._-]+:[A-Za-z0-9._-]+)$`).exec(image)?.[1];
}

function commandSteps(steps: readonly Step[]): { queue: string; image?: string }[] {
    return steps.flatMap((s) =>
        s.kind === "command"
            ? [{ queue: s.queue, image: s.container?.image }]
            : s.kind === "group"
              ? commandSteps(s.steps)
              : [],
    );
}

/**
 * The pushes a pipeline's jobs pull, sorted by region then reference: for every command step that runs in one of the
 * platform's images, in the documents Buildkite stores AND in those its stored steps upload at build time (the
 * monorepo's package steps, generated here too and embedded in the upload step), the image's tag in the registry of
 * each region whose fleets take that step's queue in the pipeline's cluster. An AWS fleet pulls from its own
 * region (the reference's registry is `${CI_PLATFORM_ECR_REGISTRY}`, which the environment hook sets to the
 * agent's region: image-ref.ts); an on-premises fleet pulls from the home region's registry (image-ref.ts,
 * `homeReference`). Steps the repository uploads itself (`.buildkite/pipeline.yml`) are not the program's: what
 * they name is not known here.
 */
export function imagePushesNeeded(
    config: Pick<PlatformConfig, "fleets" | "homeRegion">,
    pipeline: Pick<PipelineConfig, "cluster">,
    steps: Pick<PipelineSteps, "storedSteps" | "uploaded">,
): ImageNeed[] {
    const needs = new Map<string, ImageNeed>();
    for (const step of commandSteps([...steps.storedSteps, ...steps.uploaded.flatMap((d) => d.steps)])) {
        const reference = step.image === undefined ? undefined : imagePath(step.image);
        if (reference === undefined) continue;
        for (const fleet of config.fleets) {
            if (fleet.cluster !== pipeline.cluster || fleet.queue !== step.queue) continue;
            const region = fleet.kind === "aws" ? fleet.region : config.homeRegion;
            needs.set(`${region}\0${reference}`, { region, reference });
        }
    }
    return [...needs.keys()].sort().map((k) => needs.get(k) as ImageNeed);
}
