/**
 * What buildkite-agent signs of a command step, and the signature a step carries.
 *
 * Pure module. Facts from buildkite/go-pipeline (commit fd45720, the mirror's HEAD; agent v3.137.0 pins v0.18.0):
 * - signature/pipeline_invariants.go `SignedFields`: the values are `command`, `env`, `plugins`, `matrix` and
 *   `repository_url`, plus `secrets` and `checkout` only when the step has them (ours never do), plus one
 *   `env::NAME` per pipeline-level variable the step's own `env` does not set. Empty env, plugins and matrix are
 *   null (`EmptyToNilMap`, `EmptyToNilSlice`, `EmptyToNilPtr`).
 * - `ValuesForFields` (verification) reads `env::NAME` from the JOB's env, and refuses a signature whose
 *   `signed_fields` lack one of command, env, plugins, matrix, repository_url.
 * - step_command.go `UnmarshalYAML`: `commands: [a, b]` is the command "a\nb".
 * - plugin.go `MarshalJSON`/`FullSource`: each plugin is a one-key object `{full source: config}`; `name#ref`
 *   becomes `github.com/buildkite-plugins/name-buildkite-plugin#ref`, `org/name#ref` becomes
 *   `github.com/org/name-buildkite-plugin#ref`; an empty config is null.
 * - signature/sign.go `canonicalPayload`: the signed payload is the RFC 8785 form of `{"alg": ..., "values": ...}`;
 *   `Sign` records the sorted field names as `signed_fields`.
 * - step_command.go `Signature`: the step carries `signature: {algorithm, signed_fields, value}`.
 * - buildkite/agent v3.137.0 agent/verify_job.go `verifyJob`: the repository URL verified against is the job's
 *   `BUILDKITE_REPO`, and the env is the job's whole env (`signature.WithEnv(r.conf.Job.Env)`).
 */
import { canonicalJson, JsonValue } from "./jcs";
import { PublicJwk, SIGNING_ALGORITHM, signDetached, SigningKey, verifyDetached } from "./jws";

/** The signature a signed command step carries (`signature:` in its YAML). */
export interface StepSignature {
    readonly algorithm: string;
    readonly signed_fields: readonly string[];
    readonly value: string;
}

/** A command step as signing sees it: its commands, its own env, its plugins (`{source: config}` each). */
export interface SignableStep {
    readonly commands: readonly string[];
    readonly env?: Readonly<Record<string, string>>;
    readonly plugins?: readonly Readonly<Record<string, unknown>>[];
}

/** What the signature binds a step to beyond its own fields. */
export interface SigningContext {
    /** The pipeline's repository URL (the job's `BUILDKITE_REPO`). */
    readonly repositoryUrl: string;
    /**
     * When signing: the pipeline document's top-level `env`. When verifying: the job's env (where the pipeline's
     * variables end up).
     */
    readonly outerEnv?: Readonly<Record<string, string>>;
}

/** The prefix of a signed field that holds an outer (pipeline) variable. */
export const ENV_FIELD_PREFIX = "env::";

/** The fields every signature must cover (pipeline_invariants.go `ValuesForFields`' required set). */
const REQUIRED_FIELDS = ["command", "env", "matrix", "plugins", "repository_url"] as const;

/** A plugin source in the full form the agent signs (plugin.go `FullSource`). */
export function fullPluginSource(source: string): string {
    if (source === "" || /^[/.\\]/.test(source)) return source;
    // A scheme (https://, ssh://, C:) means the source is written out already.
    if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(source)) return source;
    const hash = source.indexOf("#");
    const path = (hash < 0 ? source : source.slice(0, hash)).replace(/^\//, "");
    const ref = hash < 0 ? "" : source.slice(hash + 1);
    const withRef = (name: string) => `${name}-buildkite-plugin${ref === "" ? "" : `#${ref}`}`;
    const segments = path.split("/");
    if (segments.length === 1) return `github.com/buildkite-plugins/${withRef(segments[0])}`;
    if (segments.length === 2) return `github.com/${segments[0]}/${withRef(segments[1])}`;
    return source;
}

