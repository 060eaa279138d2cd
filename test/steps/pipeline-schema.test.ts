import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
    checkOurRules,
    classifyStep,
    isPinnedPlugin,
    type SchemaIssue,
    validatePipelineDocument,
    walkSteps,
} from "../../components/steps/pipeline-schema";

const SHA = "0123456789abcdef0123456789abcdef01234567";

/** One valid document using every step type and most attributes, in every form the program may emit. */
const EVERYTHING = {
    env: { CI: "true" },
    agents: { queue: "default" },
    notify: ["github_check", { slack: { channels: ["#ci"], message: "done" }, if: "build.state == 'failed'" }],
    steps: [
        {
            label: ":python: test",
            key: "test",
            commands: ["pip install -e .", "pytest"],
            agents: { queue: "default", os: "linux" },
            env: { PYTHONUNBUFFERED: "1" },
            plugins: [
                { "docker#v5.12.0": { image: "python:3.12" } },
                `docker-compose#${SHA}`,
                { "ssh://git@github.com/org/private-plugin.git#v1.0.0-rc.1": null },
            ],
            retry: {
                automatic: [
                    { exit_status: -1, signal_reason: "agent_stop", limit: 2 },
                    { exit_status: "*", limit: 1 },
                    { exit_status: [1, 255], signal: "SIGKILL", limit: 0 },
                ],
                manual: { allowed: false, reason: "not safe", permit_on_passed: "false" },
            },
            timeout_in_minutes: 30,
            artifact_paths: ["dist/*", "coverage.xml"],
            if: "build.branch == 'develop'",
            branches: ["develop", "release-*"],
            soft_fail: [{ exit_status: 3 }],
            parallelism: 4,
            concurrency: 1,
            concurrency_group: "dagster/deploy",
            concurrency_method: "eager",
            priority: -1,
            cancel_on_build_failing: "true",
            skip: false,
            allow_dependency_failure: false,
            if_changed: { include: ["python_modules/dagster/**", ".buildkite/**"], exclude: "**.md" },
            image: "python:3.12",
            depends_on: null,
            matrix: {
                setup: { python: ["3.11", "3.12"], arch: ["amd64"] },
                adjustments: [{ with: { python: "3.11" }, skip: true }],
            },
            notify: [{ github_commit_status: { context: "tests" } }],
            secrets: ["PYPI_TOKEN"],
            cache: { paths: [".venv"], size: "20g" },
        },
        { command: "echo one", key: "single", agents: ["queue=default"], if_changed: "docs/**", soft_fail: true },
        { command: { command: "make nested", agents: { queue: "default" }, key: "nested-command" } },
        "wait",
        "waiter",
        { wait: null, continue_on_failure: true, if: "build.branch == 'main'" },
        { wait: "~", key: "after-tests", depends_on: ["test", { step: "single", allow_failure: true }] },
        { wait: { continue_on_failure: "true" } },
        { type: "wait" },
        "block",
        {
            block: ":rocket: Release?",
            key: "release-gate",
            prompt: "Ship it?",
            blocked_state: "running",
            if: "build.source != 'trigger_job'",
            depends_on: "test",
            allowed_teams: ["platform"],
            fields: [
                { text: "Release name", key: "release-name", required: false, format: "[a-z]+", default: "x" },
                {
                    select: "Channel",
                    key: "channel",
                    multiple: true,
                    default: ["stable"],
                    options: [
                        { label: "Stable", value: "stable" },
                        { label: "Beta", value: "beta", hint: "risky", required: "false" },
                    ],
                },
            ],
        },
        { block: { prompt: "Nested block" } },
        "input",
        { input: "Details", fields: [{ key: "notes" }], key: "details" },
        { input: { prompt: "Nested input" } },
        {
            trigger: "kolibri-installer-debian",
            label: ":debian: Build .deb",
            key: "deb-build",
            async: false,
            build: {
                commit: "${BUILDKITE_COMMIT}",
                branch: "${BUILDKITE_BRANCH}",
                message: "${BUILDKITE_MESSAGE}",
                env: { PARENT: "1" },
                meta_data: { release: "true" },
            },
            if: "build.tag != null",
            branches: "main",
            soft_fail: "true",
            depends_on: ["test"],
            if_changed: ["kolibri/**"],
            skip: "Not this time",
        },
        { trigger: { trigger: "kolibri-raspbian-image", async: "true", depends_on: "deb-build" } },
        { type: "trigger", trigger: "typed-trigger" },
        {
            group: ":package: Packages",
            key: "packages",
            depends_on: "test",
            if: "build.branch != 'gh-pages'",
            notify: [{ email: "ci@example.org" }, "github_commit_status"],
            steps: [
                { command: "make a", key: "pkg-a", agents: { queue: "default" } },
                "wait",
                { trigger: "downstream", key: "pkg-trigger" },
                { block: "Approve", key: "pkg-approve" },
            ],
        },
        { group: null, steps: ["wait"] },
    ],
};

