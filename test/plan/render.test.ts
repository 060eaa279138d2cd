import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { lineDiff } from "../../scripts/plan/diff";
import { SECRET, STACK_TYPE, UNKNOWN } from "../../scripts/plan/model";
import { planDiff, resourceChange } from "../fixtures/plan";
import {
    countByType,
    CREATED_STEPS_CAP,
    createdSteps,
    hunkLines,
    previousText,
    renderDiffMarkdown,
    renderDiffText,
    renderPlanMarkdown,
    renderStepsBrief,
    renderTree,
    withinBudget,
} from "../../scripts/plan/render";
import { planOf, planResource } from "../fixtures/plan";

const PIPELINE = "buildkite:Pipeline/pipeline:Pipeline";
const BUCKET = "aws:s3/bucket:Bucket";

describe("countByType and renderTree", () => {
    it("countByType counts per type, sorted by type", () => {
        assert.deepEqual(countByType([{ type: "b" }, { type: "a" }, { type: "b" }]), [
            ["a", 1],
            ["b", 2],
        ]);
    });

    it("renderTree nests children under their parent with their flags, and counts all but the stack", () => {
        const stack = planResource("prod", STACK_TYPE, {});
        const bucket = planResource("secrets", BUCKET, {}, { parent: stack.urn, protect: true, retainOnDelete: true });
        const adopted = planResource("app", PIPELINE, {}, { parent: stack.urn, importId: "pl-1" });
        const text = renderTree(planOf(stack, bucket, adopted));
        assert.equal(
            text,
            [
                `${STACK_TYPE}  prod`,
                `  └─ ${BUCKET}  secrets  (protected, retained on delete)`,
                `  └─ ${PIPELINE}  app  (= imported from id pl-1, not created)`,
                "",
                '2 resources in stack "test":',
                `     1  ${BUCKET}`,
                `     1  ${PIPELINE}`,
            ].join("\n"),
        );
    });

    it("renderStepsBrief is nothing without steps, else an indented list under a heading", () => {
        assert.equal(renderStepsBrief([]), "");
        assert.equal(renderStepsBrief(["app: 2 steps"]), "\nSteps:\n  app: 2 steps");
    });
});

describe("createdSteps and hunkLines", () => {
    it("shows a created pipeline's known steps as one all-added hunk; nothing for other resources or unknown steps", () => {
        const steps = "steps:\n  - command: make\n";
        const shown = createdSteps(planResource("app", PIPELINE, { steps }));
        assert.equal(shown?.path, "steps");
        assert.ok(shown?.hunks.flatMap((h) => h.lines).every((l) => l.op === "+"));
        assert.deepEqual(
            shown?.hunks.flatMap((h) => h.lines.map((l) => l.text)),
            ["steps:", "  - command: make"],
        );
        assert.equal(createdSteps(planResource("b", BUCKET, { steps })), null);
        assert.equal(createdSteps(planResource("s", PIPELINE, { steps: SECRET })), null);
        assert.equal(createdSteps(planResource("u", PIPELINE, { steps: UNKNOWN })), null);
    });

    it("hunkLines shows headers and at most `cap` lines, then counts the rest", () => {
        const hunks = lineDiff("a\nb\nc\nd\n", "A\nB\nC\nD\n");
        const all = hunkLines(hunks, 100);
        assert.ok(all[0].startsWith("@@ "));
        assert.deepEqual(all.slice(1).sort(), ["+A", "+B", "+C", "+D", "-a", "-b", "-c", "-d"].sort());
        const capped = hunkLines(hunks, 3);
        assert.equal(capped.filter((l) => /^[-+ ]/.test(l)).length, 3);
        assert.equal(capped.at(-1), "… 5 more line(s)");
    });
});

describe("previousText", () => {
    it("says renamed from the old name, or moved from the stack's top level or from under the old parents", () => {
        const q = (t: string) => `<${t}>`;
        assert.equal(previousText("urn:pulumi:s::p::aws:iam/role:Role::old", "new", q), "renamed from <old>");
        assert.equal(
            previousText("urn:pulumi:s::p::pulumi:providers:aws::aws", "aws", q),
            "moved from the stack's top level",
        );
        assert.equal(
            previousText(
                "urn:pulumi:s::p::ci-platform:a:A$ci-platform:b:B$buildkite:Cluster/clusterQueue:ClusterQueue::q",
                "q",
                q,
            ),
            "moved from under <ci-platform:a:A$ci-platform:b:B>",
        );
    });
});

