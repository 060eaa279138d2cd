import assert from "node:assert/strict";
import * as path from "node:path";
import { describe, it } from "node:test";
import { stepsOverview } from "../../scripts/plan/run";
import { readStackFile } from "../../scripts/plan/stack-file";
import type { StackConfig } from "../../scripts/plan/stack-file";
import { ROOT } from "../fixtures/cli";

/* scripts/plan.ts stepsOverview: the steps in brief at once, the diagrams (a second parse of the config) on demand. */

describe("the plan's overview", () => {
    const outputs = { pipelineSteps: { a: "a: 2 steps", b: "b: 1 step" } };

    it("gives the steps in brief from the program's outputs without reading the config again", () => {
        // A plain plan (no --markdown) shows no diagram: the config must not be parsed a second time for it.
        const untouchable = new Proxy(
            {},
            {
                get() {
                    throw new Error("the config was read");
                },
                ownKeys() {
                    throw new Error("the config was read");
                },
            },
        );
        const stack = { config: untouchable, secretKeys: [] } as unknown as StackConfig;
        const overview = stepsOverview(stack, outputs);
        assert.deepEqual(overview.brief, ["a: 2 steps", "b: 1 step"]);
        assert.throws(() => overview.sections(), /the config was read/);
    });

    it("draws the trigger graph and the fleet map when asked", () => {
        const stack = readStackFile(path.join(ROOT, "Pulumi.prod.yaml"));
        const sections = stepsOverview(stack, outputs).sections();
        assert.deepEqual(
            sections.map((s) => s.title),
            ["Trigger graph", "Agent fleets by region"],
        );
        assert.match(sections[0].body, /```mermaid/);
    });
});