describe("validatePipelineDocument: valid documents", () => {
    it("accepts a document with every step type and form", () => {
        assert.deepEqual(validatePipelineDocument(EVERYTHING), []);
    });

    it("accepts a bare list of steps, an empty step list, and unknown top-level keys", () => {
        assert.deepEqual(validatePipelineDocument(["wait", { command: "x" }]), []);
        assert.deepEqual(validatePipelineDocument({ steps: [] }), []);
        assert.deepEqual(validatePipelineDocument({ steps: ["wait"], "x-anchors": { a: 1 } }), []);
    });

    it("accepts what the schema allows even where our rules are stricter", () => {
        const doc = { steps: [{ command: "x", plugins: ["docker"], depends_on: "missing" }] };
        assert.deepEqual(validatePipelineDocument(doc), []);
        assert.notDeepEqual(checkOurRules(doc), []);
    });
});

/**
 * [description, document, expected issues]. Each must fail with exactly these issues. Cross-checked once, outside
 * the test suite, against a JSON Schema validator running Buildkite's schema: all are invalid there too except
 * "empty object step" and "step with only a key", where we are deliberately stricter (see the module doc).
 */
const INVALID: readonly (readonly [string, unknown, readonly SchemaIssue[]])[] = [
    [
        "trigger that is not a string",
        { steps: [{ trigger: 42 }] },
        [
            {
                path: "steps[0].trigger",
                message:
                    "must be a string (the slug of the pipeline to trigger) or a nested trigger step object, got 42",
            },
        ],
    ],
    [
        "document that is a string",
        "steps: []",
        [{ path: "", message: 'must be a pipeline object with steps, or a list of steps; got "steps: []"' }],
    ],
    ["document without steps", { env: {} }, [{ path: "steps", message: "is required in a pipeline" }]],
    [
        "steps that are not a list",
        { steps: { a: 1 } },
        [{ path: "steps", message: "must be a list of steps, got an object" }],
    ],
    [
        "empty object step",
        { steps: [{}] },
        [
            {
                path: "steps[0]",
                message:
                    "is not a recognisable step: it needs one of command/commands, wait, block, input, trigger or group",
            },
        ],
    ],
    [
        "step with only a key",
        { steps: [{ key: "lonely" }] },
        [
            {
                path: "steps[0]",
                message:
                    "is not a recognisable step: it needs one of command/commands, wait, block, input, trigger or group",
            },
        ],
    ],
    [
        "unknown string step",
        { steps: ["command"] },
        [
            {
                path: "steps[0]",
                message:
                    'is not a step: a step written as a string must be "wait", "waiter", "block" or "input", got "command"',
            },
        ],
    ],
    [
        "step of two types",
        { steps: [{ command: "make", trigger: "other" }] },
        [
            {
                path: "steps[0]",
                message:
                    "mixes the keys of a command step (command) and a trigger step (trigger): a step must be exactly one type",
            },
        ],
    ],
    [
        "type that contradicts the keys",
        { steps: [{ type: "wait", block: "x" }] },
        [
            {
                path: "steps[0]",
                message:
                    "mixes the keys of a block step (block) and a wait step (type: wait): a step must be exactly one type",
            },
        ],
    ],
    [
        "retry limit above 10",
        {
            steps: [
                { command: "x" },
                { command: "y" },
                { command: "z" },
                { command: "t", retry: { automatic: [{ limit: 11 }] } },
            ],
        },
        [{ path: "steps[3].retry.automatic[0].limit", message: "must be an integer from 0 to 10, got 11" }],
    ],
    [
        "negative and fractional retry limits",
        {
            steps: [
                { command: "x", retry: { automatic: { limit: -1 } } },
                { command: "x", retry: { automatic: { limit: 1.5 } } },
            ],
        },
        [
            { path: "steps[0].retry.automatic.limit", message: "must be an integer from 0 to 10, got -1" },
            { path: "steps[1].retry.automatic.limit", message: "must be an integer from 0 to 10, got 1.5" },
        ],
    ],
    [
        "exit_status that is neither * nor an integer",
        { steps: [{ command: "x", retry: { automatic: [{ exit_status: "1" }, { exit_status: [1, "2"] }] } }] },
        [
            { path: "steps[0].retry.automatic[0].exit_status", message: 'must be "*" or an integer, got "1"' },
            { path: "steps[0].retry.automatic[1].exit_status[1]", message: 'must be an integer, got "2"' },
        ],
    ],
    [
        "unknown signal_reason",
        { steps: [{ command: "x", retry: { automatic: { signal_reason: "oom" } } }] },
        [
            {
                path: "steps[0].retry.automatic.signal_reason",
                message:
                    'must be one of "*", "none", "agent_incompatible", "agent_refused", "agent_stop", "cancel", "process_run_error", "signature_rejected" or "stack_error", got "oom"',
            },
        ],
    ],
    [
        "unknown keys in retry and in an automatic rule",
        { steps: [{ command: "x", retry: { auto: true, automatic: { limit: 1, when: "always" } } }] },
        [
            { path: "steps[0].retry.auto", message: "is not a property of a retry setting" },
            { path: "steps[0].retry.automatic.when", message: "is not a property of an automatic retry rule" },
        ],
    ],
    [
        "manual retry that is a string",
        { steps: [{ command: "x", retry: { manual: "no" } }] },
        [{ path: "steps[0].retry.manual", message: 'must be a manual retry setting (an object), got "no"' }],
    ],
    [
        "key that resembles a UUID",
        { steps: [{ command: "x", key: "0188f5a4-6c57-4d5e-9c1d-2f0c1b2a3d4e" }] },
        [{ path: "steps[0].key", message: 'must not resemble a UUID, got "0188f5a4-6c57-4d5e-9c1d-2f0c1b2a3d4e"' }],
    ],
    [
        "key with a space, and a key too long",
        {
            steps: [
                { command: "x", key: "has space" },
                { wait: null, key: "k".repeat(101) },
            ],
        },
        [
            {
                path: "steps[0].key",
                message:
                    'must contain only letters, digits and _ - : $ { } . , (pattern ^[a-zA-Z0-9_\\-:${}.,]+$), got "has space"',
            },
            { path: "steps[1].key", message: "must be at most 100 characters, got 101" },
        ],
    ],
    [
        "depends_on that is a number, and an item with an unknown key",
        {
            steps: [
                { command: "x", depends_on: 3 },
                { command: "y", depends_on: [{ step: "a", soft: true }] },
            ],
        },
        [
            { path: "steps[0].depends_on", message: "must be null, a step key or a list of step keys, got 3" },
            { path: "steps[1].depends_on[0].soft", message: "is not a property of a depends_on item" },
        ],
    ],
    [
        "unknown property on a command step",
        { steps: [{ command: "x", timeout: 5 }] },
        [{ path: "steps[0].timeout", message: "is not a property of a command step" }],
    ],
    [
        "timeout_in_minutes of 0 and a string parallelism",
        { steps: [{ command: "x", timeout_in_minutes: 0, parallelism: "2" }] },
        [
            { path: "steps[0].timeout_in_minutes", message: "must be an integer of at least 1, got 0" },
            { path: "steps[0].parallelism", message: 'must be an integer, got "2"' },
        ],
    ],
    [
        "plugin list item naming two plugins",
        { steps: [{ command: "x", plugins: [{ "a#v1.0.0": {}, "b#v1.0.0": {} }, 5] }] },
        [
            { path: "steps[0].plugins[0]", message: "must name one plugin per list item, got 2: a#v1.0.0, b#v1.0.0" },
            { path: "steps[0].plugins[1]", message: 'must be a plugin name or { "name#version": config }, got 5' },
        ],
    ],
    [
        "command that is a number, and env that is a list",
        { steps: [{ commands: 5, env: ["A=1"] }] },
        [
            {
                path: "steps[0].commands",
                message: "must be a string, a list of strings or a nested command step object, got 5",
            },
            { path: "steps[0].env", message: "must be an object, got a list" },
        ],
    ],
    [
        "booleanish attributes given other values",
        {
            steps: [
                { command: "x", cancel_on_build_failing: "yes" },
                { wait: null, continue_on_failure: 1 },
            ],
        },
        [
            { path: "steps[0].cancel_on_build_failing", message: 'must be true, false, "true" or "false", got "yes"' },
            { path: "steps[1].continue_on_failure", message: 'must be true, false, "true" or "false", got 1' },
        ],
    ],
    [
        "skip reason over 70 characters",
        { steps: [{ command: "x", skip: "x".repeat(71) }] },
        [{ path: "steps[0].skip", message: "must be at most 70 characters when a reason, got 71" }],
    ],
    [
        "if_changed mapping without include",
        { steps: [{ command: "x", if_changed: { exclude: "docs/**" } }] },
        [{ path: "steps[0].if_changed.include", message: "is required in an if_changed mapping" }],
    ],
    [
        "if_changed on a wait step",
        { steps: [{ wait: null, if_changed: "x" }] },
        [{ path: "steps[0].if_changed", message: "is not a property of a wait step" }],
    ],
    [
        "wait that is a number",
        { steps: [{ wait: 1 }] },
        [{ path: "steps[0].wait", message: "must be a string, null or a nested wait step object, got 1" }],
    ],
    [
        "block with a bad blocked_state and a select field without options",
        { steps: [{ block: "Go", blocked_state: "paused", fields: [{ select: "Pick", key: "pick" }] }] },
        [
            { path: "steps[0].blocked_state", message: 'must be one of "passed", "failed" or "running", got "paused"' },
            { path: "steps[0].fields[0].options", message: "is required in a select field" },
        ],
    ],
    [
        "text field without key and with an unknown property",
        { steps: [{ input: "Info", fields: [{ text: "Name", placeholder: "x" }] }] },
        [
            { path: "steps[0].fields[0].key", message: "is required in a text field" },
            { path: "steps[0].fields[0].placeholder", message: "is not a property of a text field" },
        ],
    ],
    [
        "select option without a value, and an empty options list",
        {
            steps: [
                {
                    block: "Go",
                    fields: [
                        { key: "a", options: [{ label: "A" }] },
                        { key: "b", options: [] },
                    ],
                },
            ],
        },
        [
            { path: "steps[0].fields[0].options[0].value", message: "is required in a select option" },
            { path: "steps[0].fields[1].options", message: "must have at least 1 item, got 0" },
        ],
    ],
    [
        "trigger build with an unknown property, and a string async",
        { steps: [{ trigger: "p", async: "yes", build: { commit: "HEAD", tag: "v1" } }] },
        [
            { path: "steps[0].async", message: 'must be true, false, "true" or "false", got "yes"' },
            { path: "steps[0].build.tag", message: "is not a property of a trigger build" },
        ],
    ],
    [
        "property beside a nested trigger step",
        { steps: [{ trigger: { trigger: "p" }, key: "outer" }] },
        [
            {
                path: "steps[0].key",
                message: 'is not allowed beside the nested trigger step under "trigger": put it inside that object',
            },
        ],
    ],
    [
        "nested trigger step without its trigger",
        { steps: [{ trigger: { async: true } }] },
        [{ path: "steps[0].trigger.trigger", message: "is required in a trigger step" }],
    ],
    [
        "trigger step with command-only attributes",
        { steps: [{ trigger: "p", agents: { queue: "q" }, retry: {} }] },
        [
            { path: "steps[0].agents", message: "is not a property of a trigger step" },
            { path: "steps[0].retry", message: "is not a property of a trigger step" },
        ],
    ],
    [
        "group without steps, and a group with an empty list",
        { steps: [{ group: "A" }, { group: "B", steps: [] }] },
        [
            { path: "steps[0].steps", message: "is required in a group step" },
            { path: "steps[1].steps", message: "must list at least one step" },
        ],
    ],
    [
        "group inside a group, and a bad step inside a group",
        { steps: [{ group: "A", steps: [{ group: "B", steps: ["wait"] }, { trigger: 1 }] }] },
        [
            { path: "steps[0].steps[0]", message: "is a group step inside a group: groups cannot be nested" },
            {
                path: "steps[0].steps[1].trigger",
                message:
                    "must be a string (the slug of the pipeline to trigger) or a nested trigger step object, got 1",
            },
        ],
    ],
    [
        "command notification a command step cannot send",
        { steps: [{ command: "x", notify: [{ email: "a@b.c" }, "slack"] }] },
        [
            { path: "steps[0].notify[0].email", message: "is not a notification channel a command step supports" },
            {
                path: "steps[0].notify[1]",
                message: 'must be one of "github_check" or "github_commit_status", got "slack"',
            },
        ],
    ],
    [
        "top-level agents and priority of the wrong type",
        { agents: "queue=default", priority: "high", steps: ["wait"] },
        [
            {
                path: "agents",
                message: 'must be an object of agent tags or a list of "tag=value" strings, got "queue=default"',
            },
            { path: "priority", message: 'must be an integer, got "high"' },
        ],
    ],
    [
        "bare list with a bad step",
        ["wait", { trigger: true }],
        [
            {
                path: "[1].trigger",
                message:
                    "must be a string (the slug of the pipeline to trigger) or a nested trigger step object, got true",
            },
        ],
    ],
    [
        "matrix setup with a bad dimension name and an object element",
        { steps: [{ command: "x", matrix: { setup: { "py-version": ["3.12"], os: [{}] } } }] },
        [
            {
                path: 'steps[0].matrix.setup["py-version"]',
                message: "is not a valid matrix dimension name (letters, digits and _ only)",
            },
            {
                path: "steps[0].matrix.setup.os[0]",
                message: "must be a string, an integer or a boolean, got an object",
            },
        ],
    ],
];

