import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigIssue, PlatformConfig, formatConfigPath } from "../../components/config";
import { crossClusterTriggerIssues, triggerIssues } from "../../components/graph/config-checks";
import { buildTriggerGraph } from "../../components/graph/trigger-graph";
import { mustParse, validRawConfig } from "../fixtures/config";

type Trigger = PlatformConfig["pipelines"][number]["triggers"][number];
const trigger = (pipeline: string, more: Partial<Trigger> = {}): Trigger => ({
    pipeline,
    dependsOn: [],
    async: false,
    env: {},
    ...more,
});
/** Each issue as `path: message`, the path without its namespace. */
const at = (issues: readonly ConfigIssue[]) =>
    issues.map((i) => `${formatConfigPath(i.path).replace(/^ci-platform:/, "")}: ${i.message}`);

describe("triggerIssues", () => {
    it("finds nothing in a valid config, and only trigger problems in one with others", () => {
        const config = mustParse(validRawConfig());
        assert.deepEqual(triggerIssues(config), []);
        const fleet = config.fleets[0];
        if (fleet.kind === "aws") fleet.minSize = fleet.maxSize + 1;
        config.pipelines[0].cluster = "nowhere";
        assert.deepEqual(triggerIssues(config), []);
    });

    it("reports duplicate keys, self-triggers, unknown targets and unknown or self dependsOn, in config order", () => {
        const config = mustParse(validRawConfig());
        config.pipelines[0].triggers = [
            trigger("installer", { key: "k" }),
            trigger("image", { key: "k" }),
            trigger("app"),
            trigger("instaler", { dependsOn: ["missing"] }),
            trigger("mono", { key: "self", dependsOn: ["self"] }),
        ];
        assert.deepEqual(at(triggerIssues(config)), [
            'pipelines[0].triggers[1].key: duplicate trigger key "k" (first declared at index 0)',
            'pipelines[0].triggers[2].pipeline: pipeline "app" triggers itself',
            'pipelines[0].triggers[3].pipeline: unknown pipeline "instaler"; did you mean "installer"?',
            'pipelines[0].triggers[3].dependsOn[0]: no trigger of "app" has the key "missing"; keys: k, k, self',
            'pipelines[0].triggers[4].dependsOn[0]: trigger "self" depends on itself',
            "pipelines[0].triggers: trigger dependencies form a cycle: self -> self",
        ]);
        assert.equal(triggerIssues(config)[2].unknownName, "instaler");
    });

    it("reports a cycle of dependsOn within a pipeline and a cycle of triggers across pipelines", () => {
        const config = mustParse(validRawConfig());
        config.pipelines[0].triggers = [
            trigger("installer", { key: "a", dependsOn: ["b"] }),
            trigger("image", { key: "b", dependsOn: ["a"] }),
        ];
        config.pipelines[1].triggers = [trigger("app")];
        assert.deepEqual(at(triggerIssues(config)), [
            "pipelines[0].triggers: trigger dependencies form a cycle: a -> b -> a",
            "pipelines[0].triggers: pipelines trigger each other in a cycle: app -> installer -> app",
        ]);
    });
});

describe("crossClusterTriggerIssues", () => {
    it("refuses a trigger between two declared clusters unless the organization has rules", () => {
        const config = mustParse(validRawConfig());
        assert.deepEqual(crossClusterTriggerIssues(config), []);
        config.pipelines[0].triggers.push(trigger("mac-app"));
        const issues = crossClusterTriggerIssues(config);
        assert.deepEqual(
            issues.map((i) => formatConfigPath(i.path)),
            ["ci-platform:pipelines[0].triggers[2].pipeline"],
        );
        assert.match(issues[0].message, /pipeline "app" \(cluster "default"\) triggers "mac-app" \(cluster "macos"\)/);
        assert.match(issues[0].fix ?? "", /set ci-platform:organizationRules: true/);
        assert.deepEqual(crossClusterTriggerIssues({ ...config, organizationRules: true }), []);
    });

    it("leaves a trigger into an undeclared cluster to the reference check", () => {
        const config = mustParse(validRawConfig());
        config.pipelines[0].triggers.push(trigger("mac-app"));
        config.pipelines[3].cluster = "undeclared";
        assert.deepEqual(crossClusterTriggerIssues(config), []);
    });

    it("is among the issues the trigger graph reports instead of a graph", () => {
        const config = mustParse(validRawConfig());
        config.pipelines[0].triggers.push(trigger("mac-app"));
        const result = buildTriggerGraph(config);
        assert.ok(!result.ok);
        assert.deepEqual(result.error, crossClusterTriggerIssues(config));
    });
});
