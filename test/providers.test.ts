import * as pulumi from "@pulumi/pulumi";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { queueAliases } from "../components/agents";
import { splitRepository } from "../components/buildkite";
import { FROM_STACK_TOP_LEVEL } from "../components/buildkite/renames";
import { providerPlan } from "../components/providers";
import { prodConfig } from "./fixtures/config";

describe("providerPlan: the providers the config needs", () => {
    const config = prodConfig();

    it("plans one GitHub provider per repository owner, one AWS and one docker provider per region", () => {
        const plan = providerPlan(config);
        assert.equal(plan.organization, config.organization);
        const owners = new Set([
            config.github.owner,
            ...config.pipelines.map((p) => splitRepository(p.repository).owner),
        ]);
        assert.ok(owners.size >= 2, "prod builds repositories of two owners");
        assert.deepEqual([...plan.githubOwners], [...owners].sort());
        const fleetRegions = config.fleets.flatMap((f) => (f.kind === "aws" ? [f.region] : []));
        assert.deepEqual([...plan.awsRegions], [...new Set([config.homeRegion, ...fleetRegions])].sort());
        assert.deepEqual(plan.imageRegions, plan.awsRegions);
        assert.deepEqual(plan.tags, config.tags);
    });

    it("adds the home region's provider though no fleet runs there (the account id is asked through it)", () => {
        const plan = providerPlan({ ...config, homeRegion: "eu-north-1" });
        assert.ok(plan.awsRegions.includes("eu-north-1"));
        assert.equal(plan.homeRegion, "eu-north-1");
    });
});

describe("the aliases of resources moved under a component", () => {
    it("spells 'no parent' the SDK's way: parent set, to the root stack resource", () => {
        assert.ok(Object.prototype.hasOwnProperty.call(FROM_STACK_TOP_LEVEL, "parent"));
        assert.equal(FROM_STACK_TOP_LEVEL.parent, pulumi.rootStackResource);
    });

    it("gives a queue under a parent its top-level URN under each of its names, and only renames without one", () => {
        const top = (a: pulumi.Alias) => Object.prototype.hasOwnProperty.call(a, "parent");
        const parented = queueAliases(["queue-old/q"], true);
        assert.deepEqual(
            parented.map((a) => [a.name ?? "(own name)", top(a) ? "top level" : "under its parent"]),
            [
                ["queue-old/q", "under its parent"],
                ["queue-old/q", "top level"],
                ["(own name)", "top level"],
            ],
        );
        assert.deepEqual(queueAliases(["queue-old/q"], false), [{ name: "queue-old/q" }]);
        assert.deepEqual(queueAliases([], false), []);
    });
});
