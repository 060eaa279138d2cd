import { Document, LineCounter, YAMLError, isMap, isPair, isScalar, isSeq, parseDocument } from "yaml";
import type { Node as YamlNode } from "yaml";
import { z } from "zod";
import {
    CONFIG_NAMESPACE,
    ConfigIssue,
    ConfigPath,
    IssueContext,
    SourcePosition,
    didYouMean,
    sortIssues,
} from "./issues";
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
    const { doc, lineCounter } = parseWithLines(text);
    if (invalid !== undefined) {
        const line = invalid.before.split("\n").length;
        const where = pathAt(doc.contents, invalid.before.length);
        const configPath =
            where[0] === "config" && typeof where[1] === "string" ? namespacePath(where[1], where.slice(2)) : undefined;
        const position = lineCounter.linePos(invalid.before.length);
        issues.push({
            path: configPath ?? [],
            at: { line: position.line, column: position.col },
            message: `line ${line} of the stack file holds bytes that are not UTF-8 (at byte ${invalid.offset}${configPath === undefined && where.length > 0 ? `, in ${where.join(".")}` : ""}); they would be replaced silently`,
            fix: "save the stack file as UTF-8 and retype the value (pulumi config set writes UTF-8)",
        });
    }
    if (doc.errors.length > 0) {
        // The parser's first error only: the ones after it are mostly the same mistake seen again further on.
        const error = doc.errors[0];
        issues.push({
            path: [],
            at: error.linePos ? { line: error.linePos[0].line, column: error.linePos[0].col } : undefined,
            message: `the stack file is not valid YAML: ${yamlProblem(error)}`,
            fix: "correct the YAML at that line (pulumi config set writes valid YAML)",
        });
        return { config: null, issues };
    }
    const root: unknown = doc.toJS();
    if (root !== null && typeof root === "object" && !Array.isArray(root)) issues.push(...settingsIssues(doc, root));
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

/** A YAML syntax error in our words (the parser's are about its own grammar: "flow sequence", "implicit key"). */
function yamlProblem(error: YAMLError): string {
    const first = error.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
    switch (error.code) {
        case "DUPLICATE_KEY":
            return "this key appears twice in the same map (the second would replace the first)";
        case "TAB_AS_INDENT":
            return "a tab indents this line; YAML indents with spaces";
        case "MISSING_CHAR":
            return /quote/.test(first)
                ? "a quoted text is not closed"
                : "a bracket or quote opened earlier is not closed";
        case "BLOCK_AS_IMPLICIT_KEY":
            return 'a second "key:" on one line; quote a value that holds ": "';
        case "MULTIPLE_DOCS":
            return "the file holds more than one YAML document (a --- line); a stack file is one document";
        case "BAD_INDENT":
            return /^Flow (sequence|mapping)/.test(first)
                ? "a [ list ] or { map } is not closed, or its next line is not indented under its key"
                : "this line is not indented like the keys before it";
        default:
            return `it does not parse here (the YAML parser says: ${first})`;
    }
}

/**
 * The top-level keys of a stack settings file (Pulumi docs, "Pulumi stack settings file reference",
 * pulumi.com/docs/iac/concepts/projects/stack-settings-file): `config`, `secretsprovider`, `encryptedkey`,
 * `encryptionsalt` and `environment`. The offline plan honours the first four (the secrets-provider settings only
 * matter to decrypt `secure:` values, which the plan never does); `environment` imports Pulumi ESC environments whose
 * values exist only in Pulumi Cloud, so it is refused, as is any key Pulumi does not know (a misspelt `config:`
 * would leave the stack without config).
 */
export const HONOURED_SETTINGS = ["config", "encryptedkey", "encryptionsalt", "secretsprovider"] as const;

function settingsIssues(doc: Document, root: object): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    const keyAt = (key: string): SourcePosition | undefined => {
        const contents = doc.contents;
        if (!isMap(contents)) return undefined;
        const pair = contents.items.find((p) => isScalar(p.key) && p.key.value === key);
        const offset = (pair?.key as YamlNode | undefined)?.range?.[0];
        return offset === undefined ? undefined : toPosition(doc, offset);
    };
    for (const key of Object.keys(root)) {
        if ((HONOURED_SETTINGS as readonly string[]).includes(key)) continue;
        if (key === "environment")
            issues.push({
                path: [],
                at: keyAt(key),
                message:
                    "the stack file imports Pulumi ESC environments (environment:); their values live in Pulumi Cloud, which the offline plan cannot open, so it would plan without them (every secret object they hold would show as deleted)",
                fix: "plan this stack with pulumi preview, which opens the environments; or, for the offline plan, copy the values into the stack file with pulumi config set (--secret for secrets) and drop environment:",
            });
        else
            issues.push({
                path: [],
                at: keyAt(key),
                message: `the stack file has a top-level key "${key}" that Pulumi does not know; ${didYouMean(key, [...HONOURED_SETTINGS, "environment"])}a stack file holds ${HONOURED_SETTINGS.join(", ")} and environment`,
                fix: "correct its spelling or remove it (config values go under config:)",
            });
    }
    return issues;
}

/** 1-based line and column of a character offset in the document's text. */
function toPosition(doc: Document, offset: number): SourcePosition | undefined {
    const counter = lineCounters.get(doc);
    if (counter === undefined) return undefined;
    const { line, col } = counter.linePos(offset);
    return { line, column: col };
}

/** The line counter each parsed document was read with. */
const lineCounters = new WeakMap<Document, LineCounter>();

/** Parses a stack file's text keeping line positions. */
function parseWithLines(text: string): { doc: Document; lineCounter: LineCounter } {
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { lineCounter, merge: true });
    lineCounters.set(doc, lineCounter);
    return { doc, lineCounter };
}

/**
 * What a report needs to name the stack file's problems in the user's terms (see {@link IssueContext}): the
 * `ci-platform:*` values as written, to name list entries by slug or name, and where each config path is in the file:
 * the key that holds it, or (for a key that is missing) the nearest enclosing entry. `file` is printed as given.
 */
export function stackFileContext(text: string, file: string): IssueContext {
    const { doc } = parseWithLines(text);
    const config = isMap(doc.contents) ? doc.contents.get("config", true) : undefined;
    const raw: Record<string, unknown> = {};
    const prefix = `${CONFIG_NAMESPACE}:`;
    if (isMap(config))
        for (const pair of config.items)
            if (isScalar(pair.key) && typeof pair.key.value === "string" && pair.key.value.startsWith(prefix))
                raw[pair.key.value.slice(prefix.length)] = (pair.value as YamlNode | null)?.toJSON?.() ?? null;
    const locate = (path: ConfigPath): SourcePosition | undefined => {
        if (!isMap(config) || path.length === 0) return undefined;
        let best: number | undefined;
        let node: unknown = config;
        for (const [i, part] of path.entries()) {
            const key = i === 0 ? `${prefix}${String(part)}` : part;
            if (isMap(node)) {
                const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key));
                if (pair === undefined) break;
                best = (pair.key as YamlNode).range?.[0] ?? best;
                node = pair.value;
            } else if (isSeq(node) && typeof part === "number") {
                const item = node.items[part] as YamlNode | undefined;
                if (item === undefined) break;
                best = item.range?.[0] ?? best;
                node = item;
            } else break;
        }
        return best === undefined ? undefined : toPosition(doc, best);
    };
    return { raw, file, locate };
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
