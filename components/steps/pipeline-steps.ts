/**
 * Every pipeline's steps, generated from the config: the CI patterns of the systems the platform serves, declared
 * in one place.
 *
 * Pure module: a validated config (plus an image resolver) in, YAML documents out.
 *
 * ## Two kinds of document
 *
 * - The STORED document is set on the Buildkite pipeline (`steps`). Buildkite reads it itself, when a build is
 *   created: no agent is involved, so agent-applied attributes (`if_changed`) are refused there. Buildkite DOES
 *   interpolate it then, with only a short list of `BUILDKITE_*` variables known (buildkite/docs
 *   pages/pipelines/configure/environment_variables.md "Variable interpolation": the YAML Steps editor's subset,
 *   "the interpolation happens before the build is created"), so the steps are written here as the job should
 *   see them and {@link renderStoredPipeline} doubles every `$` of the stored YAML once, in one place. It holds
 *   only conditionals (`if:`, evaluated by Buildkite), block and wait steps, and command steps. In a cluster that
 *   signs, the pipeline stores instead ONE step that uploads this document, base64 encoded, so that what the program
 *   signs holds no `$` (stored-upload.ts); the upload interpolates the document as build creation did.
 * - UPLOADED documents are embedded in a stored command step's `env` ({@link UPLOAD_ENV_VAR}); the step pipes the
 *   variable to `buildkite-agent pipeline upload`. The agent then interpolates the parent build's variables
 *   (`$BUILDKITE_BUILD_ID`, `$BUILDKITE_COMMIT`...) into trigger steps and applies `if_changed` to package steps.
 *   In these documents every `$` the program does not mean for upload time (commands, image references, labels,
 *   user-given env values) is written `$$`, so the job receives it unchanged ({@link escapeForUpload}); the
 *   stored render doubles it again (`$$$$` in the pipeline's YAML), which build creation halves back to `$$`.
 *
 * ## What each pipeline gets
 *
 * - A gated child (`gate: release`) starts, in builds created by a trigger step ({@link TRIGGERED_IF}), with a
 *   release check ({@link releaseCheckScript}): unless the build is a release by facts no job can set, it uploads
 *   a block step that holds the rest of the build. Builds started by hand, by a webhook or by a schedule run
 *   straight through.
 * - Its own build: the repository's `buildkite-agent pipeline upload`, or for a monorepo one step per package.
 * - A parent: a wait, then one upload step of trigger steps, then a wait, and a release-artifacts step that runs
 *   only on tag builds ({@link RELEASE_ONLY_IF}).
 *
 * ## Artifacts between builds, and the release flow
 *
 * Each pipeline declares what its builds produce (`pipelines[].artifacts`). Every trigger step passes the child
 * the id of the build it downloads from, {@link PARENT_ENV.artifactsBuildId}. A trigger that `dependsOn` a sibling
 * trigger whose child declares artifacts downloads from that sibling's build (the Raspberry Pi image downloads the
 * `.deb` of the Debian build). A trigger step cannot learn the id of the build it creates, so such a trigger is not
 * the parent's: the SIBLING's build runs it at its end ({@link chainedTriggers}), passing its own
 * `$BUILDKITE_BUILD_ID` and forwarding the parent's env (tag, commit, parent ids). Only documented behaviour is
 * used: a build's own id and env, read by its own `pipeline upload`. The parent's trigger of the sibling waits for
 * the sibling's build, which waits for the chained trigger's build, so the parent's later steps still follow all.
 * A gated sibling that stops at its gate runs no chained trigger: the dependent build is created only once the
 * sibling's build (and so its artifacts) exists. Limits: a chained trigger follows its source build only (other
 * `dependsOn` keys are not waited for), and its `branches` filter, which names the parent's branches, is not
 * applied (the sibling's build is on the sibling's own branch).
 * A triggered build has no tag (a trigger step's `build` takes branch, commit, env, message and meta_data only:
 * buildkite docs "trigger step"), so a tag-conditional step in a child never runs. Instead every gated child that
 * declares artifacts gets a release step that, after its own build and only when the release check holds again,
 * downloads its artifacts and uploads them to the GitHub release of the parent's tag ({@link releaseCommands}),
 * with the pipeline secret {@link RELEASE_TOKEN_VAR}.
 *
 * ## The release gate, and what it trusts
 *
 * Threat: anyone whose code runs in a build of a parent pipeline (a pull request's `.buildkite/pipeline.yml`, fork
 * pull requests of public repositories included) can upload a trigger step of a gated child with any `build.env`.
 * Everything a trigger step passes (`CI_PLATFORM_*`) is therefore a claim, never a fact. A release is decided,
 * at run time on the agent, from facts no job can set ({@link releaseCheckScript}):
 * - `BUILDKITE_TRIGGERED_FROM_BUILD_ID` and `..._PIPELINE_SLUG` are Buildkite's standard variables, which take
 *   precedence over a build's env (buildkite/docs pages/pipelines/configure/environment_variables.md, "Job
 *   environment": Standard after Build; data/content/environment_variables.yaml: `modifiable: false`). The slug must
 *   name a pipeline that triggers this child in the config, and the claimed artifacts build must be that build.
 * - The claimed tag must exist in the parent's ORIGIN repository (the URL comes from the config, not the build)
 *   and point at the claimed commit: `git ls-remote`, in an emptied environment so that no build env
 *   (`GIT_CONFIG_PARAMETERS`, `url.*.insteadOf`, `HOME`) can redirect it. Who can push tags to the parent's
 *   repository decides what is a release: protect release tags on GitHub (tag rulesets).
 * - The triggering build IS the build of that tag: Buildkite's REST API ("Get a build", by
 *   `BUILDKITE_TRIGGERED_FROM_BUILD_NUMBER`, with a `read_builds` token, {@link RELEASE_READ_TOKEN_VAR}) must show
 *   that build's id, the claimed commit, the tag as its branch, and no pull request. Without this, a pull request
 *   build of the parent (its code, its artifacts) could claim an existing tag and have its artifacts released.
 *   For a chained trigger the triggering build is the sibling's: it must have been created by a trigger step of
 *   the parent's build, which must then be the tag's build.
 *
 * @module
 */