describe("validatePipelineDocument: invalid documents", () => {
    it("has at least 20 invalid cases", () => {
        assert.ok(INVALID.length >= 20);
    });
    for (const [description, doc, expected] of INVALID) {
        it(`rejects ${description}`, () => {
            assert.deepEqual(validatePipelineDocument(doc), expected);
        });
    }
});

describe("classifyStep and walkSteps", () => {
    it("tells the type from the keys and unwraps the nested form", () => {
        assert.deepEqual(classifyStep({ trigger: { trigger: "p" } }, "steps[0]"), {
            type: "trigger",
            body: { trigger: "p" },
            bodyPath: "steps[0].trigger",
        });
        assert.deepEqual(classifyStep("waiter", "steps[1]"), { type: "wait", body: {}, bodyPath: "steps[1]" });
    });

    it("walks group children after their group, in document order", () => {
        const walked = walkSteps(EVERYTHING).map((s) => `${s.path}:${s.type}`);
        assert.deepEqual(walked.slice(-7), [
            "steps[18]:group",
            "steps[18].steps[0]:command",
            "steps[18].steps[1]:wait",
            "steps[18].steps[2]:trigger",
            "steps[18].steps[3]:block",
            "steps[19]:group",
            "steps[19].steps[0]:wait",
        ]);
    });
});

