import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { captureStack, urnFor, type CaptureArgs } from "../../scripts/plan/capture";
import { securePlaceholder } from "../../scripts/plan/stack-file";

/*
 * The capture through its exported behaviour: URNs, and what a run of a small program records (test/plan/
 * sdk-seam.test.ts covers the options read from registrations and the redaction of secrets).
 */
class Thing extends pulumi.CustomResource {
    constructor(name: string, props: pulumi.Inputs, opts?: pulumi.CustomResourceOptions) {
        super("cap:index:Thing", name, props, opts);
    }
}
class Box extends pulumi.ComponentResource {
    constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
        super("cap:index:Box", name, {}, opts);
        new Thing(`${name}-thing`, { value: 1 }, { parent: this });
        this.registerOutputs({});
    }
}

const base: CaptureArgs = {
    project: "cap",
    stack: "test",
    config: {},
    secretKeys: [],
    mocks: { newResource: (args) => ({ id: `${args.name}-id`, state: args.inputs }), call: () => ({}) },
};

describe("urnFor", () => {
    it("leaves the stack's type out, and qualifies a child by its parent's whole type chain", () => {
        // pulumi/pulumi sdk/go/common/resource/urn/urn.go New: the parent's qualified type, then `$`, then the type.
        assert.equal(urnFor("prod", "p", "", "a:b:C", "n"), "urn:pulumi:prod::p::a:b:C::n");
        assert.equal(
            urnFor("prod", "p", "urn:pulumi:prod::p::pulumi:pulumi:Stack::p-prod", "a:b:C", "n"),
            "urn:pulumi:prod::p::a:b:C::n",
        );
        assert.equal(
            urnFor("prod", "p", "urn:pulumi:prod::p::x:y:Outer$x:y:Inner::i", "a:b:C", "n"),
            "urn:pulumi:prod::p::x:y:Outer$x:y:Inner$a:b:C::n",
        );
    });
});

describe("captureStack", () => {
    it("runs one program at a time: runs started together each record only their own resources", async () => {
        const [one, two] = await Promise.all([
            captureStack({ ...base, run: () => void new Box("one") }),
            captureStack({ ...base, stack: "other", run: () => void new Box("two") }),
        ]);
        const names = (r: typeof one) =>
            r.resources
                .filter((x) => x.type !== "pulumi:pulumi:Stack")
                .map((x) => x.name)
                .sort();
        assert.deepEqual(names(one), ["one", "one-thing"]);
        assert.deepEqual(names(two), ["two", "two-thing"]);
        assert.ok(two.resources.every((r) => r.urn.startsWith("urn:pulumi:other::cap::")));
    });

    it("a program that throws rejects its run, and the next run in the process records its own resources", async () => {
        // The failed run's registrations (its Stack's outputs) are answered before the next run installs its mocks:
        // otherwise they reach the next run's mock, which knows no such resource, and crash the process.
        await assert.rejects(
            captureStack({
                ...base,
                run: () => {
                    new Thing("before-the-error", {});
                    throw new Error("bad program");
                },
            }),
            /bad program/,
        );
        const after = await captureStack({ ...base, run: () => void new Thing("after", {}) });
        assert.deepEqual(
            after.resources.filter((r) => r.type === "cap:index:Thing").map((r) => r.name),
            ["after"],
        );
    });

    it("fails a run whose mock refuses a registration, naming it, rather than plan without it", () => {
        // In a process of its own: see test/fixtures/refused-registration.ts.
        const run = spawnSync(
            process.execPath,
            ["--import", "tsx", path.join(__dirname, "..", "fixtures", "refused-registration.ts")],
            { cwd: path.join(__dirname, "..", ".."), encoding: "utf8" },
        );
        assert.equal(run.status, 0, run.stderr);
        assert.equal(run.stderr, "");
        assert.deepEqual(JSON.parse(run.stdout), {
            first: { rejected: 'the plan\'s mock refused cap:index:Thing "refused": no such thing here' },
            second: { resolved: ["after", "cap-test"] },
        });
    });

    it("records the children of a renamed component under its old URN, their names' prefix renamed too", async () => {
        // pulumi/pulumi pkg/resource/deploy/step_generator.go inheritedChildAlias: a child of an aliased parent is
        // matched under the parent's old URN, its name's parent-name prefix replaced by the parent's old name.
        const { resources } = await captureStack({
            ...base,
            run: () => void new Box("new-box", { aliases: [{ name: "old-box" }] }),
        });
        const thing = resources.find((r) => r.name === "new-box-thing");
        assert.deepEqual(thing?.aliases, ["urn:pulumi:test::cap::cap:index:Box$cap:index:Thing::old-box-thing"]);
    });

    it("records the secret versions each input carries, by URN, and shows the value as a secret", async () => {
        const placeholder = securePlaceholder("v1:cipher");
        const { resources, secretVersions } = await captureStack({
            ...base,
            run: () => void new Thing("env", { content: pulumi.secret(`TOKEN=${placeholder}\n`), plain: "x" }),
        });
        const env = resources.find((r) => r.name === "env");
        assert.ok(env);
        assert.equal(env.inputs.plain, "x");
        assert.ok(!JSON.stringify(env.inputs).includes(placeholder));
        const versions = secretVersions[env.urn];
        assert.ok(versions !== undefined && Object.keys(versions).length > 0, JSON.stringify(secretVersions));
        assert.ok(
            Object.values(versions).every((v) => v.includes(placeholder.slice(8, -1))),
            JSON.stringify(versions),
        );
    });

    it("shows a dynamic provider's serialized source as a digest that changes with the source", async () => {
        // @pulumi/pulumi 3.276.0 dynamic/index.js: a dynamic resource carries its provider's source in `__provider`.
        const capture = async (source: string) =>
            (await captureStack({ ...base, run: () => void new Thing("dyn", { __provider: source }) })).resources.find(
                (r) => r.name === "dyn",
            )?.inputs.__provider;
        const a = await capture("exports.handler = 1;".repeat(100));
        const b = await capture("exports.handler = 2;".repeat(100));
        assert.match(String(a), /^\[dynamic provider sha256:[0-9a-f]{16}\]$/);
        assert.notEqual(a, b);
    });
});
