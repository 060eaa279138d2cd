import * as pulumi from "@pulumi/pulumi";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { adoption } from "../../components/config/adopt-transform";

/* The stack transformation behind `ci-platform:adopt`. It runs inside the Resource constructor, before the
 * CustomResource constructor sets the flag isInstance reads (@pulumi/pulumi 3.276.0 resource.js), so it tells kinds
 * apart with instanceof: stand-ins made from the prototypes pass that test without registering anything. The joined
 * ignoreChanges of a custom resource: test/plan/adopt.test.ts. */

const stand = <T>(proto: object) => Object.create(proto) as T;
const custom = stand<pulumi.CustomResource>(pulumi.CustomResource.prototype);
const provider = stand<pulumi.ProviderResource>(pulumi.ProviderResource.prototype);
const component = stand<pulumi.ComponentResource>(pulumi.ComponentResource.prototype);

const args = (
    resource: pulumi.Resource,
    name: string,
    opts: pulumi.CustomResourceOptions = {},
): pulumi.ResourceTransformationArgs => ({
    resource,
    type: "aws:kms/key:Key",
    name,
    props: { description: "d" },
    opts,
});

describe("adoption", () => {
    it("imports only a custom resource: a provider or a component of the same name is left alone and reported", () => {
        const { transformation, issues } = adoption([{ resource: "k", id: "mrk-1" }]);
        assert.equal(transformation(args(provider, "k")), undefined);
        assert.equal(transformation(args(component, "k")), undefined);
        assert.match(issues()[0].message, /names 2 resources/);
    });

    it("keeps the props and the program's other options, adds import, and no empty ignoreChanges", () => {
        const { transformation, issues } = adoption([{ resource: "k", id: "mrk-1" }]);
        const out = transformation(args(custom, "k", { protect: true, retainOnDelete: true }));
        assert.deepEqual(out, {
            props: { description: "d" },
            opts: { protect: true, retainOnDelete: true, import: "mrk-1" },
        });
        assert.deepEqual(issues(), []);
    });

    it("lists an ignored property once when the program and the entry both name it", () => {
        const { transformation } = adoption([{ resource: "k", id: "mrk-1", ignoreChanges: ["policy", "tags"] }]);
        assert.deepEqual(transformation(args(custom, "k", { ignoreChanges: ["tags"] }))?.opts.ignoreChanges, [
            "tags",
            "policy",
        ]);
    });

    it("reports, once the program has declared everything, the entries that matched nothing", () => {
        const { transformation, issues } = adoption([{ resource: "gone", id: "x" }]);
        transformation(args(custom, "k"));
        assert.deepEqual(
            issues().map((i) => i.path),
            [["adopt", 0, "resource"]],
        );
    });
});
