import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isUrnGlob, urnGlobMatches } from "../../scripts/dr/urn-glob";

/*
 * The matcher restates pulumi/pulumi v3.259.0 pkg/resource/deploy/deployment.go getMatcher: `**` any characters,
 * `*` any but `:`, the rest literal, the whole URN. The first cases are those of that file's TestGlobUrn.
 */
const FLEET = "urn:pulumi:prod::ci-platform::ci-platform:agents:Fleet$aws:iam/role:Role::linux-us-east-1-role";

describe("URN patterns as pulumi --target reads them", () => {
    it("matches what Pulumi's own glob tests expect, and not what they exclude", () => {
        const cases: [string, string[], string[]][] = [
            [
                "**",
                ["urn:pulumi:stack::test::typ$aws:resource::aname", "urn:pulumi:stack::test::typ$azure:resource::bar"],
                [],
            ],
            [
                "urn:pulumi:stack::test::typ*:resource::bar",
                ["urn:pulumi:stack::test::typ$aws:resource::bar", "urn:pulumi:stack::test::typ$azure:resource::bar"],
                ["urn:pulumi:stack::test::ty:resource::bar", "urn:pulumi:stack::test::type:resource::foobar"],
            ],
            [
                "**:aname",
                ["urn:pulumi:stack::test::typ$aws:resource::aname"],
                ["urn:pulumi:stack::test::typ$aws:resource::somename"],
            ],
            [
                "*:*:stack::test::typ$aws:resource::*",
                ["urn:pulumi:stack::test::typ$aws:resource::aname", "urn:pulumi:stack::test::typ$aws:resource::bar"],
                ["urn:pulumi:stack::test::typ$azure:resource::aname"],
            ],
            [
                "stack::test::typ$aws:resource::none",
                ["stack::test::typ$aws:resource::none"],
                ["stack::test::typ$aws:resource::nonee"],
            ],
        ];
        for (const [pattern, yes, no] of cases) {
            for (const urn of yes) assert.ok(urnGlobMatches(pattern, urn), `${pattern} selects ${urn}`);
            for (const urn of no) assert.ok(!urnGlobMatches(pattern, urn), `${pattern} does not select ${urn}`);
        }
    });

    it("`*` stops at a colon, `**` does not; the whole URN must match", () => {
        assert.ok(urnGlobMatches("urn:pulumi:prod::ci-platform::**::linux-us-east-1*", FLEET));
        assert.ok(
            !urnGlobMatches("urn:pulumi:prod::ci-platform::*::linux-us-east-1*", FLEET),
            "* cannot span the type",
        );
        assert.ok(urnGlobMatches("urn:pulumi:prod::ci-platform::ci-platform:agents:Fleet$aws:iam**::*east-1*", FLEET));
        assert.ok(!urnGlobMatches("urn:pulumi:prod::ci-platform::**::linux-us-east", FLEET), "anchored at the end");
        assert.ok(!urnGlobMatches("ci-platform::**::linux-us-east-1-role", FLEET), "anchored at the start");
        assert.ok(urnGlobMatches("urn:pulumi:prod::ci-platform::**::*-role", FLEET));
    });

    it("reads `$`, `.`, `/` and other regular-expression characters literally", () => {
        const urn = "urn:pulumi:prod::ci-platform::buildkite:Cluster/clusterQueue:ClusterQueue::queue-default/a.b";
        assert.ok(urnGlobMatches("urn:pulumi:prod::ci-platform::**::queue-default/a.b", urn));
        assert.ok(!urnGlobMatches("urn:pulumi:prod::ci-platform::**::queue-default/a.b", urn.replace("a.b", "aXb")));
        assert.ok(
            !urnGlobMatches("urn:pulumi:prod::ci-platform::ci-platform:agents:Fleet.aws**", FLEET),
            "$ is literal",
        );
        assert.ok(urnGlobMatches("urn:pulumi:prod::ci-platform::ci-platform:agents:Fleet$aws**", FLEET));
    });

    it("a value without `*` is a literal URN", () => {
        assert.equal(isUrnGlob(FLEET), false);
        assert.ok(urnGlobMatches(FLEET, FLEET));
        assert.ok(!urnGlobMatches(FLEET.slice(0, -1), FLEET));
        assert.equal(isUrnGlob("urn:pulumi:prod::ci-platform::**::x"), true);
    });
});
