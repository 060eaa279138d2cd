/**
 * The step model: our own small tagged union of Buildkite steps, mapped in ONE function ({@link toBuildkite}) to
 * the wire types of `@buildkite/buildkite-sdk`, and serialised with `yaml.stringify` exactly once
 * ({@link renderPipeline}).
 *
 * Pure module: step descriptions in, a YAML string out. Every command step gets, by construction, a queue, the
 * project's automatic retry rules, a timeout, and only pinned plugins.
 *
 * @module
 */
import type {
    BlockStep,
    CommandStep,
    GroupStep,
    InputStep,
    PipelineStep,
    TriggerStep,
    WaitStep,
} from "@buildkite/buildkite-sdk";
import { stringify } from "yaml";
import { seedYamlValue, seededYamlValue } from "./parsed-yaml";
import type { IfChanged } from "./glob";

// ---------------------------------------------------------------------------------------------------------------
// Pinned plugins and retry rules

/**
 * Plugins, always pinned to a release tag. Versions read from the plugins' repositories: docker-buildkite-plugin
 * tag v5.13.0 (HEAD 689f39c, the commit STYLE.md cites) and ecr-buildkite-plugin tag v2.12.0 (its newest tag).
 */
export const PLUGINS = {
    docker: "docker#v5.13.0",
    ecr: "ecr#v2.12.0",
} as const;

/** Why each automatic retry rule exists; the rules themselves are {@link AUTOMATIC_RETRIES}. */
export const RETRY_REASONS = {
    agentLost:
        "exit -1 with no signal reason: Buildkite lost the agent (instance terminated, network gone, disk-full termination); never a refused job (-1, agent_refused)",
    agentStop: "signal_reason agent_stop: the agent was stopped mid-job (spot interruption, scale-in)",
    forcedShutdown: "exit 255: the agent was forced to shut down, or ssh (git over ssh) failed to connect",
    dockerDaemon: "exit 125: `docker run` itself failed (daemon down, image pull or ECR auth failure)",
    git: "exit 128: git died with a fatal error during checkout (fetch, clone, lock files)",
    stackHook: "exit 53: the Elastic CI Stack's environment hook failed (its ERR trap's exit code)",
} as const;

/** One automatic retry rule. The SDK's `SignalReason` enum predates `stack_error`/`agent_incompatible`. */
export interface AutomaticRetryRule {
    readonly exit_status?: number | readonly number[] | "*";
    readonly signal_reason?:
        | "*"
        | "none"
        | "agent_incompatible"
        | "agent_refused"
        | "agent_stop"
        | "cancel"
        | "process_run_error"
        | "signature_rejected"
        | "stack_error";
    readonly limit: number;
}

/**
 * Retries for failures of the infrastructure, never of the code under test: a failing test exits 1 and is not
 * retried. Exit codes: Buildkite's docs give -1 for a lost agent and 255 for a forced shutdown; Docker's `docker
 * run` reference gives 125 for an error of the Docker daemon; git exits 128 on fatal errors; the Elastic CI Stack's
 * environment hook (v6.71.1, `packer/linux/stack/conf/buildkite-agent/hooks/environment`) traps ERR and exits 53.
 * A full disk makes that hook exit 1 (not retryable by code), unless the fleet sets the stack's
 * `BuildkiteTerminateInstanceOnDiskFull`, which terminates the instance and turns the job into a lost agent (-1).
 * ECR login failures inside `docker run` exit 125; the ecr plugin also retries its own login ({@link ecrLogin}).
 */
export const AUTOMATIC_RETRIES: readonly AutomaticRetryRule[] = [
    // signal_reason none: an agent that refuses a job (its allowed-repositories, or our pre-bootstrap hook) ends it as
    // -1 with signal reason agent_refused (buildkite/agent v3.137.0 agent/run_job.go); retrying sends it to another
    // agent of the same fleet, which refuses it again. Buildkite changelog 193: `exit_status: -1, signal_reason: none`
    // catches lost agents. components/hooks/allowlist.ts retriesRefusal is the check.
    { exit_status: -1, signal_reason: "none", limit: 2 },
    { signal_reason: "agent_stop", limit: 2 },
    { exit_status: 255, limit: 2 },
    { exit_status: 125, limit: 2 },
    { exit_status: 128, limit: 2 },
    { exit_status: 53, limit: 2 },
];

/** Default `timeout_in_minutes` of a command step. */
export const DEFAULT_TIMEOUT_MINUTES = 60;

// ---------------------------------------------------------------------------------------------------------------
// The model