describe("checkOurRules", () => {
    it("passes a document that keeps every project rule", () => {
        assert.deepEqual(checkOurRules(EVERYTHING), []);
    });

    it("flags plugins that are not pinned to a release or a full commit SHA", () => {
        const doc = {
            steps: [
                {
                    command: "x",
                    agents: { queue: "q" },
                    plugins: [
                        "docker",
                        { "docker-compose#v5": {} },
                        { "cache#main": {} },
                        `ok#${SHA}`,
                        "short#abc1234",
                    ],
                },
            ],
        };
        const pin = "is not pinned: use name#vX.Y.Z or name#<40-character commit SHA>";
        assert.deepEqual(checkOurRules(doc), [
            { path: "steps[0].plugins[0]", message: `plugin "docker" ${pin}` },
            { path: "steps[0].plugins[1]", message: `plugin "docker-compose#v5" ${pin}` },
            { path: "steps[0].plugins[2]", message: `plugin "cache#main" ${pin}` },
            { path: "steps[0].plugins[4]", message: `plugin "short#abc1234" ${pin}` },
        ]);
    });

    it("accepts every release tag the agent checks out: without the v, and with build metadata", () => {
        // buildkite/agent v3.137.0 internal/job/plugin.go: `git checkout -f <version>`, any tag; the policy pack's
        // steps-plugins-pinned accepted these while this rule refused them (one definition now: isPinnedPlugin).
        const doc = {
            steps: [
                {
                    command: "x",
                    agents: { queue: "q" },
                    plugins: ["docker#5.13.0", "ecr#v2.9.0+build.1", "cache#1.0.0-rc.1", "old#v1.2"],
                },
            ],
        };
        assert.deepEqual(
            checkOurRules(doc).map((i) => i.path),
            ["steps[0].plugins[3]"],
        );
        assert.equal(isPinnedPlugin("docker#5.13.0"), true);
        assert.equal(isPinnedPlugin("docker#main"), false);
    });

    it("flags plugins in the deprecated map form too", () => {
        const doc = { steps: [{ command: "x", agents: { queue: "q" }, plugins: { "docker#latest": {} } }] };
        assert.deepEqual(checkOurRules(doc), [
            {
                path: 'steps[0].plugins["docker#latest"]',
                message: 'plugin "docker#latest" is not pinned: use name#vX.Y.Z or name#<40-character commit SHA>',
            },
        ]);
    });

    it("requires agents.queue on every command step, nested and grouped ones included", () => {
        const doc = {
            agents: { queue: "default" },
            steps: [
                { command: "a" },
                { command: "b", agents: { os: "linux" } },
                { command: "c", agents: ["os=linux"] },
                { command: { command: "d" } },
                { group: "g", steps: [{ command: "e", agents: { queue: "" } }] },
                { command: "ok", agents: ["queue=default"] },
            ],
        };
        const message = "is required: every command step names the queue it runs on";
        assert.deepEqual(checkOurRules(doc), [
            { path: "steps[0].agents.queue", message },
            { path: "steps[1].agents.queue", message },
            { path: "steps[2].agents.queue", message },
            { path: "steps[3].command.agents.queue", message },
            { path: "steps[4].steps[0].agents.queue", message },
        ]);
    });

    it("flags duplicate keys across steps, including aliases and group children", () => {
        const doc = {
            steps: [
                { wait: null, key: "a" },
                { block: "b", identifier: "a" },
                { group: "g", key: "g", steps: [{ trigger: "p", key: "g" }] },
            ],
        };
        assert.deepEqual(checkOurRules(doc), [
            { path: "steps[1].identifier", message: 'duplicates step key "a", already used at steps[0].key' },
            { path: "steps[2].steps[0].key", message: 'duplicates step key "g", already used at steps[2].key' },
        ]);
    });

    it("flags depends_on entries that name no step in the document", () => {
        const doc = {
            steps: [
                { wait: null, key: "build" },
                { wait: null, depends_on: "biuld" },
                { trigger: { trigger: "p", depends_on: ["build", { step: "deploy" }, { allow_failure: true }] } },
            ],
        };
        assert.deepEqual(checkOurRules(doc), [
            { path: "steps[1].depends_on", message: 'names step key "biuld", which no step in this document has' },
            {
                path: "steps[2].trigger.depends_on[1].step",
                message: 'names step key "deploy", which no step in this document has',
            },
            { path: "steps[2].trigger.depends_on[2].step", message: "must name the key of the step depended on" },
        ]);
    });

    it("requires concurrency and concurrency_group together", () => {
        const doc = {
            steps: [
                { command: "a", agents: { queue: "q" }, concurrency: 1 },
                { command: "b", agents: { queue: "q" }, concurrency_group: "x" },
                { command: "c", agents: { queue: "q" }, concurrency_method: "eager" },
            ],
        };
        assert.deepEqual(checkOurRules(doc), [
            { path: "steps[0].concurrency_group", message: "is required when concurrency is set" },
            { path: "steps[1].concurrency", message: "is required when concurrency_group is set" },
            { path: "steps[2].concurrency_method", message: "needs both concurrency and concurrency_group" },
        ]);
    });
});
