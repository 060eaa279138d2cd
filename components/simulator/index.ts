/**
 * The build simulator: given a push, the tree of builds Buildkite would create from the YAML this platform
 * generates, job by job. Its whole model of Buildkite and the agent lives here (and in `./conditionals`); each
 * rule names the doc or source it follows.
 *
 * Pure module: the validated config, each pipeline's generated documents (YAML text, parsed here) and a push in;
 * plain data out. Builds always pass (the simulator models what runs, not whether it succeeds). Shell commands are
 * opaque except the few forms the generated steps use to talk to the agent, which are modelled
 * ({@link runCommand}); the repository's own `.buildkite/pipeline.yml` is opaque too: its upload job stands for
 * it, and it is taken to produce what the config declares (`pipelines[].artifacts`) and to download from the build
 * its trigger names ({@link PARENT_ENV.artifactsBuildId}).
 *
 * @module
 */
import { parse, stringify } from "yaml";
import { repositoryUrl } from "../buildkite/pipeline-settings";
import { FleetConfig, PipelineConfig, PlatformConfig } from "../config/schema";
import { ARTIFACT_PLAN_VAR, ARTIFACT_SOURCES_MARKER, ArtifactPlan, META_DATA } from "../steps/artifact-sources";
import { deliveredSecretNames } from "../config/access-checks";
import { RELEASE_READ_TOKEN_VAR } from "../config/release-checks";
import { ifChangedSelects, IfChanged } from "../steps/glob";
import {
    PARENT_ENV,
    RELEASE_CHECK_MARKER,
    RELEASE_STEP_KEYS,
    RELEASE_GATE_BLOCK,
    UPLOAD_ENV_VAR,
    releaseOriginUrl,
} from "../steps/pipeline-steps";
import { STORED_UPLOAD_COMMAND, STORED_UPLOAD_ENV_VAR, STORED_UPLOAD_KEY } from "../steps/stored-upload";
import { ConditionalFacts, evaluateConditional, matchesBranchFilter } from "./conditionals";

export { ConditionalError, evaluateConditional, matchesBranchFilter } from "./conditionals";

/** What was pushed: one of branch, tag or pr (a pr may name its head branch); `changed` are repository-relative paths. */
export interface Push {
    readonly pipeline: string;
    readonly branch?: string;
    readonly tag?: string;
    readonly pr?: number;
    readonly changed?: readonly string[];
    /**
     * Tags that already exist in the pushed pipeline's repository (tag → commit; the simulated commit is `HEAD`),
     * besides the pushed tag: what a pull request's forged trigger can claim.
     */
    readonly existingTags?: Readonly<Record<string, string>>;
    /**
     * Whether a base build holds the artifacts of a skipped producing package (components/steps/artifact-sources.ts);
     * default true. False simulates a first build (or expired artifacts): every skipped producer runs after all. A
     * pipeline whose jobs get no read token finds no base build either way.
     */
    readonly baseBuilds?: boolean;
}

/** One job (or block step) of a simulated build. */
export interface SimulatedJob {
    readonly key: string;
    readonly label: string;
    readonly runs: boolean;
    /** Why it does not run (or, for a block step that applies, what it does); null when it simply runs. */
    readonly reason: string | null;
    readonly queue: string | null;
    /** Fleets that can take the job: same cluster and queue. */
    readonly fleets: readonly string[];
    /** Where those fleets are: AWS regions, or `on-premises`. */
    readonly regions: readonly string[];
    readonly image: string | null;
    /** The registries the image is pulled from, one per region that can run the job. */
    readonly registries: readonly string[];
    /** `ssh git@github.com:owner/name.git` or `https https://github.com/owner/name.git`; null for non-command steps. */
    readonly checkout: string | null;
    /** Names (never values) of the secrets the job gets (secrets bucket, static fleet); in a container, only those that reach it. */
    readonly secrets: readonly string[];
    /** Ids of builds of this tree the job downloads artifacts from. */
    readonly downloadsFrom: readonly string[];
}

/** One simulated build. */
export interface SimulatedBuild {
    readonly id: string;
    readonly pipeline: string;
    /** `<build id>/<job key>` of the trigger step that created it; null for the pushed build. */
    readonly triggeredBy: string | null;
    /** The build stops at a block step. */
    readonly blocked: boolean;
    readonly branch: string;
    readonly tag: string | null;
    readonly source: string;
    readonly jobs: readonly SimulatedJob[];
}

/** The whole tree, in creation order, and what would fail. */
export interface Simulation {
    readonly builds: readonly SimulatedBuild[];
    /** Why the push creates no build at all (a branch filter, a provider setting); absent when it creates one. */
    readonly noBuild?: string;
    /** Things Buildkite or the agent would refuse or fail on (a missing download destination, an unknown key). */
    readonly problems: readonly string[];
}

/** The input: the config, and each pipeline's stored document (as `stepsForPlatform` generates it). */
export interface SimulateInput {
    readonly config: PlatformConfig;
    readonly stored: Readonly<Record<string, string>>;
    readonly push: Push;
}

/** A push or a document the simulator cannot model. */
export class SimulationError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "SimulationError";
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Facts from the config

/**
 * How a pipeline checks out: the repository URL the pipeline component sets (components/buildkite
 * pipeline-settings.ts `repositoryUrl`); an `git@`/`ssh://` URL is an SSH checkout, anything else HTTPS.
 */
export function checkoutOf(pipeline: PipelineConfig): string {
    const url = repositoryUrl(pipeline.repository, pipeline.checkout);
    return `${/^(git@|ssh:\/\/)/.test(url) ? "ssh" : "https"} ${url}`;
}

/**
 * The checkout a command job gets on its fleets. Linux AWS fleets run our hooks, whose environment hook
 * (hooks/lib/isolation.bash) gives a signing cluster's stored upload step no checkout and a release step a fresh
 * checkout in a directory of its own; elsewhere (on-premises, Windows) the job checks out the pipeline's repository
 * into its reused checkout.
 */