import { releaseQueue } from "../config/access-checks";
import { RELEASE_READ_TOKEN_VAR } from "../config/release-checks";
import { PipelineConfig, PlatformConfig } from "../config/schema";
import { TriggerEdge, TriggerGraph, childrenOf, parentsOf } from "../graph/trigger-graph";
import {
    ARTIFACT_PLAN_VAR,
    artifactPaths,
    artifactPlanOf,
    artifactSourcesScript,
    downloadCommands,
    packageCommandOf,
    packageStepKey,
} from "./artifact-sources";
import { planMonorepo } from "./monorepo";
import { CommandSpec, Step, StepContainer, TriggerSpec, renderPipeline, renderStoredPipeline } from "./step-model";
import { storedUploadStep } from "./stored-upload";

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
    /**
     * The YAML set on the pipeline: the generated document, or in a cluster that signs, {@link storedUpload} alone,
     * which uploads that document.
     */
    readonly stored: string;
    /**
     * The generated document as YAML in its stored form (every `$` doubled, for build creation or the upload to
     * halve): {@link stored} itself, or what {@link storedUpload} uploads.
     */
    readonly document: string;
    /** The generated document's steps, as the model (stored, or uploaded by {@link storedUpload}). */
    readonly storedSteps: readonly Step[];
    /** The documents those steps upload, in step order. */
    readonly uploaded: readonly UploadedDocument[];
    /**
     * In a cluster that signs, the one stored step, which uploads the generated document (stored-upload.ts): the
     * program signs it, the fleet of its queue signs what it uploads. Absent elsewhere.
     */
    readonly storedUpload?: CommandSpec;
}

/**
 * The keys of the steps that hold or decide a release: the gated child's check and upload, the parent's tag step.
 * The fleets' environment hook turns repository hooks off for them (hooks/environment; buildkite/agent v3.137.0
 * internal/job/executor.go: an agent hook may set BUILDKITE_NO_LOCAL_HOOKS=true, and a hook can override any variable
 * the release check reads, Buildkite's own BUILDKITE_TRIGGERED_FROM_* included). Buildkite sets BUILDKITE_STEP_KEY,
 * and keys are unique in a build, so no uploaded step takes these keys from the stored ones.
 */
export const RELEASE_STEP_KEYS = ["release-check", "release-upload", "release-artifacts", "release-publish"] as const;

export const UPLOAD_ENV_VAR = "CI_PLATFORM_PIPELINE_YAML";

/** What a trigger step passes to the child build, as build env. */
export const PARENT_ENV = {
    pipeline: "CI_PLATFORM_PARENT_PIPELINE",
    buildId: "CI_PLATFORM_PARENT_BUILD_ID",
    jobId: "CI_PLATFORM_PARENT_JOB_ID",
    commit: "CI_PLATFORM_PARENT_COMMIT",
    branch: "CI_PLATFORM_PARENT_BRANCH",
    tag: "CI_PLATFORM_PARENT_TAG",
    /** `owner/name` of the parent's repository: where a release step uploads. */
    repository: "CI_PLATFORM_PARENT_REPOSITORY",
    /** The key of the trigger step that created the build. */
    triggerKey: "CI_PLATFORM_TRIGGER_KEY",
    /** The id of the build whose artifacts this build downloads (the parent's, or a sibling's). */
    artifactsBuildId: "CI_PLATFORM_ARTIFACTS_BUILD_ID",
} as const;

/** The pipeline secret (an env var from the secrets bucket) a release step uploads to GitHub with. */
export const RELEASE_TOKEN_VAR = "GITHUB_RELEASE_TOKEN";

/**
 * The pipeline secret the release check reads the triggering build with (a `read_builds` token); every gated child
 * a trigger reaches needs it (components/config/release-checks.ts).
 */
export { RELEASE_READ_TOKEN_VAR };

/** Buildkite's REST API, which the release check reads builds from (baked into the script, never from the env). */
export const BUILDKITE_API_URL = "https://api.buildkite.com/v2";

/** Builds created by a trigger step: the only builds a gated child checks, and the only ones it can release in. */
export const TRIGGERED_IF = 'build.source == "trigger_job"';
/** A sibling's chained trigger runs only in a build that `parent`'s trigger `key` created. */
export const CHAINED_IF = (parent: string, key: string): string =>
    `build.source == "trigger_job" && build.env("${PARENT_ENV.pipeline}") == "${parent}" && build.env("${PARENT_ENV.triggerKey}") == "${key}"`;
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

/**
 * The names of the secret variables a pipeline's jobs get from the secrets bucket: `env` keys and `files` names,
 * the organisation's and the pipeline's (elastic-ci-stack-s3-secrets-hooks v2.8.0 README "Individual Secrets": "the
 * object key becomes the environment variable name"; `env` entries are the `environment` file's variables). Names
 * only, sorted.
 */
export function secretEnvNames(config: PlatformConfig, slug: string): string[] {
    const names = new Set<string>();
    for (const set of [config.secrets.organization, config.secrets.pipelines[slug]])
        for (const entries of [set?.env, set?.files]) for (const name of Object.keys(entries ?? {})) names.add(name);
    return [...names].sort();
}

/**
 * The secret names a step's container gets: {@link secretEnvNames}, less the pipeline's publish-only secrets
 * (`publish.secrets`) unless the step is the publish step itself.
 */
