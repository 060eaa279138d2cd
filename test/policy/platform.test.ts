import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fleetsOfPipeline, pipelineSteps, readPlatform } from "../../policy/platform";
import { compliantStack } from "./compliant-stack";

describe("readPlatform", () => {
    it("links a pipeline to its cluster, its jobs to queues, and queues to the fleets and regions serving them", () => {
        const platform = readPlatform(compliantStack());
        const [pipeline] = platform.pipelines;
        assert.equal(pipeline.cluster, "default");
        assert.deepEqual(
            pipeline.steps.map((s) => [s.kind, s.id, s.queue ?? s.trigger]),
            [
                ["command", "tests", "default"],
                ["trigger", "deb-build", "kolibri-installer-debian"],
            ],
        );
        const fleets = fleetsOfPipeline(platform, pipeline);
        assert.deepEqual(
            fleets.map((f) => [f.name, f.kind, f.cluster, f.queue, f.region]),
            [["linux-us-east-1", "aws", "default", "default", "us-east-1"]],
        );
        assert.deepEqual(
            platform.images.map((i) => [i.region, i.reference]),
            [["us-east-1", "ci-platform/buildkite-test:py3.11-1.4.0"]],
        );
        assert.deepEqual([...(platform.queues.get("default") ?? [])], ["default"]);
    });

    it("reads the documents stored steps upload, and a static fleet's queue from its token", () => {
        const uploaded = ["steps:", "  - key: inner", "    command: make", "    agents: { queue: large }"].join("\n");
        const steps = pipelineSteps(
            [
                "steps:",
                "  - key: upload",
                "    command: upload",
                "    agents: { queue: default }",
                "    env:",
                `      CI_PLATFORM_PIPELINE_YAML: ${JSON.stringify(uploaded)}`,
            ].join("\n"),
        );
        assert.deepEqual(
            steps.map((s) => [s.id, s.queue, s.uploaded]),
            [
                ["upload", "default", false],
                ["inner", "large", true],
            ],
        );
        const stack = compliantStack().filter((r) => r.type !== "aws:cloudformation/stack:Stack");
        const [fleet] = readPlatform(stack).fleets;
        assert.deepEqual([fleet.kind, fleet.queue, fleet.region], ["static", "default", undefined]);
    });
});
