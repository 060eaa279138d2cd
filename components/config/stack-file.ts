import { Document, isMap, isPair, isScalar, isSeq, parseDocument } from "yaml";
import type { Node as YamlNode } from "yaml";
import { z } from "zod";
import { CONFIG_NAMESPACE, ConfigIssue, ConfigPath, sortIssues } from "./issues";
import { platformConfigSchema } from "./schema";

/*
 * Checks of a stack file (`Pulumi.<stack>.yaml`) as text, before its values are handed to the program: what the
 * program cannot see once Pulumi has turned every top-level value into a string and decrypted every `secure:` value.
 * Pure: bytes in, the parsed document and every problem out.
 */

/** The stack file's top-level keys that hold secrets. A `secure:` value anywhere else is refused. */
export const SECRET_CONFIG_KEY = `${CONFIG_NAMESPACE}:secrets`;

/** The stack file, decoded and parsed, with every problem found in it. */
export interface StackFileCheck {
    /** The `config:` map of the file (null when the file could not be parsed). */
    readonly config: Record<string, unknown> | null;
    readonly issues: ConfigIssue[];
}

/** Where the first byte sequence that is not UTF-8 starts: its byte offset, and the text before it. */
function firstInvalidUtf8(bytes: Uint8Array): { offset: number; before: string } | undefined {
    const fatal = () => new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
    try {
        fatal().decode(bytes);
        return undefined;
    } catch {
        // Find the longest prefix that decodes (a sequence cut at the end of a prefix is not an error when streaming).
        let lo = 0;
        let hi = bytes.length;
        while (lo < hi) {
            const mid = Math.ceil((lo + hi) / 2);
            try {
                fatal().decode(bytes.subarray(0, mid), { stream: true });
                lo = mid;
            } catch {
                hi = mid - 1;
            }
        }
        const before = fatal().decode(bytes.subarray(0, lo), { stream: true });
        return { offset: lo, before };
    }
}

/** The path (from the document root) of the deepest map entry or list item whose text covers `offset`. */
function pathAt(node: unknown, offset: number): (string | number)[] {
    const covers = (n: unknown): boolean => {
        const range = (n as YamlNode | null)?.range;
        return Array.isArray(range) && range[0] <= offset && offset < range[2];
    };
    if (isMap(node)) {
        for (const pair of node.items) {
            if (!isPair(pair)) continue;
            const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
            if (covers(pair.key)) return [key];
            if (covers(pair.value)) return [key, ...pathAt(pair.value, offset)];
        }
    } else if (isSeq(node)) {
        for (const [i, item] of node.items.entries()) if (covers(item)) return [i, ...pathAt(item, offset)];
    }
    return [];
}

/** A `config:` key (`ci-platform:fleets`) as a config path under the namespace, or undefined for other namespaces. */
function namespacePath(fullKey: string, rest: readonly (string | number)[]): ConfigPath | undefined {
    const prefix = `${CONFIG_NAMESPACE}:`;
    return fullKey.startsWith(prefix) ? [fullKey.slice(prefix.length), ...rest] : undefined;
}

/** Every `secure:` value at or under `value`, as paths relative to it. */
function securePaths(value: unknown, at: (string | number)[] = []): (string | number)[][] {
    if (Array.isArray(value)) return value.flatMap((v, i) => securePaths(v, [...at, i]));
    if (value !== null && typeof value === "object") {
        const entries = Object.entries(value as Record<string, unknown>);
        if (entries.length === 1 && entries[0][0] === "secure") return [at];
        return entries.flatMap(([k, v]) => securePaths(v, [...at, k]));
    }
    return [];
}

/** The type a top-level key's schema wants, looking through defaults, optionals and transforms. */
function baseType(schema: z.core.$ZodType): string {
    let s = schema;
    for (;;) {
        const def = s._zod.def;
        if (def.type === "default" || def.type === "optional" || def.type === "nullable" || def.type === "prefault")
            s = (def as z.core.$ZodDefaultDef).innerType;
        else if (def.type === "pipe") {
            const pipe = def as z.core.$ZodPipeDef;
            s = pipe.in._zod.def.type === "transform" ? pipe.out : pipe.in;
        } else return def.type;
    }
}