/** The container a command step runs in: a fully resolved image reference. */
export interface StepContainer {
    /** The image reference, e.g. `${CI_PLATFORM_ECR_REGISTRY}/ci-platform/buildkite-test:py3.12-2026.11.1`. */
    readonly image: string;
    /** The reference holds a variable the agent expands when the job runs (docker plugin `expand-image-vars`). */
    readonly expandVars: boolean;
    /** Log in to the agent's ECR registry first. */
    readonly ecrLogin: boolean;
    /**
     * Names of variables of the job's environment to pass into the container (docker plugin `environment`): those
     * an agent hook exports, which `propagate-environment` does not carry (docker-buildkite-plugin v5.13.0 README
     * `propagate-environment`: only variables in `$BUILDKITE_ENV_FILE`, "not ... variables that you exported in an
     * `environment` hook"; commands/run.sh passes each `environment` entry as `--env NAME`).
     */
    readonly environment?: readonly string[];
}

/** A pinned plugin and its settings. */
export interface PluginUse {
    /** `name#vX.Y.Z` (or a full commit SHA); see {@link PLUGINS}. */
    readonly ref: string;
    readonly settings: Readonly<Record<string, unknown>>;
}

/** Fields every step kind may carry. */
interface StepBase {
    readonly key?: string;
    readonly label?: string;
    readonly dependsOn?: readonly string[];
    /** A Buildkite conditional (`build.tag != null`), evaluated when the step is uploaded. */
    readonly if?: string;
    /** Branch filter; Buildkite refuses `branches` together with `if`. */
    readonly branches?: string;
}

/** A command step. Plugins are given by the model, never by callers: {@link container} and {@link plugins}. */
export interface CommandSpec extends StepBase {
    readonly kind: "command";
    readonly label: string;
    readonly commands: readonly string[];
    readonly queue: string;
    readonly container?: StepContainer;
    readonly plugins?: readonly PluginUse[];
    readonly env?: Readonly<Record<string, string>>;
    readonly artifactPaths?: readonly string[];
    readonly timeoutInMinutes?: number;
    /** Agent-applied: only in documents that an agent uploads. */
    readonly ifChanged?: IfChanged;
}

/** A wait step. */
export interface WaitSpec extends StepBase {
    readonly kind: "wait";
    readonly continueOnFailure?: boolean;
}

/** A block step: the build stops here until someone unblocks it. */
export interface BlockSpec extends StepBase {
    readonly kind: "block";
    readonly label: string;
    readonly prompt?: string;
    readonly blockedState?: "passed" | "failed" | "running";
}

/** An input step: collects fields without blocking the build's state. */
export interface InputSpec extends StepBase {
    readonly kind: "input";
    readonly label: string;
    readonly prompt?: string;
    readonly fields: readonly { readonly key: string; readonly text: string; readonly required?: boolean }[];
}

/** A trigger step: creates a build of another pipeline. */
export interface TriggerSpec extends StepBase {
    readonly kind: "trigger";
    readonly pipeline: string;
    readonly async?: boolean;
    readonly build?: {
        readonly commit?: string;
        readonly branch?: string;
        readonly message?: string;
        readonly env?: Readonly<Record<string, string>>;
    };
    readonly ifChanged?: IfChanged;
}

/** A group of steps. */
export interface GroupSpec extends StepBase {
    readonly kind: "group";
    readonly label: string;
    readonly steps: readonly Exclude<Step, GroupSpec>[];
    readonly ifChanged?: IfChanged;
}

/** Any step of the model. */
export type Step = CommandSpec | WaitSpec | BlockSpec | InputSpec | TriggerSpec | GroupSpec;
/** The step kinds. */
export type StepKind = Step["kind"];

// ---------------------------------------------------------------------------------------------------------------
// Wire types: the SDK's, extended where 0.3.2 lags the schema

type AgentApplied = { if_changed?: IfChanged };
type WireCommand = Omit<CommandStep, "retry"> & { retry?: { automatic?: AutomaticRetryRule[] } } & AgentApplied;
/** The SDK types `wait` as a string; the schema also allows null, which is what `- wait: ~` means. */
type WireWait = Omit<WaitStep, "wait"> & { wait: string | null };
type WireInput = Omit<InputStep, "blocked_state"> & { blocked_state?: InputStep["blocked_state"] };
type WireTrigger = TriggerStep & AgentApplied;
type WireGroupChild = WireCommand | WireWait | BlockStep | WireInput | WireTrigger;
type WireGroup = Omit<GroupStep, "steps"> & { steps: WireGroupChild[] } & AgentApplied;
/** One step as it goes into the document. */
export type WireStep = WireGroupChild | WireGroup;
/** The SDK's own union, for callers that want it; every {@link WireStep} but a null wait is one of these. */
export type SdkPipelineStep = PipelineStep;

