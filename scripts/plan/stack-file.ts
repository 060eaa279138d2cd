import { readFileSync } from "node:fs";
import {
    ConfigError,
    ConfigIssue,
    checkStackFile,
    parsePlatformConfig,
    rawConfigFromMap,
    withSchemaIssues,
} from "../../components/config";
import { SECRET } from "./model";

/** A stack's config as the Pulumi engine would hand it to the program. */
export interface StackConfig {
    /** Full key (`ci-platform:fleets`) to the string Pulumi passes: JSON for objects and lists. */
    readonly config: Record<string, string>;
    /** Keys whose value is secret, or holds a secret somewhere inside. */
    readonly secretKeys: string[];
}

/** Keys that are secret whatever the file says. */
export const ALWAYS_SECRET_KEYS = ["ci-platform:secrets"];

/**
 * Reads `Pulumi.<stack>.yaml`. A `secure:` value cannot be decrypted offline (that needs the stack's secrets
 * provider), so it becomes the placeholder "[secret]" and its key is marked secret; a test fixture may hold plain
 * values under `ci-platform:secrets`, which are marked secret all the same.
 * Throws a ConfigError (exit code 2) for what only the file shows: bytes that are not UTF-8, a `secure:` value
 * outside `ci-platform:secrets`, a number or boolean where a top-level key takes text (components/config/stack-file.ts),
 * reported together with the schema's problems.
 */
export function readStackFile(file: string): StackConfig {
    const checked = checkStackFile(readFileSync(file));
    const config: Record<string, string> = {};
    const secretKeys = new Set<string>();
    for (const [key, value] of Object.entries(checked.config ?? {})) {
        const { plain, secure } = decodeSecure(value);
        config[key] = typeof plain === "string" ? plain : JSON.stringify(plain);
        if (secure || ALWAYS_SECRET_KEYS.includes(key)) secretKeys.add(key);
    }
    if (checked.issues.length > 0) {
        const parsed = checked.config === null ? undefined : parsePlatformConfig(rawConfigFromMap(config));
        throw new ConfigError(withSchemaIssues(checked.issues, parsed?.error ?? []));
    }
    return { config, secretKeys: [...secretKeys].sort() };
}

/** {@link readStackFile}, with the problems of an invalid file returned instead of thrown (for dr and simulate). */
export function readStackFileOrIssues(file: string): { stack: StackConfig } | { issues: readonly ConfigIssue[] } {
    try {
        return { stack: readStackFile(file) };
    } catch (e) {
        if (e instanceof ConfigError) return { issues: e.issues };
        throw e;
    }
}

function decodeSecure(value: unknown): { plain: unknown; secure: boolean } {
    if (Array.isArray(value)) {
        const items = value.map(decodeSecure);
        return { plain: items.map((i) => i.plain), secure: items.some((i) => i.secure) };
    }
    if (value !== null && typeof value === "object") {
        const entries = Object.entries(value as Record<string, unknown>);
        if (entries.length === 1 && entries[0][0] === "secure") return { plain: SECRET, secure: true };
        const decoded = entries.map(([k, v]) => [k, decodeSecure(v)] as const);
        return {
            plain: Object.fromEntries(decoded.map(([k, d]) => [k, d.plain])),
            secure: decoded.some(([, d]) => d.secure),
        };
    }
    return { plain: value, secure: false };
}