function containerSecretNames(config: PlatformConfig, pipeline: PipelineConfig, publishing: boolean): string[] {
    const publishOnly = new Set(publishing ? [] : (pipeline.publish?.secrets ?? []));
    return secretEnvNames(config, pipeline.slug).filter((n) => !publishOnly.has(n));
}

function container(
    ctx: StepsContext,
    pipeline: PipelineConfig,
    ref: { name: string; variant: string },
    escape: boolean,
    publishing = false,
): StepContainer {
    const image = ctx.resolveImage(ref);
    return {
        image: escape ? escapeForUpload(image) : image,
        expandVars: image.includes("$"),
        ecrLogin: /\.dkr\.ecr\.|CI_PLATFORM_ECR_REGISTRY/.test(image),
        // The secrets hook exports them in the environment hook: the docker plugin's propagate-environment misses
        // them, so they are named (never valued) here.
        environment: containerSecretNames(ctx.config, pipeline, publishing),
    };
}

/** A stored command step that uploads `doc` through the agent. `prelude` runs first (e.g. exports it reads). */
function uploadStep(
    pipeline: PipelineConfig,
    key: string,
    label: string,
    steps: readonly Step[],
    extra: {
        if?: string;
        prelude?: readonly string[];
        queue?: string;
        /** Commands that upload the document in place of the plain upload, and the env they read besides it. */
        upload?: { readonly commands: readonly string[]; readonly env: Readonly<Record<string, string>> };
    } = {},
): { step: CommandSpec; doc: UploadedDocument } {
    const yaml = renderPipeline({ steps });
    return {
        step: {
            kind: "command",
            key,
            label,
            if: extra.if,
            queue: extra.queue ?? pipeline.queue,
            commands: [
                ...(extra.prelude ?? []),
                ...(extra.upload?.commands ?? [
                    `printf '%s\\n' "$${UPLOAD_ENV_VAR}" | buildkite-agent pipeline upload`,
                ]),
            ],
            env: { [UPLOAD_ENV_VAR]: yaml, ...extra.upload?.env },
            timeoutInMinutes: UPLOAD_TIMEOUT_MINUTES,
        },
        doc: { stepKey: key, yaml, steps },
    };
}

/**
 * The sibling trigger whose build `edge`'s child downloads from: the first of its `dependsOn` whose child declares
 * artifacts; undefined when it downloads from the parent's build.
 */
export function artifactSource(
    edge: TriggerEdge,
    siblings: readonly TriggerEdge[],
    bySlug: ReadonlyMap<string, PipelineConfig>,
): TriggerEdge | undefined {
    for (const key of edge.dependsOn) {
        const sibling = siblings.find((s) => s.key === key);
        if (sibling !== undefined && (bySlug.get(sibling.to)?.artifacts.length ?? 0) > 0) return sibling;
    }
    return undefined;
}

/** The trigger a sibling's build runs for a parent, and the sibling's edge it downloads from. */
export interface ChainedTrigger {
    /** The pipeline whose config declares the trigger. */
    readonly parent: PipelineConfig;
    /** The parent's trigger of the pipeline that runs the chained trigger. */
    readonly via: TriggerEdge;
    /** The chained trigger itself. */
    readonly edge: TriggerEdge;
}

/** The triggers `slug`'s builds run at their end on behalf of its parents: those that download from its build. */
export function chainedTriggers(
    slug: string,
    graph: TriggerGraph,
    bySlug: ReadonlyMap<string, PipelineConfig>,
): ChainedTrigger[] {
    return parentsOf(graph, slug).flatMap((via) => {
        const parent = bySlug.get(via.from);
        const siblings = childrenOf(graph, via.from);
        if (parent === undefined) return [];
        return siblings
            .filter((s) => artifactSource(s, siblings, bySlug)?.key === via.key)
            .map((edge) => ({ parent, via, edge }));
    });
}

/**
 * The key a parent's trigger step `depends_on` stands for in the parent's own document: a chained trigger is run
 * by its source's build, which the parent's trigger of that source waits for.
 */
function keyInParent(key: string, edges: readonly TriggerEdge[], bySlug: ReadonlyMap<string, PipelineConfig>): string {
    const seen = new Set<string>();
    let current = edges.find((e) => e.key === key);
    // The config checks refuse dependsOn cycles; `seen` only guards against looping on one they missed.
    while (current !== undefined && !seen.has(current.key)) {
        seen.add(current.key);
        const source = artifactSource(current, edges, bySlug);
        if (source === undefined) return current.key;
        current = source;
    }
    return current?.key ?? key;
}

/**
 * The trigger step of one edge, for a document an agent uploads (its `$VAR`s are interpolated then). `from` is
 * `parent` for the parent's own trigger, `sibling` for a chained trigger run by a sibling's build, which forwards
 * the parent's values it received and passes its own build as the one to download from.
 */