/** Leaves out keys whose value is undefined, so the YAML holds only what was set. */
function compact<T extends object>(value: T): T {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

const list = <T>(items: readonly T[] | undefined): T[] | undefined =>
    items === undefined || items.length === 0 ? undefined : [...items];
const record = (r: Readonly<Record<string, string>> | undefined) =>
    r === undefined || Object.keys(r).length === 0 ? undefined : { ...r };

/** The plugin entries of a command step: the container's (ecr login, then docker), then the step's own. */
function pluginsOf(step: CommandSpec): Record<string, unknown>[] | undefined {
    const uses: PluginUse[] = [];
    if (step.container) {
        if (step.container.ecrLogin) uses.push(ecrLogin());
        uses.push(dockerRun(step.container));
    }
    uses.push(...(step.plugins ?? []));
    for (const use of uses) {
        if (!/#(v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?|[0-9a-f]{40})$/.test(use.ref))
            throw new Error(`plugin "${use.ref}" is not pinned to a version (name#vX.Y.Z)`);
    }
    return uses.length === 0 ? undefined : uses.map((u) => ({ [u.ref]: { ...u.settings } }));
}

/** The ecr plugin logging in to the agent's own account registry, retrying the login itself. */
export function ecrLogin(): PluginUse {
    return { ref: PLUGINS.ecr, settings: { login: true, retries: 3 } };
}

/** The docker plugin running the step's commands in `container`. */
export function dockerRun(container: StepContainer): PluginUse {
    return {
        ref: PLUGINS.docker,
        settings: compact({
            image: container.image,
            "expand-image-vars": container.expandVars ? true : undefined,
            "propagate-environment": true,
            environment: container.environment?.length ? [...container.environment] : undefined,
            "mount-buildkite-agent": true,
        }),
    };
}

/** Maps one model step to its wire form. Every kind is handled; a new kind is a compile error here. */
export function toBuildkite(step: Step): WireStep {
    const common = {
        key: step.key,
        depends_on: list(step.dependsOn),
        if: step.if,
        branches: step.branches,
    };
    if (step.if !== undefined && step.branches !== undefined)
        throw new Error(`step ${step.key ?? step.kind}: Buildkite refuses "if" together with "branches"`);
    switch (step.kind) {
        case "command": {
            const wire: WireCommand = {
                label: step.label,
                ...common,
                commands: [...step.commands],
                agents: { queue: step.queue },
                env: record(step.env),
                plugins: pluginsOf(step),
                artifact_paths: list(step.artifactPaths),
                timeout_in_minutes: step.timeoutInMinutes ?? DEFAULT_TIMEOUT_MINUTES,
                retry: { automatic: AUTOMATIC_RETRIES.map((r) => ({ ...r })) },
                if_changed: step.ifChanged,
            };
            return compact(wire);
        }
        case "wait": {
            const wire: WireWait = {
                wait: null,
                ...common,
                continue_on_failure: step.continueOnFailure,
            };
            return compact(wire);
        }
        case "block": {
            const wire: BlockStep = {
                block: step.label,
                ...common,
                prompt: step.prompt,
                blocked_state: step.blockedState as BlockStep["blocked_state"],
            };
            return compact(wire);
        }
        case "input": {
            const wire: WireInput = {
                input: step.label,
                ...common,
                prompt: step.prompt,
                fields: step.fields.map((f) => compact({ key: f.key, text: f.text, required: f.required })),
            };
            return compact(wire);
        }
        case "trigger": {
            const wire: WireTrigger = {
                trigger: step.pipeline,
                label: step.label,
                ...common,
                async: step.async ? true : undefined,
                build: step.build
                    ? compact({
                          commit: step.build.commit,
                          branch: step.build.branch,
                          message: step.build.message,
                          env: record(step.build.env),
                      })
                    : undefined,
                if_changed: step.ifChanged,
            };
            return compact(wire);
        }
        case "group": {
            const wire: WireGroup = {
                group: step.label,
                ...common,
                steps: step.steps.map((s) => toBuildkite(s) as WireGroupChild),
                if_changed: step.ifChanged,
            };
            return compact(wire);
        }
        default: {
            const unhandled: never = step;
            throw new Error(`unhandled step ${JSON.stringify(unhandled)}`);
        }
    }
}

/** A whole pipeline document: optional build-wide env, then the steps. */
export interface PipelineDocument {
    readonly env?: Readonly<Record<string, string>>;
    readonly steps: readonly Step[];
}

/** Every string of a plain JSON-like value, `$` doubled (keys are left alone: ours never hold a `$`). */
function escapeStrings(value: unknown): unknown {
    if (typeof value === "string") return value.replace(/\$/g, "$$$$");
    if (Array.isArray(value)) return value.map(escapeStrings);
    if (value !== null && typeof value === "object")
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeStrings(v)]));
    return value;
}

/**
 * `stringify(value)`, with the value handed to the YAML memo under the text (parsed-yaml.ts `seedYamlValue`): the
 * program's schema checks, the stored-upload brief and the policy pack then read the text without parsing it.
 */
