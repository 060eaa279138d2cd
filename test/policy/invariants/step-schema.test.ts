import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse, stringify } from "yaml";
import { RULES } from "../../../policy/rules";
import { stepsMatchSchema, storedStepsIssues, uploadsOf } from "../../../policy/invariants/step-schema";
import { type Editable, named, prodResources } from "./plan-resources";

const PIPELINE = "buildkite:Pipeline/pipeline:Pipeline";
const check = (resource: Editable) => stepsMatchSchema.check(resource, { params: { requiredTags: [] } });

/** The pipeline's stored steps, parsed, for a test to change and write back. */
function edit(resource: Editable, change: (doc: { steps: Record<string, unknown>[] }) => void): void {
    const doc = parse(resource.inputs.steps as string) as { steps: Record<string, unknown>[] };
    change(doc);
    resource.inputs.steps = stringify(doc, { lineWidth: 0 });
}

const upload = (env: string, text: string, command: string) =>
    stringify({ steps: [{ label: "up", commands: [command], agents: { queue: "default" }, env: { [env]: text } }] });

describe("uploadsOf", () => {
    it("finds the variable piped to pipeline upload, plain or base64-decoded, `$$` counting as `$`", () => {
        assert.deepEqual(uploadsOf(`printf '%s\\n' "$$CI_PLATFORM_PIPELINE_YAML" | buildkite-agent pipeline upload`), [
            { name: "CI_PLATFORM_PIPELINE_YAML", base64: false },
        ]);
        assert.deepEqual(
            uploadsOf("printenv CI_PLATFORM_PIPELINE | base64 --decode | buildkite-agent pipeline upload"),
            [{ name: "CI_PLATFORM_PIPELINE", base64: true }],
        );
        assert.deepEqual(
            uploadsOf(
                `printf '%s\\n' "$CI_PLATFORM_PIPELINE_YAML" | buildkite-agent pipeline upload --dry-run --format json >"$work/pipeline.json"`,
            ),
            [{ name: "CI_PLATFORM_PIPELINE_YAML", base64: false }],
        );
    });

    it("ignores lines that upload a file, or pipe through anything but base64 --decode", () => {
        assert.deepEqual(uploadsOf("buildkite-agent pipeline upload"), []);
        assert.deepEqual(uploadsOf('buildkite-agent pipeline upload --no-interpolation "$work/upload.json"'), []);
        assert.deepEqual(uploadsOf('printf "%s" "$X" | envsubst | buildkite-agent pipeline upload'), []);
        assert.deepEqual(uploadsOf("echo hello | buildkite-agent annotate"), []);
    });
});