export function triggerStep(
    edge: TriggerEdge,
    parent: PipelineConfig,
    child: PipelineConfig,
    from: "parent" | "sibling" = "parent",
): TriggerSpec {
    const sameRepository = parent.repository === child.repository;
    const own = from === "parent";
    const commit = own ? "$BUILDKITE_COMMIT" : `$${PARENT_ENV.commit}`;
    const branch = own ? "$BUILDKITE_BRANCH" : `$${PARENT_ENV.branch}`;
    return {
        kind: "trigger",
        key: edge.key,
        label: escapeForUpload(edge.label ?? `:rocket: ${child.name ?? child.slug}`),
        pipeline: edge.to,
        async: edge.async,
        dependsOn: edge.dependsOn,
        // A branch filter names the parent's branches: a sibling's build is on its own branch, so it tests none.
        branches: own ? edge.branches : undefined,
        build: {
            // A child building another repository keeps its own default branch; the parent's commit and branch
            // reach it as env. A child of the same repository builds the parent's commit.
            commit: sameRepository ? commit : undefined,
            branch: sameRepository ? branch : undefined,
            message: "$BUILDKITE_MESSAGE",
            env: {
                ...escapeRecord(edge.env),
                [PARENT_ENV.pipeline]: own ? "$BUILDKITE_PIPELINE_SLUG" : `$${PARENT_ENV.pipeline}`,
                [PARENT_ENV.buildId]: own ? "$BUILDKITE_BUILD_ID" : `$${PARENT_ENV.buildId}`,
                [PARENT_ENV.jobId]: own ? "$BUILDKITE_JOB_ID" : `$${PARENT_ENV.jobId}`,
                [PARENT_ENV.commit]: commit,
                [PARENT_ENV.branch]: branch,
                [PARENT_ENV.tag]: own ? "${BUILDKITE_TAG:-}" : `\${${PARENT_ENV.tag}:-}`,
                [PARENT_ENV.repository]: escapeForUpload(parent.repository),
                [PARENT_ENV.triggerKey]: escapeForUpload(edge.key),
                // The parent's own build, or (chained) the sibling's build that runs this step.
                [PARENT_ENV.artifactsBuildId]: "$BUILDKITE_BUILD_ID",
            },
        },
    };
}

/** A pipeline whose builds may trigger a gated child as a release, and the repository whose tags make one. */
export interface ReleaseSource {
    /** Slug of the pipeline whose build runs the trigger step (the parent, or the sibling of a chained trigger). */
    readonly pipeline: string;
    /** Slug of the parent: the pipeline whose build of the tag the release comes from. */
    readonly parent: string;
    /** `owner/name` of the parent's repository: where the tag must exist and the release is uploaded. */
    readonly repository: string;
    /** Whether that repository can be read without credentials. */
    readonly publicRepository: boolean;
}

/**
 * Which builds may release `slug`: for each parent's trigger of it, the pipeline whose build runs that trigger (the
 * parent, or the sibling whose build runs it as a chained trigger) and the parent's repository. Sorted, unique.
 */
export function releaseSources(
    slug: string,
    graph: TriggerGraph,
    bySlug: ReadonlyMap<string, PipelineConfig>,
): ReleaseSource[] {
    const sources = new Map<string, ReleaseSource>();
    for (const via of parentsOf(graph, slug)) {
        const parent = bySlug.get(via.from);
        if (parent === undefined) continue;
        const runner = artifactSource(via, childrenOf(graph, via.from), bySlug)?.to ?? parent.slug;
        const source = {
            pipeline: runner,
            parent: parent.slug,
            repository: parent.repository,
            publicRepository: parent.publicRepository,
        };
        sources.set(`${runner} ${parent.repository}`, source);
    }
    return [...sources.values()].sort((a, b) =>
        `${a.pipeline} ${a.repository}` < `${b.pipeline} ${b.repository}` ? -1 : 1,
    );
}

/** The first line of the release check's command: the simulator recognises the command by it. */
export const RELEASE_CHECK_MARKER = "# ci-platform: release check";

/** The git URL the release check reads a source repository's tags from. */
export const releaseOriginUrl = (repository: string): string => `https://github.com/${repository}.git`;

/** Where and as whom the release check reads builds (baked into the script: a trigger step can set any env). */
export interface ReleaseCheckTarget {
    /** The Buildkite organization slug (`ci-platform:organization`). */
    readonly organization: string;
    /** Buildkite's REST API base URL; tests point it at a local server. */
    readonly api?: string;
    /** Each source repository's git URL; tests point it at a local repository. */
    readonly origin?: (repository: string) => string;
}

/** A build of a pull request: the REST API's `pull_request` is null for other builds, or carries no `id`. */
const JQ_PULL_REQUEST = "def pr: (.pull_request // {}) | (.id // null);";
/** The verdict on the tag's build: `ok`, or why not (a jq error, e.g. a body that is not JSON, prints nothing). */
const JQ_TAG_BUILD = [
    JQ_PULL_REQUEST,
    'if type != "object" then "is not a build"',
    'elif .id != $id then "is build \\(.id), not the triggering build \\($id)"',
    'elif pr != null then "is a build of pull request \\(pr)"',
    'elif .commit != $commit then "built commit \\(.commit), not \\($commit)"',
    'elif .branch != $tag then "built branch \\(.branch), not the tag \\($tag)"',
    'else "ok" end',
].join(" ");
/** The verdict on a chained trigger's sibling build: `ok NUMBER ID` of the parent's build that triggered it. */
const JQ_SIBLING_BUILD = [
    JQ_PULL_REQUEST,
    'if type != "object" then "is not a build"',
    'elif .id != $id then "is build \\(.id), not the triggering build \\($id)"',
    'elif pr != null then "is a build of pull request \\(pr)"',
    'elif .source != "trigger_job" then "was not created by a trigger step (source \\(.source))"',
    'elif .triggered_from.build_pipeline_slug != $parent then "was not triggered from \\($parent)"',
    'else "ok \\(.triggered_from.build_number) \\(.triggered_from.build_id)" end',
].join(" ");