function renderYaml(value: unknown): string {
    // `directives: false` writes the same text and skips a walk over the whole document: for a document made from
    // plain data, yaml 2.9.1 writes no directive (dist/doc/directives.js `toString`: no %YAML line unless explicit,
    // no %TAG line for the default `!!` handle, nor for `!`, which no node made from plain data carries), yet it
    // visits every node to collect their tags first (a tenth of the time of stringify).
    const text = stringify(value, { lineWidth: 0, directives: false });
    seedYamlValue(text, value);
    return text;
}

/** The document as YAML: the one place steps are serialised. */
export function renderPipeline(doc: PipelineDocument): string {
    return renderYaml(compact({ env: record(doc.env), steps: doc.steps.map(toBuildkite) }));
}

/**
 * The document as YAML for a pipeline's stored `steps`: {@link renderPipeline} with every string's `$` doubled.
 * Buildkite interpolates stored steps itself when it creates a build, with only a few `BUILDKITE_*` variables
 * available (buildkite/docs pages/pipelines/configure/environment_variables.md "Variable interpolation": "If
 * you're using the YAML Steps editor ... only the following subset ... the interpolation happens before the build
 * is created"; "Runtime variable interpolation": escape `$` as `$$`). Escaping here, in one place, means every
 * `$` the steps hold reaches the job (or the agent's own `pipeline upload` pass) exactly as written.
 */
export function renderStoredPipeline(doc: PipelineDocument, sign?: SignCommand): string {
    const wire = storedWire(doc, sign);
    seedEscapedDocuments(wire.steps);
    return renderYaml(escapeStrings(wire));
}

/**
 * Hands `visit` every command step of the stored document in wire form, in the order and form
 * {@link renderStoredPipeline} hands them to its `sign` (group members included), without rendering the document:
 * for checks of what would be signed, which need no YAML.
 */
export function visitStoredCommands(doc: PipelineDocument, visit: (step: Parameters<SignCommand>[0]) => void): void {
    storedWire(doc, (step) => {
        visit(step);
        return undefined;
    });
}

/** The stored document in wire form, before `$` is doubled, each command step signed by `sign` when given. */
function storedWire(doc: PipelineDocument, sign: SignCommand | undefined) {
    const withSignature = (step: WireStep): WireStep => {
        if (sign === undefined) return step;
        if ("commands" in step) return { ...step, signature: sign(step) } as WireStep;
        if ("group" in step) return { ...step, steps: step.steps.map((s) => withSignature(s) as WireGroupChild) };
        return step;
    };
    return compact({ env: record(doc.env), steps: doc.steps.map((s) => withSignature(toBuildkite(s))) });
}

/** Whether a plain value has a key holding a `$` ({@link escapeStrings} leaves keys alone). */
function keyHoldsDollar(value: unknown): boolean {
    if (Array.isArray(value)) return value.some(keyHoldsDollar);
    if (value === null || typeof value !== "object") return false;
    return Object.entries(value).some(([k, v]) => k.includes("$") || keyHoldsDollar(v));
}

/**
 * A step's env may carry a whole document this module rendered (the document an upload step uploads,
 * pipeline-steps.ts): the stored text holds it with every `$` doubled, and the policy pack reads that doubled text.
 * Its value is the rendered value with every string's `$` doubled (`$` is no YAML indicator, so doubling it in the
 * text only doubles it in the scalars that hold it; keys with a `$` are not seeded): seeded too, so the pack does
 * not parse it (test/steps/parsed-yaml.test.ts checks the property over prod, KMS and synthetic organisations).
 */
function seedEscapedDocuments(steps: readonly WireStep[]): void {
    for (const step of steps) {
        if ("group" in step) seedEscapedDocuments(step.steps as readonly WireStep[]);
        const env = (step as { env?: Readonly<Record<string, unknown>> }).env;
        for (const text of Object.values(env ?? {})) {
            if (typeof text !== "string" || !text.includes("$")) continue;
            const seeded = seededYamlValue(text);
            if (seeded === undefined || keyHoldsDollar(seeded.value)) continue;
            seedYamlValue(escapeStrings(text) as string, escapeStrings(seeded.value));
        }
    }
}

/**
 * Signs one command step of a stored document, from its wire form before `$` is doubled (what the job gets once
 * Buildkite has interpolated the stored steps): the `signature` the step then carries (components/signing).
 */
export type SignCommand = (step: {
    readonly commands?: string | readonly string[];
    readonly env?: Readonly<Record<string, string>>;
    readonly plugins?: unknown;
}) => unknown;

/** Every step of a list, group members included, in document order. */
export function flattenSteps(steps: readonly Step[]): Step[] {
    return steps.flatMap((s) => (s.kind === "group" ? [s, ...s.steps] : [s]));
}
