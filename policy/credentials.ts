/*
 * Credential-shaped text. Pipeline steps are stored in Buildkite and shown to everyone who can read the pipeline, so a
 * token pasted into a step is a leaked token. A finding names the kind of credential and the line, never the value.
 */

/** One kind of credential and what it looks like. */
interface CredentialPattern {
    /** What the finding calls it, e.g. "AWS access key id". */
    readonly kind: string;
    /** Matches the credential; global, so every occurrence is found. */
    readonly pattern: RegExp;
}

/** The kinds searched for, most specific first. */
export const CREDENTIAL_PATTERNS: readonly CredentialPattern[] = [
    { kind: "AWS access key id", pattern: /\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b/g },
    {
        kind: "AWS secret access key",
        pattern: /aws_secret_access_key["']?[ \t]*[:=][ \t]*["']?(?!\$)[A-Za-z0-9/+]{40}\b/gi,
    },
    { kind: "GitHub token", pattern: /\bgh[pousr]_[A-Za-z0-9]{36,}\b/g },
    { kind: "GitHub fine-grained token", pattern: /\bgithub_pat_[A-Za-z0-9_]{22,}\b/g },
    { kind: "Buildkite API token", pattern: /\bbkua_[A-Za-z0-9]{20,}\b/g },
    { kind: "Buildkite agent token", pattern: /\bbkct_[A-Za-z0-9]{20,}\b/g },
    { kind: "private key", pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/g },
    // PyPI API tokens are macaroons whose serialisation starts `AgE` (pypi.org and test.pypi.org alike).
    { kind: "PyPI token", pattern: /\bpypi-AgE[A-Za-z0-9_-]{40,}/g },
    { kind: "npm token", pattern: /\bnpm_[A-Za-z0-9]{36}\b/g },
    { kind: "Slack token", pattern: /\bxox[abposre]-[A-Za-z0-9-]{10,}/g },
    {
        kind: "Slack webhook URL",
        pattern: /https:\/\/hooks\.slack\.com\/services\/T[A-Za-z0-9]+\/B[A-Za-z0-9]+\/[A-Za-z0-9]+/g,
    },
    {
        // `password: hunter22`, `DB_PASSWORD=hunter22`, `api_key: "..."` with a literal value. A value that starts
        // with `$` reads an environment variable and is fine; so is an empty one.
        kind: "literal password",
        pattern:
            /(?<![A-Za-z0-9])(?:password|passwd|api[_-]?key|secret[_-]?key|client[_-]?secret|auth[_-]?token|access[_-]?token)["']?[ \t]*[:=][ \t]*["']?(?![$"'{<\s])[^\s"'`]{6,}/gi,
    },
    {
        // `--password hunter22` on a command line.
        kind: "literal password",
        pattern: /--(?:password|passwd)[ \t]+["']?(?![$"'{<\s-])[^\s"'`]{6,}/gi,
    },
];

/** One credential-shaped string in a text. */
export interface CredentialFinding {
    /** What kind of credential it looks like. */
    readonly kind: string;
    /** The 1-based line it starts on. */
    readonly line: number;
}

/**
 * Whether any pattern matches somewhere in a text: the patterns of one set of flags as one alternation, so most
 * texts (which hold no credential) are scanned once per set of flags rather than once per pattern. Exact, not an
 * approximation: an alternation of patterns under the same flags matches a text exactly when one of them does (none
 * has a capturing group or a backreference that joining them could renumber).
 */
const ANY_PATTERN: readonly RegExp[] = (() => {
    const sources = new Map<string, string[]>();
    for (const { pattern } of CREDENTIAL_PATTERNS) {
        const flags = pattern.flags.replace("g", "");
        sources.set(flags, [...(sources.get(flags) ?? []), `(?:${pattern.source})`]);
    }
    return [...sources].map(([flags, alternatives]) => new RegExp(alternatives.join("|"), flags));
})();

/** Every credential-shaped string in `text`, in order of position; the matched values are not returned. */
export function findCredentials(text: string): CredentialFinding[] {
    if (!ANY_PATTERN.some((any) => any.test(text))) return [];
    const found: { kind: string; index: number }[] = [];
    const claimed: [number, number][] = [];
    for (const { kind, pattern } of CREDENTIAL_PATTERNS) {
        for (const match of text.matchAll(new RegExp(pattern.source, pattern.flags))) {
            const start = match.index ?? 0;
            const end = start + match[0].length;
            // A later, more generic pattern does not report text a more specific one already did.
            if (claimed.some(([s, e]) => start < e && end > s)) continue;
            claimed.push([start, end]);
            found.push({ kind, index: start });
        }
    }
    return found
        .sort((a, b) => a.index - b.index)
        .map(({ kind, index }) => ({ kind, line: text.slice(0, index).split("\n").length }));
}
