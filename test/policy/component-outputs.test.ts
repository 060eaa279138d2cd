import assert from "node:assert/strict";
import * as path from "node:path";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { buildPlan } from "../../scripts/plan/run";

/*
 * What a component records for the policy pack must reach the policy in a real preview too. The offline plan gives
 * a component's registration inputs; a real stack policy sees a component's registered outputs instead
 * (@pulumi/policy policy.d.ts PolicyResource.props: "the outputs of the resource"; pulumi/pulumi
 * step_executor.go ExecuteRegisterResourceOutputs sets them to what registerOutputs gave). So every recorded input
 * is also a registered output, with the same value. The KMS test stack has each kind: fleets' signing, secrets
 * buckets' cluster, pipelines' stepsBeforeSigning.
 */

/** Resolves an Output-bearing value (an Output's apply runs: the plan's mocks are not a preview). */
const resolved = (value: unknown): Promise<unknown> =>
    new Promise((resolve) => {
        const output: pulumi.Output<unknown> = pulumi.output(value as pulumi.Input<Record<string, unknown>>);
        output.apply((v: unknown) => resolve(v));
    });

/** registerOutputs is protected: the test wraps it on the prototype, as the SDK calls it. */
interface Registering {
    registerOutputs(outputs?: unknown): void;
}

describe("components' recorded inputs are among their registered outputs", () => {
    it("holds for every component of the KMS test stack's plan", async () => {
        const registered: [pulumi.ComponentResource, unknown][] = [];
        const prototype = pulumi.ComponentResource.prototype as unknown as Registering;
        const original = prototype.registerOutputs;
        prototype.registerOutputs = function (this: pulumi.ComponentResource, outputs?: unknown) {
            // The SDK's own call after construction passes nothing and is ignored once outputs are registered.
            if (outputs !== undefined) registered.push([this, outputs]);
            original.call(this, outputs);
        };
        let plan;
        try {
            plan = await buildPlan({ config: path.join(__dirname, "../fixtures/Pulumi.kms.yaml") });
        } finally {
            prototype.registerOutputs = original;
        }
        const outputsByUrn = new Map<string, Record<string, unknown>>();
        for (const [component, outputs] of registered)
            outputsByUrn.set(
                (await resolved(component.urn)) as string,
                // Serialised as the SDK sends them to the engine (runtime/resource.ts registerResourceOutputs).
                ((await pulumi.runtime.serializeProperties("outputs", { outputs })).outputs ?? {}) as Record<
                    string,
                    unknown
                >,
            );
        const recorded = plan.resources.filter(
            (r) => r.type.startsWith("ci-platform:") && Object.keys(r.inputs).length > 0,
        );
        const kinds = new Set(recorded.flatMap((r) => Object.keys(r.inputs).map((k) => `${r.type} ${k}`)));
        for (const kind of [
            "ci-platform:agents:Fleet signing",
            "ci-platform:agents:SecretsBucket cluster",
            "ci-platform:buildkite:Pipeline stepsBeforeSigning",
        ])
            assert.ok(kinds.has(kind), `the stack records ${kind}`);
        for (const resource of recorded) {
            const outputs = outputsByUrn.get(resource.urn);
            assert.ok(outputs, `${resource.urn} registers outputs`);
            for (const [key, value] of Object.entries(resource.inputs))
                assert.deepEqual(outputs[key], value, `${resource.urn}: recorded ${key} is an output too`);
        }
    });
});
