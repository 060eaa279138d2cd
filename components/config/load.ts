import { z } from "zod";
import { CONFIG_NAMESPACE, ConfigIssue, ConfigPath, Result, didYouMean, err, nearest, ok, sortIssues } from "./issues";
import { PlatformConfig, SecretSet, SecretsConfig, platformConfigSchema } from "./schema";

/** Raw stack config of the `ci-platform` namespace: key (without namespace) to its parsed YAML value. */
export type RawConfig = Readonly<Record<string, unknown>>;

/**
 * The `ci-platform:*` keys of a config map as Pulumi hands it to a program (full key to text: JSON for objects and
 * lists, plain text for scalars), without their namespace and with structured values parsed.
 */
export function rawConfigFromMap(config: Readonly<Record<string, string>>): RawConfig {
    const raw: Record<string, unknown> = {};
    const prefix = `${CONFIG_NAMESPACE}:`;
    for (const [key, value] of Object.entries(config)) {
        if (!key.startsWith(prefix)) continue;
        const text = value.trim();
        let parsed: unknown = value;
        if (text.startsWith("{") || text.startsWith("[")) {
            try {
                parsed = JSON.parse(text);
            } catch {
                parsed = value; // not JSON after all: the schema reports the type
            }
        }
        raw[key.slice(prefix.length)] = parsed;
    }
    return raw;
}

/**
 * The checks that need the whole config (names that refer to other declarations, duplicates, cycles, ...): every
 * problem found. `access: false` leaves out the checkout, secrets and cross-cluster checks, for a config whose
 * `secrets` or `fleets` did not parse: they would report every credential as missing. The checks of all concerns are
 * composed above every concern, in components/platform-config.ts `crossCheck`.
 */
export type CrossCheck = (config: PlatformConfig, options: { readonly access?: boolean }) => ConfigIssue[];

/**
 * Parses and validates the whole platform config with `crossCheck` (components/platform-config.ts
 * `parsePlatformConfig` gives it every check). Returns the typed config with defaults applied, or every problem
 * found: schema problems first reported per path, then (if the shape is sound) cross-reference problems.
 */
export function parseConfigWith(raw: RawConfig, crossCheck: CrossCheck): Result<PlatformConfig, ConfigIssue[]> {
    const parsed = platformConfigSchema.safeParse(raw, { error: ourWords });
    if (parsed.success) {
        const issues = crossCheck(parsed.data, {});
        return issues.length > 0 ? err(sortIssues(issues)) : ok(parsed.data);
    }
    const issues = mergeMisspelt(parsed.error.issues.flatMap((issue) => fromZodIssue(issue, raw)));
    // Still report cross-reference problems among the entries that did parse, so one run shows everything;
    // references to entries that failed to parse are not reported again as unknown.
    const { config, dropped } = lenientParse(raw);
    const failedPaths = new Set(issues.map((i) => JSON.stringify(i.path.slice(0, 2))));
    // Without its secrets or fleets, every pipeline would look as if no credential reached it.
    const access = !issues.some((i) => i.path[0] === "secrets" || i.path[0] === "fleets");
    const crossIssues = crossCheck(config, { access }).filter(
        (i) =>
            !(i.unknownName !== undefined && dropped.has(i.unknownName)) &&
            !failedPaths.has(JSON.stringify(i.path.slice(0, 2))),
    );
    return err(sortIssues([...issues, ...crossIssues]));
}

/**
 * What the program's config holds in place of every value of `ci-platform:secrets`. Names (env keys, file names,
 * pipeline slugs) and which credentials exist are not secret and stay; values are never copied out of the secret
 * Output that {@link loadStackSecrets} returns, so no other use of the config can put one in a resource input.
 */
export const SECRET_VALUE_PLACEHOLDER = "[ci-platform:secrets value: use loadStackSecrets()]";

/**
 * The secrets config with every value replaced by {@link SECRET_VALUE_PLACEHOLDER}: the same keys, the same
 * credentials present, the same number of git-credentials lines. Pure; the values never leave the input.
 */
