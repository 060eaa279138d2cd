import * as pulumi from "@pulumi/pulumi";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { CONFIG_NAMESPACE, ConfigIssue, IssueContext, Result, issueFormatter, sortIssues } from "./issues";
import { RawConfig, rawConfigFromMap, secretsShape } from "./load";
import { PlatformConfig, SecretsConfig, secretsSchema } from "./schema";
import { SECRET_CONFIG_KEY, stackFileContext } from "./stack-file";

/**
 * Invalid stack config. A `RunError`, so Pulumi prints the message without a stack trace; the offline plan
 * prints `issues` one per line and exits with code 2. `context` names list entries by slug or name and gives each
 * problem's `file:line:column` in the stack file, where known.
 */
export class ConfigError extends pulumi.RunError {
    constructor(
        public readonly issues: readonly ConfigIssue[],
        public readonly context: IssueContext = {},
    ) {
        super(formatConfigError(issues, context));
        this.name = "ConfigError";
    }
}

/** The report of invalid config: a count, then one indented line per problem. */
export function formatConfigError(issues: readonly ConfigIssue[], context: IssueContext = {}): string {
    const format = issueFormatter(context);
    return (
        `${issues.length} problem${issues.length === 1 ? "" : "s"} in the stack config; nothing was created:\n` +
        issues.map((i) => `  ${format(i)}`).join("\n")
    );
}

/**
 * The context of the running stack's problems: its config as written (names list entries) and, when the stack file
 * `Pulumi.<stack>.yaml` is in the working directory (where the Pulumi CLI runs the program), the place of each
 * problem in it. A stack file that cannot be read only loses the places.
 */
export function runningStackContext(raw: RawConfig): IssueContext {
    try {
        const file = `Pulumi.${pulumi.getStack()}.yaml`;
        const fromFile = stackFileContext(readFileSync(path.join(process.cwd(), file), "utf8"), file);
        return { ...fromFile, raw };
    } catch {
        return { raw };
    }
}

/**
 * Every `ci-platform:*` key of the running stack, parsed from the text Pulumi hands the program. It includes the
 * plain values of `ci-platform:secrets`: only {@link loadStackConfigWith} reads it, to validate them, and it hands on
 * their names only.
 */
export function readRawStackConfig(): RawConfig {
    return rawConfigFromMap(pulumi.runtime.allConfig());
}

/** The environment variable in which the Node.js language host lists the secret config keys (a JSON array). */
export const SECRET_KEYS_ENV = "PULUMI_CONFIG_SECRET_KEYS";

/**
 * The config keys Pulumi marks secret in this run: set with `--secret`, or holding a `secure:` value anywhere. The
 * SDK has no public accessor for them; the language host hands them to the program in {@link SECRET_KEYS_ENV}
 * (@pulumi/pulumi 3.276.0 runtime/state.js LocalStore seeds the run's config store from that variable, and
 * runtime/config.js names it "the environment variable key that the language plugin uses to set configuration keys
 * that contain secrets"), so that is what is read. The offline plan sets it for the program it runs
 * (scripts/plan/capture.ts).
 */
export function runtimeSecretKeys(): string[] | undefined {
    // The language host always sets it, "[]" when no key is secret (pulumi/pulumi sdk/nodejs/cmd/
    // pulumi-language-nodejs/main.go execRuntime, since v3.3): unset or unreadable means the program was not started
    // by it (e.g. an Automation API inline program), and the refusal below must not silently switch off.
    const text = process.env[SECRET_KEYS_ENV];
    if (text === undefined) return undefined;
    let listed: unknown;
    try {
        listed = JSON.parse(text);
    } catch {
        return undefined;
    }
    if (!Array.isArray(listed) || !listed.every((k): k is string => typeof k === "string")) return undefined;
    return [...listed].sort();
}

/** The problem when the run's secret config keys cannot be known ({@link runtimeSecretKeys} gave undefined). */
export function unknownSecretKeysIssue(): ConfigIssue {
    return {
        path: [],
        message: `cannot tell which config keys are secret: ${SECRET_KEYS_ENV} is unset or not a JSON list of key names`,
        fix: "run the program through the pulumi CLI (pulumi preview / pulumi up), whose language host sets it",
    };
}

/**
 * A secret value under a `ci-platform:` key other than `ci-platform:secrets`: the program cannot keep it secret (it
 * ends up in step definitions, names and tags), so it is refused. Pulumi marks a whole top-level key secret when any
 * value inside it is, so the path is the key; the offline plan reads the stack file and names the exact value.
 */
