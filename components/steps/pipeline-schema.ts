/**
 * A hand-written validator for Buildkite pipeline documents, plus the project's stricter rules.
 *
 * Pure module: a parsed document (never a YAML or JSON string) in, a list of issues out.
 *
 * The rules are carried over by hand from Buildkite's published schema (github.com/buildkite/pipeline-schema,
 * `schema.json`, MIT), read as of the copy the project keeps for reference. Nothing here reads that file. Where
 * this validator is stricter than the schema it says so:
 * - a step must be exactly ONE recognisable type, told apart by its keys (`command`/`commands`/`script`, `wait`/
 *   `waiter`, `block`, `input`, `trigger`, `group`, or `type`). The schema's `anyOf` would accept `{}` or
 *   `{ key: "x" }` as a command step, which Buildkite then rejects or misreads;
 * - a bare list of steps is accepted as a document, as `buildkite-agent pipeline upload` accepts it.
 *
 * Paths use dots and indices, e.g. `steps[3].retry.automatic[0].limit`; keys that are not identifiers are quoted,
 * e.g. `steps[0].plugins[0]["docker#v5.12.0"]`. For a bare list the path starts at the index: `[3].key`.
 *
 * @module
 */

/** One problem found in a pipeline document. */
export interface SchemaIssue {
    /** Where the problem is, e.g. `steps[3].retry.automatic[0].limit`. Empty for the document itself. */
    readonly path: string;
    /** What is wrong, and what would be accepted. */
    readonly message: string;
}

/** The step types a pipeline document may hold. */
export const STEP_TYPE = {
    command: "command",
    wait: "wait",
    block: "block",
    input: "input",
    trigger: "trigger",
    group: "group",
} as const;
/** One of {@link STEP_TYPE}. */
export type StepType = (typeof STEP_TYPE)[keyof typeof STEP_TYPE];

/** The values the schema accepts where it means a boolean (`enum: [true, false, "true", "false"]`). */
const BOOLEANISH = [true, false, "true", "false"] as const;
const SIGNAL_REASONS = [
    "*",
    "none",
    "agent_incompatible",
    "agent_refused",
    "agent_stop",
    "cancel",
    "process_run_error",
    "signature_rejected",
    "stack_error",
] as const;
const BLOCKED_STATES = ["passed", "failed", "running"] as const;
const CONCURRENCY_METHODS = ["ordered", "eager"] as const;
const NOTIFY_SIMPLE = ["github_check", "github_commit_status"] as const;
const STRING_STEPS: { readonly [name: string]: StepType } = {
    wait: "wait",
    waiter: "wait",
    block: "block",
    input: "input",
};

const KEY_PATTERN = /^[a-zA-Z0-9_\-:${}.,]+$/;
const KEY_MAX_LENGTH = 100;
const UUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const FIELD_KEY_PATTERN = /^[a-zA-Z0-9-_]+$/;
const MATRIX_DIMENSION_PATTERN = /^[a-zA-Z0-9_]+$/;
const CACHE_SIZE_PATTERN = /^\d+g$/;
const SKIP_REASON_MAX_LENGTH = 70;
const RETRY_LIMIT = { min: 0, max: 10 } as const;

type Issues = SchemaIssue[];
type Check = (value: unknown, path: string, issues: Issues) => void;
type JsonObject = { readonly [key: string]: unknown };

// ---------------------------------------------------------------------------------------------------------------
// Paths and descriptions

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function at(path: string, key: string | number): string {
    if (typeof key === "number") return `${path}[${key}]`;
    if (IDENTIFIER.test(key)) return path === "" ? key : `${path}.${key}`;
    return `${path}[${JSON.stringify(key)}]`;
}

