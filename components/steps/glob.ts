/**
 * Glob matching with the semantics the Buildkite agent applies to `if_changed`.
 *
 * Pure module: strings in, booleans out. Nothing here reads the filesystem.
 *
 * ## Where the semantics come from
 *
 * Read at buildkite/agent `5c219808` (main, after v3.137.0) and DrJosh9000/zzglob `v0.4.3` (the version pinned in
 * the agent's `go.mod` since before v3.137.0; v3.109.0, the first release with list and include/exclude forms,
 * pinned v0.4.1, whose matching differs only in the `~` detail noted below):
 *
 * - agent `clicommand/pipeline_upload.go` (`ifChangedApplicator.apply`, `ifChangedPatterns`):
 *   - `if_changed` is applied to command, trigger and group steps (group steps are also recursed into).
 *   - The value is a string (one pattern), a list of strings, or a mapping with a required `include` (string or
 *     list) and an optional `exclude` (string or list). Each pattern goes to `zzglob.Parse(pattern)` with default
 *     options, and each changed path to `Pattern.Match(path)`.
 *   - A path matched by any `exclude` pattern is discarded; the step runs if any remaining path matches any
 *     `include` pattern. Otherwise the agent sets `skip: "if_changed matched no unexcluded changed files in this
 *     build"`. So no changed files, or an empty pattern list, skips every step that has `if_changed`.
 *   - If a pattern fails to parse, a list item is not a string, or a mapping has no `include` key, the agent logs a
 *     warning and the step is NOT skipped.
 *   - Changed paths are `git diff --name-only <merge-base>` (or `git log --first-parent -1 --name-only` when HEAD is
 *     the diff base), or lines of `--changed-files-path`: repository-relative, `/`-separated, no leading `./`, with
 *     blank lines dropped (lines are not otherwise trimmed).
 * - zzglob `tokeniser.go`, `preprocess.go`, `parsers.go`, `expr.go`, `pattern.go`, `match.go`, `state_machine.go`,
 *   `parseopts.go` (README "Pattern syntax" agrees), for a Linux agent (default options: escaping on, `/` is the
 *   separator, `~` expansion on):
 *   - A pattern must match the WHOLE path (an all-literal pattern is compared with `==`).
 *   - `*` matches zero or more characters other than `/`; `?` exactly one character other than `/`.
 *   - `**` matches zero or more of any character, `/` included, so `**.go` matches `a/b/c.go` and `foo/**`
 *     matches `foo/a/b` (but not `foo` itself). A leading `**` then `/`, and every `/` `**` `/` run, may also match zero
 *     directories: pattern `**` `/x` matches `x`, and `a/` `**` `/b` matches `a/b`. `***` is `**` followed by `*`.
 *   - `{a,b,c}` alternates; branches may be empty (`{,x}`), nest, and contain `/`, `*`, `**`. Outside braces `,` and
 *     `}` are literals, so `"a,b"` is the one file `a,b` (a comma list only works inside braces). An unclosed `{`
 *     is a parse error.
 *   - `[abc]` matches one of the listed characters. There are NO ranges: `[a-c]` means `a`, `-` or `c`. `[]` is an
 *     empty class that matches nothing. `[^abc]` matches any one character not listed, INCLUDING `/`. Inside
 *     brackets `*`, `?`, `{` are literals; `]` closes the class unless escaped. An unclosed class (`[ab`) is a
 *     parse error, but a pattern that ends in a bare `[` treats it as a literal.
 *   - `\` escapes the next character; a trailing lone `\` is a literal backslash.
 *   - A pattern starting with `~/` (escaped or not, since v0.4.3) is expanded to the agent user's home directory, an
 *     absolute path, so it never matches a repository-relative path. Here it matches nothing.
 *   - After parsing, zzglob removes ε-edges from its state machine. One of those rewrites is not exact: an ε-edge
 *     into the accepting state, when that state's only edge is a `*` or `**` self-loop, becomes that loop. The
 *     visible effect is that the empty remainder after such a brace stops matching: `foo{,.py}*` matches `foo.py`
 *     and `foox` but NOT `foo`. This module builds the same kind of machine and applies the same rewrites, so it
 *     agrees with the agent here too.
 *
 * Windows agents parse with `\` as the separator and no escaping; this module models Linux agents only.
 *
 * @module
 */

/** Raised for a pattern zzglob would refuse to parse. The agent then runs the step (see {@link ifChangedSelects}). */
export class GlobSyntaxError extends Error {
    /** The pattern that failed to parse. */
    public readonly pattern: string;

    constructor(pattern: string, problem: string) {
        super(`glob pattern ${JSON.stringify(pattern)}: ${problem}`);
        this.name = "GlobSyntaxError";
        this.pattern = pattern;
    }
}