export function secretKeyIssues(secretKeys: readonly string[]): ConfigIssue[] {
    const prefix = `${CONFIG_NAMESPACE}:`;
    return secretKeys
        .filter((key) => key.startsWith(prefix) && key !== SECRET_CONFIG_KEY)
        .map((key) => ({
            path: [key.slice(prefix.length)],
            message:
                "holds a secret value (secure: in the stack file, or set with --secret) outside ci-platform:secrets; the program would write it into resources as plain text",
            fix: "keep secret values under ci-platform:secrets (pulumi config set --secret --path 'ci-platform:secrets.pipelines.<slug>.env.NAME' ...) and name them in requiresSecrets, or set this key again without --secret if it is not secret",
        }));
}

/** A check of the parsed config against something outside it (files in the repository). */
export type ExtraCheck = (config: PlatformConfig) => readonly ConfigIssue[];

/** What {@link loadStackConfigWith} reads: the running stack's config unless `raw` (tests) is given. */
export interface LoadStackConfigOptions {
    /** The config to read instead of the running stack's. */
    readonly raw?: RawConfig;
    /** The keys Pulumi marks secret; by default the running stack's when `raw` is not given. */
    readonly secretKeys?: readonly string[];
    /** Checks of the parsed config against something outside it, run only on a config that passed the rest. */
    readonly extraChecks?: readonly ExtraCheck[];
}

/**
 * Reads and validates the whole stack config before any resource is registered, with `parse` (components/
 * platform-config.ts `loadStackConfig` gives it the parse with every check): secret values outside
 * `ci-platform:secrets` (`secretKeys`: by default the keys Pulumi marks secret in this run), the schema, the
 * cross-references, then `extraChecks` (which see only a config that passed the rest). Throws {@link ConfigError} listing every
 * problem; no message quotes a secret value (load.ts `fromZodIssue`). Validation reads the plain secret values here
 * and nowhere else: the returned config's `secrets` holds their names only (every value is
 * `SECRET_VALUE_PLACEHOLDER`, load.ts `secretsShape`), so no resource input can get a secret from it. The values
 * come from {@link loadStackSecrets}, a Pulumi secret from the moment it is read.
 */
export function loadStackConfigWith(
    parse: (raw: RawConfig) => Result<PlatformConfig, ConfigIssue[]>,
    options: LoadStackConfigOptions = {},
): PlatformConfig {
    const secretKeys = options.secretKeys ?? (options.raw === undefined ? runtimeSecretKeys() : []);
    const secretIssues = secretKeys === undefined ? [unknownSecretKeysIssue()] : secretKeyIssues(secretKeys);
    const raw = options.raw ?? readRawStackConfig();
    const result = parse(raw);
    const context = () => (options.raw === undefined ? runningStackContext(raw) : { raw });
    if (!result.ok || secretIssues.length > 0)
        throw new ConfigError(sortIssues([...secretIssues, ...(result.error ?? [])]), context());
    const issues = (options.extraChecks ?? []).flatMap((check) => check(result.value));
    if (issues.length > 0) throw new ConfigError(sortIssues(issues), context());
    return { ...result.value, secrets: secretsShape(result.value.secrets) };
}

/** The config key of the secrets, without its namespace. */
const SECRETS_KEY = SECRET_CONFIG_KEY.slice(CONFIG_NAMESPACE.length + 1);

/**
 * The values of `ci-platform:secrets`, read with `Config.getSecretObject` (@pulumi/pulumi 3.276.0 config.js: the
 * parsed value wrapped in a secret Output), so every value is a Pulumi secret from the moment it is read, and with
 * the schema's defaults applied. Call after {@link loadStackConfigWith}, which validated the same text; `raw` (tests) gives
 * the raw config instead of the run's. Only the secrets bucket's objects take values from it.
 */
export function loadStackSecrets(options: { raw?: RawConfig } = {}): pulumi.Output<SecretsConfig> {
    const read: pulumi.Output<unknown> =
        options.raw !== undefined
            ? pulumi.secret(options.raw[SECRETS_KEY] ?? {})
            : (new pulumi.Config(CONFIG_NAMESPACE).getSecretObject<unknown>(SECRETS_KEY) ?? pulumi.secret({}));
    return read.apply((value) => {
        const parsed = secretsSchema.safeParse(value ?? {});
        // loadStackConfig refused an invalid value before any resource was registered; never echo the value.
        if (!parsed.success)
            throw new pulumi.RunError(
                `${SECRET_CONFIG_KEY} is invalid (run loadStackConfig first: it names every problem without the values)`,
            );
        return parsed.data;
    });
}