export function secretsShape(secrets: SecretsConfig): SecretsConfig {
    const set = (s: SecretSet): SecretSet => {
        const out: { -readonly [K in keyof SecretSet]: SecretSet[K] } = {};
        const hide = (record: Readonly<Record<string, string>>) =>
            Object.fromEntries(Object.keys(record).map((k) => [k, SECRET_VALUE_PLACEHOLDER]));
        if (s.env !== undefined) out.env = hide(s.env);
        if (s.privateSshKey !== undefined) out.privateSshKey = SECRET_VALUE_PLACEHOLDER;
        if (s.gitCredentials !== undefined)
            out.gitCredentials =
                typeof s.gitCredentials === "string"
                    ? SECRET_VALUE_PLACEHOLDER
                    : s.gitCredentials.map(() => SECRET_VALUE_PLACEHOLDER);
        if (s.files !== undefined) out.files = hide(s.files);
        return out;
    };
    return {
        ...(secrets.organization !== undefined ? { organization: set(secrets.organization) } : {}),
        pipelines: Object.fromEntries(Object.entries(secrets.pipelines).map(([slug, s]) => [slug, set(s)])),
        ...(secrets.signing !== undefined
            ? { signing: Object.fromEntries(Object.keys(secrets.signing).map((c) => [c, SECRET_VALUE_PLACEHOLDER])) }
            : {}),
    };
}

type Shape = typeof platformConfigSchema.shape;

/**
 * Parses each top-level key on its own and, for lists, each entry on its own, keeping what is valid. Returns the
 * names and slugs of the entries it had to drop. Only used to find further problems in a config already invalid.
 */
function lenientParse(raw: RawConfig): { config: PlatformConfig; dropped: Set<string> } {
    const dropped = new Set<string>();
    const shape: Shape = platformConfigSchema.shape;
    const placeholders: Partial<Record<keyof Shape, unknown>> = {
        organization: "invalid",
        github: { owner: "invalid" },
        homeRegion: "us-east-1",
        elasticStack: { version: "v0.0.0" },
        clusters: [],
        teams: [],
    };
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(shape) as (keyof Shape)[]) {
        const schema = shape[key];
        const whole = schema.safeParse(raw[key]);
        if (whole.success) {
            out[key] = whole.data;
            continue;
        }
        const value = raw[key];
        const element = innerElement(schema);
        // Only a list keeps its valid entries; a list where an object belongs (`secrets: [1]`) falls back like any
        // other wrongly typed value, so the cross-checks never see a value of the wrong type.
        if (Array.isArray(value) && element !== undefined) {
            out[key] = keepValid(value, element, dropped);
        } else {
            const fallback = schema.safeParse(undefined);
            out[key] = fallback.success ? fallback.data : placeholders[key];
        }
    }
    return { config: out as PlatformConfig, dropped };
}

function innerElement(schema: z.core.$ZodType): z.core.$ZodType | undefined {
    let s: z.core.$ZodType = schema;
    // A pipe is a transformed value (e.g. `pipelines`, whose intermediate-build settings are resolved): its input.
    while (s._zod.def.type === "default" || s._zod.def.type === "optional" || s._zod.def.type === "pipe")
        s =
            s._zod.def.type === "pipe"
                ? (s._zod.def as z.core.$ZodPipeDef).in
                : (s._zod.def as z.core.$ZodDefaultDef).innerType;
    return s._zod.def.type === "array" ? (s._zod.def as z.core.$ZodArrayDef).element : undefined;
}

function keepValid(values: unknown[], element: z.core.$ZodType, dropped: Set<string>): unknown[] {
    const kept: unknown[] = [];
    for (const value of values) {
        const one = z.safeParse(element, value);
        if (one.success) kept.push(one.data);
        else if (value !== null && typeof value === "object") {
            const v = value as Record<string, unknown>;
            for (const id of [v.name, v.slug, v.queue]) if (typeof id === "string") dropped.add(id);
        }
    }
    return kept;
}

/**
 * Our words for what zod would otherwise say in its own ("Invalid input: expected number, received string", "Too big:
 * expected number to be <=1000"). A message the schema sets itself (`{ error: ... }`) takes precedence over these
 * (zod 4 error precedence: schema-level, then per-parse). Never names the value: values under `secrets` are secret;
 * {@link fromZodIssue} adds the value where it may.
 */
function ourWords(issue: z.core.$ZodRawIssue): string {
    switch (issue.code) {
        case "invalid_type":
            return `expected ${article(issue.expected)}`;
        case "too_big": {
            const max = String(issue.maximum);
            const bound = issue.inclusive === false ? `below ${max}` : `at most ${max}`;
            if (issue.origin === "string") return `must be ${bound} characters`;
            if (issue.origin === "array" || issue.origin === "set") return `must list ${bound} entries`;
            return `must be ${bound}`;
        }
        case "too_small": {
            const min = String(issue.minimum);
            const bound = issue.inclusive === false ? `above ${min}` : `at least ${min}`;
            if (issue.origin === "string") return min === "1" ? "must not be empty" : `must be ${bound} characters`;
            if (issue.origin === "array" || issue.origin === "set")
                return min === "1" ? "must list at least one entry" : `must list ${bound} entries`;
            return `must be ${bound}`;
        }
        case "invalid_value":
            return `must be one of: ${issue.values.map((v) => String(v)).join(", ")}`;
        case "invalid_union":
            return "has none of the shapes allowed here";
        case "invalid_key":
            return "is not an allowed key here";
        case "invalid_format":
            return `is not in the expected format (${issue.format})`;
        case "not_multiple_of":
            return `must be a multiple of ${String(issue.divisor)}`;
        case "invalid_element":
            return "holds an entry that is not allowed";
        default:
            return "is not valid here";
    }
}

