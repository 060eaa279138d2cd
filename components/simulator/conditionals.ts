/**
 * Buildkite step conditionals (`if:`) and branch filters (`branches:`), the subset the generated steps use.
 *
 * Pure module: an expression and a build's facts in, a boolean out. Anything outside the subset is an error that
 * names the expression, never a guess.
 *
 * - Conditionals follow buildkite docs "Using conditionals" (pages/pipelines/configure/conditionals.md): operators
 *   `== != && || !` and parentheses, literals strings, `true`, `false`, `null`; variables `build.branch`,
 *   `build.tag`, `build.source`, `build.pull_request.id`, `build.env("NAME")` (null when unset) and
 *   `pipeline.default_branch`. Regular expressions (`=~`), `build.message` and the rest are refused.
 * - Branch filters follow buildkite docs "Branch configuration" (pages/pipelines/configure/workflows/
 *   branch_configuration.md): space-separated patterns, `*` matches anything, `!` negates; some positive pattern
 *   must match and no negative one may.
 *
 * @module
 */

/** What a conditional can read about a build. */
export interface ConditionalFacts {
    readonly branch: string;
    readonly tag: string | null;
    readonly source: string;
    readonly pullRequestId: string | null;
    readonly defaultBranch: string;
    readonly env: Readonly<Record<string, string>>;
}

/** An expression outside the modelled subset, or malformed. */
export class ConditionalError extends Error {
    constructor(expression: string, problem: string) {
        super(`conditional ${JSON.stringify(expression)}: ${problem}`);
        this.name = "ConditionalError";
    }
}

type Value = string | boolean | null;
type Token = { kind: "op"; text: string } | { kind: "string"; value: string } | { kind: "word"; text: string };

function tokenize(expression: string): Token[] {
    const tokens: Token[] = [];
    let i = 0;
    while (i < expression.length) {
        const c = expression[i];
        if (/\s/.test(c)) {
            i++;
        } else if (c === '"' || c === "'") {
            const end = expression.indexOf(c, i + 1);
            if (end < 0) throw new ConditionalError(expression, "unterminated string");
            tokens.push({ kind: "string", value: expression.slice(i + 1, end) });
            i = end + 1;
        } else {
            const op = ["==", "!=", "&&", "||", "=~", "!~"].find((o) => expression.startsWith(o, i));
            if (op === "=~" || op === "!~")
                throw new ConditionalError(expression, "regular expressions are not modelled");
            if (op !== undefined) {
                tokens.push({ kind: "op", text: op });
                i += 2;
            } else if ("()!".includes(c)) {
                tokens.push({ kind: "op", text: c });
                i++;
            } else {
                const word = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(expression.slice(i));
                if (word === null) throw new ConditionalError(expression, `unexpected character ${JSON.stringify(c)}`);
                tokens.push({ kind: "word", text: word[0] });
                i += word[0].length;
            }
        }
    }
    return tokens;
}

/** Evaluates a conditional for a build. @throws {ConditionalError} outside the modelled subset. */
export function evaluateConditional(expression: string, facts: ConditionalFacts): boolean {
    const tokens = tokenize(expression);
    let pos = 0;
    const peek = () => tokens[pos];
    const isOp = (text: string) => peek()?.kind === "op" && (peek() as { text: string }).text === text;
    const expect = (text: string) => {
        if (!isOp(text)) throw new ConditionalError(expression, `expected "${text}"`);
        pos++;
    };
    const truthy = (v: Value) => v !== null && v !== false && v !== "";

    const primary = (): Value => {
        const t = tokens[pos++];
        if (t === undefined) throw new ConditionalError(expression, "ends too early");
        if (t.kind === "string") return t.value;
        if (t.kind === "op" && t.text === "(") {
            const v = or();
            expect(")");
            return v;
        }
        if (t.kind === "op" && t.text === "!") return !truthy(primary());
        if (t.kind === "word") {
            switch (t.text) {
                case "true":
                    return true;
                case "false":
                    return false;
                case "null":
                    return null;
                case "build.branch":
                    return facts.branch;
                case "build.tag":
                    return facts.tag;
                case "build.source":
                    return facts.source;
                case "build.pull_request.id":
                    return facts.pullRequestId;
                case "pipeline.default_branch":
                    return facts.defaultBranch;
                case "build.env": {
                    expect("(");
                    const name = tokens[pos++];
                    if (name?.kind !== "string") throw new ConditionalError(expression, "build.env takes a string");
                    expect(")");
                    return facts.env[name.value] ?? null;
                }
                default:
                    throw new ConditionalError(expression, `"${t.text}" is not modelled`);
            }
        }
        throw new ConditionalError(expression, `unexpected "${t.kind === "op" ? t.text : ""}"`);
    };
    const comparison = (): Value => {
        const left = primary();
        if (isOp("==") || isOp("!=")) {
            const op = (tokens[pos++] as { text: string }).text;
            const right = primary();
            return op === "==" ? left === right : left !== right;
        }
        return left;
    };
    const and = (): Value => {
        let v = comparison();
        while (isOp("&&")) {
            pos++;
            const r = comparison();
            v = truthy(v) && truthy(r);
        }
        return v;
    };
    function or(): Value {
        let v = and();
        while (isOp("||")) {
            pos++;
            const r = and();
            v = truthy(v) || truthy(r);
        }
        return v;
    }
    const result = or();
    if (pos !== tokens.length) throw new ConditionalError(expression, "has trailing text");
    return truthy(result);
}

/** Whether `branch` passes a branch filter (`"main release/* !release/old"`). */
export function matchesBranchFilter(filter: string, branch: string): boolean {
    const patterns = filter.split(/\s+/).filter((p) => p !== "");
    const toRegExp = (p: string) => new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`);
    const positive = patterns.filter((p) => !p.startsWith("!"));
    const negative = patterns.filter((p) => p.startsWith("!")).map((p) => p.slice(1));
    const included = positive.length === 0 || positive.some((p) => toRegExp(p).test(branch));
    return included && !negative.some((p) => toRegExp(p).test(branch));
}
