/**
 * Every pipeline's steps, generated from the config: the CI patterns of the systems the platform serves, declared
 * in one place.
 *
 * Pure module: a validated config (plus an image resolver) in, YAML documents out.
 *
 * ## Two kinds of document
 *
 * - The STORED document is set on the Buildkite pipeline (`steps`). Buildkite reads it itself, when a build is
 *   created: no agent is involved, so agent-applied attributes (`if_changed`) are refused there, and no `$VAR` in
 *   it is interpolated (interpolation is what `buildkite-agent pipeline upload` does). It holds only what needs
 *   neither: conditionals (`if:`, evaluated by Buildkite), block and wait steps, and command steps.
 * - UPLOADED documents are embedded in a stored command step's `env` ({@link UPLOAD_ENV_VAR}); the step pipes the
 *   variable to `buildkite-agent pipeline upload`. The agent then interpolates the parent build's variables
 *   (`$BUILDKITE_BUILD_ID`, `$BUILDKITE_COMMIT`...) into trigger steps and applies `if_changed` to package steps.
 *   In these documents every `$` the program does not mean for upload time (commands, image references, labels,
 *   user-given env values) is written `$$`, so the job receives it unchanged ({@link escapeForUpload}).
 *
 * ## What each pipeline gets
 *
 * - A gated child (`gate: release`) starts with a block step that applies only to builds created by a trigger
 *   step of a non-release parent build ({@link RELEASE_GATE_IF}); builds started by hand, by a webhook, by a
 *   schedule or by a release parent run straight through.
 * - Its own build: the repository's `buildkite-agent pipeline upload`, or for a monorepo one step per package.
 * - A parent: a wait, a step uploading one trigger step per edge of the trigger graph, a wait, and a
 *   release-artifacts step that runs only on tag builds ({@link RELEASE_ONLY_IF}).
 *
 * @module
 */
import { PipelineConfig, PlatformConfig } from "../config/schema";
import { TriggerEdge, TriggerGraph, childrenOf } from "../graph/trigger-graph";
import { planMonorepo } from "./monorepo";
import { CommandSpec, Step, StepContainer, TriggerSpec, renderPipeline } from "./step-model";

/** Turns an image and variant into the reference a step's container runs, e.g. via agent-images/versions.json. */
export type ResolveImage = (ref: { readonly name: string; readonly variant: string }) => string;

/** What {@link stepsForPipeline} needs besides the pipeline. */
export interface StepsContext {
    readonly config: PlatformConfig;
    readonly resolveImage: ResolveImage;
    readonly graph: TriggerGraph;
}

/** A document an agent uploads, and the stored step that uploads it. */
export interface UploadedDocument {
    /** Key of the stored step that uploads it. */
    readonly stepKey: string;
    /** The YAML the agent uploads (the stored step's {@link UPLOAD_ENV_VAR}). */
    readonly yaml: string;
    /** The same steps, as the model. */
    readonly steps: readonly Step[];
}

/** A pipeline's generated steps. */
export interface PipelineSteps {
    readonly slug: string;
    /** The YAML set on the pipeline. */
    readonly stored: string;
    /** The stored steps, as the model. */
    readonly storedSteps: readonly Step[];
    /** The documents stored steps upload, in stored-step order. */
    readonly uploaded: readonly UploadedDocument[];
}

/** The variable a stored upload step carries its document in. */
export const UPLOAD_ENV_VAR = "CI_PLATFORM_PIPELINE_YAML";

/** What a trigger step passes to the child build, as build env. */
export const PARENT_ENV = {
    pipeline: "CI_PLATFORM_PARENT_PIPELINE",
    buildId: "CI_PLATFORM_PARENT_BUILD_ID",
    jobId: "CI_PLATFORM_PARENT_JOB_ID",
    commit: "CI_PLATFORM_PARENT_COMMIT",
    branch: "CI_PLATFORM_PARENT_BRANCH",
    tag: "CI_PLATFORM_PARENT_TAG",
    release: "CI_PLATFORM_RELEASE",
} as const;