/** "is 101; must be at most 100" for a number out of bounds in our words; the message as it is otherwise. */
function withNumber(issue: z.core.$ZodIssue, raw: RawConfig, path: ConfigPath): string {
    const value = valueAt(raw, path);
    return typeof value === "number" && isOurWords(issue) ? `is ${value}; ${issue.message}` : issue.message;
}

/** Whether a finished issue's message is {@link ourWords}' (not one the schema words itself). */
function isOurWords(issue: z.core.$ZodIssue): boolean {
    // A finished issue carries every field the raw one had (zod 4 core: the message is added to the raw issue).
    return issue.message === ourWords(issue as unknown as z.core.$ZodRawIssue);
}

/** What a value is, for "expected a number, not ..." (never used under `secrets`). */
function describe(value: unknown): string {
    if (value === null) return "empty";
    if (Array.isArray(value)) return "a list";
    if (typeof value === "string")
        return `the text ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
    if (typeof value === "object") return "a map";
    return `${typeof value === "number" ? "the number" : `the ${typeof value}`} ${String(value)}`;
}

/**
 * One typo, one message: a misspelt required key (`maxSzie`) is both an unknown key and a missing one. The unknown
 * key's "did you mean" names the missing key, so the "is required" problem of that key is left out.
 */
function mergeMisspelt(issues: readonly ConfigIssueDraft[]): ConfigIssue[] {
    const suggested = new Set(
        issues
            .filter((i) => i.suggestion !== undefined)
            .map((i) => JSON.stringify([...i.path.slice(0, -1), i.suggestion])),
    );
    return issues
        .filter((i) => !(i.missing === true && suggested.has(JSON.stringify(i.path))))
        .map(({ suggestion: _s, missing: _m, ...issue }) => issue);
}

/** Turns one zod issue into ours, with a fix. Never echoes values under `secrets`. */
function fromZodIssue(issue: z.core.$ZodIssue, raw: RawConfig): ConfigIssueDraft[] {
    const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
    const secret = path[0] === "secrets";
    // A value that is not there is missing, whatever the schema expected of it (a region enum would say
    // "undefined is not an AWS region").
    if (issue.code !== "unrecognized_keys" && path.length > 0 && valueAt(raw, path) === undefined)
        return [required(path, issue.code === "invalid_type" ? issue.expected : "value")];
    switch (issue.code) {
        case "unrecognized_keys": {
            const known = knownKeysAt(path, raw);
            return issue.keys.map((key): ConfigIssueDraft => {
                const guess = nearest(key, known);
                const missing = guess !== undefined && valueAt(raw, [...path, guess]) === undefined;
                return {
                    path: [...path, key],
                    message:
                        guess === undefined ? `unknown key "${key}"` : `unknown key "${key}"; did you mean "${guess}"?`,
                    // A likely typo gets the one key it is near; only a key near none lists what is allowed.
                    fix:
                        guess === undefined
                            ? `remove it; keys allowed here: ${known.join(", ")}`
                            : `rename it to "${guess}", or remove it`,
                    suggestion: missing ? guess : undefined,
                };
            });
        }
        case "invalid_type":
            if (valueAt(raw, path) === undefined) return [required(path, issue.expected)];
            return [
                {
                    path,
                    message: secret
                        ? `expected ${article(issue.expected)}`
                        : isOurWords(issue)
                          ? `${issue.message}, not ${describe(valueAt(raw, path))}`
                          : issue.message,
                    fix: `give ${article(issue.expected)} here${issue.expected === "string" ? " (quote numbers and booleans meant as text)" : ""}`,
                },
            ];
        case "invalid_value": {
            const input = valueAt(raw, path);
            if (input === undefined) return [required(path, "value")];
            const allowed = issue.values.map((v) => String(v));
            const guess = !secret && typeof input === "string" ? didYouMean(input, allowed) : "";
            const message = secret || !isOurWords(issue) ? issue.message : `${describe(input)} is not allowed here`;
            return [
                {
                    path,
                    message: `${secret ? "is not an allowed value" : message}${guess ? `; ${guess.trim()}` : ""}`,
                    fix: allowed.length <= 8 ? `use one of: ${allowed.join(", ")}` : undefined,
                },
            ];
        }
        case "invalid_key":
            return [
                {
                    path,
                    message: `invalid key: ${issue.issues.map((i) => i.message).join("; ")}`,
                    fix: "rename the key",
                },
            ];
        case "invalid_union":
            return [{ path, message: secret ? "has an unexpected shape" : issue.message }];
        case "too_small":
            return [{ path, message: secret ? "is too short" : withNumber(issue, raw, path), fix: smallFix(issue) }];
        case "too_big":
            return [{ path, message: secret ? "is too long" : withNumber(issue, raw, path), fix: bigFix(issue) }];
        default:
            // Our own checks (regex, refine) word their messages as the rule the value breaks ("must be ...").
            return [
                {
                    path,
                    message: issue.message,
                    fix: /^must /.test(issue.message)
                        ? `change the value so that it ${issue.message.replace(/;.*$/, "")}`
                        : "change the value as described",
                },
            ];
    }
}

/** A problem as {@link fromZodIssue} finds it, with what {@link mergeMisspelt} needs to merge a typo's two. */
interface ConfigIssueDraft extends ConfigIssue {
    /** An unknown key's likely intended key, missing from the same object. */
    readonly suggestion?: string;
    /** The problem is that the value is missing. */
    readonly missing?: boolean;
}

function required(path: ConfigPath, expected: string): ConfigIssueDraft {
    return {
        path,
        message: "is required",
        fix: `set ${expected === "object" || expected === "value" ? "it" : `it (${article(expected)})`}`,
        missing: true,
    };
}

function bigFix(issue: z.core.$ZodIssueTooBig): string {
    const max = String(issue.maximum);
    if (issue.origin === "number" || issue.origin === "bigint") return `use a value of at most ${max}`;
    if (issue.origin === "array" || issue.origin === "set") return `list at most ${max}`;
    return `shorten it to at most ${max} characters`;
}

/** "a string", "an object". */
const article = (what: string): string => {
    const words = ({ int: "whole number", record: "map of names to values" } as Record<string, string>)[what] ?? what;
    return `${/^[aeiou]/.test(words) ? "an" : "a"} ${words}`;
};

function smallFix(issue: z.core.$ZodIssueTooSmall): string | undefined {
    if (issue.origin === "array") return `list at least ${String(issue.minimum)}`;
    if (issue.origin === "number") return `use a value of at least ${String(issue.minimum)}`;
    return undefined;
}

function valueAt(raw: unknown, path: ConfigPath): unknown {
    let current: unknown = raw;
    for (const part of path) {
        if (current === null || typeof current !== "object") return undefined;
        current = (current as Record<string | number, unknown>)[part];
    }
    return current;
}

/** The keys the schema allows for the object at `path`, for "did you mean" on unknown keys. */
function knownKeysAt(path: ConfigPath, raw: RawConfig): string[] {
    let schema: z.core.$ZodType = platformConfigSchema;
    for (let i = 0; i <= path.length; i++) {
        schema = unwrap(schema, valueAt(raw, path.slice(0, i)));
        if (i === path.length) break;
        const part = path[i];
        const def = schema._zod.def;
        if (def.type === "object") schema = (def as z.core.$ZodObjectDef).shape[String(part)];
        else if (def.type === "array") schema = (def as z.core.$ZodArrayDef).element;
        else if (def.type === "record") schema = (def as z.core.$ZodRecordDef).valueType;
        else return [];
        if (!schema) return [];
    }
    const def = schema._zod.def;
    return def.type === "object" ? Object.keys((def as z.core.$ZodObjectDef).shape).sort() : [];
}

/** Looks through defaults, optionals, pipes and discriminated unions (choosing the option that fits `value`). */
function unwrap(schema: z.core.$ZodType, value: unknown): z.core.$ZodType {
    for (;;) {
        const def = schema._zod.def;
        if (def.type === "default" || def.type === "optional" || def.type === "nullable")
            schema = (def as z.core.$ZodDefaultDef).innerType;
        else if (def.type === "pipe") schema = (def as z.core.$ZodPipeDef).in;
        else if (def.type === "union") {
            const options = (def as z.core.$ZodUnionDef).options;
            const kind =
                value !== null && typeof value === "object" ? (value as Record<string, unknown>).kind : undefined;
            const match = options.find((o) => {
                const od = o._zod.def;
                if (od.type !== "object") return false;
                const k = (od as z.core.$ZodObjectDef).shape["kind"];
                return (
                    k !== undefined &&
                    k._zod.def.type === "literal" &&
                    (k._zod.def as z.core.$ZodLiteralDef<string>).values.includes(kind as string)
                );
            });
            const objectOption = options.find((o) => o._zod.def.type === "object");
            if (match) schema = match;
            else if (objectOption) schema = objectOption;
            else return schema;
        } else return schema;
    }
}