/**
 * The shell function `ci_platform_release`: succeeds, setting `release_repository` and `release_tag`, only when
 * this build is a release by facts no job can set (module doc, "The release gate"); otherwise prints why and
 * fails.
 *
 * - `BUILDKITE_TRIGGERED_FROM_BUILD_PIPELINE_SLUG` picks the source; the repository and the parent come from this
 *   script.
 * - `CI_PLATFORM_ARTIFACTS_BUILD_ID` (what the child builds from) must be `BUILDKITE_TRIGGERED_FROM_BUILD_ID`.
 * - The tag is a plain tag name (no `*`, `..`, spaces or option-like `-`), the commit a full SHA-1.
 * - `git ls-remote` (git-ls-remote(1): prints `<oid> TAB <ref>`; an annotated tag also lists `<ref>^{}`, the
 *   commit it points to) runs under `env -i` with a fixed PATH, `HOME` pointing nowhere and
 *   `GIT_CONFIG_NOSYSTEM` (git-config(1): no system, global or parameter config is read then), so no variable of
 *   the build can rewrite the URL. A private repository needs the host's credential helper, which the Elastic CI
 *   Stack's s3-secrets hook passes in `GIT_CONFIG_PARAMETERS` (elastic-ci-stack-s3-secrets-hooks v2.8.0
 *   s3secrets-helper/secrets/secrets.go), so that one variable is kept for private sources only.
 * - The triggering build, read from Buildkite's REST API (buildkite/docs pages/apis/rest_api/builds.md "Get a
 *   build": `GET /v2/organizations/{org}/pipelines/{slug}/builds/{number}`, scope `read_builds`; fields `id`,
 *   `commit`, `branch`, `source`, `pull_request`), by `BUILDKITE_TRIGGERED_FROM_BUILD_NUMBER` (buildkite/docs
 *   data/content/environment_variables.yaml: the triggering build's number, `modifiable: false`): its `id` is
 *   `BUILDKITE_TRIGGERED_FROM_BUILD_ID`, its `commit` the claimed one, its `branch` the tag (environment_variables.yaml
 *   BUILDKITE_BRANCH: a GitHub tag push builds with the tag name as branch), and it is no pull request's. For a
 *   chained source (the sibling's build ran the trigger) the sibling's build must itself be no pull request's,
 *   created by a trigger step (`source` `trigger_job`) of the parent, and the parent's build it names
 *   (`triggered_from` `build_pipeline_slug`/`build_number`/`build_id`: buildkite/go-buildkite builds.go
 *   `TriggeredFrom`, which the docs page does not list; absent, the check fails closed) is then checked as above.
 *   curl runs under `env -i` too (no proxy, `.curlrc` (`-q`) or CA variables of the build), the token goes in on
 *   stdin (`-H @-`, curl 7.55+), never on the command line; `-f` fails on an HTTP error, and jq, given anything
 *   but the build it expects, prints no `ok`: unreachable, refused or malformed means not a release. The step runs
 *   on the agent host, not in a container: jq is on the Elastic CI Stack v6.71.1 Linux AMI
 *   (packer/linux/base/scripts/install-utils.sh), curl in its Amazon Linux 2023 base; a static fleet provides both.
 */
export function releaseCheckScript(sources: readonly ReleaseSource[], target: ReleaseCheckTarget): string {
    const origin = target.origin ?? releaseOriginUrl;
    const api = target.api ?? BUILDKITE_API_URL;
    // One arm per triggering pipeline (a `case` runs its first matching arm only), one inner arm per repository.
    const pipelines = [...new Set(sources.map((s) => s.pipeline))];
    const arms = pipelines.flatMap((pipeline) => [
        `    ${pipeline})`,
        '      case "$repository" in',
        ...sources
            .filter((s) => s.pipeline === pipeline)
            .map((s) => {
                const credentials = s.publicRepository
                    ? ""
                    : ' credentials="GIT_CONFIG_PARAMETERS=${GIT_CONFIG_PARAMETERS:-}"';
                return `        ${s.repository}) url="${origin(s.repository)}" parent="${s.parent}"${credentials} ;;`;
            }),
        "      esac ;;",
    ]);
    const number = "^[1-9][0-9]{0,11}$";
    return [
        RELEASE_CHECK_MARKER,
        // GET a build of a pipeline by number; the body on stdout, failing on any HTTP error.
        "ci_platform_build() {",
        `  printf 'Authorization: Bearer %s\\n' "\${${RELEASE_READ_TOKEN_VAR}:-}" | /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin:/opt/homebrew/bin HOME=/nonexistent curl -q -fsS --max-time 20 -H @- "${api}/organizations/${target.organization}/pipelines/$1/builds/$2?exclude_jobs=true&exclude_pipeline=true"`,
        "}",
        "ci_platform_release() {",
        '  local from="${BUILDKITE_TRIGGERED_FROM_BUILD_PIPELINE_SLUG:-}" repository="${CI_PLATFORM_PARENT_REPOSITORY:-}"',
        '  local tag="${CI_PLATFORM_PARENT_TAG:-}" commit="${CI_PLATFORM_PARENT_COMMIT:-}" url="" parent="" credentials="" refs target',
        '  local number="${BUILDKITE_TRIGGERED_FROM_BUILD_NUMBER:-}" id="${BUILDKITE_TRIGGERED_FROM_BUILD_ID:-}" build="" why="" ok=""',
        '  case "$from" in',
        ...arms,
        "  esac",
        "  if [ -z \"$url\" ]; then echo \"Not a release: triggered from pipeline '$from' for repository '$repository', which the config does not let release this pipeline.\" >&2; return 1; fi",
        '  if [ -z "$id" ] || [ "${CI_PLATFORM_ARTIFACTS_BUILD_ID:-}" != "$id" ]; then echo "Not a release: the artifacts would come from a build other than the one that triggered this build." >&2; return 1; fi',
        '  if ! [[ "$tag" =~ ^[A-Za-z0-9_][A-Za-z0-9._+/-]*$ ]] || [[ "$tag" == *..* ]]; then echo "Not a release: no tag, or not a plain tag name." >&2; return 1; fi',
        '  if ! [[ "$commit" =~ ^[0-9a-f]{40}$ ]]; then echo "Not a release: the commit is not a full SHA." >&2; return 1; fi',
        '  if ! refs="$(/usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin:/opt/homebrew/bin HOME=/nonexistent GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0 $credentials git ls-remote --tags "$url" "refs/tags/$tag" "refs/tags/$tag^{}")"; then echo "Not a release: cannot read the tags of $url." >&2; return 1; fi',
        '  target="$(printf \'%s\\n\' "$refs" | awk -v r="refs/tags/$tag^{}" \'$2 == r { print $1 }\')"',
        '  if [ -z "$target" ]; then target="$(printf \'%s\\n\' "$refs" | awk -v r="refs/tags/$tag" \'$2 == r { print $1 }\')"; fi',
        '  if [ "$target" != "$commit" ]; then echo "Not a release: tag $tag of $url is ${target:-absent}, not $commit." >&2; return 1; fi',
        // The triggering build, as Buildkite itself describes it.
        `  if ! [[ "$number" =~ ${number} ]]; then echo "Not a release: no triggering build number." >&2; return 1; fi`,
        '  if [ "$from" != "$parent" ]; then',
        '    if ! build="$(ci_platform_build "$from" "$number")"; then echo "Not a release: cannot read build $number of $from from Buildkite\'s REST API." >&2; return 1; fi',
        `    why="$(printf '%s' "$build" | jq -r --arg id "$id" --arg parent "$parent" '${JQ_SIBLING_BUILD}' 2>/dev/null)" || why=""`,
        '    if [[ "$why" != "ok "* ]]; then echo "Not a release: build $number of $from ${why:-is not a build the REST API describes}." >&2; return 1; fi',
        '    read -r ok number id <<< "$why"',
        `    if ! [[ "$number" =~ ${number} ]] || [ -z "$id" ]; then echo "Not a release: build $BUILDKITE_TRIGGERED_FROM_BUILD_NUMBER of $from names no build of $parent." >&2; return 1; fi`,
        "  fi",
        '  if ! build="$(ci_platform_build "$parent" "$number")"; then echo "Not a release: cannot read build $number of $parent from Buildkite\'s REST API." >&2; return 1; fi',
        `  why="$(printf '%s' "$build" | jq -r --arg id "$id" --arg commit "$commit" --arg tag "$tag" '${JQ_TAG_BUILD}' 2>/dev/null)" || why=""`,
        '  if [ "$why" != "ok" ]; then echo "Not a release: build $number of $parent ${why:-is not a build the REST API describes}." >&2; return 1; fi',
        '  release_repository="$repository"',
        '  release_tag="$tag"',
        '  echo "A release: tag $tag of $url points at $commit, and build $number of $parent, which built it, triggered this build."',
        "}",
    ].join("\n");
}