function emptyToNull(config: unknown): unknown {
    if (config === undefined || config === null) return null;
    if (Array.isArray(config)) return config.length === 0 ? null : config;
    if (typeof config === "object" && Object.keys(config).length === 0) return null;
    return config;
}

function pluginValues(plugins: SignableStep["plugins"]): JsonValue {
    if (plugins === undefined || plugins.length === 0) return null;
    return plugins.map((p) => {
        const entries = Object.entries(p);
        if (entries.length !== 1) throw new Error("a plugin entry is a one-key object {source: config}");
        const [source, config] = entries[0];
        return { [fullPluginSource(source)]: emptyToNull(config) as JsonValue };
    });
}

/** The values the agent signs for a step (pipeline_invariants.go `SignedFields`), by field. */
export function signedValues(step: SignableStep, context: SigningContext): Record<string, JsonValue> {
    const env = step.env !== undefined && Object.keys(step.env).length > 0 ? { ...step.env } : null;
    const values: Record<string, JsonValue> = {
        command: step.commands.join("\n"),
        env,
        plugins: pluginValues(step.plugins),
        matrix: null,
        repository_url: context.repositoryUrl,
    };
    for (const [name, value] of Object.entries(context.outerEnv ?? {})) {
        if (step.env !== undefined && Object.hasOwn(step.env, name)) continue;
        values[`${ENV_FIELD_PREFIX}${name}`] = value;
    }
    return values;
}

/** The bytes signed: `{"alg": ..., "values": ...}` in RFC 8785 form (sign.go `canonicalPayload`). */
export function canonicalPayload(algorithm: string, values: Readonly<Record<string, JsonValue>>): string {
    return canonicalJson({ alg: algorithm, values });
}

/** Signs a step: deterministic (Ed25519), so the same step, context and key give the same signature. */
export function signStep(step: SignableStep, context: SigningContext, key: SigningKey): StepSignature {
    const values = signedValues(step, context);
    return {
        algorithm: SIGNING_ALGORITHM,
        signed_fields: Object.keys(values).sort(),
        value: signDetached(canonicalPayload(SIGNING_ALGORITHM, values), key),
    };
}

/**
 * Verifies a step's signature as the agent does at job run: the values of the signed fields (outer variables
 * from the job's env), every required field covered, and the JWS by a key of the set. Returns the reason it
 * fails, or undefined when it verifies.
 */
export function verifyStep(
    step: SignableStep,
    signature: StepSignature | undefined,
    context: SigningContext,
    keys: readonly PublicJwk[],
): string | undefined {
    return verifyStepWith(step, signature, context, (value, payload) => verifyDetached(value, payload, keys));
}

/**
 * {@link verifyStep} with the JWS check given: `check(value, payload)` says whether the signature's value signs the
 * canonical payload (an ES256 KMS key's check: kms.ts `verifyEs256Detached`).
 */
export function verifyStepWith(
    step: SignableStep,
    signature: StepSignature | undefined,
    context: SigningContext,
    check: (value: string, payload: string) => boolean,
): string | undefined {
    if (signature === undefined) return "the step has no signature";
    if (signature.signed_fields.length === 0) return "the signature covers no fields";
    const missing = REQUIRED_FIELDS.filter((f) => !signature.signed_fields.includes(f));
    if (missing.length > 0) return `the signature does not cover ${missing.join(", ")}`;
    const all = signedValues(step, { repositoryUrl: context.repositoryUrl });
    const values: Record<string, JsonValue> = {};
    for (const field of signature.signed_fields) {
        if (field.startsWith(ENV_FIELD_PREFIX)) {
            const name = field.slice(ENV_FIELD_PREFIX.length);
            const value = context.outerEnv?.[name];
            if (value === undefined) return `variable "${name}" is missing from the job's environment`;
            values[field] = value;
        } else if (Object.hasOwn(all, field)) {
            values[field] = all[field];
        } else {
            return `unknown signed field "${field}"`;
        }
    }
    const payload = canonicalPayload(signature.algorithm, values);
    return check(signature.value, payload) ? undefined : "the signature does not verify";
}
