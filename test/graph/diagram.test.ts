import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parsePlatformConfig } from "../../components/platform-config";
import { edgeLabel, mermaidDiagram, mermaidMarkdown, nodeId } from "../../components/graph/diagram";
import { TriggerGraph, triggerGraphOf } from "../../components/graph/trigger-graph";
import { Mutable, entry, validRawConfig } from "../fixtures/config";

function graph(): TriggerGraph {
    const raw = validRawConfig();
    (entry(raw, "pipelines", 0).triggers as Mutable[]).push({ pipeline: "mac-app", async: true });
    raw.organizationRules = true; // a trigger across clusters needs the rules feature
    const parsed = parsePlatformConfig(raw);
    assert.ok(parsed.ok);
    return triggerGraphOf(parsed.value);
}

describe("mermaidDiagram", () => {
    it("groups the pipelines that take part in triggers by cluster and draws every edge with its label", () => {
        const text = mermaidDiagram(graph()) as string;
        const lines = text.split("\n");
        assert.equal(lines[0], "flowchart LR");
        assert.ok(lines.includes('    subgraph c0["cluster: default"]'));
        assert.ok(lines.includes('    subgraph c1["cluster: macos"]'));
        assert.ok(lines.includes('        p_installer["installer<br/>🔒 release gate"]'));
        assert.ok(lines.includes('        p_mac_app["mac-app"]'));
        assert.ok(!text.includes("p_mono"), "a pipeline outside every trigger is not drawn");
        assert.ok(lines.includes('    p_app -->|"installer"| p_installer'));
        assert.ok(lines.includes('    p_app -->|"trigger-image · after installer"| p_image'));
        assert.ok(lines.includes('    p_app -.->|"trigger-mac-app · async · cross-cluster rule"| p_mac_app'));
        assert.ok(lines.includes("    class p_installer,p_image gated"));
        // Every subgraph is closed.
        assert.equal(
            lines.filter((l) => l.trim().startsWith("subgraph")).length,
            lines.filter((l) => l.trim() === "end").length,
        );
    });

    it("draws nothing when no pipeline triggers another", () => {
        const empty: TriggerGraph = { nodes: [{ slug: "a", cluster: "default", gate: "none" }], edges: [] };
        assert.equal(mermaidDiagram(empty), null);
        assert.equal(mermaidMarkdown(empty), "No pipeline triggers another.");
        assert.match(mermaidMarkdown(graph()), /^```mermaid\nflowchart LR\n[\s\S]*\n```$/);
    });

    it("makes safe ids and labels", () => {
        assert.equal(nodeId("kolibri-python-package"), "p_kolibri_python_package");
        const edge = graph().edges[1];
        assert.equal(
            edgeLabel({ ...edge, branches: "main release/*" }),
            "trigger-image · after installer · branches: main release/*",
        );
    });
});