function jobCheckout(
    pipeline: PipelineConfig,
    key: string,
    step: Record<string, unknown>,
    fleets: readonly FleetConfig[],
): string {
    const ours = fleets.length > 0 && fleets.every((f) => f.kind === "aws" && f.os === "linux");
    const commands = ([] as unknown[]).concat(step.commands ?? step.command ?? []);
    if (ours && (key === STORED_UPLOAD_KEY || commands.includes(STORED_UPLOAD_COMMAND)))
        return "none (stored upload step: hooks/environment skips it)";
    if (ours && (RELEASE_STEP_KEYS as readonly string[]).includes(key))
        return `${checkoutOf(pipeline)} (fresh, in the job's own directory)`;
    return checkoutOf(pipeline);
}

/**
 * The names of the secrets a pipeline's jobs get: the organisation's and the pipeline's (s3-secrets-hooks: the
 * bucket root and the `<slug>/` prefix; `env` variables, `secret-files/` variables, `private_ssh_key`,
 * `git-credentials`). Sorted, values never read.
 */
export function secretNames(config: PlatformConfig, slug: string, queue?: string): string[] {
    const names = new Set<string>();
    const pipeline = config.pipelines.find((p) => p.slug === slug);
    // The organisation's secrets reach only clusters that take them (clusters[].organizationSecrets).
    const takesOrganization = config.clusters.find((c) => c.name === pipeline?.cluster)?.organizationSecrets !== false;
    for (const set of [takesOrganization ? config.secrets.organization : undefined, config.secrets.pipelines[slug]]) {
        if (set === undefined) continue;
        for (const name of Object.keys(set.env ?? {})) names.add(name);
        for (const name of Object.keys(set.files ?? {})) names.add(name);
        if (set.privateSshKey !== undefined) names.add("private_ssh_key");
        if (set.gitCredentials !== undefined) names.add("git-credentials");
    }
    // A static fleet reads no bucket: its machines set `providesSecrets` for every job they run; the fleets are
    // those of the job's queue (the pipeline's default queue when none is given).
    for (const fleet of pipeline ? fleetsFor(config, pipeline.cluster, queue ?? pipeline.queue) : [])
        if (fleet.kind === "static") for (const name of fleet.providesSecrets) names.add(name);
    return [...names].sort();
}

/** The fleets that take a job: an agent takes jobs of its own cluster and queue (buildkite docs "clusters"). */
export function fleetsFor(config: PlatformConfig, cluster: string, queue: string): FleetConfig[] {
    return config.fleets.filter((f) => f.cluster === cluster && f.queue === queue);
}

const regionOf = (f: FleetConfig) => (f.kind === "aws" ? f.region : "on-premises");

/** The registry an image reference pulls from on a fleet; the region-neutral host resolves per agent region. */
function registryFor(image: string, fleet: FleetConfig, homeRegion: string): string {
    if (!image.includes("CI_PLATFORM_ECR_REGISTRY")) return image.split("/")[0];
    // components/images/image-ref.ts: the environment hook exports the agent's own region's registry; on-premises
    // agents must export the home registry themselves.
    return fleet.kind === "aws" ? `ecr ${fleet.region}` : `ecr ${homeRegion} (exported by the host)`;
}

// ---------------------------------------------------------------------------------------------------------------
// The agent: interpolation and the commands the generated steps use

/**
 * `buildkite-agent pipeline upload` interpolation: `$VAR`, `${VAR}`, `${VAR:-default}`; `$$` is a literal `$`
 * (buildkite/agent v3.137.0 clicommand/pipeline_upload.go uses buildkite/interpolate v0.1.5; docs "pipeline
 * upload": "escape the `$` character by using `$$`"). An unset variable is empty.
 */
export function interpolate(text: string, env: Readonly<Record<string, string>>): string {
    return text.replace(
        /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
        (
            match,
            braced: string | undefined,
            _d: string | undefined,
            fallback: string | undefined,
            bare: string | undefined,
        ) => {
            if (match === "$$") return "$";
            const name = braced ?? bare ?? "";
            const value = env[name];
            if (fallback !== undefined) return value === undefined || value === "" ? fallback : value;
            return value ?? "";
        },
    );
}

/** Every string of a parsed document, interpolated (the agent and Buildkite interpolate values, not YAML text). */
function interpolateValues(value: unknown, env: Readonly<Record<string, string>>): unknown {
    if (typeof value === "string") return interpolate(value, env);
    if (Array.isArray(value)) return value.map((v) => interpolateValues(v, env));
    if (value !== null && typeof value === "object")
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateValues(v, env)]));
    return value;
}

/**
 * The variables Buildkite knows when it interpolates a pipeline's stored steps at build creation (buildkite/docs
 * pages/pipelines/configure/environment_variables.md "Variable interpolation": the YAML Steps editor's subset;
 * others, e.g. `BUILDKITE_BUILD_NUMBER`, "cannot be supported ... as the interpolation happens before the build is
 * created"). The doc does not say what becomes of the others: the simulator takes them as unset, i.e. empty, like
 * the agent's interpolation of an unset variable; correctly escaped steps (`$$`) are unaffected either way.
 */
export const BUILD_CREATION_VARIABLES = [
    "BUILDKITE_BRANCH",
    "BUILDKITE_TAG",
    "BUILDKITE_MESSAGE",
    "BUILDKITE_COMMIT",
    "BUILDKITE_PIPELINE_SLUG",
    "BUILDKITE_PIPELINE_NAME",
    "BUILDKITE_PIPELINE_ID",
    "BUILDKITE_ORGANIZATION_SLUG",
    "BUILDKITE_TRIGGERED_FROM_BUILD_PIPELINE_SLUG",
    "BUILDKITE_REPO",
    "BUILDKITE_PULL_REQUEST",
    "BUILDKITE_PULL_REQUEST_BASE_BRANCH",
    "BUILDKITE_PULL_REQUEST_REPO",
    "BUILDKITE_MERGE_QUEUE_BASE_BRANCH",
    "BUILDKITE_MERGE_QUEUE_BASE_COMMIT",
] as const;

