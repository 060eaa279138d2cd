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
}

/** A value or every reason there is none. The `?: never` lets callers destructure either branch. */
export type Result<T, E> = { ok: true; value: T; error?: never } | { ok: false; value?: never; error: E };

export const ok = <T, E>(value: T): Result<T, E> => ({ ok: true, value });
export const err = <T, E>(error: E): Result<T, E> => ({ ok: false, error });

/** `["pipelines", 2, "triggers", 0]` becomes `ci-platform:pipelines[2].triggers[0]`. */
export function formatConfigPath(path: ConfigPath): string {
    let out = CONFIG_NAMESPACE;
    path.forEach((part, i) => {
        if (typeof part === "number") out += `[${part}]`;
        else if (i === 0) out += `:${part}`;
        else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(part)) out += `.${part}`;
        else out += `[${JSON.stringify(part)}]`;
    });
    return out;
}

/** One line per issue: `ci-platform:path: message. Fix: ...`. */
export function formatIssue(issue: ConfigIssue): string {
    const fix = issue.fix ? ` Fix: ${issue.fix}.` : "";
    const end = /[.?!]$/.test(issue.message) ? "" : ".";
    return `${formatConfigPath(issue.path)}: ${issue.message}${end}${fix}`;
}

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
