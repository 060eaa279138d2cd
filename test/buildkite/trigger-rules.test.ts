import * as pulumi from "@pulumi/pulumi";
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { PipelineTriggerRules } from "../../components/buildkite";
import { captureStack } from "../../scripts/plan/capture";
import { TEST_STACK } from "../fixtures/plan";
import { PlanResource } from "../../scripts/plan/model";

let resources: PlanResource[] = [];

before(async () => {
    ({ resources } = await captureStack({
        ...TEST_STACK,
        run: () => {
            new PipelineTriggerRules("acme-trigger-rules", {
                // Listed twice: one pair of rules.
                triggers: [
                    { source: "app", target: "mac-app" },
                    { source: "app", target: "mac-app" },
                ],
                pipelineUuids: { app: "uuid-app", "mac-app": "uuid-mac-app" },
            });
        },
    }));
});

describe("PipelineTriggerRules", () => {
    it("declares, per cross-cluster trigger, the trigger rule and the child's artifacts-read rule", () => {
        const rules = resources
            .filter((r) => r.type === "buildkite:Organization/rule:Rule")
            .map((r) => [r.name, r.inputs.type, JSON.parse(String(r.inputs.value)) as unknown]);
        assert.deepEqual(rules.sort(), [
            [
                "acme-trigger-rules-app-to-mac-app",
                "pipeline.trigger_build.pipeline",
                { source_pipeline: "uuid-app", target_pipeline: "uuid-mac-app" },
            ],
            [
                "acme-trigger-rules-mac-app-reads-app",
                "pipeline.artifacts_read.pipeline",
                // The reader is the rule's source (terraform-provider-buildkite docs/resources/organization_rule.md).
                { source_pipeline: "uuid-mac-app", target_pipeline: "uuid-app" },
            ],
        ]);
    });
});

describe("PipelineTriggerRules input errors (issue 15)", () => {
    it("names each pipeline of a trigger without a UUID in one InputPropertiesError, before any rule", async () => {
        // Inside a capture, so the component's own registration is answered before the next file's mocks come in.
        await assert.rejects(
            captureStack({
                ...TEST_STACK,
                run: () => {
                    new PipelineTriggerRules("acme-missing-uuids", {
                        triggers: [
                            { source: "app", target: "mac-app" },
                            { source: "lib", target: "mac-app" },
                        ],
                        pipelineUuids: { app: "uuid-app" },
                    });
                },
            }),
            (e: unknown) => {
                assert.ok(pulumi.InputPropertiesError.isInstance(e), String(e));
                assert.deepEqual(
                    e.errors.map((x) => x.propertyPath),
                    ["pipelineUuids.mac-app", "pipelineUuids.lib"],
                );
                assert.match(e.errors[0].reason, /pass its UUID/);
                return true;
            },
        );
    });
});
