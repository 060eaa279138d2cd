import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import {
    ConfigError,
    ConfigIssue,
    IssueContext,
    checkStackFile,
    stackFileContext,
    rawConfigFromMap,
    withSchemaIssues,
} from "../../components/config";
import { parsePlatformConfig } from "../../components/platform-config";

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
 * The value the program is given for a `secure:` value: `[secret:<version>]`, where the version is a digest of the
 * ciphertext. Offline the value cannot be decrypted, but its ciphertext changes whenever it is set again
 * (`pulumi config set --secret` encrypts with a fresh nonce), so the plan can tell which resources carry a rotated
 * secret (capture.ts records the versions each secret input carries; the plan shows the value as "[secret]" still).
 * The digest reveals nothing about the value: it is computed from the ciphertext alone, which the stack file already
 * publishes, never from the plaintext (a plain hash of a low-entropy secret could be brute-forced).
 */
export function securePlaceholder(ciphertext: string): string {
    const version = createHash("sha256").update("ci-platform secret version\0").update(ciphertext).digest("hex");
    return `[secret:${version.slice(0, 16)}]`;
}

/** Every secret version (see {@link securePlaceholder}) in a text, in order of appearance. */
export function secretVersionsIn(text: string): string[] {
    return [...text.matchAll(/\[secret:([0-9a-f]{16})\]/g)].map((m) => m[1]);
}

/**
 * Reads `Pulumi.<stack>.yaml`. A `secure:` value cannot be decrypted offline (that needs the stack's secrets
 * provider), so it becomes a placeholder (see {@link securePlaceholder}) and its key is marked secret; a test fixture
 * may hold plain values under `ci-platform:secrets`, which are marked secret all the same (and carry no version: a
 * rotated plain value is not seen by the plan diff; a real stack holds `secure:` values only).
 * Throws a ConfigError (exit code 2) for what only the file shows: bytes that are not UTF-8, a `secure:` value
 * outside `ci-platform:secrets`, a number or boolean where a top-level key takes text (components/config/stack-file.ts),
 * reported together with the schema's problems.
 */
export function readStackFile(file: string): StackConfig {
    const bytes = readFileSync(file);
    const checked = checkStackFile(bytes);
    const config: Record<string, string> = {};
    const secretKeys = new Set<string>();
    for (const [key, value] of Object.entries(checked.config ?? {})) {
        const { plain, secure } = decodeSecure(value);
        config[key] = typeof plain === "string" ? plain : JSON.stringify(plain);
        if (secure || ALWAYS_SECRET_KEYS.includes(key)) secretKeys.add(key);
    }
    if (checked.issues.length > 0) {
        const parsed = checked.config === null ? undefined : parsePlatformConfig(rawConfigFromMap(config));
        throw new ConfigError(withSchemaIssues(checked.issues, parsed?.error ?? []), contextOfBytes(bytes, file));
    }
    return { config, secretKeys: [...secretKeys].sort() };
}

/** The stack file's name as a report prints it: relative to the working directory when inside it. */
export function displayName(file: string): string {
    const relative = path.relative(process.cwd(), file);
    return relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative) ? relative : file;
}

function contextOfBytes(bytes: Uint8Array, file: string): IssueContext {
    return stackFileContext(new TextDecoder("utf-8").decode(bytes), displayName(file));
}

/**
 * How to report a stack file's problems (see {@link IssueContext}): list entries named by slug or name, and each
 * problem's `file:line:column`. A file that cannot be read gives a context with its name only.
 */
export function stackFileIssueContext(file: string): IssueContext {
    try {
        return contextOfBytes(readFileSync(file), file);
    } catch {
        return { file: displayName(file) };
    }
}

/**
 * {@link readStackFile}, with the problems of an invalid file returned instead of thrown (for dr and simulate), and
 * the context to report them and any later problem of the same file in.
 */
export function readStackFileOrIssues(
    file: string,
): { stack: StackConfig; context: IssueContext } | { issues: readonly ConfigIssue[]; context: IssueContext } {
    try {
        const stack = readStackFile(file);
        return { stack, context: stackFileIssueContext(file) };
    } catch (e) {
        if (e instanceof ConfigError) return { issues: e.issues, context: e.context };
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
        if (entries.length === 1 && entries[0][0] === "secure")
            return { plain: securePlaceholder(String(entries[0][1])), secure: true };
        const decoded = entries.map(([k, v]) => [k, decodeSecure(v)] as const);
        return {
            plain: Object.fromEntries(decoded.map(([k, d]) => [k, d.plain])),
            secure: decoded.some(([, d]) => d.secure),
        };
    }
    return { plain: value, secure: false };
}
