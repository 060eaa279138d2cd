import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { classifyStoredSteps } from "../../scripts/import/stored-steps";

/*
 * A bare `buildkite-agent pipeline upload` reads the repository's default pipeline file (buildkite/agent v3.137.0
 * clicommand/pipeline_upload.go: with no file argument it looks for the default paths): the project's own stored step.
 * (test/import.test.ts checks the usual forms through the importer.)
 */
describe("classifyStoredSteps", () => {
    it("prefers the YAML configuration to the legacy steps", () => {
        const custom = classifyStoredSteps("steps:\n  - command: make\n", [
            { type: "script", command: "buildkite-agent pipeline upload" },
        ]);
        assert.equal(custom.kind, "custom");
        assert.equal(classifyStoredSteps("   \n", [{ command: "buildkite-agent pipeline upload" }]).kind, "default");
        assert.equal(classifyStoredSteps(undefined, null).kind, "none");
    });

    it("accepts a bare upload written as a string step or a one-line commands, with harmless keys only", () => {
        assert.equal(classifyStoredSteps(null, ["  buildkite-agent   pipeline upload  "]).kind, "default");
        assert.equal(
            classifyStoredSteps("- type: command\n  commands: buildkite-agent pipeline upload\n", null).kind,
            "default",
        );
        assert.equal(
            classifyStoredSteps(null, [{ command: "buildkite-agent pipeline upload", env: {}, plugins: [] }]).kind,
            "default",
        );
    });

    it("is custom for a step of another type, both command and commands, two commands, or an upload of a file", () => {
        for (const step of [
            { type: "waiter", command: "buildkite-agent pipeline upload" },
            { command: "buildkite-agent pipeline upload", commands: ["buildkite-agent pipeline upload"] },
            { commands: ["buildkite-agent pipeline upload", "echo"] },
            { command: "buildkite-agent pipeline upload other.yml" },
            { command: "buildkite-agent pipeline upload", plugins: [{ docker: {} }] },
            ["buildkite-agent pipeline upload"],
            null,
        ])
            assert.equal(classifyStoredSteps(null, [step]).kind, "custom", JSON.stringify(step));
    });

    it("says why, with the number of steps and of YAML lines", () => {
        assert.deepEqual(classifyStoredSteps("steps:\n  - command: a\n  - command: b\n", null), {
            kind: "custom",
            steps: 2,
            lines: 3,
            why: "it stores 2 steps, not one `buildkite-agent pipeline upload`",
        });
        assert.deepEqual(classifyStoredSteps("steps:\n  - command: make\n", null), {
            kind: "custom",
            steps: 1,
            lines: 2,
            why: "its one step is not a bare `buildkite-agent pipeline upload`",
        });
        assert.deepEqual(classifyStoredSteps("env:\n  A: b\nagents:\n  q: x\nsteps: []\n", null), {
            kind: "custom",
            steps: 0,
            lines: 5,
            why: "it sets `env`, `agents` besides its steps",
        });
        assert.deepEqual(classifyStoredSteps("steps: make\n", null), {
            kind: "custom",
            steps: 0,
            lines: 1,
            why: "its `steps` is not a list",
        });
        assert.deepEqual(classifyStoredSteps("just text\n", null), {
            kind: "custom",
            steps: 0,
            lines: 1,
            why: "its YAML is not a list of steps",
        });
        const broken = classifyStoredSteps("steps: [\n", null);
        assert.equal(broken.kind, "custom");
        assert.match(broken.kind === "custom" ? broken.why : "", /^its YAML does not parse \([^\n]+\)$/);
    });
});
