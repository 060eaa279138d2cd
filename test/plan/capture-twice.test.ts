import assert from "node:assert/strict";
import * as path from "node:path";
import { test } from "node:test";
import { buildPlan } from "../../scripts/plan/run";
import type { PlanDocument } from "../../scripts/plan/model";

/*
 * The test runner runs many test files in one process (scripts/test.ts), so one process builds plans of several
 * stacks, some started together (Promise.all): each must register its own stack's resources, however many ran before
 * it or are under way.
 */
const KMS = path.join(__dirname, "../fixtures/Pulumi.kms.yaml");
const SIGNATURE = "pulumi-nodejs:dynamic/ci-platform-signing:KmsStepSignature";
const stacksOf = (plan: PlanDocument) => new Set(plan.resources.map((r) => r.urn.split("::")[0]));

test("two plans of different stacks in one process, started together, each see their own resources, and a third repeats the first", async () => {
    const [prod, kms] = await Promise.all([buildPlan({ stack: "prod" }), buildPlan({ config: KMS })]);
    const again = await buildPlan({ stack: "prod" });

    assert.deepEqual([...stacksOf(prod)], ["urn:pulumi:prod"]);
    assert.deepEqual([...stacksOf(kms)], ["urn:pulumi:kms"]);
    assert.ok(prod.resources.length > 100, `prod plan: ${prod.resources.length} resources`);
    // The KMS stack signs its stored steps with a dynamic resource each; the prod stack signs with JWKS.
    assert.ok(kms.resources.some((r) => r.type === SIGNATURE));
    assert.ok(!prod.resources.some((r) => r.type === SIGNATURE));
    assert.deepEqual(again, prod);
});