describe("invariant steps-match-pipeline-schema", () => {
    it("is mandatory and registered", () => {
        assert.equal(stepsMatchSchema.enforcementLevel, "mandatory");
        assert.ok(RULES.includes(stepsMatchSchema));
    });

    it("passes every pipeline of the prod plan, stored and uploaded documents alike", async () => {
        const pipelines = (await prodResources()).filter((r) => r.type === PIPELINE);
        assert.equal(pipelines.length, 9);
        for (const pipeline of pipelines) assert.deepEqual(check(pipeline), [], pipeline.name);
    });

    it("fails a stored step with an unknown key, naming the pipeline and the step's path", async () => {
        const pipeline = named(await prodResources(), "kolibri-python-package-pipeline", PIPELINE);
        edit(pipeline, (doc) => {
            doc.steps[0].colour = "blue";
        });
        const findings = check(pipeline);
        assert.equal(findings.length, 1);
        assert.match(
            findings[0],
            /^Buildkite pipeline "kolibri-python-package-pipeline" .*: stored: steps\[0\]\.colour /,
        );
    });

    it("fails a stored step with a wrong type", async () => {
        const pipeline = named(await prodResources(), "ci-platform-pipeline", PIPELINE);
        edit(pipeline, (doc) => {
            doc.steps[0].timeout_in_minutes = "ten";
        });
        const findings = check(pipeline);
        assert.equal(findings.length, 1);
        assert.match(findings[0], /stored: steps\[0\]\.timeout_in_minutes must be an integer/);
    });

    it("fails an uploaded trigger step with an unknown key, through the stored step's env", async () => {
        const pipeline = named(await prodResources(), "ci-platform-pipeline", PIPELINE);
        edit(pipeline, (doc) => {
            doc.steps.push({
                label: "triggers",
                commands: [`printf '%s\\n' "$$CI_PLATFORM_PIPELINE_YAML" | buildkite-agent pipeline upload`],
                agents: { queue: "deploy" },
                env: { CI_PLATFORM_PIPELINE_YAML: stringify({ steps: [{ trigger: "child", asynchronous: true }] }) },
            });
        });
        const findings = check(pipeline);
        assert.equal(findings.length, 1, findings.join("\n"));
        assert.match(findings[0], /uploaded by steps\[1\]\.env\.CI_PLATFORM_PIPELINE_YAML: steps\[0\]\.asynchronous /);
    });

    it("follows a signing pipeline's one stored step into the document it uploads, and the documents that one uploads", async () => {
        const pipeline = named(await prodResources(), "kolibri-python-package-pipeline", PIPELINE);
        edit(pipeline, (doc) => {
            const outer = doc.steps[0].env as Record<string, string>;
            const document = parse(Buffer.from(outer.CI_PLATFORM_PIPELINE, "base64").toString("utf8")) as {
                steps: { key?: string; env?: Record<string, string> }[];
            };
            const triggers = document.steps.find((s) => s.env?.CI_PLATFORM_PIPELINE_YAML !== undefined);
            assert.ok(triggers?.env, "the uploaded document has a step that uploads the triggers");
            const uploaded = parse(triggers.env.CI_PLATFORM_PIPELINE_YAML) as { steps: Record<string, unknown>[] };
            uploaded.steps[0].asynchronous = true;
            triggers.env.CI_PLATFORM_PIPELINE_YAML = stringify(uploaded);
            outer.CI_PLATFORM_PIPELINE = Buffer.from(stringify(document)).toString("base64");
        });
        const findings = check(pipeline);
        assert.equal(findings.length, 1, findings.join("\n"));
        assert.match(
            findings[0],
            /uploaded by steps\[0\]\.env\.CI_PLATFORM_PIPELINE > steps\[\d+\]\.env\.CI_PLATFORM_PIPELINE_YAML: steps\[0\]\.asynchronous /,
        );
    });

    it("decodes a base64 document when the command decodes it, and checks it", () => {
        const bad = Buffer.from(stringify({ steps: [{ trigger: "child", build: { branch: 3 } }] })).toString("base64");
        const good = Buffer.from(stringify({ steps: [{ trigger: "child" }] })).toString("base64");
        const command = "printenv CI_PLATFORM_PIPELINE | base64 --decode | buildkite-agent pipeline upload";
        assert.deepEqual(storedStepsIssues(upload("CI_PLATFORM_PIPELINE", good, command)), []);
        assert.deepEqual(
            storedStepsIssues(upload("CI_PLATFORM_PIPELINE", bad, command)).map((i) => i.path),
            ["uploaded by steps[0].env.CI_PLATFORM_PIPELINE: steps[0].build.branch"],
        );
        // The same text is not a document when nothing decodes it: an env value nobody uploads is not checked.
        assert.deepEqual(storedStepsIssues(upload("CI_PLATFORM_PIPELINE", bad, "echo $CI_PLATFORM_PIPELINE")), []);
    });

    it("reports an uploaded document that is not YAML, and every document of a stream", () => {
        const command = `printf '%s\\n' "$$DOC" | buildkite-agent pipeline upload`;
        assert.deepEqual(
            storedStepsIssues(upload("DOC", "steps: [", command)).map((i) => i.path),
            ["uploaded by steps[0].env.DOC"],
        );
        const stream = "steps:\n  - wait\n---\nsteps:\n  - wait: null\n    colour: red\n";
        assert.deepEqual(
            storedStepsIssues(upload("DOC", stream, command)).map((i) => i.path),
            ["uploaded by steps[0].env.DOC (document 2): steps[0].colour"],
        );
    });
});
