import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { fleetScope, planFleets, regionScope, targetPatterns } from "../../scripts/dr/scope";
import { urnGlobMatches } from "../../scripts/dr/urn-glob";
import type { PlanDocument, PlanResource } from "../../scripts/plan/model";
import { planOfEditedProd, withoutRegion } from "../fixtures/cli";
import { planAsCliWrites } from "../fixtures/plans";

/*
 * `npm run dr` derives every set of resources from the offline plan (scripts/dr/scope.ts). Checked against the plan
 * of the prod stack and of the prod stack without one region's fleets: the region's scope is exactly what removing
 * them removes. Then every --target/--replace pattern set selects exactly its scope among the plan's URNs.
 */
const dir = mkdtempSync(path.join(tmpdir(), "dr-scope-"));
const LOST = "eu-west-1";
/** The stack of the prod stack file without the region's fleets. */
const WITHOUT = `without-${LOST}`;

let prod: PlanDocument;
let without: PlanDocument;

before(async () => {
    [prod, without] = await Promise.all([
        // The prod stack's own plan, shared with the other files of the process.
        planAsCliWrites(),
        // Without the region's fleets, the pipelines on their queues run on the home region's queue (dagster's
        // cluster has fleets in eu-west-1 only: it moves to the default cluster). Shared with the drill and adoption.
        planOfEditedProd(dir, WITHOUT, (c) => withoutRegion(c, LOST)),
    ]);
});

const urns = (rs: readonly { urn: string }[]) => rs.map((r) => r.urn).sort();

describe("recovery scopes come from the plan", () => {
    it("a region's scope is exactly what removing its fleets removes", () => {
        const scope = regionScope(prod.resources, LOST);
        assert.ok(scope);
        // The edited stack file is stack WITHOUT: its URNs, in stack prod's terms.
        const kept = new Set(
            without.resources.map((r) => r.urn.replace(`urn:pulumi:${WITHOUT}::`, "urn:pulumi:prod::")),
        );
        const removed = prod.resources.filter((r) => !kept.has(r.urn) && r.type !== "pulumi:pulumi:Stack");
        assert.deepEqual(urns(scope.resources), urns(removed));
        assert.deepEqual(scope.fleets, ["dagster-eu-west-1", "linux-eu-west-1"]);
        // The home region's IAM deploy roles go through its provider, but are no region's (IAM is global).
        const home = regionScope(prod.resources, "us-east-1");
        assert.ok(home && !home.resources.some((r) => r.name.startsWith("deploy-roles-")));
        assert.ok(home.resources.some((r) => r.type === "pulumi:providers:aws"));
    });

    it("a fleet's scope is its component and everything under it; actions follow protect and the parent", () => {
        const byUrn = new Map(prod.resources.map((r) => [r.urn, r]));
        const under = (r: PlanResource, fleet: string): boolean =>
            r.urn.endsWith(`::${fleet}`) ||
            (r.parent !== null && under(byUrn.get(r.parent) ?? ({ urn: "", parent: null } as PlanResource), fleet));
        for (const { name } of planFleets(prod.resources)) {
            const scope = fleetScope(prod.resources, name);
            assert.ok(scope, name);
            assert.deepEqual(urns(scope.resources), urns(prod.resources.filter((r) => under(r, name))), name);
            for (const r of scope.resources) {
                const declared = byUrn.get(r.urn);
                assert.equal(r.action === "retain", declared?.protect, r.urn);
                if (r.action === "replace") assert.notEqual(r.type, "aws:s3/bucketObjectv2:BucketObjectv2", r.urn);
            }
            assert.ok(
                scope.resources.some((r) => r.action === "replace" && r.type.includes("AgentToken")),
                name,
            );
        }
        assert.equal(fleetScope(prod.resources, "linux-us-east-2"), undefined);
        assert.equal(regionScope(prod.resources, "eu-west-2"), undefined);
    });

    it("each pattern set selects exactly its scope among the plan's URNs, with few patterns", () => {
        const universe = prod.resources.map((r) => r.urn);
        const scopes = [
            ...planFleets(prod.resources).map((f) => fleetScope(prod.resources, f.name)),
            ...["us-east-1", "eu-west-1", "ap-southeast-1"].map((r) => regionScope(prod.resources, r)),
        ];
        for (const scope of scopes) {
            assert.ok(scope);
            const hints = [...scope.fleets, scope.region].filter((h) => h !== "");
            for (const wanted of [
                scope.resources.map((r) => r.urn),
                scope.resources.filter((r) => r.action === "replace").map((r) => r.urn),
            ]) {
                const patterns = targetPatterns(wanted, universe, hints);
                const selected = universe.filter((u) => patterns.some((p) => urnGlobMatches(p, u)));
                assert.deepEqual(selected.sort(), [...wanted].sort(), patterns.join(" "));
                assert.ok(patterns.length <= 6, `${hints.join(",")}: ${patterns.length} patterns`);
            }
        }
    });

    it("never selects a fleet whose name extends another's", () => {
        const urn = (chain: string, name: string) => `urn:pulumi:s::p::${chain}::${name}`;
        const fleet = (name: string) => [
            urn("ci-platform:agents:Fleet", name),
            urn("ci-platform:agents:Fleet$aws:iam/role:Role", `${name}-role`),
            urn("ci-platform:agents:Fleet$aws:cloudformation/stack:Stack", `${name}-stack`),
        ];
        const universe = [...fleet("linux"), ...fleet("linux-arm")];
        const patterns = targetPatterns(fleet("linux"), universe, ["linux"]);
        const selected = universe.filter((u) => patterns.some((p) => urnGlobMatches(p, u)));
        assert.deepEqual(selected.sort(), fleet("linux").sort());
    });
});