/** The block step of a gated child applies to triggered builds whose parent was not a release. */
export const RELEASE_GATE_IF = `build.source == "trigger_job" && build.env("${PARENT_ENV.release}") != "true"`;
/** Steps that run only for tags. */
export const RELEASE_ONLY_IF = "build.tag != null";
/** A monorepo runs every package on its default branch and on tags. */
export const EVERYTHING_IF = "build.branch == pipeline.default_branch || build.tag != null";
/** Elsewhere, packages run only when a change can affect them. */
export const CHANGED_ONLY_IF = "build.branch != pipeline.default_branch && build.tag == null";

/** Paths whose change affects every package of a monorepo: the pipeline's own definition in the repository. */
export const PIPELINE_DEFINITION_PATHS = [".buildkite/"] as const;

/** Timeout of steps that only upload steps. */
const UPLOAD_TIMEOUT_MINUTES = 10;

/** Escapes `$` as `$$`, so `buildkite-agent pipeline upload` hands the text to the job unchanged. */
export function escapeForUpload(text: string): string {
    return text.replace(/\$/g, "$$$$");
}

const escapeRecord = (r: Readonly<Record<string, string>>) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, escapeForUpload(v)]));

function container(resolveImage: ResolveImage, ref: { name: string; variant: string }, escape: boolean): StepContainer {
    const image = resolveImage(ref);
    return {
        image: escape ? escapeForUpload(image) : image,
        expandVars: image.includes("$"),
        ecrLogin: /\.dkr\.ecr\.|CI_PLATFORM_ECR_REGISTRY/.test(image),
    };
}

/** A stored command step that uploads `doc` through the agent. `prelude` runs first (e.g. exports it reads). */
function uploadStep(
    pipeline: PipelineConfig,
    key: string,
    label: string,
    steps: readonly Step[],
    extra: { if?: string; prelude?: readonly string[] } = {},
): { step: CommandSpec; doc: UploadedDocument } {
    const yaml = renderPipeline({ steps });
    return {
        step: {
            kind: "command",
            key,
            label,
            if: extra.if,
            queue: pipeline.queue,
            commands: [
                ...(extra.prelude ?? []),
                `printf '%s\\n' "$${UPLOAD_ENV_VAR}" | buildkite-agent pipeline upload`,
            ],
            env: { [UPLOAD_ENV_VAR]: yaml },
            timeoutInMinutes: UPLOAD_TIMEOUT_MINUTES,
        },
        doc: { stepKey: key, yaml, steps },
    };
}

/** The trigger step of one edge, for a document an agent uploads (its `$BUILDKITE_*` are interpolated then). */
export function triggerStep(edge: TriggerEdge, parent: PipelineConfig, child: PipelineConfig): TriggerSpec {
    const sameRepository = parent.repository === child.repository;
    return {
        kind: "trigger",
        key: edge.key,
        label: escapeForUpload(edge.label ?? `:rocket: ${child.name ?? child.slug}`),
        pipeline: edge.to,
        async: edge.async,
        dependsOn: edge.dependsOn,
        branches: edge.branches,
        build: {
            // A child building another repository keeps its own default branch; the parent's commit and branch
            // reach it as env. A child of the same repository builds the parent's commit.
            commit: sameRepository ? "$BUILDKITE_COMMIT" : undefined,
            branch: sameRepository ? "$BUILDKITE_BRANCH" : undefined,
            message: "$BUILDKITE_MESSAGE",
            env: {
                ...escapeRecord(edge.env),
                [PARENT_ENV.pipeline]: "$BUILDKITE_PIPELINE_SLUG",
                [PARENT_ENV.buildId]: "$BUILDKITE_BUILD_ID",
                [PARENT_ENV.jobId]: "$BUILDKITE_JOB_ID",
                [PARENT_ENV.commit]: "$BUILDKITE_COMMIT",
                [PARENT_ENV.branch]: "$BUILDKITE_BRANCH",
                [PARENT_ENV.tag]: "${BUILDKITE_TAG:-}",
                [PARENT_ENV.release]: `$${PARENT_ENV.release}`,
            },
        },
    };
}

