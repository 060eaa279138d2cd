/** The namespace of every key this project reads from stack config. */
export const CONFIG_NAMESPACE = "ci-platform";

/** A path inside the config: the top-level key first, then object keys and array indices. */
export type ConfigPath = readonly (string | number)[];

/** One problem found in the stack config. */
export interface ConfigIssue {
    /** Where the problem is, top-level key first, e.g. `["pipelines", 2, "triggers", 0, "pipeline"]`. */
    readonly path: ConfigPath;
    /** What is wrong, naming the offending value where it is not secret. */
    readonly message: string;
    /** What would fix it. */
    readonly fix?: string;
    /** For a reference to an undeclared name: that name (lets a report skip references to entries that failed to parse). */
    readonly unknownName?: string;
    /** Where in the stack file, when the path cannot say (a YAML syntax error, bytes that are not UTF-8). */
    readonly at?: SourcePosition;
}

/** A place in a text file: 1-based line and column, as editors and compilers print them. */
export interface SourcePosition {
    readonly line: number;
    readonly column: number;
}

/**
 * What a report needs to say where a problem is in the user's own terms: list entries by their slug or name instead
 * of their position, and the stack file's `file:line:column`.
 */
export interface IssueContext {
    /** The `ci-platform:*` config (keys without the namespace) as written, to name list entries. */
    readonly raw?: unknown;
    /** The stack file, as the report prints it. */
    readonly file?: string;
    /** Where a config path is in the stack file (its key, or the nearest enclosing entry that exists). */
    readonly locate?: (path: ConfigPath) => SourcePosition | undefined;
}

/** The fields that name a list entry, in order of preference: a pipeline's slug, a fleet's name, a trigger's pipeline. */
const ENTRY_NAME_KEYS = ["slug", "name", "pipeline", "team", "label"] as const;

/**
 * The name of `list[index]` for a report: its slug or name (the first of {@link ENTRY_NAME_KEYS} it has as text),
 * when no other entry of the list has the same; undefined otherwise (the report then shows the position).
 */
export function entryName(list: readonly unknown[], index: number): string | undefined {
    const item = list[index];
    if (item === null || typeof item !== "object" || Array.isArray(item)) return undefined;
    for (const key of ENTRY_NAME_KEYS) {
        const name = (item as Record<string, unknown>)[key];
        if (typeof name !== "string" || name === "") continue;
        const same = list.filter(
            (other) => other !== null && typeof other === "object" && (other as Record<string, unknown>)[key] === name,
        );
        return same.length === 1 ? name : undefined;
    }
    return undefined;
}

/** A value or every reason there is none. The `?: never` lets callers destructure either branch. */
export type Result<T, E> = { ok: true; value: T; error?: never } | { ok: false; value?: never; error: E };

export const ok = <T, E>(value: T): Result<T, E> => ({ ok: true, value });
export const err = <T, E>(error: E): Result<T, E> => ({ ok: false, error });

/**
 * `["pipelines", 2, "triggers", 0]` becomes `ci-platform:pipelines[2].triggers[0]`; given the config as written
 * (`raw`), list entries are named instead: `ci-platform:pipelines[kolibri].triggers[dagster]` (a name that is not a
 * plain slug is quoted: `teams["Platform team"]`). An entry without a unique name keeps its position.
 */
export function formatConfigPath(path: ConfigPath, raw?: unknown): string {
    let out = CONFIG_NAMESPACE;
    let node: unknown = raw === undefined ? undefined : { ...(raw as object) };
    path.forEach((part, i) => {
        const list = Array.isArray(node) ? (node as unknown[]) : undefined;
        node = node !== null && typeof node === "object" ? (node as Record<string | number, unknown>)[part] : undefined;
        if (typeof part === "number") {
            const name = list === undefined ? undefined : entryName(list, part);
            out +=
                name === undefined
                    ? `[${part}]`
                    : /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) && !/^\d+$/.test(name)
                      ? `[${name}]`
                      : `[${JSON.stringify(name)}]`;
        } else if (i === 0) out += `:${part}`;
        else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(part)) out += `.${part}`;
        else out += `[${JSON.stringify(part)}]`;
    });
    return out;
}

/** One line per issue: `ci-platform:path: message. Fix: ...` (without a context: see {@link issueFormatter}). */
export function formatIssue(issue: ConfigIssue): string {
    return issueFormatter({})(issue);
}

/**
 * Formats issues in a context: `file:line:column: ` first (when the place is known) and list entries named by slug
 * or name (see {@link formatConfigPath}): `Pulumi.prod.yaml:212:7: ci-platform:pipelines[kolibri].queue: ...`.
 */
export const issueFormatter =
    (context: IssueContext) =>
    (issue: ConfigIssue): string => {
        const fix = issue.fix ? ` Fix: ${issue.fix}.` : "";
        const end = /[.?!]$/.test(issue.message) ? "" : ".";
        const at = issue.at ?? context.locate?.(issue.path);
        const where = context.file === undefined ? "" : `${context.file}${at ? `:${at.line}:${at.column}` : ""}: `;
        // A problem of the whole file (its YAML, its settings) is placed by the file alone.
        const path = where !== "" && issue.path.length === 0 ? "" : `${formatConfigPath(issue.path, context.raw)}: `;
        return `${where}${path}${issue.message}${end}${fix}`;
    };

/** Orders issues by path so reports are stable whatever order the checks ran in. */
export function sortIssues(issues: readonly ConfigIssue[]): ConfigIssue[] {
    return [...issues].sort((a, b) => {
        const pa = formatConfigPath(a.path);
        const pb = formatConfigPath(b.path);
        return pa < pb ? -1 : pa > pb ? 1 : a.message < b.message ? -1 : a.message > b.message ? 1 : 0;
    });
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
    const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        let diag = prev[0];
        prev[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const above = prev[j];
            prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
            diag = above;
        }
    }
    return prev[b.length];
}

/** The closest candidate to `name`, if one is close enough to be a plausible typo. */
export function nearest(name: string, candidates: Iterable<string>): string | undefined {
    let best: string | undefined;
    let bestDistance = Infinity;
    for (const candidate of candidates) {
        const d = editDistance(name.toLowerCase(), candidate.toLowerCase());
        if (d < bestDistance || (d === bestDistance && best !== undefined && candidate < best)) {
            best = candidate;
            bestDistance = d;
        }
    }
    const limit = Math.max(2, Math.floor(name.length / 3));
    return best !== undefined && bestDistance <= limit ? best : undefined;
}

/** "did you mean "x"? " or "", for messages about unknown names. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
    const guess = nearest(name, candidates);
    return guess === undefined ? "" : `did you mean "${guess}"? `;
}

/** "; did you mean "x"?" or nothing. */
export function suggestion(name: string, candidates: readonly string[]): string {
    const guess = didYouMean(name, candidates).trim();
    return guess ? `; ${guess}` : "";
}

/** Reports every name that appears more than once in `items`, at the later occurrences. */
export function duplicates<T>(
    items: readonly T[],
    keyOf: (item: T) => string | undefined,
    path: (index: number) => (string | number)[],
    what: string,
): ConfigIssue[] {
    const seen = new Map<string, number>();
    const issues: ConfigIssue[] = [];
    items.forEach((item, i) => {
        const key = keyOf(item);
        if (key === undefined) return;
        const first = seen.get(key);
        if (first === undefined) seen.set(key, i);
        else
            issues.push({
                path: path(i),
                message: `duplicate ${what} "${key}" (first declared at index ${first})`,
                fix: `give each ${what} a unique value, or remove one of them`,
            });
    });
    return issues;
}
