import * as pulumi from "@pulumi/pulumi";
import { CONFIG_NAMESPACE, ConfigIssue, formatIssue, sortIssues } from "./issues";
import { RawConfig, parsePlatformConfig, rawConfigFromMap } from "./load";
import { PlatformConfig } from "./schema";
import { SECRET_CONFIG_KEY } from "./stack-file";

/**
 * Invalid stack config. A `RunError`, so Pulumi prints the message without a stack trace; the offline plan
 * prints `issues` one per line and exits with code 2.
 */
export class ConfigError extends pulumi.RunError {
    constructor(public readonly issues: readonly ConfigIssue[]) {
        super(
            `${issues.length} problem${issues.length === 1 ? "" : "s"} in the stack config; nothing was created:\n` +
                issues.map((i) => `  ${formatIssue(i)}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

/** Every `ci-platform:*` key of the running stack, parsed from the text Pulumi hands the program. */
export function readRawStackConfig(): RawConfig {
    return rawConfigFromMap(pulumi.runtime.allConfig());
}

/** The config keys Pulumi marks secret in this run: set with `--secret`, or holding a `secure:` value anywhere. */
export function runtimeSecretKeys(): string[] {
    // The SDK's own test of a key (used by Config.get to warn about secrets read as plain values); it reads
    // PULUMI_CONFIG_SECRET_KEYS, the list the language host hands the program (@pulumi/pulumi 3.270.0
    // runtime/config.js, isConfigSecret, internal and so not in the typings).
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- an internal SDK module without typings
    const internal = require("@pulumi/pulumi/runtime/config") as { isConfigSecret(key: string): boolean };
    return Object.keys(pulumi.runtime.allConfig())
        .filter((key) => internal.isConfigSecret(key))
        .sort();
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

/**
 * Reads and validates the whole stack config before any resource is registered: secret values outside
 * `ci-platform:secrets` (`secretKeys`: by default the keys Pulumi marks secret in this run), the schema, the
 * cross-references, then `extraChecks` (which see only a config that passed the rest). Throws {@link ConfigError} listing every
 * problem. The returned config still holds secret values under `secrets`: pass them to resources only through
 * `pulumi.secret`.
 */
export function loadStackConfig(
    options: { raw?: RawConfig; secretKeys?: readonly string[]; extraChecks?: readonly ExtraCheck[] } = {},
): PlatformConfig {
    const secretIssues = secretKeyIssues(options.secretKeys ?? (options.raw === undefined ? runtimeSecretKeys() : []));
    const result = parsePlatformConfig(options.raw ?? readRawStackConfig());
    if (!result.ok || secretIssues.length > 0)
        throw new ConfigError(sortIssues([...secretIssues, ...(result.error ?? [])]));
    const issues = (options.extraChecks ?? []).flatMap((check) => check(result.value));
    if (issues.length > 0) throw new ConfigError(sortIssues(issues));
    return result.value;
}