/** A pattern parsed once and matched many times. */
export interface CompiledGlob {
    /** The pattern as written. */
    readonly pattern: string;
    /** Whether `path` (repository-relative, `/`-separated) matches the whole pattern. */
    matches(path: string): boolean;
}

/** The value an `if_changed` attribute may take (string, list, or include/exclude mapping). */
export type IfChanged =
    | string
    | readonly string[]
    | { readonly include: string | readonly string[]; readonly exclude?: string | readonly string[] };

// ---------------------------------------------------------------------------------------------------------------
// Tokens

type Token =
    | { readonly kind: "literal"; readonly char: string }
    | { readonly kind: "star" }
    | { readonly kind: "doubleStar" }
    | { readonly kind: "question" }
    | { readonly kind: "openBrace" }
    | { readonly kind: "closeBrace" }
    | { readonly kind: "comma" }
    | { readonly kind: "openClass" }
    | { readonly kind: "openNegatedClass" }
    | { readonly kind: "closeClass" }
    /** Stands for the agent user's home directory: absolute, so no repository path can match it. */
    | { readonly kind: "homeDir" };

const lit = (char: string): Token => ({ kind: "literal", char });
const tok = (kind: Exclude<Token["kind"], "literal">): Token => ({ kind }) as Token;

function sameToken(a: Token, b: Token): boolean {
    return a.kind === b.kind && (a.kind !== "literal" || a.char === (b as { char: string }).char);
}

const ESCAPE = "\\";

/** Splits a pattern into tokens; characters are code points, as Go's `range` over a string yields runes. */
function tokenise(pattern: string): Token[] {
    const out: Token[] = [];
    let pending: "none" | "escape" | "star" | "bracket" = "none";
    let inClass = false;
    for (const ch of pattern) {
        if (pending === "escape") {
            pending = "none";
            out.push(lit(ch));
            continue;
        }
        if (pending === "star") {
            pending = "none";
            if (ch === "*") {
                out.push(tok("doubleStar"));
                continue;
            }
            out.push(tok("star"));
        } else if (pending === "bracket") {
            pending = "none";
            inClass = true;
            if (ch === "^") {
                out.push(tok("openNegatedClass"));
                continue;
            }
            out.push(tok("openClass"));
        }
        if (inClass) {
            if (ch === ESCAPE) {
                pending = "escape";
            } else if (ch === "]") {
                out.push(tok("closeClass"));
                inClass = false;
            } else {
                out.push(lit(ch));
            }
            continue;
        }
        switch (ch) {
            case "*":
                pending = "star";
                break;
            case ESCAPE:
                pending = "escape";
                break;
            case "[":
                pending = "bracket";
                break;
            case "?":
                out.push(tok("question"));
                break;
            case "{":
                out.push(tok("openBrace"));
                break;
            case "}":
                out.push(tok("closeBrace"));
                break;
            case ",":
                out.push(tok("comma"));
                break;
            default:
                out.push(lit(ch));
        }
    }
    if (pending === "star") out.push(tok("star"));
    else if (pending === "escape") out.push(lit(ESCAPE));
    else if (pending === "bracket") out.push(lit("["));
    return out;
}

function startsWithTokens(tokens: readonly Token[], prefix: readonly Token[]): boolean {
    return tokens.length >= prefix.length && prefix.every((t, i) => sameToken(t, tokens[i]));
}

/**
 * Replaces every occurrence of `find`, scanning left to right the way zzglob does: after a partial match fails,
 * the failing token is emitted as-is and not considered as the start of a new match (so `a//` `**` `/b` is left alone).
 */
function replaceEach(tokens: readonly Token[], find: readonly Token[], replacement: readonly Token[]): Token[] {
    const out: Token[] = [];
    let matched = 0;
    for (const t of tokens) {
        if (sameToken(t, find[matched])) {
            matched++;
            if (matched === find.length) {
                out.push(...replacement);
                matched = 0;
            }
        } else {
            out.push(...find.slice(0, matched), t);
            matched = 0;
        }
    }
    out.push(...find.slice(0, matched));
    return out;
}

/** A leading `**` `/` and every `/` `**` `/` may match zero directories: both become `{,**` `/}`. `~/` is home. */
function preprocess(tokens: readonly Token[]): Token[] {
    const optionalDirs = [tok("openBrace"), tok("comma"), tok("doubleStar"), lit("/"), tok("closeBrace")];
    let out = [...tokens];
    if (startsWithTokens(out, [tok("doubleStar"), lit("/")])) out = [...optionalDirs, ...out.slice(2)];
    if (startsWithTokens(out, [lit("~"), lit("/")])) out = [tok("homeDir"), ...out.slice(2)];
    return replaceEach(out, [lit("/"), tok("doubleStar"), lit("/")], [lit("/"), ...optionalDirs]);
}