/** A stored document as Buildkite holds it once the build exists: interpolated with {@link BUILD_CREATION_VARIABLES}. */
export function interpolateAtBuildCreation(yaml: string, env: Readonly<Record<string, string>>): string {
    const known = Object.fromEntries(
        BUILD_CREATION_VARIABLES.filter((v) => env[v] !== undefined).map((v) => [v, env[v]]),
    );
    return stringify(interpolateValues(parse(yaml), known), { lineWidth: 0 });
}

/** A shell word as the job's shell would expand the forms used here: quotes dropped, variables expanded. */
function shellWord(word: string, env: Readonly<Record<string, string>>): string {
    const unquoted = word.replace(/^"(.*)"$/, "$1");
    return unquoted.replace(
        /\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
        (
            _m,
            braced: string | undefined,
            _d: string | undefined,
            fallback: string | undefined,
            bare: string | undefined,
        ) => {
            const value = env[braced ?? bare ?? ""];
            return value === undefined || value === "" ? (fallback ?? "") : value;
        },
    );
}

/** Splits a command line into words, keeping double-quoted words (and `$(...)`) whole. */
function words(line: string): string[] {
    return line.match(/"(?:[^"\\]|\\.|\$\([^)]*\))*"|'[^']*'|[^\s]+/g) ?? [];
}

// ---------------------------------------------------------------------------------------------------------------
// The walk

type RawStep = string | Record<string, unknown>;

interface BuildState {
    readonly id: string;
    /** The build's number (here: its place in the walk, like the id). */
    readonly number: number;
    readonly pipeline: PipelineConfig;
    /** The commit it builds, and the pull request it is for (null: none). */
    readonly commit: string;
    readonly pr: number | null;
    /** The build whose trigger step created it. */
    readonly triggeredFrom?: BuildState;
    readonly facts: ConditionalFacts;
    readonly env: Record<string, string>;
    readonly metaData: Map<string, string>;
    readonly jobIds: Set<string>;
    readonly jobs: SimulatedJob[];
    readonly triggeredBy: string | null;
    blocked: boolean;
    /** What the release check (if this build has run one) decided, and why. */
    release?: { readonly holds: boolean; readonly why: string };
}

interface World {
    readonly config: PlatformConfig;
    readonly stored: Readonly<Record<string, string>>;
    readonly changed: readonly string[];
    /** {@link Push.baseBuilds}. */
    readonly baseBuilds: boolean;
    readonly builds: BuildState[];
    readonly problems: string[];
    readonly bySlug: ReadonlyMap<string, PipelineConfig>;
    /** The tags that exist in each repository's origin (git URL → tag → commit): the tag the push created. */
    readonly tags: ReadonlyMap<string, ReadonlyMap<string, string>>;
}

