import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { everyResourceHasParentComponent, typeOfUrn } from "../../../policy/invariants/parents";
import type { PlanResource } from "../../../policy/resource";
import { RULES } from "../../../policy/rules";
import { type Editable, prodResources } from "./plan-resources";

const check = (resources: readonly PlanResource[]) =>
    everyResourceHasParentComponent.check(resources, { requiredTags: [] });
const STACK = "urn:pulumi:prod::ci-platform::pulumi:pulumi:Stack::ci-platform-prod";
let prod: Editable[];

before(async () => {
    prod = await prodResources();
});

describe("typeOfUrn", () => {
    it("reads the last type of a URN's qualified chain", () => {
        assert.equal(
            typeOfUrn(
                "urn:pulumi:prod::ci-platform::ci-platform:providers:Providers$pulumi:providers:aws::ci-platform-aws-eu-west-1",
            ),
            "pulumi:providers:aws",
        );
        assert.equal(typeOfUrn(STACK), "pulumi:pulumi:Stack");
    });
});

describe("invariant every-resource-has-parent-component", () => {
    it("is mandatory and in the pack", () => {
        assert.equal(everyResourceHasParentComponent.enforcementLevel, "mandatory");
        assert.ok(RULES.includes(everyResourceHasParentComponent));
    });

    it("passes the prod plan: providers and cluster queues are under components", () => {
        assert.ok(prod.some((r) => r.type === "pulumi:providers:aws"));
        assert.deepEqual(check(prod), []);
    });

    it("flags a provider and a queue at the stack's top level, and a resource whose parent is not a component", () => {
        const moved = structuredClone(prod);
        const provider = moved.find((r) => r.type === "pulumi:providers:github")!;
        const queue = moved.find((r) => r.type === "buildkite:Cluster/clusterQueue:ClusterQueue")!;
        const token = moved.find((r) => r.type === "buildkite:Cluster/clusterAgentToken:ClusterAgentToken")!;
        Object.assign(provider, { parent: STACK });
        Object.assign(queue, { parent: null });
        Object.assign(token, { parent: queue.urn });
        const findings = check(moved);
        assert.deepEqual(findings.map((f) => f.urn).sort(), [provider.urn, queue.urn, token.urn].sort());
        assert.match(findings.find((f) => f.urn === provider.urn)!.message, /has the stack as parent, not a component/);
        assert.match(findings.find((f) => f.urn === queue.urn)!.message, /has no parent/);
        assert.match(
            findings.find((f) => f.urn === token.urn)!.message,
            /a buildkite:Cluster\/clusterQueue:ClusterQueue as parent/,
        );
    });

    it("leaves the engine's default providers to explicit-providers, and components at the top level alone", () => {
        const resources: PlanResource[] = [
            { urn: STACK, type: "pulumi:pulumi:Stack", name: "ci-platform-prod", inputs: {}, parent: null },
            {
                urn: "urn:pulumi:prod::ci-platform::pulumi:providers:aws::default_7_48_0",
                type: "pulumi:providers:aws",
                name: "default_7_48_0",
                inputs: {},
                parent: STACK,
            },
            {
                urn: "urn:pulumi:prod::ci-platform::ci-platform:providers:Providers::providers",
                type: "ci-platform:providers:Providers",
                name: "providers",
                inputs: {},
                parent: STACK,
            },
        ];
        assert.deepEqual(check(resources), []);
    });
});
