import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { checkOurRules, validatePipelineDocument } from "../../components/steps/pipeline-schema";
import {
    AUTOMATIC_RETRIES,
    DEFAULT_TIMEOUT_MINUTES,
    PLUGINS,
    Step,
    flattenSteps,
    renderPipeline,
    toBuildkite,
} from "../../components/steps/step-model";

const command: Step = {
    kind: "command",
    key: "test",
    label: ":python: Test",
    commands: ["make test"],
    queue: "default",
    container: { image: "${REG}/ci-platform/buildkite-test:py3.12-1", expandVars: true, ecrLogin: true },
    env: { A: "1" },
    artifactPaths: ["dist/*"],
};

/** One step of every kind, in a document that uses each shape the generator emits. */
const EVERY_KIND: Step[] = [
    command,
    { kind: "wait", continueOnFailure: true },
    {
        kind: "block",
        key: "gate",
        label: ":lock: Gate",
        prompt: "ok?",
        if: "build.tag == null",
        blockedState: "passed",
    },
    { kind: "input", key: "ask", label: "Version", fields: [{ key: "version", text: "Version", required: true }] },
    {
        kind: "trigger",
        key: "child",
        pipeline: "child-pipeline",
        async: true,
        dependsOn: ["test"],
        branches: "main",
        build: { message: "$BUILDKITE_MESSAGE", env: { X: "y" } },
    },
    {
        kind: "group",
        key: "pkgs",
        label: "Packages",
        steps: [{ ...command, key: "in-group", ifChanged: ["libs/**"] } as Step & { kind: "command" }],
    },
];

describe("toBuildkite", () => {
    it("gives a command step its queue, pinned docker and ecr plugins, the retry rules and a timeout", () => {
        const wire = toBuildkite(command) as Record<string, unknown>;
        assert.deepEqual(wire.agents, { queue: "default" });
        assert.deepEqual(wire.plugins, [
            { [PLUGINS.ecr]: { login: true, retries: 3 } },
            {
                [PLUGINS.docker]: {
                    image: "${REG}/ci-platform/buildkite-test:py3.12-1",
                    "expand-image-vars": true,
                    "propagate-environment": true,
                    "mount-buildkite-agent": true,
                },
            },
        ]);
        assert.deepEqual(wire.retry, { automatic: AUTOMATIC_RETRIES });
        assert.equal(wire.timeout_in_minutes, DEFAULT_TIMEOUT_MINUTES);
        assert.deepEqual(wire.artifact_paths, ["dist/*"]);
        assert.deepEqual(wire.env, { A: "1" });
        assert.equal("if_changed" in wire, false, "unset fields are left out");
    });

    it("retries agent loss, forced shutdown, docker daemon, git and stack-hook failures, never a test failure", () => {
        const codes: unknown[] = [];
        for (const rule of AUTOMATIC_RETRIES) if (rule.exit_status !== undefined) codes.push(rule.exit_status);
        assert.ok(!codes.includes(1) && !codes.includes("*"));
        assert.deepEqual(codes, [-1, 255, 125, 128, 53]);
        assert.ok(AUTOMATIC_RETRIES.some((r) => r.signal_reason === "agent_stop"));
        assert.ok(AUTOMATIC_RETRIES.every((r) => r.limit >= 1 && r.limit <= 10));
    });

    it("pins the plugins it uses to release tags", () => {
        for (const ref of Object.values(PLUGINS)) assert.match(ref, /^[a-z-]+#v\d+\.\d+\.\d+$/);
    });

    it("refuses an unpinned plugin and `if` together with `branches`", () => {
        assert.throws(
            () => toBuildkite({ ...command, plugins: [{ ref: "docker#main", settings: {} }] } as Step),
            /not pinned/,
        );
        assert.throws(() => toBuildkite({ kind: "wait", if: "x", branches: "main" }), /"if" together with "branches"/);
    });

    it("maps wait, block, input, trigger and group to the keys Buildkite tells them apart by", () => {
        const wires = EVERY_KIND.map((s) => toBuildkite(s) as Record<string, unknown>);
        assert.equal(wires[1].wait, null);
        assert.equal(wires[1].continue_on_failure, true);
        assert.equal(wires[2].block, ":lock: Gate");
        assert.equal(wires[3].input, "Version");
        assert.equal(wires[4].trigger, "child-pipeline");
        assert.equal(wires[4].async, true);
        assert.deepEqual(wires[4].depends_on, ["test"]);
        assert.equal(wires[5].group, "Packages");
        assert.deepEqual((wires[5].steps as Record<string, unknown>[])[0].if_changed, ["libs/**"]);
    });
});

describe("renderPipeline", () => {
    it("writes YAML that passes the pipeline schema and our rules for every kind of step", () => {
        const doc = parse(renderPipeline({ env: { CI: "true" }, steps: EVERY_KIND }));
        assert.deepEqual(validatePipelineDocument(doc), []);
        assert.deepEqual(checkOurRules(doc), []);
        assert.deepEqual(doc.env, { CI: "true" });
    });

    it("is caught by the validators when a step is broken (the check can fail)", () => {
        const doc = parse(renderPipeline({ steps: [{ ...command, dependsOn: ["nope"] } as Step] }));
        assert.deepEqual(validatePipelineDocument(doc), []);
        assert.equal(checkOurRules(doc).length, 1);
    });

    it("leaves out an empty env and lists group members when flattened", () => {
        assert.equal("env" in parse(renderPipeline({ env: {}, steps: [{ kind: "wait" }] })), false);
        assert.deepEqual(
            flattenSteps(EVERY_KIND).map((s) => s.kind),
            ["command", "wait", "block", "input", "trigger", "group", "command"],
        );
    });
});
