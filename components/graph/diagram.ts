/**
 * The trigger graph as a Mermaid flowchart, for the plan's markdown (GitHub renders ```mermaid blocks in PR
 * comments). Pipelines are grouped by cluster as subgraphs; edges are labelled with the trigger's key, what it
 * waits for and whether it is async; release-gated children are marked.
 *
 * Pure module: a graph in, text out.
 *
 * @module
 */
import { TriggerEdge, TriggerGraph } from "./trigger-graph";

/** A Mermaid node id for a slug (slugs are `[a-z0-9-]`; Mermaid ids are safest as `[A-Za-z0-9_]`). */
export function nodeId(slug: string): string {
    return `p_${slug.replace(/[^A-Za-z0-9]/g, "_")}`;
}

/** Text made safe inside a Mermaid quoted label. */
function quoted(text: string): string {
    return `"${text.replace(/"/g, "#quot;")}"`;
}

/** The label of an edge: key, then `after x, y`, `async`, `branches: ...`, `cross-cluster`. */
export function edgeLabel(edge: TriggerEdge): string {
    const parts = [edge.key];
    if (edge.dependsOn.length > 0) parts.push(`after ${edge.dependsOn.join(", ")}`);
    if (edge.async) parts.push("async");
    if (edge.branches !== undefined) parts.push(`branches: ${edge.branches}`);
    if (edge.crossesClusters) parts.push("cross-cluster rule");
    return parts.join(" · ");
}

/**
 * The flowchart, or null when no pipeline triggers another (nothing worth drawing). Only pipelines that take
 * part in a trigger are drawn. Deterministic: clusters and nodes in config order, edges in trigger order.
 */
export function mermaidDiagram(graph: TriggerGraph): string | null {
    if (graph.edges.length === 0) return null;
    const involved = new Set(graph.edges.flatMap((e) => [e.from, e.to]));
    const nodes = graph.nodes.filter((n) => involved.has(n.slug));
    const clusters = [...new Set(nodes.map((n) => n.cluster))];
    const lines = ["flowchart LR"];
    clusters.forEach((cluster, i) => {
        lines.push(`    subgraph c${i}[${quoted(`cluster: ${cluster}`)}]`);
        for (const node of nodes.filter((n) => n.cluster === cluster)) {
            const text = node.gate === "release" ? `${node.slug}<br/>🔒 release gate` : node.slug;
            lines.push(`        ${nodeId(node.slug)}[${quoted(text)}]`);
        }
        lines.push("    end");
    });
    for (const edge of graph.edges) {
        const arrow = edge.async ? "-.->" : "-->";
        lines.push(`    ${nodeId(edge.from)} ${arrow}|${quoted(edgeLabel(edge))}| ${nodeId(edge.to)}`);
    }
    const gated = nodes.filter((n) => n.gate === "release").map((n) => nodeId(n.slug));
    if (gated.length > 0) {
        lines.push("    classDef gated stroke:#d97706,stroke-width:2px");
        lines.push(`    class ${gated.join(",")} gated`);
    }
    return lines.join("\n");
}

/** The diagram in a fenced block for markdown, or a sentence when there is nothing to draw. */
export function mermaidMarkdown(graph: TriggerGraph): string {
    const diagram = mermaidDiagram(graph);
    return diagram === null ? "No pipeline triggers another." : ["```mermaid", diagram, "```"].join("\n");
}
