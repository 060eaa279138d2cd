import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { violationLines } from "../../scripts/plan/run";
import type { Violation } from "../../policy/offline";

/*
 * The run of `npm run plan` (scripts/plan/run.ts): the whole run is tested through the command line (test/plan.test.ts,
 * test/cli.test.ts); here, what the PR comment's verdict lists.
 */

describe("the plan run (scripts/plan/run.ts)", () => {
    it("lists the mandatory violations before the advisory ones, each with its policy and URN", () => {
        const violation = (policy: string, enforcementLevel: Violation["enforcementLevel"]): Violation => ({
            policy,
            enforcementLevel,
            severity: "high",
            urn: `urn:pulumi:prod::ci-platform::x::${policy}`,
            message: `${policy} is violated`,
        });
        assert.deepEqual(violationLines([violation("a", "advisory"), violation("b", "mandatory")]), [
            "- **mandatory** b: b is violated (`urn:pulumi:prod::ci-platform::x::b`)",
            "- **advisory** a: a is violated (`urn:pulumi:prod::ci-platform::x::a`)",
        ]);
    });
});