// ---------------------------------------------------------------------------------------------------------------
// State machine

type CharTest =
    | { readonly kind: "char"; readonly char: string }
    | { readonly kind: "notSlash" }
    | { readonly kind: "any" }
    | { readonly kind: "noneOf"; readonly chars: ReadonlySet<string> }
    | { readonly kind: "nothing" };

interface State {
    out: Edge[];
    accept: boolean;
}

/** `test: null` is an ε-edge, followed without consuming a character. */
interface Edge {
    readonly test: CharTest | null;
    readonly to: State;
}

function passes(test: CharTest, ch: string): boolean {
    switch (test.kind) {
        case "char":
            return test.char === ch;
        case "notSlash":
            return ch !== "/";
        case "any":
            return true;
        case "noneOf":
            return !test.chars.has(ch);
        case "nothing":
            return false;
        default: {
            const unhandled: never = test;
            throw new Error(`unhandled char test ${JSON.stringify(unhandled)}`);
        }
    }
}

const newState = (): State => ({ out: [], accept: false });

class Parser {
    private position = 0;

    constructor(
        private readonly pattern: string,
        private readonly tokens: readonly Token[],
    ) {}

    /** Parses until the tokens run out or, inside braces, until a `,` or `}`; reports which stopped it. */
    sequence(insideBraces: boolean): { start: State; end: State; stoppedBy: "end" | "comma" | "closeBrace" } {
        const start = newState();
        let end = start;
        const step = (test: CharTest): void => {
            const next = newState();
            end.out.push({ test, to: next });
            end = next;
        };
        while (this.position < this.tokens.length) {
            const t = this.tokens[this.position++];
            switch (t.kind) {
                case "literal":
                    step({ kind: "char", char: t.char });
                    break;
                case "star":
                    end.out.push({ test: { kind: "notSlash" }, to: end });
                    break;
                case "doubleStar":
                    end.out.push({ test: { kind: "any" }, to: end });
                    break;
                case "question":
                    step({ kind: "notSlash" });
                    break;
                case "homeDir":
                    step({ kind: "nothing" });
                    break;
                case "openBrace":
                    end = this.alternation(end);
                    break;
                case "closeBrace":
                case "comma":
                    if (insideBraces) return { start, end, stoppedBy: t.kind };
                    step({ kind: "char", char: t.kind === "comma" ? "," : "}" });
                    break;
                case "openClass":
                    end = this.charClass(end);
                    break;
                case "openNegatedClass":
                    end = this.negatedCharClass(end);
                    break;
                case "closeClass":
                    step({ kind: "char", char: "]" });
                    break;
                default: {
                    const unhandled: never = t;
                    throw new Error(`unhandled token ${JSON.stringify(unhandled)}`);
                }
            }
        }
        return { start, end, stoppedBy: "end" };
    }

    private alternation(from: State): State {
        const merge = newState();
        for (;;) {
            const branch = this.sequence(true);
            from.out.push({ test: null, to: branch.start });
            branch.end.out.push({ test: null, to: merge });
            if (branch.stoppedBy === "closeBrace") return merge;
            if (branch.stoppedBy === "end") {
                throw new GlobSyntaxError(this.pattern, 'unterminated alternation: "{" has no closing "}"');
            }
        }
    }

    private classMembers(): string[] {
        const members: string[] = [];
        for (;;) {
            const t = this.tokens[this.position++];
            if (t === undefined) {
                throw new GlobSyntaxError(this.pattern, 'unterminated character class: "[" has no closing "]"');
            }
            if (t.kind === "closeClass") return members;
            if (t.kind !== "literal") {
                throw new GlobSyntaxError(this.pattern, `unexpected ${t.kind} inside a character class`);
            }
            members.push(t.char);
        }
    }

    private charClass(from: State): State {
        const end = newState();
        for (const char of this.classMembers()) from.out.push({ test: { kind: "char", char }, to: end });
        return end;
    }

    private negatedCharClass(from: State): State {
        const end = newState();
        from.out.push({ test: { kind: "noneOf", chars: new Set(this.classMembers()) }, to: end });
        return end;
    }
}

/**
 * zzglob's ε-edge reduction, rule for rule (see the module doc for the one case where it changes the language):
 * an ε-edge into a state with a single out-edge is replaced by that edge; an edge into a state whose single
 * out-edge is an ε-edge is redirected past it.
 */