/**
 * Problems of the stack file that the schema cannot see once Pulumi has handed the values to the program:
 * - bytes that are not UTF-8 (a text decoder would replace them silently), reported at the key that holds them;
 * - a `secure:` value under a `ci-platform:` key other than `ci-platform:secrets`: the program would pass the
 *   decrypted value to resources as plain text (Pulumi marks the whole top-level key secret, but the value ends up
 *   in step definitions, tags and names that are not);
 * - a top-level scalar of the wrong YAML type where the schema wants text (`ci-platform:organization: 123` or an
 *   empty value): Pulumi hands every top-level scalar to the program as text, so `123` would arrive as "123".
 * Other namespaces (`aws:`, `pulumi:`) are not this program's to judge, except for their bytes.
 */
export function checkStackFile(bytes: Uint8Array): StackFileCheck {
    const issues: ConfigIssue[] = [];
    const invalid = firstInvalidUtf8(bytes);
    const text = new TextDecoder("utf-8").decode(bytes);
    const doc: Document = parseDocument(text);
    if (invalid !== undefined) {
        const line = invalid.before.split("\n").length;
        const where = pathAt(doc.contents, invalid.before.length);
        const configPath =
            where[0] === "config" && typeof where[1] === "string" ? namespacePath(where[1], where.slice(2)) : undefined;
        issues.push({
            path: configPath ?? [],
            message: `line ${line} of the stack file holds bytes that are not UTF-8 (at byte ${invalid.offset}${configPath === undefined && where.length > 0 ? `, in ${where.join(".")}` : ""}); they would be replaced silently`,
            fix: "save the stack file as UTF-8 and retype the value (pulumi config set writes UTF-8)",
        });
    }
    if (doc.errors.length > 0) {
        const error = doc.errors[0];
        issues.push({
            path: [],
            message: `the stack file is not valid YAML: ${error.message.split("\n")[0]}`,
            fix: "correct the YAML at that line (pulumi config set writes valid YAML)",
        });
        return { config: null, issues };
    }
    const root: unknown = doc.toJS();
    const config =
        root !== null && typeof root === "object" && !Array.isArray(root)
            ? (root as Record<string, unknown>).config
            : undefined;
    if (config === undefined || config === null) return { config: {}, issues };
    if (typeof config !== "object" || Array.isArray(config)) {
        issues.push({
            path: [],
            message: "the stack file's config is not a map of keys to values",
            fix: "write config: followed by one key per line (ci-platform:organization: ...)",
        });
        return { config: null, issues };
    }
    const shape = platformConfigSchema.shape as Record<string, z.core.$ZodType>;
    for (const [fullKey, value] of Object.entries(config as Record<string, unknown>)) {
        const key = namespacePath(fullKey, []);
        if (key === undefined) continue;
        if (fullKey !== SECRET_CONFIG_KEY)
            for (const at of securePaths(value))
                issues.push({
                    path: [...key, ...at],
                    message:
                        "holds a secure: (encrypted) value outside ci-platform:secrets; the program would write the decrypted value into resources as plain text",
                    fix: "keep secret values under ci-platform:secrets (pulumi config set --secret --path 'ci-platform:secrets.pipelines.<slug>.env.NAME' ...) and name them in requiresSecrets, or set this value without --secret if it is not secret",
                });
        const schema = shape[key[0]];
        if (schema === undefined) continue; // an unknown key: the schema reports it
        const wanted = baseType(schema);
        if ((wanted === "string" || wanted === "enum") && typeof value !== "string" && !isStructured(value))
            issues.push({
                path: key,
                message:
                    value === null
                        ? "is empty"
                        : `is a ${typeof value} (${String(value)}); this key takes text, and Pulumi would hand the program "${String(value)}"`,
                fix:
                    value === null
                        ? "give it a value"
                        : `write the text you mean, quoted if it is to be "${String(value)}"`,
            });
    }
    return { config: config as Record<string, unknown>, issues };
}

function isStructured(value: unknown): boolean {
    return value !== null && typeof value === "object";
}

/**
 * The stack file's problems together with the schema's, for one report: a schema problem at or under a path the
 * stack file check already reported (the value there is a placeholder or coerced text) is left out.
 */
export function withSchemaIssues(
    fileIssues: readonly ConfigIssue[],
    schemaIssues: readonly ConfigIssue[],
): ConfigIssue[] {
    const covered = (path: ConfigPath) =>
        fileIssues.some((f) => f.path.length > 0 && f.path.every((part, i) => path[i] === part));
    return sortIssues([...fileIssues, ...schemaIssues.filter((i) => !covered(i.path))]);
}
