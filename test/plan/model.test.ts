import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as policyResource from "../../policy/resource";
import { isProvider, SECRET, STACK_TYPE, UNKNOWN } from "../../scripts/plan/model";
import { cachedPlan } from "../fixtures/plans";

describe("the plan's record", () => {
    it("uses the policy pack's placeholders, so the pack reads a plan's secrets and unknowns as its own", () => {
        assert.equal(SECRET, policyResource.SECRET);
        assert.equal(UNKNOWN, policyResource.UNKNOWN);
        assert.notEqual(SECRET, UNKNOWN);
    });

    it("isProvider holds for pulumi:providers:<pkg> types only", () => {
        assert.equal(isProvider({ type: "pulumi:providers:aws" }), true);
        assert.equal(isProvider({ type: "pulumi:providers:buildkite" }), true);
        assert.equal(isProvider({ type: STACK_TYPE }), false);
        assert.equal(isProvider({ type: "aws:s3/bucketV2:BucketV2" }), false);
        // A component whose type merely mentions providers is not one.
        assert.equal(isProvider({ type: "ci-platform:providers:Registry" }), false);
    });

    it("the prod plan has exactly one stack resource, the root of every parent chain, and its providers have no provider", async () => {
        const plan = await cachedPlan({ stack: "prod" });
        const stacks = plan.resources.filter((r) => r.type === STACK_TYPE);
        assert.equal(stacks.length, 1);
        assert.equal(stacks[0].parent, null);
        const providers = plan.resources.filter(isProvider);
        assert.ok(providers.length > 0);
        for (const p of providers) assert.equal(p.provider, null, p.urn);
    });
});
