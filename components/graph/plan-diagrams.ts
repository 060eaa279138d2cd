/**
 * Diagrams of what a plan diff changes, read from the two plans themselves (the base plan has no config): the
 * trigger edges each pipeline's uploaded steps declare, and the agent fleets. Drawn only when their subject changed,
 * with added nodes and edges in green and removed ones in red, dashed. Pure: plans in, Mermaid text out.
 *
 * @module
 */
import type { PlanDocument, PlanResource } from "../../scripts/plan/model";
import { reviewableSteps } from "../steps/stored-upload";

const PIPELINE = "buildkite:Pipeline/pipeline:Pipeline";
const FLEET = "ci-platform:agents:Fleet";
const STACK = "aws:cloudformation/stack:Stack";

const id = (prefix: string, text: string) => `${prefix}_${text.replace(/[^A-Za-z0-9]/g, "_")}`;
const label = (text: string) => `"${text.replace(/"/g, "#quot;")}"`;

/**
 * Each pipeline's trigger edges `from→to`, from the `trigger: <slug>` steps in its steps YAML (a trigger step's
 * `trigger` attribute names the pipeline slug: buildkite/docs pages/pipelines/configure/step-types/trigger-step.md).
 */
export function triggerEdgesOfPlan(plan: Pick<PlanDocument, "resources">): Set<string> {
    const edges = new Set<string>();
    for (const r of plan.resources.filter((x) => x.type === PIPELINE)) {
        const slug = r.inputs.slug;
        const steps = r.inputs.steps;
        if (typeof slug !== "string" || typeof steps !== "string") continue;
        // A signing pipeline's trigger steps are in the document its one stored step uploads (stored-upload.ts).
        for (const [, to] of reviewableSteps(steps).matchAll(
            /^\s*(?:-\s+)?trigger:\s*["']?([a-z0-9][a-z0-9-]*)["']?\s*$/gm,
        ))
            edges.add(`${slug}→${to}`);
    }
    return edges;
}

/** Classes for added and removed nodes and edges. */
const STYLES = [
    "    classDef added stroke:#16a34a,stroke-width:3px,color:#166534",
    "    classDef removed stroke:#dc2626,stroke-width:2px,stroke-dasharray:5 3,color:#991b1b",
];

/** The trigger graph's change as a Mermaid flowchart, or null when no trigger edge was added or removed. */
export function triggerDiffDiagram(
    base: Pick<PlanDocument, "resources">,
    head: Pick<PlanDocument, "resources">,
): string | null {
    const before = triggerEdgesOfPlan(base);
    const after = triggerEdgesOfPlan(head);
    const added = [...after].filter((e) => !before.has(e));
    const removed = [...before].filter((e) => !after.has(e));
    if (added.length + removed.length === 0) return null;
    // A node is added or removed with its pipeline, not with its edges.
    const pipelinesOf = (plan: Pick<PlanDocument, "resources">) =>
        new Set(plan.resources.filter((r) => r.type === PIPELINE).map((r) => String(r.inputs.slug)));
    const [old, now] = [pipelinesOf(base), pipelinesOf(head)];
    const nodes = [...new Set([...before, ...after].flatMap((e) => e.split("→")))].sort();
    const lines = ["flowchart LR"];
    for (const n of nodes) lines.push(`    ${id("p", n)}[${label(n)}]`);
    const edges = [...new Set([...before, ...after])].sort();
    const linkStyles: string[] = [];
    edges.forEach((e, i) => {
        const [from, to] = e.split("→");
        const kind = added.includes(e) ? "added" : removed.includes(e) ? "removed" : "";
        lines.push(
            `    ${id("p", from)} ${kind === "removed" ? "-.->" : "-->"}${kind ? `|${kind}|` : ""} ${id("p", to)}`,
        );
        if (kind === "added") linkStyles.push(`    linkStyle ${i} stroke:#16a34a,stroke-width:3px`);
        if (kind === "removed") linkStyles.push(`    linkStyle ${i} stroke:#dc2626,stroke-width:2px`);
    });
    lines.push(...STYLES, ...linkStyles);
    const addedNodes = nodes.filter((n) => now.has(n) && !old.has(n));
    const removedNodes = nodes.filter((n) => old.has(n) && !now.has(n));
    if (addedNodes.length > 0) lines.push(`    class ${addedNodes.map((n) => id("p", n)).join(",")} added`);
    if (removedNodes.length > 0) lines.push(`    class ${removedNodes.map((n) => id("p", n)).join(",")} removed`);
    return lines.join("\n");
}

/** A fleet as the map shows it: its region (from its stack's provider) and its size and instance types. */
function fleetsOfPlan(plan: Pick<PlanDocument, "resources">): Map<string, string> {
    const out = new Map<string, string>();
    const stacks = new Map(
        plan.resources.filter((r) => r.type === STACK && r.parent !== null).map((r) => [r.parent as string, r]),
    );
    for (const f of plan.resources.filter((r: PlanResource) => r.type === FLEET)) {
        const stack = stacks.get(f.urn);
        const p = (stack?.inputs.parameters ?? {}) as Record<string, unknown>;
        const region = /([a-z]{2}-[a-z]+-\d)$/.exec(stack?.provider ?? "")?.[1];
        out.set(
            f.name,
            stack === undefined
                ? `${f.name}<br/>on premises`
                : `${f.name}<br/>${region ?? ""} queue ${String(p.BuildkiteQueue ?? "")} · ${String(p.MinSize ?? "")}–${String(p.MaxSize ?? "")}<br/>${String(p.InstanceTypes ?? "")}`,
        );
    }
    return out;
}

/** The fleets' change as a Mermaid flowchart, or null when no fleet was added, removed or resized. */
export function fleetDiffDiagram(
    base: Pick<PlanDocument, "resources">,
    head: Pick<PlanDocument, "resources">,
): string | null {
    const before = fleetsOfPlan(base);
    const after = fleetsOfPlan(head);
    const names = [...new Set([...before.keys(), ...after.keys()])].sort();
    const kindOf = (n: string) =>
        !before.has(n) ? "added" : !after.has(n) ? "removed" : before.get(n) !== after.get(n) ? "changed" : "";
    if (names.every((n) => kindOf(n) === "")) return null;
    const lines = ["flowchart LR"];
    for (const n of names) {
        const kind = kindOf(n);
        const text =
            kind === "changed" ? `${after.get(n)}<br/>was: ${before.get(n)}` : (after.get(n) ?? before.get(n)!);
        lines.push(`    ${id("f", n)}[${label(kind ? `${kind}: ${text}` : text)}]`);
    }
    lines.push(...STYLES, "    classDef changed stroke:#d97706,stroke-width:2px");
    for (const kind of ["added", "removed", "changed"]) {
        const ns = names.filter((n) => kindOf(n) === kind);
        if (ns.length > 0) lines.push(`    class ${ns.map((n) => id("f", n)).join(",")} ${kind}`);
    }
    return lines.join("\n");
}