/** The block step the release check uploads in a build that is not a release. */
export const RELEASE_GATE_BLOCK = {
    key: "release-gate",
    label: ":lock: Release gate",
    prompt: "Triggered by a build that is not a release: unblock to run this build anyway.",
} as const;

/**
 * The release check's commands: the check, then, unless it holds, a block step uploaded right after this step
 * (buildkite/docs pages/agent/cli/reference/pipeline.md: uploaded steps are inserted after the uploading step), so
 * the wait that follows and everything after it stays blocked until someone unblocks it. A failed upload fails
 * the step, which stops the build too.
 */
export function releaseGateCommands(sources: readonly ReleaseSource[], target: ReleaseCheckTarget): string[] {
    const block = [
        "steps:",
        `  - block: "${RELEASE_GATE_BLOCK.label}"`,
        `    key: "${RELEASE_GATE_BLOCK.key}"`,
        `    prompt: "${RELEASE_GATE_BLOCK.prompt}"`,
    ];
    return [
        releaseCheckScript(sources, target),
        [
            "if ! ci_platform_release; then",
            `  printf '%s\\n' ${block.map((l) => `'${l}'`).join(" ")} | buildkite-agent pipeline upload`,
            "fi",
        ].join("\n"),
    ];
}

/**
 * The release step's commands: the release check ({@link releaseCheckScript}; not a release: nothing to do), then
 * download this build's own artifacts into the checkout, then add each file to the GitHub release of the parent's
 * tag through GitHub's REST API, with curl and jq (both on the Elastic CI Stack
 * v6.71.1 Linux AMI: packer/linux/base/scripts/install-utils.sh installs jq; curl is in the base image).
 * - Destination `.`: buildkite/agent v3.137.0 internal/artifact/download.go `targetPath` joins the destination with
 *   the artifact's own path (`dist/x.deb` lands in `./dist/x.deb`) and creates the directories it needs.
 * - `set -euo pipefail` first: the agent runs a step's `commands` as one script, so a failed lookup stops the step
 *   instead of surfacing as an upload to `/releases//assets`.
 * - Get or create: GitHub's "Get a release by tag name" returns published releases only, and nothing else creates
 *   one, so the release is looked up in "List releases" (which includes drafts for a token with push access) and
 *   created ("Create a release", `tag_name`) when missing. Sibling release steps run at once: a create that fails
 *   because another step just made the release (422) is tolerated, and the lookup repeated.
 * - Rerun: "Upload a release asset" answers 422 `already_exists` for a name already there, so an asset of the same
 *   name is deleted first ("Delete a release asset").
 */
