import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EVACUATION_JQ, evacuatedFleetName, evacuation, evacuationFilterCommand } from "../../scripts/dr/evacuation";
import type { PlanResource } from "../../scripts/plan/model";
import { cachedPlan } from "../fixtures/plans";

const FLEET = "ci-platform:agents:Fleet";

async function prod(): Promise<PlanResource[]> {
    return [...(await cachedPlan({ stack: "prod" })).resources];
}

describe("evacuation of a lost region, from the prod plan", () => {
    it("loses exactly the resources of the region's providers, and every fleet of the region", async () => {
        const resources = await prod();
        const e = evacuation(resources, "eu-west-1");
        assert.equal(e.region, "eu-west-1");
        const byUrn = new Map(resources.map((r) => [r.urn, r]));
        const aws = e.providers.filter((p) => byUrn.get(p)?.type === "pulumi:providers:aws");
        assert.deepEqual(
            aws.map((p) => byUrn.get(p)?.inputs.region),
            ["eu-west-1"],
        );
        const providers = new Set(e.providers);
        const expectedLost = resources
            .filter((r) => r.provider !== null && providers.has(r.provider))
            .map((r) => r.urn);
        assert.deepEqual(e.lost, [...expectedLost].sort());
        // Every fleet whose stack is in the region is among the fleets, and no other.
        const fleetsInRegion = resources
            .filter((r) => r.type === FLEET)
            .filter((f) => resources.some((r) => r.parent === f.urn && e.lost.includes(r.urn)))
            .map((f) => f.name);
        assert.ok(e.fleets.length > 0);
        assert.deepEqual(e.fleets, [...fleetsInRegion].sort());
        assert.ok(!e.fleets.some((f) => f.includes("us-east-1")), e.fleets.join(", "));
    });

    it("names the healthy resources that refer to lost ones, and the lost ones still protected", async () => {
        const resources = await prod();
        const e = evacuation(resources, "eu-west-1");
        const gone = new Set([...e.lost, ...e.providers]);
        const byUrn = new Map(resources.map((r) => [r.urn, r]));
        for (const urn of e.referrers) {
            assert.ok(!gone.has(urn), urn);
            assert.ok(
                byUrn.get(urn)?.dependsOn.some((d) => gone.has(d)),
                urn,
            );
        }
        const expectedReferrers = resources
            .filter((r) => !gone.has(r.urn) && r.dependsOn.some((d) => gone.has(d)))
            .map((r) => r.urn);
        assert.deepEqual(e.referrers, [...expectedReferrers].sort());
        assert.deepEqual(e.unprotect, [...gone].filter((u) => byUrn.get(u)?.protect === true).sort());
    });

    it("has nothing to lose in a region the plan does not use", async () => {
        const e = evacuation(await prod(), "sa-east-1");
        assert.deepEqual([e.providers, e.lost, e.referrers, e.unprotect, e.fleets], [[], [], [], [], []]);
    });

    it("refuses when a healthy resource is a child of a lost one, naming the region and the child", async () => {
        const resources = await prod();
        const e = evacuation(resources, "eu-west-1");
        const lostUrn = e.lost[0];
        const healthy = resources.find((r) => r.type === "pulumi:providers:aws" && r.inputs.region === "us-east-1");
        assert.ok(healthy);
        const child: PlanResource = { ...healthy, urn: `${healthy.urn}-child`, name: "child", parent: lostUrn };
        assert.throws(
            () => evacuation([...resources, child], "eu-west-1"),
            (err: Error) => err.message.includes("outside eu-west-1") && err.message.includes(child.urn),
        );
    });
});

describe("evacuatedFleetName", () => {
    it("replaces the region in a fleet's name, or appends the new region", () => {
        assert.equal(evacuatedFleetName("linux-eu-west-1", "eu-west-1", "eu-central-1"), "linux-eu-central-1");
        assert.equal(evacuatedFleetName("deploy", "eu-west-1", "eu-central-1"), "deploy-eu-central-1");
        assert.notEqual(evacuatedFleetName("linux-eu-west-1", "eu-west-1", "eu-central-1"), "linux-eu-west-1");
    });
});

describe("evacuationFilterCommand", () => {
    it("passes the providers, the filter and both paths to jq as single-quoted words", () => {
        // The filter is single-quoted whole, which the shell reads literally only if it holds no single quote.
        assert.ok(!EVACUATION_JQ.includes("'"));
        const command = evacuationFilterCommand(["urn:a", "urn:b"], "state before.json", "after.json");
        assert.equal(
            command,
            `jq --argjson providers '["urn:a","urn:b"]' '${EVACUATION_JQ}' 'state before.json' > 'after.json'`,
        );
    });

    it("quotes a path holding a single quote so that the shell cannot read it as code", () => {
        const command = evacuationFilterCommand([], "it's.json", "out.json");
        assert.ok(command.includes(`"it's.json"`), command);
    });
});