/** The shell lines that set {@link PARENT_ENV.release} before the trigger document is uploaded. */
export const RELEASE_PRELUDE = [
    `export ${PARENT_ENV.release}=false`,
    `if [ -n "\${BUILDKITE_TAG:-}" ]; then ${PARENT_ENV.release}=true; fi`,
] as const;

/** One command step per package; `ifChanged` decides whether each carries its `if_changed` patterns. */
function packageSteps(pipeline: PipelineConfig, ctx: StepsContext, ifChanged: boolean): Step[] {
    const planned = planMonorepo(
        pipeline.packages.map((p) => ({ name: p.name, path: p.path, dependsOn: p.dependsOn })),
        [...PIPELINE_DEFINITION_PATHS, ...pipeline.alwaysRebuildPaths],
    );
    if (!planned.ok)
        throw new Error(
            `pipeline "${pipeline.slug}": ${planned.error.map((i) => `${i.path}: ${i.message}`).join("; ")}`,
        );
    const byName = new Map(pipeline.packages.map((p) => [p.name, p]));
    return planned.value.map((plan): Step => {
        const pkg = byName.get(plan.name) as PipelineConfig["packages"][number];
        const image = pkg.image ?? pipeline.image;
        const command = (pkg.command ?? pipeline.packageCommand)
            .replace(/\{name\}/g, pkg.name)
            .replace(/\{path\}/g, pkg.path);
        return {
            kind: "command",
            // Package names are letters, digits, ".", "_" and "-", all valid in step keys, so keys stay unique.
            key: `package-${pkg.name}`,
            label: escapeForUpload(`:package: ${pkg.name}`),
            queue: pipeline.queue,
            commands: [escapeForUpload(command)],
            container: image ? container(ctx.resolveImage, image, true) : undefined,
            env: {
                CI_PLATFORM_PACKAGE: escapeForUpload(pkg.name),
                CI_PLATFORM_PACKAGE_PATH: escapeForUpload(pkg.path),
            },
            ifChanged: ifChanged ? [...plan.ifChanged] : undefined,
        };
    });
}

/**
 * The steps of one pipeline: the stored document and the documents its stored steps upload.
 *
 * @throws {Error} when the config holds what its checks should have refused (an unknown child, a package cycle).
 */
export function stepsForPipeline(pipeline: PipelineConfig, ctx: StepsContext): PipelineSteps {
    const stored: Step[] = [];
    const uploaded: UploadedDocument[] = [];
    const add = ({ step, doc }: { step: CommandSpec; doc: UploadedDocument }) => {
        stored.push(step);
        uploaded.push(doc);
    };

    if (pipeline.gate === "release") {
        stored.push({
            kind: "block",
            key: "release-gate",
            label: ":lock: Release gate",
            prompt: "Triggered by a build that is not a release: unblock to run this build anyway.",
            if: RELEASE_GATE_IF,
        });
    }

    if (pipeline.packages.length === 0) {
        stored.push({
            kind: "command",
            key: "upload",
            label: ":pipeline: Upload",
            queue: pipeline.queue,
            commands: ["buildkite-agent pipeline upload"],
            timeoutInMinutes: UPLOAD_TIMEOUT_MINUTES,
        });
    } else {
        add(
            uploadStep(pipeline, "packages-all", ":package: Every package", packageSteps(pipeline, ctx, false), {
                if: EVERYTHING_IF,
            }),
        );
        add(
            uploadStep(pipeline, "packages-changed", ":package: Affected packages", packageSteps(pipeline, ctx, true), {
                if: CHANGED_ONLY_IF,
            }),
        );
    }

    const edges = childrenOf(ctx.graph, pipeline.slug);
    if (edges.length > 0) {
        const bySlug = new Map(ctx.config.pipelines.map((p) => [p.slug, p]));
        const triggers = edges.map((edge) => {
            const child = bySlug.get(edge.to);
            if (child === undefined) throw new Error(`pipeline "${pipeline.slug}" triggers unknown "${edge.to}"`);
            return triggerStep(edge, pipeline, child);
        });
        stored.push({ kind: "wait" });
        add(uploadStep(pipeline, "triggers", ":rocket: Trigger", triggers, { prelude: RELEASE_PRELUDE }));
        stored.push({ kind: "wait" });
        stored.push({
            kind: "command",
            key: "release-artifacts",
            label: ":package: Release artifacts",
            if: RELEASE_ONLY_IF,
            queue: pipeline.queue,
            commands: ['buildkite-agent artifact download "dist/*" dist/', ".buildkite/release-artifacts.sh"],
            container: pipeline.image ? container(ctx.resolveImage, pipeline.image, false) : undefined,
            artifactPaths: ["dist/*"],
        });
    }

    return {
        slug: pipeline.slug,
        stored: renderPipeline({ env: pipeline.env, steps: stored }),
        storedSteps: stored,
        uploaded,
    };
}

