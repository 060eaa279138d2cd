import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import {
    FROM_STACK_TOP_LEVEL,
    renamedAliases,
    renamedChildAliases,
    renamedComponentAliases,
} from "../../components/buildkite/renames";

/*
 * components/buildkite/renames.ts: the Pulumi aliases a `renamedFrom` turns into. What the engine does with them in
 * a plan is test/plan/aliases.test.ts's; here, which aliases each function writes.
 */

/** The value of an Output, or the plain value. */
const valueOf = <T>(input: pulumi.Input<T> | undefined): Promise<T | undefined> =>
    new Promise((resolve) => pulumi.output(input).apply((v) => resolve(v as T | undefined)));

describe("renamedFrom aliases", () => {
    it("aliases a component to each of its earlier names, of the same type (no type or parent given)", () => {
        assert.deepEqual(renamedComponentAliases(["first", "second"]), [{ name: "first" }, { name: "second" }]);
        assert.deepEqual(renamedComponentAliases([]), []);
    });

    it("aliases a resource named after an entry to the name each earlier entry name gives", () => {
        assert.deepEqual(
            renamedAliases(["Old Team", "older"], (n) => `org-team-${n.toLowerCase().replace(/ /g, "-")}`),
            [{ name: "org-team-old-team" }, { name: "org-team-older" }],
        );
        assert.deepEqual(
            renamedAliases([], () => assert.fail("no name to derive")),
            [],
        );
    });

    it("aliases a child to its old name under its component's old URN, for each old component name", async () => {
        // @pulumi/pulumi 3.276.0 resource.d.ts Alias: `parent` may be a URN; createUrn builds the stack-level one.
        const aliases = renamedChildAliases(
            { type: "ci-platform:buildkite:Pipeline", previous: ["mac-application", "mac"] },
            (old) => `${old}-pipeline`,
        );
        assert.deepEqual(
            aliases.map((a) => a.name),
            ["mac-application-pipeline", "mac-pipeline"],
        );
        const parents = await Promise.all(aliases.map((a) => valueOf(a.parent as pulumi.Input<string>)));
        assert.equal(parents.length, 2);
        assert.match(String(parents[0]), /^urn:pulumi:[^:]+::[^:]+::ci-platform:buildkite:Pipeline::mac-application$/);
        assert.match(String(parents[1]), /::ci-platform:buildkite:Pipeline::mac$/);
        assert.deepEqual(
            renamedChildAliases({ type: "t:m:T", previous: [] }, (old) => old),
            [],
        );
    });

    it("spells a move from the stack's top level as an alias whose parent is the root stack resource", () => {
        // @pulumi/pulumi 3.276.0 resource.d.ts Alias: `parent: rootStackResource` means "no parent".
        assert.deepEqual(Object.keys(FROM_STACK_TOP_LEVEL), ["parent"]);
        assert.equal(FROM_STACK_TOP_LEVEL.parent, pulumi.rootStackResource);
    });
});