function parseDocument(yaml: string, where: string): { env: Record<string, string>; steps: RawStep[] } {
    let doc: unknown;
    try {
        doc = parse(yaml);
    } catch (e) {
        throw new SimulationError(`${where}: the YAML does not parse: ${(e as Error).message}`);
    }
    const d = (doc ?? {}) as { env?: Record<string, string>; steps?: unknown };
    if (!Array.isArray(d.steps)) throw new SimulationError(`${where}: a pipeline document needs a steps list`);
    return { env: d.env ?? {}, steps: d.steps as RawStep[] };
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

function createBuild(
    world: World,
    slug: string,
    how: {
        branch: string;
        tag: string | null;
        source: string;
        pr: number | null;
        env: Record<string, string>;
        commit: string;
        triggeredBy: string | null;
        triggeredFrom?: BuildState;
    },
): BuildState {
    const pipeline = world.bySlug.get(slug);
    if (pipeline === undefined) throw new SimulationError(`no pipeline "${slug}" in the config`);
    const yaml = world.stored[slug];
    if (yaml === undefined) throw new SimulationError(`no generated steps for pipeline "${slug}"`);
    const number = world.builds.length + 1;
    const id = `b${number}`;
    parseDocument(yaml, `pipeline ${slug}`); // its own error for YAML that does not parse
    // docs environment_variables.yaml: the BUILDKITE_* variables every job gets; a tag push also sets the branch
    // to the tag; BUILDKITE_PULL_REQUEST is the number or "false"; TRIGGERED_FROM_* only for triggered builds.
    const buildkite: Record<string, string> = {
        BUILDKITE_BUILD_ID: id,
        BUILDKITE_PIPELINE_SLUG: slug,
        BUILDKITE_BRANCH: how.branch,
        BUILDKITE_COMMIT: how.commit,
        BUILDKITE_MESSAGE: `simulated push to ${how.tag ?? how.branch}`,
        BUILDKITE_SOURCE: how.source,
        BUILDKITE_PULL_REQUEST: how.pr === null ? "false" : String(how.pr),
        ...(how.tag !== null ? { BUILDKITE_TAG: how.tag } : {}),
        ...(how.triggeredFrom
            ? {
                  BUILDKITE_TRIGGERED_FROM_BUILD_ID: how.triggeredFrom.id,
                  BUILDKITE_TRIGGERED_FROM_BUILD_NUMBER: String(how.triggeredFrom.number),
                  BUILDKITE_TRIGGERED_FROM_BUILD_PIPELINE_SLUG: how.triggeredFrom.pipeline.slug,
              }
            : {}),
    };
    // Buildkite interpolates the stored steps as it creates the build, with a few variables only (see
    // BUILD_CREATION_VARIABLES); the job then sees the pipeline env as interpolated too.
    const doc = parseDocument(interpolateAtBuildCreation(yaml, buildkite), `pipeline ${slug}`);
    const env: Record<string, string> = { ...doc.env, ...how.env, ...buildkite };
    const build: BuildState = {
        id,
        number,
        pipeline,
        commit: how.commit,
        pr: how.pr,
        triggeredFrom: how.triggeredFrom,
        env,
        facts: {
            branch: how.branch,
            tag: how.tag,
            source: how.source,
            pullRequestId: how.pr === null ? null : String(how.pr),
            defaultBranch: pipeline.defaultBranch,
            env,
        },
        metaData: new Map(),
        jobIds: new Set(),
        jobs: [],
        triggeredBy: how.triggeredBy,
        blocked: false,
    };
    world.builds.push(build);
    runSteps(world, build, doc.steps, false);
    return build;
}

/** Why a step is left out of the build, or null if it is in. */
function exclusion(step: Record<string, unknown>, build: BuildState, uploaded: boolean, world: World): string | null {
    const condition = str(step.if);
    // docs conditionals.md: `if` is evaluated when the step is uploaded (or the build created); false omits it.
    if (condition !== undefined && !evaluateConditional(condition, build.facts)) return `if: ${condition} is false`;
    // docs branch_configuration.md: a step with a branch filter is only added on matching branches.
    const branches = str(step.branches);
    if (branches !== undefined && !matchesBranchFilter(branches, build.facts.branch))
        return `branches: "${branches}" does not match ${build.facts.branch}`;
    if (step.if_changed !== undefined) {
        // DESIGN.md / components/steps/glob.ts: only `pipeline upload` applies if_changed; Buildkite ignores it in
        // a pipeline's stored steps.
        if (uploaded && !ifChangedSelects(step.if_changed as IfChanged, world.changed))
            return "if_changed: no changed file matches its patterns";
    }
    return null;
}

function jobKey(step: Record<string, unknown>, fallback: string): string {
    return str(step.key) ?? str(step.id) ?? str(step.identifier) ?? fallback;
}

const BLOCKS = "blocks the build until someone unblocks it";

function runSteps(world: World, build: BuildState, steps: RawStep[], uploaded: boolean): void {
    const pending = [...steps];
    let blockedAt: string | null = null;
    let index = 0;
    const known = new Set<string>();
    const keysIn = (list: RawStep[]) =>
        list.forEach((s, i) => typeof s === "object" && known.add(jobKey(s, `step-${i}`)));
    keysIn(pending);
    while (pending.length > 0) {
        const raw = pending.shift() as RawStep;
        index++;
        // docs wait step: a bare "wait" string or a `wait` key; it orders, it is not a job.
        if (raw === "wait" || raw === "waiter" || (typeof raw === "object" && "wait" in raw)) continue;
        if (typeof raw !== "object" || raw === null)
            throw new SimulationError(`build ${build.id}: unknown step ${JSON.stringify(raw)}`);
        const step = raw;
        const key = jobKey(step, `step-${index}`);
        const label = str(step.label) ?? str(step.block) ?? str(step.name) ?? key;
        // docs depends_on.md: a dependency on a step that does not exist fails the build.
        const dependsOn =
            step.depends_on === undefined || step.depends_on === null ? [] : ([] as unknown[]).concat(step.depends_on);
        for (const dep of dependsOn) {
            const name = typeof dep === "string" ? dep : str((dep as Record<string, unknown>)?.step);
            if (name !== undefined && !known.has(name) && !build.jobIds.has(`${build.id}/${name}`))
                world.problems.push(
                    `build ${build.id} (${build.pipeline.slug}): step ${key} depends on "${name}", which does not exist`,
                );
        }
        const excluded = exclusion(step, build, uploaded, world);
        if ("group" in step) {
            const members = (step.steps as RawStep[] | undefined) ?? [];
            if (excluded === null && blockedAt === null) {
                runSteps(world, build, members, uploaded);
            }
            continue;
        }
        const base = {
            key,
            label,
            fleets: [] as string[],
            regions: [] as string[],
            image: null,
            registries: [] as string[],
            checkout: null,
            secrets: [] as string[],
            downloadsFrom: [] as string[],
        };
        if ("block" in step || "input" in step) {
            if (excluded !== null) {
                build.jobs.push({ ...base, runs: false, reason: excluded, queue: null });
            } else {
                // docs block_step.md: the build stops here until someone unblocks it.
                build.jobs.push({
                    ...base,
                    runs: true,
                    reason: BLOCKS,
                    queue: null,
                });
                if ("block" in step && blockedAt === null) {
                    blockedAt = key;
                    build.blocked = true;
                }
            }
            continue;
        }
        const jobId = `${build.id}/${key}`;
        build.jobIds.add(jobId);
        if ("trigger" in step) {
            const target = str(step.trigger) ?? "";
            const reason = excluded ?? (blockedAt !== null ? `blocked: waits at block step ${blockedAt}` : null);
            build.jobs.push({ ...base, runs: reason === null, reason, queue: null });
            if (reason === null) trigger(world, build, step, jobId, target);
            continue;
        }
        if (!("command" in step || "commands" in step))
            throw new SimulationError(`build ${build.id}: step ${key} is of a kind the simulator does not model`);
        const reason = excluded ?? (blockedAt !== null ? `blocked: waits at block step ${blockedAt}` : null);
        const job = commandJob(world, build, step, base);
        const downloads: string[] = [];
        const uploads = reason === null ? runCommand(world, build, step, jobId, downloads) : [];
        build.jobs.push({ ...job, runs: reason === null, reason, downloadsFrom: [...new Set(downloads)] });
        // docs pipeline upload / depends_on.md: uploaded steps are inserted right after the uploading step, so they
        // run before the steps that follow it (a later wait waits for them too).
        for (const doc of uploads) runSteps(world, build, doc, true);
        // A block step among them holds the rest of this document too (docs block_step.md).
        if (blockedAt === null && build.blocked)
            blockedAt = [...build.jobs].reverse().find((j) => j.reason === BLOCKS)?.key ?? key;
    }
}

function commandJob(
    world: World,
    build: BuildState,
    step: Record<string, unknown>,
    base: Omit<SimulatedJob, "runs" | "reason" | "queue">,
): Omit<SimulatedJob, "runs" | "reason"> {
    const agents = (step.agents ?? {}) as Record<string, unknown>;
    // The queue tag routes the job (buildkite docs "clusters"/"queues"). Without one the job goes to the cluster's
    // default queue (buildkite docs agent/self_hosted/agent_stack_k8s/troubleshooting.md: "If a job is created
    // without a queue target, the default queue will be applied"); the config declares no cluster default queue, so
    // no fleet of this platform would ever pick the job up.
    const tagged = str(agents.queue);
    const queue = tagged ?? CLUSTER_DEFAULT_QUEUE;
    if (tagged === undefined)
        world.problems.push(
            `build ${build.id} (${build.pipeline.slug}): step ${base.key} has no queue: it goes to cluster "${build.pipeline.cluster}"'s default queue, which the config does not declare, and is never picked up`,
        );
    const fleets = tagged === undefined ? [] : fleetsFor(world.config, build.pipeline.cluster, queue);
    const plugins = (Array.isArray(step.plugins) ? step.plugins : []) as Record<string, Record<string, unknown>>[];
    const docker = plugins.map((p) => Object.entries(p)[0]).find(([ref]) => ref.startsWith("docker#"));
    const image = docker ? (str(docker[1].image) ?? null) : null;
    const secrets = secretNames(world.config, build.pipeline.slug, queue);
    // docker-buildkite-plugin v5.13.0 README `propagate-environment`: only variables in $BUILDKITE_ENV_FILE reach
    // the container, not those an agent hook exported (the secrets); `environment` names pass them through.
    const passed = docker ? ([] as unknown[]).concat(docker[1].environment ?? []).map(String) : null;
    return {
        ...base,
        queue,
        fleets: fleets.map((f) => f.name),
        regions: [...new Set(fleets.map(regionOf))].sort(),
        image,
        registries:
            image === null
                ? []
                : [...new Set(fleets.map((f) => registryFor(image, f, world.config.homeRegion)))].sort(),
        checkout: jobCheckout(build.pipeline, base.key, step, fleets),
        secrets: passed === null ? secrets : secrets.filter((n) => passed.includes(n)),
    };
}

/** How a job without a queue tag is shown: the cluster's default queue, which the config never declares. */
export const CLUSTER_DEFAULT_QUEUE = "(cluster default queue)";

/** A build as Buildkite's REST API describes it to the release check ("Get a build"). */
export interface ApiBuild {
    readonly id: string;
    readonly commit: string;
    readonly branch: string;
    readonly source: string;
    /** The pull request's number, or null. */
    readonly pullRequest: string | null;
    readonly triggeredFrom: { readonly pipeline: string; readonly number: number; readonly id: string } | null;
}

/**
 * The release check of a gated child (components/steps/pipeline-steps.ts `releaseCheckScript`), on the facts it
 * reads: the triggering build's pipeline (Buildkite's own `BUILDKITE_TRIGGERED_FROM_*`, which a trigger step's env
 * cannot override: buildkite/docs environment_variables.md "Job environment") must be one the script names for the
 * claimed repository; the claimed artifacts build must be the triggering build; the claimed tag must exist in that
 * repository's origin at the claimed commit (here: the tag the simulated push created, and the push's
 * `existingTags`); and the triggering build, looked up by number in Buildkite's REST API (buildkite/docs
 * pages/apis/rest_api/builds.md "Get a build"), must be the parent's build of that tag: its id, the claimed commit,
 * the tag as branch, no pull request; for a chained source, the sibling's build must be no pull request's and
 * created by a trigger step of the parent's build, which is then checked so. The sources are read from the
 * script's `case` arms, so what is simulated is what the step runs.
 */
export function releaseCheckHolds(
    script: string,
    env: Readonly<Record<string, string>>,
    tags: ReadonlyMap<string, ReadonlyMap<string, string>>,
    builds: (pipeline: string, number: string) => ApiBuild | undefined = () => undefined,
): { holds: boolean; why: string } {
    const urls = new Map<string, { url: string; parent: string }>();
    let pipeline: string | undefined;
    for (const line of script.split("\n")) {
        const arm = /^ {4}([^\s()]+)\)$/.exec(line);
        if (arm) pipeline = arm[1];
        const repo = /^ {8}([^\s()]+)\) url="([^"]+)" parent="([^"]+)"/.exec(line);
        if (repo && pipeline !== undefined) urls.set(`${pipeline} ${repo[1]}`, { url: repo[2], parent: repo[3] });
    }
    const from = env.BUILDKITE_TRIGGERED_FROM_BUILD_PIPELINE_SLUG ?? "";
    const source = urls.get(`${from} ${env[PARENT_ENV.repository] ?? ""}`);
    if (source === undefined)
        return { holds: false, why: `not a release: triggered from "${from}", not a release source` };
    const { url, parent } = source;
    const triggeredFrom = env.BUILDKITE_TRIGGERED_FROM_BUILD_ID ?? "";
    if (triggeredFrom === "" || env[PARENT_ENV.artifactsBuildId] !== triggeredFrom)
        return { holds: false, why: "not a release: the artifacts build is not the triggering build" };
    const tag = env[PARENT_ENV.tag] ?? "";
    const commit = env[PARENT_ENV.commit] ?? "";
    const target = tags.get(url)?.get(tag);
    if (tag === "" || target === undefined || target !== commit)
        return { holds: false, why: `not a release: no tag "${tag}" at the claimed commit in ${url}` };
    let number = env.BUILDKITE_TRIGGERED_FROM_BUILD_NUMBER ?? "";
    let id = triggeredFrom;
    if (from !== parent) {
        const sibling = builds(from, number);
        if (sibling === undefined || sibling.id !== id || sibling.pullRequest !== null)
            return {
                holds: false,
                why: `not a release: build ${number} of ${from} is not the triggering build, or a pull request's`,
            };
        if (sibling.source !== "trigger_job" || sibling.triggeredFrom?.pipeline !== parent)
            return { holds: false, why: `not a release: build ${number} of ${from} was not triggered from ${parent}` };
        number = String(sibling.triggeredFrom.number);
        id = sibling.triggeredFrom.id;
    }
    const build = builds(parent, number);
    if (build === undefined || build.id !== id)
        return { holds: false, why: `not a release: build ${number} of ${parent} is not the triggering build` };
    if (build.pullRequest !== null)
        return {
            holds: false,
            why: `not a release: build ${number} of ${parent} is pull request ${build.pullRequest}'s`,
        };
    if (build.commit !== commit || build.branch !== tag)
        return { holds: false, why: `not a release: build ${number} of ${parent} is not the build of tag ${tag}` };
    return { holds: true, why: `a release: tag ${tag} of ${url}, built by build ${number} of ${parent}` };
}