function reduce(initial: State): void {
    const seen = new Set<State>();
    const queue: State[] = [initial];
    while (queue.length > 0) {
        const s = queue.shift() as State;
        if (seen.has(s)) continue;
        seen.add(s);
        for (let i = 0; i < s.out.length; i++) {
            for (;;) {
                const e = s.out[i];
                const onlyOut = e.to.out.length === 1 ? e.to.out[0] : undefined;
                if (onlyOut === undefined) break;
                if (e.test === null) s.out[i] = { test: onlyOut.test, to: onlyOut.to };
                else if (onlyOut.test === null) s.out[i] = { test: e.test, to: onlyOut.to };
                else break;
            }
        }
        for (const e of s.out) if (!seen.has(e.to)) queue.push(e.to);
    }
}

function epsilonClosure(states: Set<State>): Set<State> {
    const queue = [...states];
    while (queue.length > 0) {
        const s = queue.shift() as State;
        for (const e of s.out) {
            if (e.test === null && !states.has(e.to)) {
                states.add(e.to);
                queue.push(e.to);
            }
        }
    }
    return states;
}

function runMachine(initial: State, rest: string): boolean {
    let current = epsilonClosure(new Set([initial]));
    for (const ch of rest) {
        if (current.size === 0) return false;
        const next = new Set<State>();
        for (const s of current) {
            for (const e of s.out) if (e.test !== null && passes(e.test, ch)) next.add(e.to);
        }
        current = epsilonClosure(next);
    }
    return [...current].some((s) => s.accept);
}

/**
 * Parses a glob pattern the way zzglob v0.4.3 does on a Linux agent.
 *
 * @throws {GlobSyntaxError} for an unclosed `{` or `[`, naming the pattern.
 */
export function compileGlob(pattern: string): CompiledGlob {
    const tokens = preprocess(tokenise(pattern));
    if (tokens.length > 0 && tokens.every((t) => t.kind === "literal")) {
        const exact = tokens.map((t) => (t as { char: string }).char).join("");
        return { pattern, matches: (path) => path === exact };
    }
    // The literal prefix up to its last "/" is compared as a string; the rest runs through the machine.
    let literalRun = 0;
    while (literalRun < tokens.length && tokens[literalRun].kind === "literal") literalRun++;
    const prefixChars = tokens.slice(0, literalRun).map((t) => (t as { char: string }).char);
    const rootLength = prefixChars.lastIndexOf("/") + 1;
    const root = prefixChars.slice(0, rootLength).join("");
    const parsed = new Parser(pattern, tokens.slice(rootLength)).sequence(false);
    parsed.end.accept = true;
    reduce(parsed.start);
    return {
        pattern,
        matches: (path) => path.startsWith(root) && runMachine(parsed.start, path.slice(root.length)),
    };
}

/**
 * Whether `path` matches `pattern` as `buildkite-agent pipeline upload` would decide for `if_changed`.
 *
 * @param pattern a zzglob pattern, e.g. `python_modules/dagster/**` or `{**.go,go.{mod,sum}}`.
 * @param path a repository-relative, `/`-separated path, as `git diff --name-only` prints it.
 * @throws {GlobSyntaxError} if the pattern does not parse.
 */
export function matchesGlob(pattern: string, path: string): boolean {
    return compileGlob(pattern).matches(path);
}

function patternList(value: string | readonly string[]): readonly unknown[] {
    return typeof value === "string" ? [value] : value;
}

/**
 * Whether the agent would keep (not skip) a step with this `if_changed` value, given the build's changed files.
 *
 * True if some changed file matches no `exclude` pattern and matches an `include` pattern (a string or list is all
 * `include`). Also true, as in the agent, when any pattern fails to parse or is not a string: the agent then warns
 * and runs the step. Blank entries in `changedFiles` are ignored, as the agent drops blank lines.
 */
export function ifChangedSelects(ifChanged: IfChanged, changedFiles: readonly string[]): boolean {
    const isMapping = typeof ifChanged === "object" && !Array.isArray(ifChanged);
    const mapping = ifChanged as Exclude<IfChanged, string | readonly string[]>;
    const includeSource = isMapping ? mapping.include : (ifChanged as string | readonly string[]);
    const excludeSource = isMapping ? mapping.exclude : undefined;
    if (includeSource === undefined) return true; // a mapping without `include`: the agent keeps the step
    let include: CompiledGlob[];
    let exclude: CompiledGlob[];
    try {
        const compileAll = (list: readonly unknown[]): CompiledGlob[] =>
            list.map((p) => {
                if (typeof p !== "string") throw new GlobSyntaxError(String(p), "is not a string");
                return compileGlob(p);
            });
        include = compileAll(patternList(includeSource));
        exclude = excludeSource === undefined ? [] : compileAll(patternList(excludeSource));
    } catch (error) {
        if (error instanceof GlobSyntaxError) return true;
        throw error;
    }
    return changedFiles.some(
        (path) => path.trim() !== "" && !exclude.some((g) => g.matches(path)) && include.some((g) => g.matches(path)),
    );
}