describe("renderDiffText", () => {
    it("shows imports as `=`, replacements and deletes with their protection, updates with values, and the counts", () => {
        const text = renderDiffText(
            planDiff({
                added: [planResource("app", PIPELINE, {}, { importId: "pl-1" }), planResource("new", BUCKET, {})],
                replaced: [
                    resourceChange("stack", "aws:cloudformation/stack:Stack", {
                        paths: ["name"],
                        replaceReasons: ["name"],
                        protect: true,
                    }),
                ],
                updated: [
                    resourceChange("team", "buildkite:Team/team:Team", {
                        paths: ["description", "token"],
                        values: [{ path: "description", before: "a", after: "b" }],
                        rotated: ["token"],
                        previousUrn: "urn:pulumi:test::ci-platform::buildkite:Team/team:Team::old-team",
                    }),
                ],
                removed: [planResource("gone", BUCKET, {}, { retainOnDelete: true })],
            }),
        );
        const lines = text.split("\n");
        assert.ok(lines.includes(`= import   ${PIPELINE}  app  (id pl-1)`), text);
        assert.ok(lines.includes(`+ create   ${BUCKET}  new`), text);
        assert.ok(lines.includes("+-replace  aws:cloudformation/stack:Stack  stack: name  [PROTECTED]"), text);
        assert.ok(
            lines.includes(
                '~ update   buildkite:Team/team:Team  team: description "a" → "b", token (secret set again)',
            ),
            text,
        );
        assert.ok(lines.includes(`- delete   ${BUCKET}  gone  (retained in the cloud)`), text);
        assert.equal(lines.at(-1), "1 to create, 1 to update, 1 to replace, 1 to delete, 1 to import");
    });

    it("says first, when the base could not be planned, that it is not a diff", () => {
        const text = renderDiffText(planDiff({}), new Map(), { baseFailed: "config error" });
        assert.match(text.split("\n")[0], /^! NOT A DIFF: the base branch could not be planned \(config error\)/);
        assert.equal(text.split("\n").at(-1), "0 to create, 0 to update, 0 to replace, 0 to delete");
    });

    it("shows the steps of at most CREATED_STEPS_CAP new pipelines and counts the others", () => {
        const added = Array.from({ length: CREATED_STEPS_CAP + 2 }, (_, i) =>
            planResource(`p${i}`, PIPELINE, { steps: `steps:\n  - command: job-${i}\n` }),
        );
        const text = renderDiffText(planDiff({ added }));
        assert.ok(text.includes(`job-${CREATED_STEPS_CAP - 1}`));
        assert.ok(!text.includes(`job-${CREATED_STEPS_CAP}`));
        assert.ok(text.includes("(the steps of 2 more new pipeline(s) are not shown)"));
    });
});

describe("renderDiffMarkdown", () => {
    it("says No changes for an empty diff, with no counts table", () => {
        const md = renderDiffMarkdown(planDiff({}), "prod");
        assert.ok(md.startsWith("## ci-platform plan: stack `prod`\n"));
        assert.ok(md.includes("**Policy pack:** no violations."));
        assert.ok(md.includes("No changes."));
        assert.ok(!md.includes("Counts by type"));
    });

    it("keeps a backquote in a name from breaking its code span, and a fence in steps from closing the block", () => {
        const md = renderDiffMarkdown(
            planDiff({ added: [planResource("a`b", PIPELINE, { steps: "steps:\n  - command: echo ```\n" })] }),
            "prod",
        );
        assert.ok(md.includes("- **create** `a'b` (buildkite Pipeline)"), md);
        assert.equal(md.split("\n").filter((l) => l.trim().startsWith("```")).length, 2, md);
    });

    it("names the removed resources retained on delete in the verdict", () => {
        const md = renderDiffMarkdown(
            planDiff({ removed: [planResource("gone", BUCKET, {}, { retainOnDelete: true })] }),
            "prod",
        );
        assert.ok(md.includes("1 removed resource(s) are retained on delete"));
    });
});

describe("withinBudget", () => {
    it("keeps everything that fits, unchanged", () => {
        assert.equal(withinBudget(["a"], ["b", "c"], 100), "a\nb\nc");
    });

    it("cuts whole lines from the bottom, never inside a fenced block or <details>, and says how many", () => {
        const verdict = ["# verdict", ""];
        // The budget ends inside the fenced block: the cut falls before the block, not in it.
        const detail = ["x".repeat(50), "```diff", `+${"1".repeat(40)}`, `+${"2".repeat(40)}`, "```", "t".repeat(200)];
        const cut = withinBudget(verdict, detail, 240);
        const lines = cut.split("\n");
        assert.ok(cut.length <= 240, String(cut.length));
        assert.deepEqual(lines.slice(0, -2), ["# verdict", "", "x".repeat(50)]);
        assert.equal(lines.at(-2), "");
        assert.match(lines.at(-1) ?? "", /^_… 5 more line\(s\) cut to fit the comment/);
        // Likewise for <details>: all of it or none of it.
        const folded = withinBudget(verdict, ["<details>", "y".repeat(60), "y".repeat(200), "</details>"], 240);
        assert.ok(!folded.includes("<details>"), folded);
    });
});

describe("renderPlanMarkdown", () => {
    it("counts resources but not the stack or providers, lists the adopted ones, and has a verdict only when asked", () => {
        const plan = planOf(
            planResource("prod", STACK_TYPE, {}),
            planResource("aws", "pulumi:providers:aws", {}),
            planResource("app", PIPELINE, {}, { importId: "pl-1" }),
            planResource("b", BUCKET, {}),
        );
        const md = renderPlanMarkdown(plan);
        assert.ok(md.includes("2 resources."));
        assert.ok(md.includes("| buildkite Pipeline | 1 |"));
        assert.ok(!md.includes("provider aws"));
        assert.ok(md.includes("- = `app` (buildkite Pipeline) from id `pl-1`"));
        assert.ok(!md.includes("Policy pack"));
        assert.ok(renderPlanMarkdown(plan, { violations: [] }).includes("**Policy pack:** no violations."));
        assert.ok(
            renderPlanMarkdown(plan, { violations: ["- bad"] }).includes("**Policy pack:** 1 violation(s):\n- bad"),
        );
    });
});
