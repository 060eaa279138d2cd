import * as pulumi from "@pulumi/pulumi";
import { ConfigIssue, formatIssue, sortIssues } from "./issues";
import { RawConfig, parsePlatformConfig, rawConfigFromMap } from "./load";
import { PlatformConfig } from "./schema";

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

/** A check of the parsed config against something outside it (files in the repository). */
export type ExtraCheck = (config: PlatformConfig) => readonly ConfigIssue[];

/**
 * Reads and validates the whole stack config before any resource is registered: the schema, the cross-references,
 * then `extraChecks` (which see only a config that passed the rest). Throws {@link ConfigError} listing every
 * problem. The returned config still holds secret values under `secrets`: pass them to resources only through
 * `pulumi.secret`.
 */
export function loadStackConfig(
    options: { raw?: RawConfig; extraChecks?: readonly ExtraCheck[] } = {},
): PlatformConfig {
    const result = parsePlatformConfig(options.raw ?? readRawStackConfig());
    if (!result.ok) throw new ConfigError(result.error);
    const issues = (options.extraChecks ?? []).flatMap((check) => check(result.value));
    if (issues.length > 0) throw new ConfigError(sortIssues(issues));
    return result.value;
}
