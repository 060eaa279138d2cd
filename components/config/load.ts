import { z } from "zod";
import { crossCheck } from "./cross-checks";
import { CONFIG_NAMESPACE, ConfigIssue, ConfigPath, Result, didYouMean, err, ok, sortIssues } from "./issues";
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
 * Parses and validates the whole platform config. Returns the typed config with defaults applied, or every
 * problem found: schema problems first reported per path, then (if the shape is sound) cross-reference problems.
 */
export function parsePlatformConfig(raw: RawConfig): Result<PlatformConfig, ConfigIssue[]> {
    const parsed = platformConfigSchema.safeParse(raw);
    if (parsed.success) {
        const issues = crossCheck(parsed.data);
        return issues.length > 0 ? err(sortIssues(issues)) : ok(parsed.data);
    }
    const issues = parsed.error.issues.flatMap((issue) => fromZodIssue(issue, raw));
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

/** Turns one zod issue into ours, with a fix. Never echoes values under `secrets`. */
function fromZodIssue(issue: z.core.$ZodIssue, raw: RawConfig): ConfigIssue[] {
    const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
    const secret = path[0] === "secrets";
    switch (issue.code) {
        case "unrecognized_keys": {
            const known = knownKeysAt(path, raw);
            return issue.keys.map((key) => ({
                path: [...path, key],
                message: `unknown key "${key}"${didYouMean(key, known) ? `; ${didYouMean(key, known).trim()}` : ""}`,
                fix: `remove it or correct its spelling; keys allowed here: ${known.join(", ")}`,
            }));
        }
        case "invalid_type":
            if (valueAt(raw, path) === undefined)
                return [
                    {
                        path,
                        message: "is required",
                        fix: `set ${issue.expected === "object" ? "it" : `it (a ${issue.expected})`}`,
                    },
                ];
            return [
                {
                    path,
                    message:
                        secret || issue.expected === "int" || issue.expected === "record"
                            ? `expected ${article(issue.expected)}`
                            : issue.message,
                    fix: `give ${article(issue.expected)} here${issue.expected === "string" ? " (quote numbers and booleans meant as text)" : ""}`,
                },
            ];
        case "invalid_value": {
            const input = valueAt(raw, path);
            const allowed = issue.values.map((v) => String(v));
            const guess = !secret && typeof input === "string" ? didYouMean(input, allowed) : "";
            return [
                {
                    path,
                    message: `${secret ? "is not an allowed value" : issue.message}${guess ? `; ${guess.trim()}` : ""}`,
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
            return [{ path, message: secret ? "is too short" : issue.message, fix: smallFix(issue) }];
        case "too_big":
            return [{ path, message: secret ? "is too long" : issue.message, fix: bigFix(issue) }];
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