export function releaseCommands(
    artifacts: readonly string[],
    sources: readonly ReleaseSource[],
    target: ReleaseCheckTarget,
): string[] {
    const token = `$${RELEASE_TOKEN_VAR}`;
    return [
        "set -euo pipefail",
        // The check again: the step runs in any triggered build that gets this far (one unblocked by hand too).
        releaseCheckScript(sources, target),
        'if ! ci_platform_release; then echo "Not a release: nothing to upload."; exit 0; fi',
        ...artifacts.map((a) => `buildkite-agent artifact download "${a}" .`),
        [
            // The repository and tag the check verified, not the build's env.
            `tag="$release_tag"`,
            `api="https://api.github.com/repos/$release_repository"`,
            `uploads="https://uploads.github.com/repos/$release_repository"`,
            `github() { curl -fsSL -H "Authorization: Bearer ${token}" -H "Accept: application/vnd.github+json" "$@"; }`,
            `release_of_tag() { github "$api/releases?per_page=100" | jq -r --arg tag "$tag" 'map(select(.tag_name == $tag)) | first | .id // empty'; }`,
            `release_id="$(release_of_tag)"`,
            `if [ -z "$release_id" ]; then`,
            `  github -X POST "$api/releases" --data "$(jq -cn --arg tag "$tag" '{tag_name: $tag, name: $tag}')" >/dev/null || true`,
            `  release_id="$(release_of_tag)"`,
            `fi`,
            `if [ -z "$release_id" ]; then echo "no GitHub release for tag $tag, and none could be created" >&2; exit 1; fi`,
            `for f in ${artifacts.join(" ")}; do`,
            `  name="$(basename "$f")"`,
            `  existing="$(github "$api/releases/$release_id/assets?per_page=100" | jq -r --arg name "$name" 'map(select(.name == $name)) | first | .id // empty')"`,
            `  if [ -n "$existing" ]; then github -X DELETE "$api/releases/assets/$existing" >/dev/null; fi`,
            `  github -X POST -H "Content-Type: application/octet-stream" --data-binary "@$f" "$uploads/releases/$release_id/assets?name=$name" >/dev/null`,
            `done`,
        ].join("\n"),
    ];
}

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
        const command = packageCommandOf(pipeline, pkg);
        // A user downloads its producers' artifacts first, from the build each one's variable names
        // (components/steps/artifact-sources.ts); a producer's step uploads its own.
        const downloads = downloadCommands(pipeline, pkg).map(escapeForUpload);
        const produced = artifactPaths(pkg).map(escapeForUpload);
        return {
            kind: "command",
            // Package names are letters, digits, ".", "_" and "-", all valid in step keys, so keys stay unique.
            key: packageStepKey(pkg.name),
            label: escapeForUpload(`:package: ${pkg.name}`),
            queue: pipeline.queue,
            commands: [...downloads, escapeForUpload(command)],
            artifactPaths: produced.length > 0 ? produced : undefined,
            container: image ? container(ctx, pipeline, image, true) : undefined,
            env: {
                CI_PLATFORM_PACKAGE: escapeForUpload(pkg.name),
                CI_PLATFORM_PACKAGE_PATH: escapeForUpload(pkg.path),
            },
            ifChanged: ifChanged ? [...plan.ifChanged] : undefined,
        };
    });
}

/**
 * The release's one publish step (`publish` in config), uploaded with the unconditional package steps: it runs only
 * for a tag (`if`), after every package step passed (`depends_on` each: Buildkite runs a step only when the steps it
 * depends on passed, buildkite/docs pages/pipelines/configure/dependencies.md), so a release is published whole or
 * not at all, never one package as soon as its own step passes. A tag's build runs every package ({@link
 * EVERYTHING_IF}), so it downloads every producer's artifacts from this build. It runs on the release queue
 * ({@link releaseQueue}), its key is one of {@link RELEASE_STEP_KEYS} (no repository hooks), and only its container
 * gets the publish secrets (`publish.secrets`).
 */