/** Every pipeline's steps, by slug, in config order. */
export function stepsForPlatform(
    config: PlatformConfig,
    graph: TriggerGraph,
    resolveImage: ResolveImage,
): Record<string, PipelineSteps> {
    const ctx: StepsContext = { config, graph, resolveImage };
    return Object.fromEntries(config.pipelines.map((p) => [p.slug, stepsForPipeline(p, ctx)]));
}

// ---------------------------------------------------------------------------------------------------------------
// In brief, for the plan

function condition(step: Step): string {
    if (step.if === RELEASE_ONLY_IF) return " [tag]";
    if (step.if === RELEASE_GATE_IF) return " [triggered by a non-release build]";
    if (step.if === EVERYTHING_IF) return " [default branch or tag]";
    if (step.if === CHANGED_ONLY_IF) return " [other branches]";
    if (step.if !== undefined) return ` [if ${step.if}]`;
    if (step.branches !== undefined) return ` [branches ${step.branches}]`;
    return "";
}

function briefStep(step: Step, uploads: ReadonlyMap<string, UploadedDocument>): string {
    const when = condition(step);
    switch (step.kind) {
        case "wait":
            return "wait";
        case "block":
            return `block${when}`;
        case "input":
            return `input ${step.key ?? step.label}${when}`;
        case "trigger": {
            const notes = [
                step.key ?? "",
                step.dependsOn?.length ? `after ${step.dependsOn.join(", ")}` : "",
                step.async ? "async" : "",
            ]
                .filter(Boolean)
                .join(", ");
            return `trigger ${step.pipeline}${notes ? ` (${notes})` : ""}${when}`;
        }
        case "group":
            return `group ${step.key ?? step.label} { ${step.steps.map((s) => briefStep(s, uploads)).join(" → ")} }`;
        case "command": {
            const doc = step.key !== undefined ? uploads.get(step.key) : undefined;
            const changed = step.ifChanged !== undefined ? " [if changed]" : "";
            const name = step.key ?? step.label;
            if (doc === undefined) return `${name}${when}${changed}`;
            return `${name}${when} { ${doc.steps.map((s) => briefStep(s, uploads)).join(" → ")} }`;
        }
        default: {
            const unhandled: never = step;
            throw new Error(`unhandled step ${JSON.stringify(unhandled)}`);
        }
    }
}

/** One line: `slug: upload → wait → triggers { trigger a → trigger b (after a) } → wait → release-artifacts [tag]`. */
export function briefSteps(steps: PipelineSteps): string {
    const uploads = new Map(steps.uploaded.map((d) => [d.stepKey, d]));
    return `${steps.slug}: ${steps.storedSteps.map((s) => briefStep(s, uploads)).join(" → ")}`;
}
