import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PlatformConfig, formatConfigPath } from "../../components/config";
import { parsePlatformConfig } from "../../components/platform-config";
import {
    buildTriggerGraph,
    childrenOf,
    crossClusterEdges,
    parentsOf,
    topologicalOrder,
    triggerKey,
} from "../../components/graph/trigger-graph";
import { Mutable, entry, validRawConfig } from "../fixtures/config";

function load(mutate: (raw: ReturnType<typeof validRawConfig>) => void = () => {}): PlatformConfig {
    const raw = validRawConfig();
    mutate(raw);
    const parsed = parsePlatformConfig(raw);
    assert.ok(parsed.ok, JSON.stringify(parsed.error));
    return parsed.value;
}

function graphOf(config: PlatformConfig) {
    const result = buildTriggerGraph(config);
    assert.ok(result.ok);
    return result.value;
}

describe("buildTriggerGraph", () => {
    it("has one edge per trigger, with keys, dependencies, clusters and gating", () => {
        const graph = graphOf(load());
        assert.deepEqual(
            graph.edges.map((e) => [e.from, e.to, e.key, e.dependsOn, e.async, e.gated, e.crossesClusters]),
            [
                ["app", "installer", "installer", [], false, true, false],
                ["app", "image", "trigger-image", ["installer"], false, true, false],
            ],
        );
        assert.deepEqual(
            childrenOf(graph, "app").map((e) => e.to),
            ["installer", "image"],
        );
        assert.deepEqual(
            parentsOf(graph, "image").map((e) => e.from),
            ["app"],
        );
        assert.deepEqual(childrenOf(graph, "mono"), []);
    });

    it("marks triggers into another cluster, which need an organization rule", () => {
        const config = load((raw) => {
            const app = entry(raw, "pipelines", 0);
            (app.triggers as Mutable[]).push({ pipeline: "mac-app", async: true, branches: "main" });
            raw.organizationRules = true; // a trigger across clusters needs the rules feature
        });
        const graph = graphOf(config);
        assert.deepEqual(
            crossClusterEdges(graph).map((e) => [e.from, e.to, e.async, e.branches]),
            [["app", "mac-app", true, "main"]],
        );
    });

    it("orders parents before children", () => {
        const config = load((raw) => {
            // installer triggers mono, declared after it
            (entry(raw, "pipelines", 1) as Mutable).triggers = [{ pipeline: "mono" }];
        });
        const order = topologicalOrder(graphOf(config));
        assert.ok(order.indexOf("app") < order.indexOf("installer"));
        assert.ok(order.indexOf("installer") < order.indexOf("mono"));
        assert.equal(order.length, config.pipelines.length);
    });

    it("reports the config model's trigger issues with their paths instead of a graph", () => {
        const config = load();
        // Bypass the loader's checks to see that the graph reuses them.
        config.pipelines[0].triggers.push(
            { pipeline: "nope", dependsOn: ["missing"], async: false, env: {} },
            { pipeline: "app", dependsOn: [], async: false, env: {} },
        );
        config.pipelines[1].triggers.push({ pipeline: "app", dependsOn: [], async: false, env: {} });
        const result = buildTriggerGraph(config);
        assert.ok(!result.ok);
        const paths = result.error.map((i) => formatConfigPath(i.path));
        assert.ok(
            paths.some((p) => p.endsWith("pipelines[0].triggers[2].pipeline")),
            paths.join("\n"),
        );
        assert.ok(
            paths.some((p) => p.endsWith("pipelines[0].triggers[2].dependsOn[0]")),
            paths.join("\n"),
        );
        assert.ok(
            paths.some((p) => p.endsWith("pipelines[0].triggers[3].pipeline")),
            paths.join("\n"),
        );
        assert.ok(result.error.some((i) => /cycle: app -> installer -> app/.test(i.message)));
    });

    it("derives a key for a trigger without one", () => {
        assert.equal(triggerKey({ pipeline: "x" }), "trigger-x");
        assert.equal(triggerKey({ pipeline: "x", key: "k" }), "k");
    });
});