function publishStep(pipeline: PipelineConfig, ctx: StepsContext): Step | undefined {
    if (pipeline.publish === undefined) return undefined;
    const image = pipeline.image;
    return {
        kind: "command",
        key: RELEASE_STEP_KEYS[3],
        label: ":rocket: Publish the release",
        if: RELEASE_ONLY_IF,
        dependsOn: pipeline.packages.map((p) => packageStepKey(p.name)),
        queue: releaseQueue(pipeline, ctx.config.fleets),
        commands: [
            ...pipeline.packages.flatMap((p) =>
                artifactPaths(p).map((a) => escapeForUpload(`buildkite-agent artifact download "${a}" .`)),
            ),
            escapeForUpload(pipeline.publish.command),
        ],
        container: image ? container(ctx, pipeline, image, true, true) : undefined,
    };
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

    const bySlug = new Map(ctx.config.pipelines.map((p) => [p.slug, p]));
    const triggered = parentsOf(ctx.graph, pipeline.slug).length > 0;
    const sources = releaseSources(pipeline.slug, ctx.graph, bySlug);

    if (pipeline.gate === "release") {
        // Decided on the agent, from facts (module doc, "The release gate"); the wait keeps the build's own steps
        // behind the block step the check may upload.
        stored.push({
            kind: "command",
            key: RELEASE_STEP_KEYS[0],
            label: ":lock: Release check",
            if: TRIGGERED_IF,
            queue: releaseQueue(pipeline, ctx.config.fleets),
            commands: releaseGateCommands(sources, { organization: ctx.config.organization }),
            timeoutInMinutes: UPLOAD_TIMEOUT_MINUTES,
        });
        stored.push({ kind: "wait" });
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
        // With producing packages, both uploads decide where each producer's artifacts come from first.
        const plan = artifactPlanOf(pipeline, (p) => {
            const image = p.image ?? pipeline.image;
            return image ? ctx.resolveImage(image) : "";
        });
        const publish = publishStep(pipeline, ctx);
        const upload =
            plan === null
                ? undefined
                : {
                      commands: [
                          artifactSourcesScript({
                              organization: ctx.config.organization,
                              pipeline: pipeline.slug,
                              apiUrl: BUILDKITE_API_URL,
                              yamlVar: UPLOAD_ENV_VAR,
                              readTokenVar: RELEASE_READ_TOKEN_VAR,
                          }),
                      ],
                      env: { [ARTIFACT_PLAN_VAR]: JSON.stringify(plan) },
                  };
        add(
            uploadStep(
                pipeline,
                "packages-all",
                ":package: Every package",
                [...packageSteps(pipeline, ctx, false), ...(publish ? [publish] : [])],
                { if: EVERYTHING_IF, upload },
            ),
        );
        add(
            uploadStep(pipeline, "packages-changed", ":package: Affected packages", packageSteps(pipeline, ctx, true), {
                if: CHANGED_ONLY_IF,
                upload,
            }),
        );
    }

    const chained = chainedTriggers(pipeline.slug, ctx.graph, bySlug);
    const released = pipeline.gate === "release" && triggered && pipeline.artifacts.length > 0;
    // After its own build: a chained trigger hands the dependent build this build's artifacts.
    if (released || chained.length > 0) stored.push({ kind: "wait" });
    if (released) {
        stored.push({
            kind: "command",
            key: RELEASE_STEP_KEYS[1],
            label: ":github: Upload to the release",
            if: TRIGGERED_IF,
            queue: releaseQueue(pipeline, ctx.config.fleets),
            commands: releaseCommands(pipeline.artifacts, sources, { organization: ctx.config.organization }),
        });
    }

    const childOf = (from: PipelineConfig, edge: TriggerEdge) => {
        const child = bySlug.get(edge.to);
        if (child === undefined) throw new Error(`pipeline "${from.slug}" triggers unknown "${edge.to}"`);
        return child;
    };
    chained.forEach(({ parent, via, edge }, i) => {
        // Only this build's own keys can stand in depends_on: the chained trigger follows this build already.
        const step = triggerStep({ ...edge, dependsOn: [] }, parent, childOf(parent, edge), "sibling");
        const key = chained.length === 1 ? "chained-triggers" : `chained-triggers-${i + 1}`;
        add(
            uploadStep(pipeline, key, `:rocket: Trigger for ${parent.name ?? parent.slug}`, [step], {
                if: CHAINED_IF(parent.slug, via.key),
                queue: releaseQueue(pipeline, ctx.config.fleets),
            }),
        );
    });

    const edges = childrenOf(ctx.graph, pipeline.slug);
    if (edges.length > 0) {
        stored.push({ kind: "wait" });
        // A trigger that downloads from a sibling's build is that build's to run (chainedTriggers).
        const own = edges.filter((e) => artifactSource(e, edges, bySlug) === undefined);
        const triggers = own.map((edge) => {
            const dependsOn = [...new Set(edge.dependsOn.map((k) => keyInParent(k, edges, bySlug)))];
            return triggerStep({ ...edge, dependsOn }, pipeline, childOf(pipeline, edge));
        });
        add(uploadStep(pipeline, "triggers", ":rocket: Trigger", triggers));
        stored.push({ kind: "wait" });
        const patterns = pipeline.artifacts.length > 0 ? pipeline.artifacts : ["dist/*"];
        stored.push({
            kind: "command",
            key: RELEASE_STEP_KEYS[2],
            label: ":package: Release artifacts",
            if: RELEASE_ONLY_IF,
            queue: pipeline.queue,
            // Destination ".": buildkite/agent v3.137.0 internal/artifact/downloader.go `Download` fails unless the
            // destination already exists as a directory, and download.go `targetPath` joins it with the artifact's
            // own path (creating `dist/` itself), so "dist/x.whl" lands in ./dist/x.whl.
            commands: [
                ...patterns.map((a) => `buildkite-agent artifact download "${a}" .`),
                ".buildkite/release-artifacts.sh",
            ],
            container: pipeline.image ? container(ctx, pipeline, pipeline.image, false) : undefined,
            // No artifact_paths: the files it downloads are this build's own artifacts already; uploading them again
            // would hold each one twice on the build.
        });
    }

    const document = renderStoredPipeline({ env: pipeline.env, steps: stored });
    if (!signsSteps(ctx.config, pipeline))
        return { slug: pipeline.slug, stored: document, document, storedSteps: stored, uploaded };
    // A signing cluster stores one step that uploads the document (stored-upload.ts): no `$` in what is signed.
    const queue = releaseQueue(pipeline, ctx.config.fleets);
    if (!servedByPosix(ctx.config, pipeline.cluster, queue))
        throw new Error(
            `pipeline "${pipeline.slug}": its cluster signs, and its stored upload step needs a POSIX shell, but queue "${queue}" is served by Windows fleets only (components/signing/config-checks.ts reports this)`,
        );
    const upload = storedUploadStep(document, queue);
    return {
        slug: pipeline.slug,
        stored: renderStoredPipeline({ steps: [upload] }),
        document,
        storedSteps: stored,
        uploaded,
        storedUpload: upload,
    };
}

/** Whether the pipeline's cluster signs its steps (`clusters[].signing.mode` neither off nor unset). */
export function signsSteps(
    config: Pick<PlatformConfig, "clusters">,
    pipeline: Pick<PipelineConfig, "cluster">,
): boolean {
    const mode = config.clusters.find((c) => c.name === pipeline.cluster)?.signing?.mode;
    return mode !== undefined && mode !== "off";
}

/** Whether a fleet of `cluster` with a POSIX shell (Linux, or on-premises) serves `queue`, or none is declared. */
export function servedByPosix(config: Pick<PlatformConfig, "fleets">, cluster: string, queue: string): boolean {
    const serving = config.fleets.filter((f) => f.cluster === cluster && f.queue === queue);
    return serving.length === 0 || serving.some((f) => f.kind === "static" || f.os === "linux");
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
    if (step.if === TRIGGERED_IF) return " [triggered]";
    if (step.if?.startsWith(`build.source == "trigger_job" && build.env("${PARENT_ENV.pipeline}")`))
        return ` [triggered by ${/== "([^"]*)" && build.env\("[A-Z_]+"\) == "([^"]*)"$/.exec(step.if)?.slice(1).join("/") ?? "its parent"}]`;
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
