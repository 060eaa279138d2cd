import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fleetDiffDiagram, triggerDiffDiagram, triggerEdgesOfPlan } from "../../components/graph/plan-diagrams";
import type { PlanResource } from "../../scripts/plan/model";
import { planOf, planResource } from "../fixtures/plan";

/*
 * components/graph/plan-diagrams.ts: Mermaid diagrams of what a plan diff changes, read from the two plans alone.
 * The PR comment that embeds them is test/plan/comment.test.ts's.
 */

const PIPELINE = "buildkite:Pipeline/pipeline:Pipeline";
const pipeline = (slug: string, steps: string): PlanResource =>
    planResource(`${slug}-pipeline`, PIPELINE, { slug, steps });
/** A fleet component and, for an AWS fleet, its stack with the Elastic CI Stack parameters and a regional provider. */
const fleet = (name: string, parameters?: Record<string, unknown>, region = "us-east-1"): PlanResource[] => {
    const component = planResource(name, "ci-platform:agents:Fleet", {});
    if (parameters === undefined) return [component];
    return [
        component,
        planResource(
            `${name}-stack`,
            "aws:cloudformation/stack:Stack",
            { parameters },
            {
                parent: component.urn,
                provider: `urn:pulumi:test::ci-platform::pulumi:providers:aws::aws-${region}`,
            },
        ),
    ];
};
const params = { BuildkiteQueue: "default", MinSize: 0, MaxSize: 10, InstanceTypes: "c7i.xlarge" };

describe("triggerEdgesOfPlan", () => {
    it("reads `trigger: <slug>` steps of every pipeline, in list or mapping form, quoted or not", () => {
        const plan = planOf(
            pipeline("app", 'steps:\n  - trigger: installer\n  - label: x\n    trigger: "image"\n'),
            pipeline("image", "steps:\n  - trigger: 'docs'\n  - command: echo trigger: nope\n"),
        );
        assert.deepEqual([...triggerEdgesOfPlan(plan)].sort(), ["app→image", "app→installer", "image→docs"]);
    });

    it("ignores other resource types and pipelines whose slug or steps are not known text", () => {
        const plan = planOf(
            planResource("x", "ci-platform:buildkite:Pipeline", { slug: "x", steps: "steps:\n  - trigger: y\n" }),
            planResource("unknown", PIPELINE, { slug: "unknown", steps: "[unknown]" }),
            planResource("secret", PIPELINE, { slug: { secret: true }, steps: "steps:\n  - trigger: y\n" }),
        );
        assert.deepEqual([...triggerEdgesOfPlan(plan)], []);
    });
});

describe("triggerDiffDiagram", () => {
    const base = planOf(pipeline("app", "steps:\n  - trigger: old\n"), pipeline("old", "steps: []\n"));
    const head = planOf(
        pipeline("app", "steps:\n  - trigger: new-one\n"),
        pipeline("new-one", "steps: []\n"),
        pipeline("old", "steps: []\n"),
    );

    it("is null when no trigger edge was added or removed, whatever else changed", () => {
        assert.equal(triggerDiffDiagram(base, base), null);
        const renamedStepOnly = planOf(
            pipeline("app", "steps:\n  - label: go\n    trigger: old\n"),
            pipeline("old", ""),
        );
        assert.equal(triggerDiffDiagram(base, renamedStepOnly), null);
    });

    it("draws every edge, the added ones green and labelled, the removed ones dashed, red and labelled", () => {
        const d = triggerDiffDiagram(base, head);
        assert.ok(d !== null);
        const lines = d.split("\n");
        assert.equal(lines[0], "flowchart LR");
        assert.ok(lines.includes('    p_new_one["new-one"]'), d);
        assert.ok(lines.includes("    p_app -->|added| p_new_one"), d);
        assert.ok(lines.includes("    p_app -.->|removed| p_old"), d);
        // Edges sorted: app→new-one is link 0, app→old link 1.
        assert.ok(lines.includes("    linkStyle 0 stroke:#16a34a,stroke-width:3px"), d);
        assert.ok(lines.includes("    linkStyle 1 stroke:#dc2626,stroke-width:2px"), d);
    });

    it("marks a node added or removed only with its pipeline, not with its edges", () => {
        const d = triggerDiffDiagram(base, head) ?? "";
        assert.match(d, /\n {4}class p_new_one added$/m);
        assert.doesNotMatch(d, /class [^\n]*p_old/, "old still exists: only its edge went");
        assert.doesNotMatch(d, /class [^\n]*p_app/);
        const gone = triggerDiffDiagram(head, base) ?? "";
        assert.match(gone, /class p_new_one removed/);
    });

    it("keeps Mermaid ids and labels safe for any slug text", () => {
        const d = triggerDiffDiagram(planOf(), planOf(pipeline("a", 'steps:\n  - trigger: "b-2"\n'))) ?? "";
        assert.match(d, /p_b_2\["b-2"\]/);
        assert.doesNotMatch(d, /p_b-2/);
    });
});

describe("fleetDiffDiagram", () => {
    const base = planOf(...fleet("linux", params), ...fleet("mac-office"));

    it("is null when no fleet was added, removed or resized", () => {
        assert.equal(fleetDiffDiagram(base, planOf(...fleet("mac-office"), ...fleet("linux", params))), null);
    });

    it("shows an AWS fleet's region, queue, size and instance types, and an on-premises fleet as such", () => {
        const head = planOf(...base.resources, ...fleet("linux-eu", { ...params, MaxSize: 5 }, "eu-west-1"));
        const d = fleetDiffDiagram(base, head) ?? "";
        assert.ok(d.includes('    f_linux_eu["added: linux-eu<br/>eu-west-1 queue default · 0–5<br/>c7i.xlarge"]'), d);
        assert.ok(d.includes('    f_mac_office["mac-office<br/>on premises"]'), d);
        assert.match(d, /\n {4}class f_linux_eu added$/m);
    });

    it("shows a resized fleet as changed, with what it was", () => {
        const head = planOf(...fleet("linux", { ...params, MaxSize: 20 }), ...fleet("mac-office"));
        const d = fleetDiffDiagram(base, head) ?? "";
        assert.ok(
            d.includes(
                '    f_linux["changed: linux<br/>us-east-1 queue default · 0–20<br/>c7i.xlarge<br/>was: linux<br/>us-east-1 queue default · 0–10<br/>c7i.xlarge"]',
            ),
            d,
        );
        assert.match(d, /class f_linux changed/);
        assert.doesNotMatch(d, /class f_mac_office/);
    });

    it("shows a removed fleet as removed, with what it was", () => {
        const d = fleetDiffDiagram(base, planOf(...fleet("linux", params))) ?? "";
        assert.ok(d.includes('    f_mac_office["removed: mac-office<br/>on premises"]'), d);
        assert.match(d, /class f_mac_office removed/);
    });
});