/** A simulated build as the REST API would describe it. */
function apiBuild(world: World, pipeline: string, number: string): ApiBuild | undefined {
    const b = world.builds.find((x) => x.pipeline.slug === pipeline && String(x.number) === number);
    if (b === undefined) return undefined;
    const from = b.triggeredFrom;
    return {
        id: b.id,
        commit: b.commit,
        branch: b.facts.branch,
        source: b.facts.source,
        pullRequest: b.pr === null ? null : String(b.pr),
        triggeredFrom: from ? { pipeline: from.pipeline.slug, number: from.number, id: from.id } : null,
    };
}

/** The build a job id belongs to. */
function buildOfJob(world: World, jobId: string): BuildState | undefined {
    return world.builds.find((b) => b.jobIds.has(jobId));
}

/**
 * Runs the commands of a command step that talk to the agent; others are opaque. Returns the documents it
 * uploads. Records artifact downloads in `downloads` and problems in the world.
 */
function runCommand(
    world: World,
    build: BuildState,
    step: Record<string, unknown>,
    jobId: string,
    downloads: string[],
): RawStep[][] {
    const commands = ([] as unknown[]).concat(step.commands ?? step.command).map(String);
    const env: Record<string, string> = {
        ...build.env,
        ...((step.env ?? {}) as Record<string, string>),
        BUILDKITE_JOB_ID: jobId,
    };
    const uploads: RawStep[][] = [];
    const where = `build ${build.id} (${build.pipeline.slug}) job ${jobId}`;
    for (const command of commands) {
        // The release check's function: modelled on its facts, not run line by line.
        if (command.startsWith(RELEASE_CHECK_MARKER)) {
            build.release = releaseCheckHolds(command, env, world.tags, (p, n) => apiBuild(world, p, n));
            continue;
        }
        if (command.startsWith(ARTIFACT_SOURCES_MARKER)) {
            uploads.push(artifactSources(world, build, env, where, downloads));
            continue;
        }
        if (command.startsWith("if ! ci_platform_release; then")) {
            const release = build.release ?? { holds: false, why: "not a release: no release check ran" };
            // The gate: not a release uploads a block step, inserted after this step (docs pipeline upload).
            if (command.includes("buildkite-agent pipeline upload") && !release.holds)
                uploads.push([{ block: RELEASE_GATE_BLOCK.label, key: RELEASE_GATE_BLOCK.key }]);
            // The release step: not a release ends the script (`exit 0`) before its downloads.
            if (command.includes("exit 0") && !release.holds) break;
            continue;
        }
        for (const line of command.split("\n")) runLine(line);
    }
    return uploads;

    function runLine(line: string): void {
        let m: RegExpExecArray | null;
        if ((m = /^export ([A-Za-z_][A-Za-z0-9_]*)=([^\s$"]*)$/.exec(line))) {
            env[m[1]] = m[2];
        } else if (
            (m = /^if \[ -n "\$\{([A-Za-z_][A-Za-z0-9_]*):-\}" \]; then ([A-Za-z_][A-Za-z0-9_]*)=([^\s$"]*); fi$/.exec(
                line,
            ))
        ) {
            if ((env[m[1]] ?? "") !== "") env[m[2]] = m[3];
        } else if (
            (m = /^export ([A-Za-z_][A-Za-z0-9_]*)="\$\(buildkite-agent meta-data get "([^"]+)" --default ""\)"$/.exec(
                line,
            ))
        ) {
            // agent v3.137.0 clicommand/meta_data_get.go: reads the job's build's meta-data; --default when unset.
            env[m[1]] = build.metaData.get(shellWord(m[2], env)) ?? "";
        } else if (/^buildkite-agent meta-data set /.test(line)) {
            // agent v3.137.0 clicommand/meta_data_set.go: `--job` names the job whose BUILD gets the meta-data.
            const w = words(line).slice(3);
            const jobFlag = w.indexOf("--job");
            const targetJob = jobFlag >= 0 ? shellWord(w[jobFlag + 1] ?? "", env) : jobId;
            const args = w.filter((_, i) => jobFlag < 0 || (i !== jobFlag && i !== jobFlag + 1));
            const target = buildOfJob(world, targetJob);
            if (target === undefined)
                world.problems.push(`${where}: meta-data set --job "${targetJob}" names no job of this tree`);
            else target.metaData.set(shellWord(args[0] ?? "", env), shellWord(args[1] ?? "", env));
        } else if (line === `printf '%s\\n' "$${UPLOAD_ENV_VAR}" | buildkite-agent pipeline upload`) {
            const yaml = env[UPLOAD_ENV_VAR];
            if (yaml === undefined)
                throw new SimulationError(`${where}: uploads $${UPLOAD_ENV_VAR}, which the step does not set`);
            // agent v3.137.0 clicommand/pipeline_upload.go `parseAndInterpolate`: the YAML is parsed, then its values
            // are interpolated.
            uploads.push(parseDocument(yaml, where).steps.map((s) => interpolateValues(s, env) as RawStep));
        } else if (line === STORED_UPLOAD_COMMAND) {
            // A signing pipeline's one stored step (components/steps/stored-upload.ts): the agent decodes the
            // document, interpolates its values with the job's env ($$ becomes $: buildkite/interpolate v0.1.5) and
            // inserts its steps after this one (docs pipeline upload).
            const encoded = env[STORED_UPLOAD_ENV_VAR];
            if (encoded === undefined)
                throw new SimulationError(`${where}: uploads $${STORED_UPLOAD_ENV_VAR}, which the step does not set`);
            const doc = parseDocument(Buffer.from(encoded, "base64").toString("utf8"), where);
            // The document's env is the pipeline's: buildkite/docs environment_variables.md, a top-level `env` sets
            // the variable on every command step not yet running, "This includes further pipeline uploads". It stays
            // under the env the build was created with (createBuild's order: the build's env and Buildkite's win).
            for (const [name, value] of Object.entries(doc.env))
                if (!(name in build.env)) build.env[name] = interpolate(String(value), env);
            uploads.push(doc.steps.map((s) => interpolateValues(s, env) as RawStep));
        } else if (/^buildkite-agent pipeline upload\b/.test(line)) {
            // The repository's own pipeline: opaque. It downloads from the build its trigger names, and its build
            // produces what the config declares.
            const source = env[PARENT_ENV.artifactsBuildId] ?? "";
            if (source !== "") downloads.push(source);
        } else if (/^buildkite-agent artifact download /.test(line)) {
            const w = words(line).slice(3);
            const buildFlag = w.indexOf("--build");
            const from = buildFlag >= 0 ? shellWord(w[buildFlag + 1] ?? "", env) : build.id;
            const positional = w.filter(
                (_, i) => (buildFlag < 0 || (i !== buildFlag && i !== buildFlag + 1)) && !w[i].startsWith("--"),
            );
            const destination = shellWord(positional[1] ?? "", env);
            // agent v3.137.0 internal/artifact/downloader.go `Download`: the destination must already exist as a
            // directory; after a clean checkout only the checkout itself (".") is known to exist.
            if (destination !== "." && destination !== "./")
                world.problems.push(
                    `${where}: artifact download to "${destination}", which does not exist after a clean checkout (the agent requires an existing directory; download to "." instead)`,
                );
            downloads.push(from);
        }
    }
}

/**
 * The package upload of a pipeline with producing packages (components/steps/artifact-sources.ts
 * `artifactSourcesScript`), on its decisions: a producer whose `if_changed` selects no changed file is skipped and
 * its artifacts come from the base build, `base:<pipeline>/<package>` (or, with no base build, it runs after all);
 * every step gets each producer's `CI_PLATFORM_<PACKAGE>_BUILD_ID`, users wait for the producers that run, and a
 * step whose producers all come from one build gets `BUILDKITE_PLUGIN_ARTIFACTS_BUILD`. Copied artifacts
 * (`copyArtifacts`) are downloaded by the upload job itself from the base build. Returns the steps it uploads.
 */
function artifactSources(
    world: World,
    build: BuildState,
    env: Readonly<Record<string, string>>,
    where: string,
    downloads: string[],
): RawStep[] {
    const yaml = env[UPLOAD_ENV_VAR];
    const planText = env[ARTIFACT_PLAN_VAR];
    if (yaml === undefined || planText === undefined)
        throw new SimulationError(
            `${where}: the artifact sources script needs $${UPLOAD_ENV_VAR} and $${ARTIFACT_PLAN_VAR}`,
        );
    const plan = JSON.parse(planText) as ArtifactPlan;
    // agent v3.137.0 clicommand/pipeline_upload.go: the dry run interpolates, then applies if_changed.
    const steps = parseDocument(yaml, where).steps.map((s) => interpolateValues(s, env) as RawStep);
    const stepOf = (key: string) =>
        steps.find((s): s is Record<string, unknown> => typeof s === "object" && s !== null && s.key === key);
    const slug = build.pipeline.slug;
    const sources = new Map<string, string>();
    const readToken = deliveredSecretNames(world.config, build.pipeline).has(RELEASE_READ_TOKEN_VAR);
    for (const [pkg, producer] of Object.entries(plan.producers)) {
        const step = stepOf(producer.step);
        const skipped =
            step?.if_changed !== undefined && !ifChangedSelects(step.if_changed as IfChanged, world.changed);
        // The script finds a base build only with the read token in its job (the pipeline's or the organisation's
        // secrets): without it every skipped producer runs.
        const from = skipped && world.baseBuilds && readToken ? `base:${slug}/${pkg}` : "";
        if (skipped && from === "" && step !== undefined) delete step.if_changed; // no base build: it runs
        sources.set(pkg, from);
        if (from !== "" && producer.copy.length > 0) downloads.push(from);
        build.metaData.set(producer.ran, from === "" ? "true" : "false");
        for (const a of producer.artifacts)
            build.metaData.set(META_DATA.artifact(a), from === "" || producer.copy.includes(a) ? build.id : from);
    }
    const holder = (pkg: string): string => {
        const from = sources.get(pkg) ?? "";
        const producer = plan.producers[pkg];
        return from === "" || producer.copy.length === producer.artifacts.length ? build.id : from;
    };
    const vars = Object.fromEntries(Object.entries(plan.vars).map(([pkg, name]) => [name, holder(pkg)]));
    return steps.map((raw) => {
        if (typeof raw !== "object" || raw === null) return raw;
        const key = str(raw.key) ?? "";
        const uses = plan.users[key] ?? [];
        const stepEnv: Record<string, string> = { ...((raw.env ?? {}) as Record<string, string>), ...vars };
        const builds = [...new Set(uses.map(holder))];
        if (builds.length === 1) stepEnv.BUILDKITE_PLUGIN_ARTIFACTS_BUILD = builds[0];
        const running = uses.filter((u) => sources.get(u) === "").map((u) => plan.producers[u].step);
        const dependsOn = [...new Set([...([] as string[]).concat((raw.depends_on ?? []) as string[]), ...running])];
        return { ...raw, env: stepEnv, ...(dependsOn.length > 0 ? { depends_on: dependsOn } : {}) };
    });
}

function trigger(world: World, parent: BuildState, step: Record<string, unknown>, jobId: string, target: string): void {
    const child = world.bySlug.get(target);
    if (child === undefined) {
        world.problems.push(
            `build ${parent.id}: trigger ${jobId} names pipeline "${target}", which is not in the config`,
        );
        return;
    }
    // docs trigger_step.md: `build` sets branch, commit, env, message and meta_data; there is no tag. A build
    // without branch/commit builds the child's default branch at HEAD.
    const b = (step.build ?? {}) as Record<string, unknown>;
    const env = Object.fromEntries(
        Object.entries((b.env ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
    );
    createBuild(world, target, {
        branch: str(b.branch) || child.defaultBranch,
        commit: str(b.commit) || "HEAD",
        tag: null,
        source: "trigger_job",
        pr: null,
        env,
        triggeredBy: jobId,
        triggeredFrom: parent,
    });
    // A waiting trigger completes when the child build does; a child blocked at a block step with the default
    // blocked_state "passed" counts as passed (docs block_step.md), so the parent carries on either way.
}

/**
 * Simulates a push: the build it creates and every build that build triggers, depth first in creation order.
 *
 * @throws {SimulationError} for an unknown pipeline, a push that is not exactly one of branch/tag/pr, or a
 *   document the simulator cannot model; {@link ConditionalError} for a conditional outside the modelled subset.
 */
export function simulate(input: SimulateInput): Simulation {
    const { config, push } = input;
    const given = [push.branch !== undefined, push.tag !== undefined, push.pr !== undefined].filter(Boolean).length;
    // A pull request build runs on the PR's head branch, so --branch may come with --pr.
    if (given > 1 && !(given === 2 && push.pr !== undefined && push.branch !== undefined))
        throw new SimulationError("give at most one of --branch, --tag, --pr (or --pr with its head --branch)");
    const pipeline = config.pipelines.find((p) => p.slug === push.pipeline);
    if (pipeline === undefined)
        throw new SimulationError(
            `no pipeline "${push.pipeline}"; pipelines: ${config.pipelines.map((p) => p.slug).join(", ")}`,
        );
    const world: World = {
        config,
        stored: input.stored,
        changed: push.changed ?? [],
        baseBuilds: push.baseBuilds ?? true,
        builds: [],
        problems: [],
        bySlug: new Map(config.pipelines.map((p) => [p.slug, p])),
        // The push's tag exists in its repository's origin, at the commit the build builds, and so do the push's
        // existing tags.
        tags: new Map([
            [
                releaseOriginUrl(pipeline.repository),
                new Map([
                    ...Object.entries(push.existingTags ?? {}),
                    ...(push.tag !== undefined ? [[push.tag, ROOT_COMMIT] as const] : []),
                ]),
            ],
        ]),
    };
    // A pull request build's branch is the PR's head branch (docs environment_variables: BUILDKITE_BRANCH); `pr-N`
    // stands for it when none is given.
    const branch = push.tag ?? push.branch ?? (push.pr !== undefined ? `pr-${push.pr}` : pipeline.defaultBranch);
    // docs branch_configuration.md: a pipeline-level branch filter stops the build being created; pull request
    // builds ignore it.
    if (pipeline.branches !== undefined && push.pr === undefined && !matchesBranchFilter(pipeline.branches, branch))
        return {
            builds: [],
            problems: [],
            noBuild: `the pipeline's branch filter "${pipeline.branches}" does not match ${branch}`,
        };
    // The GitHub provider settings decide which webhook events create builds (terraform-provider-buildkite
    // docs/resources/pipeline.md, provider_settings: build_pull_requests, build_tags, build_branches).
    const settings = pipeline.provider;
    const refused =
        push.pr !== undefined
            ? settings.buildPullRequests
                ? undefined
                : "provider.buildPullRequests is false: pull requests create no build"
            : push.tag !== undefined
              ? settings.buildTags
                  ? undefined
                  : "provider.buildTags is false: tags create no build"
              : settings.buildBranches
                ? undefined
                : "provider.buildBranches is false: branch pushes create no build";
    if (refused !== undefined) return { builds: [], problems: [], noBuild: refused };
    createBuild(world, pipeline.slug, {
        branch,
        tag: push.tag ?? null,
        source: "webhook",
        pr: push.pr ?? null,
        env: {},
        commit: ROOT_COMMIT,
        triggeredBy: null,
    });
    return {
        builds: world.builds.map((b) => ({
            id: b.id,
            pipeline: b.pipeline.slug,
            triggeredBy: b.triggeredBy,
            blocked: b.blocked,
            branch: b.facts.branch,
            tag: b.facts.tag,
            source: b.facts.source,
            jobs: b.jobs,
        })),
        problems: world.problems,
    };
}

/** The commit the pushed build builds (the simulator has no repository: it stands for the pushed SHA). */
const ROOT_COMMIT = "HEAD";

/** The simulation as text: one block per build, one line per job. */
export function renderSimulation(sim: Simulation): string {
    const lines: string[] = [];
    for (const b of sim.builds) {
        lines.push(
            `${b.id} ${b.pipeline} (${b.tag !== null ? `tag ${b.tag}` : `branch ${b.branch}`}, ${b.source}${b.triggeredBy ? `, triggered by ${b.triggeredBy}` : ""})${b.blocked ? " BLOCKED" : ""}`,
        );
        for (const j of b.jobs) {
            const where =
                j.queue === null
                    ? ""
                    : ` queue ${j.queue} → ${j.fleets.length ? j.fleets.join(", ") : "NO FLEET"}${j.regions.length ? ` [${j.regions.join(", ")}]` : ""}`;
            lines.push(`  ${j.runs ? "✓" : "·"} ${j.key}: ${j.label}${j.reason ? ` — ${j.reason}` : ""}${where}`);
            if (j.image !== null) lines.push(`      image ${j.image} from ${j.registries.join(", ")}`);
            if (j.checkout !== null)
                lines.push(`      checkout ${j.checkout}; secrets: ${j.secrets.join(", ") || "none"}`);
            if (j.downloadsFrom.length) lines.push(`      downloads artifacts from ${j.downloadsFrom.join(", ")}`);
        }
    }
    if (sim.noBuild !== undefined) lines.push(`No build: ${sim.noBuild}`);
    if (sim.problems.length) lines.push("", "Problems:", ...sim.problems.map((p) => `  ${p}`));
    return lines.join("\n");
}