function isObject(value: unknown): value is JsonObject {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A short rendering of a value for messages: `42`, `"x"`, `null`, `a list`, `an object`. */
function describe(value: unknown): string {
    if (Array.isArray(value)) return "a list";
    if (isObject(value)) return "an object";
    if (value === undefined) return "nothing";
    const text = JSON.stringify(value);
    return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function quoteAll(values: readonly unknown[]): string {
    const quoted = values.map((v) => JSON.stringify(v));
    return quoted.length <= 1 ? quoted.join("") : `${quoted.slice(0, -1).join(", ")} or ${quoted[quoted.length - 1]}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Basic checks

const anyValue: Check = () => {};

function expect(test: (value: unknown) => boolean, expected: string): Check {
    return (value, path, issues) => {
        if (!test(value)) issues.push({ path, message: `must be ${expected}, got ${describe(value)}` });
    };
}

const str = expect((v) => typeof v === "string", "a string");
const stringOrNull = expect((v) => typeof v === "string" || v === null, "a string or null");
const object = expect(isObject, "an object");

function integer(bounds: { readonly min?: number; readonly max?: number } = {}): Check {
    const { min, max } = bounds;
    const range =
        min !== undefined && max !== undefined
            ? ` from ${min} to ${max}`
            : min !== undefined
              ? ` of at least ${min}`
              : max !== undefined
                ? ` of at most ${max}`
                : "";
    return expect(
        (v) =>
            typeof v === "number" &&
            Number.isInteger(v) &&
            (min === undefined || v >= min) &&
            (max === undefined || v <= max),
        `an integer${range}`,
    );
}

function oneOf(values: readonly unknown[]): Check {
    return expect((v) => values.includes(v), `one of ${quoteAll(values)}`);
}

const booleanish = expect((v) => (BOOLEANISH as readonly unknown[]).includes(v), 'true, false, "true" or "false"');

function listOf(item: Check, options: { readonly what?: string; readonly minItems?: number } = {}): Check {
    return (value, path, issues) => {
        if (!Array.isArray(value)) {
            issues.push({ path, message: `must be ${options.what ?? "a list"}, got ${describe(value)}` });
            return;
        }
        if (options.minItems !== undefined && value.length < options.minItems) {
            issues.push({
                path,
                message: `must have at least ${options.minItems} ${options.minItems === 1 ? "item" : "items"}, got ${value.length}`,
            });
        }
        value.forEach((v, i) => item(v, at(path, i), issues));
    };
}

const stringList = listOf(str, { what: "a list of strings" });

/** A string, or a list of strings whose items are then checked one by one. */
function stringOrStringList(what = "a string or a list of strings"): Check {
    return (value, path, issues) => {
        if (typeof value === "string") return;
        if (Array.isArray(value)) return stringList(value, path, issues);
        issues.push({ path, message: `must be ${what}, got ${describe(value)}` });
    };
}

interface ObjectRules {
    /** Names the object in messages, e.g. "a command step". */
    readonly name: string;
    readonly properties: { readonly [key: string]: Check };
    readonly required?: readonly string[];
    /** The schema's `additionalProperties: false`. */
    readonly closed: boolean;
}

function checkObject(value: unknown, path: string, issues: Issues, rules: ObjectRules): value is JsonObject {
    if (!isObject(value)) {
        issues.push({ path, message: `must be ${rules.name} (an object), got ${describe(value)}` });
        return false;
    }
    for (const key of rules.required ?? []) {
        if (!(key in value)) issues.push({ path: at(path, key), message: `is required in ${rules.name}` });
    }
    for (const [key, v] of Object.entries(value)) {
        const check = Object.prototype.hasOwnProperty.call(rules.properties, key) ? rules.properties[key] : undefined;
        if (check !== undefined) check(v, at(path, key), issues);
        else if (rules.closed) issues.push({ path: at(path, key), message: `is not a property of ${rules.name}` });
    }
    return true;
}

function objectOf(rules: ObjectRules): Check {
    return (value, path, issues) => {
        checkObject(value, path, issues, rules);
    };
}

// ---------------------------------------------------------------------------------------------------------------
// Shared definitions

const stepKey: Check = (value, path, issues) => {
    if (typeof value !== "string") {
        issues.push({ path, message: `must be a string, got ${describe(value)}` });
    } else if (value.length > KEY_MAX_LENGTH) {
        issues.push({ path, message: `must be at most ${KEY_MAX_LENGTH} characters, got ${value.length}` });
    } else if (!KEY_PATTERN.test(value)) {
        issues.push({
            path,
            message: `must contain only letters, digits and _ - : $ { } . , (pattern ${KEY_PATTERN.source}), got ${describe(value)}`,
        });
    } else if (UUID_PATTERN.test(value)) {
        issues.push({ path, message: `must not resemble a UUID, got ${describe(value)}` });
    }
};

const dependsOnItem: Check = (value, path, issues) => {
    if (typeof value === "string") return;
    if (!isObject(value)) {
        issues.push({ path, message: `must be a step key or { step, allow_failure }, got ${describe(value)}` });
        return;
    }
    checkObject(value, path, issues, {
        name: "a depends_on item",
        properties: { step: str, allow_failure: booleanish },
        closed: true,
    });
};

const dependsOn: Check = (value, path, issues) => {
    if (value === null || typeof value === "string") return;
    if (Array.isArray(value)) return listOf(dependsOnItem)(value, path, issues);
    issues.push({ path, message: `must be null, a step key or a list of step keys, got ${describe(value)}` });
};

const agents: Check = (value, path, issues) => {
    if (isObject(value)) return;
    if (Array.isArray(value)) return stringList(value, path, issues);
    issues.push({
        path,
        message: `must be an object of agent tags or a list of "tag=value" strings, got ${describe(value)}`,
    });
};

const skip: Check = (value, path, issues) => {
    if (typeof value === "boolean") return;
    if (typeof value === "string") {
        if (value.length > SKIP_REASON_MAX_LENGTH) {
            issues.push({
                path,
                message: `must be at most ${SKIP_REASON_MAX_LENGTH} characters when a reason, got ${value.length}`,
            });
        }
        return;
    }
    issues.push({ path, message: `must be a boolean or a reason string, got ${describe(value)}` });
};

const exitStatusStarOrInteger = expect(
    (v) => v === "*" || (typeof v === "number" && Number.isInteger(v)),
    '"*" or an integer',
);

const softFail: Check = (value, path, issues) => {
    if ((BOOLEANISH as readonly unknown[]).includes(value)) return;
    if (Array.isArray(value)) {
        return listOf(
            objectOf({
                name: "a soft_fail condition",
                properties: { exit_status: exitStatusStarOrInteger },
                closed: false,
            }),
        )(value, path, issues);
    }
    issues.push({
        path,
        message: `must be true, false, "true", "false" or a list of { exit_status }, got ${describe(value)}`,
    });
};

const ifChanged: Check = (value, path, issues) => {
    if (typeof value === "string") return;
    if (Array.isArray(value)) return stringList(value, path, issues);
    if (isObject(value)) {
        checkObject(value, path, issues, {
            name: "an if_changed mapping",
            properties: { include: stringOrStringList(), exclude: stringOrStringList() },
            required: ["include"],
            closed: true,
        });
        return;
    }
    issues.push({
        path,
        message: `must be a glob pattern, a list of patterns or { include, exclude }, got ${describe(value)}`,
    });
};

const secrets: Check = (value, path, issues) => {
    if (Array.isArray(value)) return stringList(value, path, issues);
    if (isObject(value)) {
        for (const [k, v] of Object.entries(value)) str(v, at(path, k), issues);
        return;
    }
    issues.push({ path, message: `must be a list of secret names or an object of them, got ${describe(value)}` });
};

const cache: Check = (value, path, issues) => {
    if (typeof value === "string") return;
    if (Array.isArray(value)) return stringList(value, path, issues);
    checkObject(value, path, issues, {
        name: "a cache setting",
        properties: {
            paths: stringList,
            name: str,
            size: expect((v) => typeof v === "string" && CACHE_SIZE_PATTERN.test(v), 'a size such as "20g"'),
        },
        required: ["paths"],
        closed: false,
    });
};

const matrixElement = expect(
    (v) => typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isInteger(v)),
    "a string, an integer or a boolean",
);
const matrixElementList = listOf(matrixElement, { what: "a list of matrix elements" });

const matrixSetup: Check = (value, path, issues) => {
    if (Array.isArray(value)) return matrixElementList(value, path, issues);
    if (!isObject(value)) {
        issues.push({ path, message: `must be a list of elements or an object of dimensions, got ${describe(value)}` });
        return;
    }
    for (const [dimension, elements] of Object.entries(value)) {
        if (!MATRIX_DIMENSION_PATTERN.test(dimension)) {
            issues.push({
                path: at(path, dimension),
                message: `is not a valid matrix dimension name (letters, digits and _ only)`,
            });
        }
        matrixElementList(elements, at(path, dimension), issues);
    }
};

const matrixAdjustment = objectOf({
    name: "a matrix adjustment",
    properties: {
        with: (value, path, issues) => {
            if (Array.isArray(value)) return matrixElementList(value, path, issues);
            if (!isObject(value)) {
                issues.push({ path, message: `must be a list of elements or an object, got ${describe(value)}` });
                return;
            }
            for (const [k, v] of Object.entries(value)) str(v, at(path, k), issues);
        },
        skip,
        soft_fail: softFail,
    },
    required: ["with"],
    closed: false,
});

const matrix: Check = (value, path, issues) => {
    if (Array.isArray(value)) return matrixElementList(value, path, issues);
    checkObject(value, path, issues, {
        name: "a matrix",
        properties: { setup: matrixSetup, adjustments: listOf(matrixAdjustment) },
        required: ["setup"],
        closed: false,
    });
};

/** Notification channels: the key that names each, and how its value is checked. */
const NOTIFY_CHANNELS: { readonly [channel: string]: Check } = {
    email: str,
    basecamp_campfire: str,
    slack: (value, path, issues) => {
        if (typeof value === "string") return;
        checkObject(value, path, issues, {
            name: "a slack notification",
            properties: { channels: stringList, message: str },
            closed: false,
        });
    },
    webhook: str,
    pagerduty_change_event: str,
    github_commit_status: objectOf({
        name: "a github_commit_status setting",
        properties: { context: str },
        closed: true,
    }),
    github_check: object,
};
const BUILD_NOTIFY_CHANNELS = Object.keys(NOTIFY_CHANNELS);
const STEP_NOTIFY_CHANNELS = ["basecamp_campfire", "slack", "github_commit_status", "github_check"];

function notify(channels: readonly string[], where: string): Check {
    const item: Check = (value, path, issues) => {
        if (typeof value === "string") {
            oneOf(NOTIFY_SIMPLE)(value, path, issues);
            return;
        }
        if (!isObject(value)) {
            issues.push({ path, message: `must be a notification string or object, got ${describe(value)}` });
            return;
        }
        const named = Object.keys(value).filter((k) => k in NOTIFY_CHANNELS);
        if (named.length !== 1) {
            issues.push({
                path,
                message: `must name exactly one notification channel (${channels.join(", ")}), got ${named.length}`,
            });
            return;
        }
        const channel = named[0];
        if (!channels.includes(channel)) {
            issues.push({ path: at(path, channel), message: `is not a notification channel ${where} supports` });
            return;
        }
        const properties: { [key: string]: Check } = { [channel]: NOTIFY_CHANNELS[channel] };
        if (channel !== "github_check") properties.if = str;
        checkObject(value, path, issues, { name: `a ${channel} notification`, properties, closed: true });
    };
    return listOf(item, { what: "a list of notifications" });
}

const buildNotify = notify(BUILD_NOTIFY_CHANNELS, "a pipeline or group step");
const commandNotify = notify(STEP_NOTIFY_CHANNELS, "a command step");

const plugins: Check = (value, path, issues) => {
    if (isObject(value)) return; // the deprecated map form: { "name#version": config }
    if (!Array.isArray(value)) {
        issues.push({ path, message: `must be a list of plugins, got ${describe(value)}` });
        return;
    }
    value.forEach((item, i) => {
        if (typeof item === "string") return;
        if (!isObject(item)) {
            issues.push({
                path: at(path, i),
                message: `must be a plugin name or { "name#version": config }, got ${describe(item)}`,
            });
        } else if (Object.keys(item).length > 1) {
            issues.push({
                path: at(path, i),
                message: `must name one plugin per list item, got ${Object.keys(item).length}: ${Object.keys(item).join(", ")}`,
            });
        }
    });
};

const automaticRetry = objectOf({
    name: "an automatic retry rule",
    properties: {
        exit_status: (value, path, issues) => {
            if (Array.isArray(value)) return listOf(integer())(value, path, issues);
            exitStatusStarOrInteger(value, path, issues);
        },
        limit: integer(RETRY_LIMIT),
        signal: str,
        signal_reason: oneOf(SIGNAL_REASONS),
    },
    closed: true,
});

const retry = objectOf({
    name: "a retry setting",
    properties: {
        automatic: (value, path, issues) => {
            if ((BOOLEANISH as readonly unknown[]).includes(value)) return;
            if (Array.isArray(value)) return listOf(automaticRetry)(value, path, issues);
            automaticRetry(value, path, issues);
        },
        manual: (value, path, issues) => {
            if ((BOOLEANISH as readonly unknown[]).includes(value)) return;
            checkObject(value, path, issues, {
                name: "a manual retry setting",
                properties: { allowed: booleanish, permit_on_passed: booleanish, reason: str },
                closed: true,
            });
        },
    },
    closed: true,
});

const textField = (value: JsonObject, path: string, issues: Issues): void => {
    checkObject(value, path, issues, {
        name: "a text field",
        properties: {
            text: str,
            key: fieldKey,
            hint: str,
            format: expect((v) => typeof v === "string" && compiles(v), "a valid regular expression"),
            required: booleanish,
            default: str,
        },
        required: ["key"],
        closed: true,
    });
};

function compiles(source: string): boolean {
    try {
        new RegExp(source);
        return true;
    } catch {
        return false;
    }
}

const fieldKey = expect(
    (v) => typeof v === "string" && FIELD_KEY_PATTERN.test(v),
    "a meta-data key of letters, digits, - and _",
);

const selectField = (value: JsonObject, path: string, issues: Issues): void => {
    checkObject(value, path, issues, {
        name: "a select field",
        properties: {
            select: str,
            key: fieldKey,
            default: stringOrStringList(),
            hint: str,
            multiple: booleanish,
            options: listOf(
                objectOf({
                    name: "a select option",
                    properties: { label: str, value: str, hint: str, required: booleanish },
                    required: ["label", "value"],
                    closed: true,
                }),
                { minItems: 1 },
            ),
            required: booleanish,
        },
        required: ["key", "options"],
        closed: true,
    });
};

const fields = listOf((value, path, issues) => {
    if (!isObject(value)) {
        issues.push({ path, message: `must be a text or select field object, got ${describe(value)}` });
        return;
    }
    const isSelect = "select" in value || "options" in value || "multiple" in value;
    const isText = "text" in value || "format" in value;
    if (isSelect && isText) {
        issues.push({ path, message: "mixes text-field keys (text, format) with select-field keys" });
    } else if (isSelect) {
        selectField(value, path, issues);
    } else {
        textField(value, path, issues);
    }
});

const triggerBuild = objectOf({
    name: "a trigger build",
    properties: { branch: str, commit: str, env: object, message: str, meta_data: object },
    closed: true,
});

// ---------------------------------------------------------------------------------------------------------------
// Steps

const KEY_PROPERTIES = { key: stepKey, identifier: stepKey, id: stepKey } as const;

const STEP_PROPERTIES: { readonly [type in StepType]: { readonly [key: string]: Check } } = {
    command: {
        ...KEY_PROPERTIES,
        agents,
        allow_dependency_failure: booleanish,
        artifact_paths: stringOrStringList(),
        branches: stringOrStringList(),
        cache,
        cancel_on_build_failing: booleanish,
        command: stringOrStringList("a string, a list of strings or a nested command step object"),
        commands: stringOrStringList("a string, a list of strings or a nested command step object"),
        concurrency: integer(),
        concurrency_group: str,
        concurrency_method: oneOf(CONCURRENCY_METHODS),
        depends_on: dependsOn,
        env: object,
        if: str,
        if_changed: ifChanged,
        image: str,
        label: str,
        name: str,
        matrix,
        notify: commandNotify,
        parallelism: integer(),
        plugins,
        priority: integer(),
        retry,
        secrets,
        signature: objectOf({
            name: "a signature",
            properties: { algorithm: str, value: str, signed_fields: stringList },
            closed: false,
        }),
        skip,
        soft_fail: softFail,
        timeout_in_minutes: integer({ min: 1 }),
        type: oneOf(["script", "command", "commands"]),
    },
    wait: {
        ...KEY_PROPERTIES,
        allow_dependency_failure: booleanish,
        branches: stringOrStringList(),
        continue_on_failure: booleanish,
        depends_on: dependsOn,
        if: str,
        label: stringOrNull,
        name: stringOrNull,
        type: oneOf(["wait", "waiter"]),
        wait: expect((v) => typeof v === "string" || v === null, "a string, null or a nested wait step object"),
    },
    block: {
        ...KEY_PROPERTIES,
        allow_dependency_failure: booleanish,
        allowed_teams: stringOrStringList(),
        block: expect((v) => typeof v === "string", "a string (the label) or a nested block step object"),
        blocked_state: oneOf(BLOCKED_STATES),
        branches: stringOrStringList(),
        depends_on: dependsOn,
        fields,
        if: str,
        label: str,
        name: str,
        prompt: str,
        type: oneOf(["block"]),
    },
    input: {
        ...KEY_PROPERTIES,
        allow_dependency_failure: booleanish,
        allowed_teams: stringOrStringList(),
        blocked_state: oneOf(BLOCKED_STATES),
        branches: stringOrStringList(),
        depends_on: dependsOn,
        fields,
        if: str,
        input: expect((v) => typeof v === "string", "a string (the label) or a nested input step object"),
        label: str,
        name: str,
        prompt: str,
        type: oneOf(["input"]),
    },
    trigger: {
        ...KEY_PROPERTIES,
        allow_dependency_failure: booleanish,
        async: booleanish,
        branches: stringOrStringList(),
        build: triggerBuild,
        depends_on: dependsOn,
        if: str,
        if_changed: ifChanged,
        label: str,
        name: str,
        skip,
        soft_fail: softFail,
        trigger: expect(
            (v) => typeof v === "string",
            "a string (the slug of the pipeline to trigger) or a nested trigger step object",
        ),
        type: oneOf(["trigger"]),
    },
    group: {
        ...KEY_PROPERTIES,
        allow_dependency_failure: booleanish,
        depends_on: dependsOn,
        group: stringOrNull,
        if: str,
        if_changed: ifChanged,
        label: stringOrNull,
        name: stringOrNull,
        notify: buildNotify,
        skip,
        // `steps` is checked by the step walker, which knows the group's children may not be groups.
        steps: anyValue,
    },
};

const REQUIRED: { readonly [type in StepType]: readonly string[] } = {
    command: [],
    wait: [],
    block: [],
    input: [],
    trigger: ["trigger"],
    group: ["group", "steps"],
};

/** Keys that mark a step's type, and whether each may hold the nested form `{ key: { ...step } }`. */
const MARKERS: readonly { readonly key: string; readonly type: StepType; readonly nestable: boolean }[] = [
    { key: "command", type: "command", nestable: true },
    { key: "commands", type: "command", nestable: true },
    { key: "script", type: "command", nestable: true },
    { key: "wait", type: "wait", nestable: true },
    { key: "waiter", type: "wait", nestable: true },
    { key: "block", type: "block", nestable: true },
    { key: "input", type: "input", nestable: true },
    { key: "trigger", type: "trigger", nestable: true },
    { key: "group", type: "group", nestable: false },
];
const TYPE_VALUES: { readonly [value: string]: StepType } = {
    script: "command",
    command: "command",
    commands: "command",
    wait: "wait",
    waiter: "wait",
    block: "block",
    input: "input",
    trigger: "trigger",
};
const ARTICLE: { readonly [type in StepType]: string } = {
    command: "a command step",
    wait: "a wait step",
    block: "a block step",
    input: "an input step",
    trigger: "a trigger step",
    group: "a group step",
};

/** A recognised step: its type, and the object holding its attributes (the inner one for the nested form). */
export interface ClassifiedStep {
    /** The step's type. */
    readonly type: StepType;
    /** The attributes, or `{}` for a string step such as `"wait"`. */
    readonly body: JsonObject;
    /** Path of `body`: the step's own path, or e.g. `steps[2].trigger` for `{ trigger: { ... } }`. */
    readonly bodyPath: string;
}

/**
 * Tells which type a step is, by its keys. Returns the issue instead when it is none or more than one.
 */
export function classifyStep(step: unknown, path: string): ClassifiedStep | SchemaIssue {
    if (typeof step === "string") {
        const type = STRING_STEPS[step];
        if (type !== undefined) return { type, body: {}, bodyPath: path };
        return {
            path,
            message: `is not a step: a step written as a string must be "wait", "waiter", "block" or "input", got ${describe(step)}`,
        };
    }
    if (!isObject(step)) return { path, message: `must be a step object or "wait", got ${describe(step)}` };
    const evidence = new Map<StepType, string[]>();
    const note = (type: StepType, why: string): void => {
        evidence.set(type, [...(evidence.get(type) ?? []), why]);
    };
    for (const marker of MARKERS) if (marker.key in step) note(marker.type, marker.key);
    if (typeof step.type === "string" && TYPE_VALUES[step.type] !== undefined) {
        note(TYPE_VALUES[step.type], `type: ${step.type}`);
    }
    if (evidence.size === 0) {
        return {
            path,
            message:
                "is not a recognisable step: it needs one of command/commands, wait, block, input, trigger or group" +
                (typeof step.type === "string" ? ` (type ${describe(step.type)} is not a step type)` : ""),
        };
    }
    if (evidence.size > 1) {
        const parts = [...evidence].map(([type, why]) => `${ARTICLE[type]} (${why.join(", ")})`);
        return { path, message: `mixes the keys of ${parts.join(" and ")}: a step must be exactly one type` };
    }
    const type = [...evidence.keys()][0];
    const nested = MARKERS.filter((m) => m.nestable && m.type === type && isObject(step[m.key]));
    if (nested.length === 0) return { type, body: step, bodyPath: path };
    const marker = nested[0];
    const extra = Object.keys(step).filter((k) => !MARKERS.some((m) => m.type === type && m.key === k));
    if (extra.length > 0 || nested.length > 1) {
        return {
            path: extra.length > 0 ? at(path, extra[0]) : path,
            message:
                extra.length > 0
                    ? `is not allowed beside the nested ${type} step under "${marker.key}": put it inside that object`
                    : `nests more than one ${type} step object: use one`,
        };
    }
    return { type, body: step[marker.key] as JsonObject, bodyPath: at(path, marker.key) };
}

function isIssue(value: ClassifiedStep | SchemaIssue): value is SchemaIssue {
    return "message" in value;
}

function validateStep(step: unknown, path: string, issues: Issues, insideGroup: boolean): void {
    const classified = classifyStep(step, path);
    if (isIssue(classified)) {
        issues.push(classified);
        return;
    }
    const { type, body, bodyPath } = classified;
    if (type === "group" && insideGroup) {
        issues.push({ path, message: "is a group step inside a group: groups cannot be nested" });
        return;
    }
    checkObject(body, bodyPath, issues, {
        name: ARTICLE[type],
        properties: STEP_PROPERTIES[type],
        required: REQUIRED[type],
        closed: true,
    });
    if (type === "group" && "steps" in body) {
        const steps = body.steps;
        const stepsPath = at(bodyPath, "steps");
        if (!Array.isArray(steps)) {
            issues.push({ path: stepsPath, message: `must be a list of steps, got ${describe(steps)}` });
        } else if (steps.length === 0) {
            issues.push({ path: stepsPath, message: "must list at least one step" });
        } else {
            steps.forEach((child, i) => validateStep(child, at(stepsPath, i), issues, true));
        }
    }
}

const ROOT_PROPERTIES: { readonly [key: string]: Check } = {
    env: object,
    agents,
    notify: buildNotify,
    image: str,
    secrets,
    priority: integer(),
    steps: anyValue, // walked below
};

/**
 * Validates a parsed pipeline document (`{ env?, agents?, notify?, steps: [...] }` or a bare list of steps) against
 * the rules of Buildkite's pipeline schema. Unknown top-level keys are allowed, as the schema allows them.
 *
 * @returns every issue found; an empty list means the document is valid.
 */
export function validatePipelineDocument(doc: unknown): SchemaIssue[] {
    const issues: Issues = [];
    let steps: unknown;
    let stepsPath: string;
    if (Array.isArray(doc)) {
        steps = doc;
        stepsPath = "";
    } else if (isObject(doc)) {
        checkObject(doc, "", issues, {
            name: "a pipeline",
            properties: ROOT_PROPERTIES,
            required: ["steps"],
            closed: false,
        });
        steps = doc.steps;
        stepsPath = "steps";
        if (!("steps" in doc)) return issues;
    } else {
        return [
            { path: "", message: `must be a pipeline object with steps, or a list of steps; got ${describe(doc)}` },
        ];
    }
    if (!Array.isArray(steps)) {
        issues.push({ path: stepsPath, message: `must be a list of steps, got ${describe(steps)}` });
        return issues;
    }
    steps.forEach((step, i) => validateStep(step, at(stepsPath, i), issues, false));
    return issues;
}

// ---------------------------------------------------------------------------------------------------------------
// Project rules

/** A step found by {@link walkSteps}. */
export interface WalkedStep extends ClassifiedStep {
    /** The step's own path, e.g. `steps[1].steps[0]`. */
    readonly path: string;
}

/** Every recognisable step of a document, groups first then their children, in document order. */
export function walkSteps(doc: unknown): WalkedStep[] {
    const found: WalkedStep[] = [];
    const visit = (steps: unknown, path: string): void => {
        if (!Array.isArray(steps)) return;
        steps.forEach((step, i) => {
            const stepPath = at(path, i);
            const classified = classifyStep(step, stepPath);
            if (isIssue(classified)) return;
            found.push({ ...classified, path: stepPath });
            if (classified.type === "group") visit(classified.body.steps, at(classified.bodyPath, "steps"));
        });
    };
    if (Array.isArray(doc)) visit(doc, "");
    else if (isObject(doc)) visit(doc.steps, "steps");
    return found;
}

/**
 * A plugin reference pinned to a release tag (`#v1.2.3` or `#1.2.3`, optionally with a `-pre` or `+build` suffix) or
 * a full commit SHA-1. buildkite/agent v3.137.0 agent/plugin/plugin.go takes the version from the URL fragment, and
 * internal/job/plugin.go runs `git checkout -f <version>`: any tag works, with or without a `v`, `+` included.
 */
const PINNED_PLUGIN = /#(?:v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?|[0-9a-f]{40})$/;

/** Whether a plugin reference (`docker#v5.12.0`, `org/name#<sha>`) names a release or a commit, not a branch or nothing. */
export function isPinnedPlugin(reference: string): boolean {
    return PINNED_PLUGIN.test(reference);
}
const STEP_KEY_FIELDS = ["key", "identifier", "id"] as const;

function pluginNames(plugins: unknown, path: string): { name: string; path: string }[] {
    if (Array.isArray(plugins)) {
        return plugins.flatMap((item, i) => {
            if (typeof item === "string") return [{ name: item, path: at(path, i) }];
            if (isObject(item)) return Object.keys(item).map((name) => ({ name, path: at(path, i) }));
            return [];
        });
    }
    if (isObject(plugins)) return Object.keys(plugins).map((name) => ({ name, path: at(path, name) }));
    return [];
}

function hasQueue(agentsValue: unknown): boolean {
    if (isObject(agentsValue)) return typeof agentsValue.queue === "string" && agentsValue.queue !== "";
    if (Array.isArray(agentsValue)) return agentsValue.some((t) => typeof t === "string" && /^queue=.+/.test(t));
    return false;
}

/**
 * The project's rules on top of the schema:
 * - every plugin is pinned: `name#vX.Y.Z` (see {@link isPinnedPlugin}) or `name#<40-hex commit SHA>`;
 * - every command step names its queue itself, as `agents.queue` (or a `queue=...` entry in the list form);
 *   pipeline-level `agents` do not count, so each step says where it runs;
 * - step keys (`key`, and its aliases `identifier` and `id`) are unique within the document;
 * - every `depends_on` names a key that some step in the document has;
 * - `concurrency` and `concurrency_group` come together, and `concurrency_method` only with both (stated in the
 *   schema's descriptions, not in its constraints).
 *
 * Steps that are not recognisable are skipped here; {@link validatePipelineDocument} reports them.
 */
export function checkOurRules(doc: unknown): SchemaIssue[] {
    const issues: Issues = [];
    const steps = walkSteps(doc);

    const keyOwners = new Map<string, string>();
    for (const step of steps) {
        const seenHere = new Set<string>();
        for (const field of STEP_KEY_FIELDS) {
            const value = step.body[field];
            if (typeof value !== "string" || seenHere.has(value)) continue;
            seenHere.add(value);
            const fieldPath = at(step.bodyPath, field);
            const owner = keyOwners.get(value);
            if (owner === undefined) keyOwners.set(value, fieldPath);
            else issues.push({ path: fieldPath, message: `duplicates step key "${value}", already used at ${owner}` });
        }
    }

    for (const step of steps) {
        const { body, bodyPath } = step;
        const dependsOnPath = at(bodyPath, "depends_on");
        const references: { key: unknown; path: string }[] = [];
        if (typeof body.depends_on === "string") references.push({ key: body.depends_on, path: dependsOnPath });
        if (Array.isArray(body.depends_on)) {
            body.depends_on.forEach((item: unknown, i: number) => {
                const itemPath = at(dependsOnPath, i);
                if (typeof item === "string") references.push({ key: item, path: itemPath });
                else if (isObject(item)) references.push({ key: item.step, path: at(itemPath, "step") });
            });
        }
        for (const ref of references) {
            if (typeof ref.key !== "string") {
                issues.push({ path: ref.path, message: "must name the key of the step depended on" });
            } else if (!keyOwners.has(ref.key)) {
                issues.push({
                    path: ref.path,
                    message: `names step key "${ref.key}", which no step in this document has`,
                });
            }
        }

        if (step.type !== "command") continue;

        for (const plugin of pluginNames(body.plugins, at(bodyPath, "plugins"))) {
            if (!isPinnedPlugin(plugin.name)) {
                issues.push({
                    path: plugin.path,
                    message: `plugin "${plugin.name}" is not pinned: use name#vX.Y.Z or name#<40-character commit SHA>`,
                });
            }
        }

        if (!hasQueue(body.agents)) {
            issues.push({
                path: at(at(bodyPath, "agents"), "queue"),
                message: "is required: every command step names the queue it runs on",
            });
        }

        const hasConcurrency = "concurrency" in body;
        const hasGroup = "concurrency_group" in body;
        if (hasConcurrency !== hasGroup) {
            issues.push({
                path: at(bodyPath, hasConcurrency ? "concurrency_group" : "concurrency"),
                message: `is required when ${hasConcurrency ? "concurrency" : "concurrency_group"} is set`,
            });
        }
        if ("concurrency_method" in body && !(hasConcurrency && hasGroup)) {
            issues.push({
                path: at(bodyPath, "concurrency_method"),
                message: "needs both concurrency and concurrency_group",
            });
        }
    }
    return issues;
}
