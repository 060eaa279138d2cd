import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { triggerEdgesOfPlan } from "../../components/graph/plan-diagrams";
import { renderStoredPipeline } from "../../components/steps";
import { UPLOADED_DOCUMENT_HEADING, storedUploadStep } from "../../components/steps/stored-upload";
import { pipelineSteps } from "../../policy/platform";
import { RULES, type ResourceRule } from "../../policy/rules";
import { diffPlans } from "../../scripts/plan/diff";
import { createdSteps } from "../../scripts/plan/render";
import { planOf, planResource } from "../fixtures/plan";

/*
 * A signing pipeline's stored steps are one step carrying the document base64 encoded (components/steps/stored-upload.ts).
 * Reviewers and rules read the document: the plan shows and diffs it decoded, the policy walks and scans it.
 */

const PIPELINE = "buildkite:Pipeline/pipeline:Pipeline";
const documentOf = (command: string, extra = "") =>
    [
        "steps:",
        "  - label: Test",
        "    key: test",
        "    commands:",
        `      - ${command}`,
        "    agents:",
        "      queue: default",
        extra,
    ].join("\n");
const wrapped = (document: string) => renderStoredPipeline({ steps: [storedUploadStep(document, "default")] });
const pipeline = (steps: string) => planResource("app-pipeline", PIPELINE, { slug: "app", steps });
const rule = (name: string) => RULES.find((r) => r.name === name) as ResourceRule;
const context = { params: { requiredTags: [] } };

describe("the plan shows what the stored step uploads, decoded", () => {
    it("a created pipeline's steps: the heading, then the document's lines, no base64", () => {
        const document = documentOf("make test");
        const shown = createdSteps(pipeline(wrapped(document)));
        const lines = shown?.hunks.flatMap((h) => h.lines.map((l) => l.text)) ?? [];
        assert.deepEqual(lines, [UPLOADED_DOCUMENT_HEADING, ...document.replace(/\n$/, "").split("\n")]);
        assert.ok(!lines.some((l) => l.includes(Buffer.from(document).toString("base64"))));
    });

    it("a changed pipeline's steps: a line diff of the documents, not of the base64", () => {
        const base = planOf(pipeline(wrapped(documentOf("make test"))));
        const head = planOf(pipeline(wrapped(documentOf("make check"))));
        const [change] = diffPlans(base, head).updated;
        const changed = change.lines.flatMap((l) => l.hunks.flatMap((h) => h.lines.filter((x) => x.op !== " ")));
        assert.deepEqual(changed, [
            { op: "-", text: "      - make test" },
            { op: "+", text: "      - make check" },
        ]);
    });

    it("the trigger graph of the plan reads trigger steps inside the document", () => {
        const document = "steps:\n  - trigger: child\n";
        assert.deepEqual([...triggerEdgesOfPlan(planOf(pipeline(wrapped(document))))], ["app→child"]);
    });
});

describe("the policy reads the document the stored step uploads", () => {
    it("walks its steps as uploaded steps, with their queues", () => {
        const steps = pipelineSteps(wrapped(documentOf("make test")));
        assert.deepEqual(
            steps.map((s) => [s.id, s.kind === "command" ? s.queue : undefined, s.uploaded]),
            [
                ["ci-platform-pipeline", "default", false],
                ["test", "default", true],
            ],
        );
    });

    it("steps-no-credentials finds a credential inside it, and none in a clean one", () => {
        const leaked = wrapped(documentOf("make test", `env:\n  GH: ghp_${"a1B2c3D4e5".repeat(4)}\n`));
        assert.equal(rule("steps-no-credentials").check(pipeline(leaked), context).length, 1);
        assert.deepEqual(rule("steps-no-credentials").check(pipeline(wrapped(documentOf("make test"))), context), []);
    });

    it("steps-plugins-pinned finds an unpinned plugin inside it", () => {
        const unpinned = wrapped(documentOf("make test", "    plugins:\n      - docker:\n          image: x\n"));
        const findings = rule("steps-plugins-pinned").check(pipeline(unpinned), context);
        assert.equal(findings.length, 1);
        assert.match(String(findings[0]), /uses plugin "docker" without a pinned version/);
    });
});
