import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { replayKind, replayOrder, replayResources } from "../../scripts/bench/replay";
import { captureStack } from "../../scripts/plan/capture";
import type { PlanResource } from "../../scripts/plan/model";
import { cachedPlan } from "../fixtures/plans";
import { planResource } from "../fixtures/plan";

/* scripts/bench/replay.ts: the SDK floor of a plan registers exactly the plan's resources, and nothing else. */

const urn = (type: string, name: string) => `urn:pulumi:test::ci-platform::${type}::${name}`;

describe("the SDK floor's replay of a plan", () => {
    it("tells components, providers and custom resources apart from the plan record", () => {
        assert.equal(replayKind({ type: "pulumi:providers:aws", provider: null }), "provider");
        assert.equal(replayKind({ type: "ci-platform:agents:Fleet", provider: null }), "component");
        assert.equal(
            replayKind({ type: "aws:s3/bucket:Bucket", provider: urn("pulumi:providers:aws", "p") }),
            "custom",
        );
    });

    it("orders each resource after its parent and provider, drops the Stack, and refuses a dangling or cyclic plan", () => {
        const stack = planResource("s", "pulumi:pulumi:Stack", {});
        const provider = planResource("p", "pulumi:providers:aws", {});
        const component = planResource("c", "c:m:C", {}, { parent: stack.urn });
        const child = planResource("b", "aws:s3/bucket:Bucket", {}, { provider: provider.urn, parent: component.urn });
        const order = replayOrder([child, stack, component, provider]).map((r) => r.urn);
        assert.deepEqual(order, [component.urn, provider.urn, child.urn]);
        assert.throws(() => replayOrder([child]), /names .*c:m:C::c, which the plan does not hold/);
        const a = planResource("a", "c:m:C", {}, { parent: urn("c:m:C", "b") });
        const b = planResource("b", "c:m:C", {}, { parent: a.urn });
        assert.throws(() => replayOrder([a, b]), /is its own ancestor/);
    });

    it("registers the prod plan's resources again, each with its type, parent, provider, dependencies and inputs", async () => {
        const plan = await cachedPlan({ stack: "prod" });
        const replayed = await captureStack({
            project: plan.project,
            stack: plan.stack,
            config: {},
            secretKeys: [],
            run: async () => {
                replayResources(plan.resources);
            },
        });
        const shape = (resources: readonly PlanResource[]) =>
            resources.map(({ urn, type, parent, provider, dependsOn, inputs }) => ({
                urn,
                type,
                parent,
                provider,
                dependsOn,
                inputs,
            }));
        const first = new Map(shape(plan.resources).map((r) => [r.urn, r]));
        const again = shape(replayed.resources);
        assert.equal(again.length, plan.resources.length);
        for (const r of again) assert.deepEqual(r, first.get(r.urn), r.urn);
    });
});
