import * as pulumi from "@pulumi/pulumi";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { captureStack, SDK_CHECKED } from "../../scripts/plan/capture";
import { PlanResource } from "../../scripts/plan/model";
import { redact } from "../../scripts/plan/redact";

/*
 * The plan's one seam into the SDK (scripts/plan/capture.ts attachRecorder): what it captures through a nested
 * program, that it was checked on the installed SDK, and that nothing else imports SDK internals.
 */

const ROOT = path.resolve(__dirname, "..", "..");
const STACK = "urn:pulumi:test::seam";

class Outer extends pulumi.ComponentResource {
    constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
        super("seam:index:Outer", name, {}, opts);
        const inner = new Inner(`${name}-inner`, { parent: this });
        this.registerOutputs({ inner: inner.urn });
    }
}
class Thing extends pulumi.CustomResource {
    constructor(name: string, props: pulumi.Inputs, opts?: pulumi.CustomResourceOptions) {
        super("seam:index:Thing", name, props, opts);
    }
}
class Inner extends pulumi.ComponentResource {
    constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
        super("seam:index:Inner", name, {}, opts);
        const first = new Thing(
            `${name}-first`,
            { value: pulumi.secret("hidden") },
            { parent: this, retainOnDelete: true },
        );
        new Thing(
            `${name}-second`,
            { ref: first.id },
            { parent: this, import: "existing-id", aliases: [{ name: `${name}-old` }] },
        );
        this.registerOutputs({});
    }
}

let resources: PlanResource[] = [];
let outputs: Record<string, unknown> = {};
const byName = (name: string) => {
    const found = resources.find((r) => r.name === name);
    assert.ok(found, `no resource ${name}`);
    return found;
};

before(async () => {
    ({ resources, outputs } = await captureStack({
        project: "seam",
        stack: "test",
        config: {},
        secretKeys: [],
        mocks: {
            newResource: (args) => ({ id: `${args.name}-id`, state: args.inputs }),
            call: () => ({}),
        },
        run: () => {
            const outer = new Outer("top", { protect: true });
            return { outer: outer.urn, secret: pulumi.secret("s3cret") };
        },
    }));
});

describe("the SDK seam", () => {
    it("was checked on the installed @pulumi/pulumi (upgrading re-checks attachRecorder and bumps SDK_CHECKED)", () => {
        const installed = (
            JSON.parse(readFileSync(require.resolve("@pulumi/pulumi/package.json"), "utf8")) as {
                version: string;
            }
        ).version;
        assert.equal(installed, SDK_CHECKED);
    });

    it("gives URNs as the engine makes them: the parent's whole type chain, the stack's type left out", () => {
        // pulumi/pulumi sdk/go/common/resource/urn/urn.go New: parent's qualified type + "$" + type, unless the parent
        // is the root stack. The SDK's mock alone would give `seam:index:Inner$seam:index:Thing` (last type only).
        assert.equal(byName("top").urn, `${STACK}::seam:index:Outer::top`);
        assert.equal(byName("top-inner").urn, `${STACK}::seam:index:Outer$seam:index:Inner::top-inner`);
        assert.equal(
            byName("top-inner-first").urn,
            `${STACK}::seam:index:Outer$seam:index:Inner$seam:index:Thing::top-inner-first`,
        );
        assert.equal(byName("top-inner-first").parent, byName("top-inner").urn);
        assert.equal(byName("top").parent, `${STACK}::pulumi:pulumi:Stack::seam-test`);
    });

    it("reads the options the mock's arguments leave out: inherited protect, retainOnDelete, import, aliases, deps", () => {
        const first = byName("top-inner-first");
        const second = byName("top-inner-second");
        assert.equal(first.protect, true, "protect is inherited from the outer component");
        assert.equal(first.retainOnDelete, true);
        assert.equal(second.retainOnDelete, false);
        assert.equal(second.importId, "existing-id");
        assert.deepEqual(second.aliases, [
            `${STACK}::seam:index:Outer$seam:index:Inner$seam:index:Thing::top-inner-old`,
        ]);
        assert.deepEqual(second.dependsOn, [first.urn]);
    });

    it("redacts secrets in inputs and in the stack's outputs", () => {
        assert.equal(byName("top-inner-first").inputs.value, "[secret]");
        assert.deepEqual(outputs, { outer: byName("top").urn, secret: "[secret]" });
        assert.equal(
            redact({ [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig, value: "x" }),
            "[secret]",
        );
    });
});

/** A component of `type` holding a component of `childType`, which holds a Thing: three levels below the stack. */
function nest(type: string, name: string, childType: string, opts?: pulumi.ComponentResourceOptions) {
    const outer = new pulumi.ComponentResource(type, name, {}, opts);
    const middle = new pulumi.ComponentResource(childType, `${name}-middle`, {}, { parent: outer });
    const thing = new Thing("thing", { value: name }, { parent: middle });
    return { outer, middle, thing };
}

describe("the URNs the program sees", () => {
    let seen: Record<string, unknown> = {};
    let recorded: PlanResource[] = [];
    before(async () => {
        const captured = await captureStack({
            project: "seam",
            stack: "test",
            config: {},
            secretKeys: [],
            mocks: {
                newResource: (args) => ({ id: args.id || `${args.name}-id`, state: { ...args.inputs, at: args.name } }),
                call: () => ({}),
            },
            run: () => {
                const { middle, thing } = nest("seam:index:Outer", "one", "seam:index:Middle");
                // Read by id (readResource) and got by URN (the getResource invoke), both under a nested parent.
                const read = new Thing("read", {}, { parent: middle, id: "read-id" });
                // The SDK takes `urn` as a string (runtime/resource.js getResource splits it).
                const got = thing.urn.apply((urn) => {
                    const again = new Thing("got", {}, { urn });
                    return pulumi.all([again.urn, again.id]);
                });
                return { thing: thing.urn, read: read.urn, gotUrn: got[0], gotId: got[1] };
            },
        });
        seen = captured.outputs;
        recorded = captured.resources;
    });

    it("are the engine's, with the whole type chain, for a child of a child of a component", () => {
        // The SDK's mock alone would answer `seam:index:Middle$seam:index:Thing::thing` (runtime/mocks.js).
        const chain = `${STACK}::seam:index:Outer$seam:index:Middle$seam:index:Thing::thing`;
        assert.equal(seen.thing, chain);
        assert.equal(recorded.find((r) => r.name === "thing")?.urn, chain);
    });

    it("are the engine's for a resource read by id under a nested parent", () => {
        assert.equal(seen.read, `${STACK}::seam:index:Outer$seam:index:Middle$seam:index:Thing::read`);
    });

    it("find the mock's record when the program gets a resource by the engine's URN", () => {
        assert.equal(seen.gotUrn, seen.thing);
        assert.equal(seen.gotId, "thing-id");
    });
});

describe("two resources the SDK's mock cannot tell apart", () => {
    it("fail the capture, naming both, instead of sharing one record", async () => {
        // Children of two parents of one type under different grandparents: the engine's URNs differ in the
        // grandparent's type, the mock's (parent's last type only) agree.
        await assert.rejects(
            captureStack({
                project: "seam",
                stack: "test",
                config: {},
                secretKeys: [],
                mocks: { newResource: (args) => ({ id: `${args.name}-id`, state: args.inputs }), call: () => ({}) },
                run: () => {
                    const a = new pulumi.ComponentResource("seam:index:A", "a");
                    const b = new pulumi.ComponentResource("seam:index:B", "b");
                    for (const parent of [a, b]) {
                        const inner = new pulumi.ComponentResource("seam:index:Inner2", "inner", {}, { parent });
                        new Thing("same", {}, { parent: inner });
                    }
                    return {};
                },
            }),
            (error: Error) => {
                assert.match(error.message, /share the SDK mock's URN/);
                assert.match(error.message, /seam:index:A\$seam:index:Inner2\$seam:index:Thing::same/);
                assert.match(error.message, /seam:index:B\$seam:index:Inner2\$seam:index:Thing::same/);
                return true;
            },
        );
    });
});

/** Files that may reach a deep SDK path, each with its reason. */
const ALLOWED: Record<string, string> = {};

function sourceFiles(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        if (entry.name === "node_modules" || entry.name.startsWith(".")) return [];
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) return sourceFiles(full);
        return /\.(ts|mts|cts|js|mjs|cjs)$/.test(entry.name) ? [full] : [];
    });
}

describe("imports of the SDKs", () => {
    it("use only the public entry points of @pulumi/pulumi and @pulumi/policy", () => {
        const deep = /(?:from\s+|require\(\s*|import\(\s*)["'](@pulumi\/(?:pulumi|policy)\/[^"']+)["']/g;
        const found = sourceFiles(ROOT).flatMap((file) => {
            const rel = path.relative(ROOT, file);
            if (rel === path.join("test", "plan", "sdk-seam.test.ts")) return [];
            return [...readFileSync(file, "utf8").matchAll(deep)]
                .map((m) => m[1])
                .filter((p) => !p.endsWith("/package.json") && ALLOWED[rel] !== p)
                .map((p) => `${rel}: ${p}`);
        });
        assert.deepEqual(found, []);
    });

    it("finds a deep import when there is one", () => {
        const deep = /(?:from\s+|require\(\s*|import\(\s*)["'](@pulumi\/(?:pulumi|policy)\/[^"']+)["']/g;
        assert.deepEqual(
            [...'const d = require("@pulumi/pulumi/runtime/debuggable");'.matchAll(deep)].map((m) => m[1]),
            ["@pulumi/pulumi/runtime/debuggable"],
        );
    });
});

/**
 * Members of the SDK's mock monitor outside the monitor's wire interface (@pulumi/pulumi 3.276.0 runtime/mocks.js
 * MockMonitor: its URN maker, its records, its transform table, the class itself): internals no code may touch.
 */
const MOCK_INTERNALS = /\b(newUrn|MockMonitor|getRegisteredResources|transformCallbacks|recordTransformCallback)\b/g;
/** The monitor's records or mocks read through a variable or call that holds the monitor. */
const MONITOR_FIELDS = /\b(?:monitor\w*|getMonitor\(\))\)?\??\.(resources|mocks)\b/gi;
/** Where the monitor is taken from the SDK. */
const GET_MONITOR = /\bgetMonitor\s*\(/g;

/** The code of a source file, its comments blanked (a URL's `//` inside a string stays). */
const code = (text: string): string => text.replace(/\/\*[\s\S]*?\*\/|(^|[^:"'`\\])\/\/[^\n]*/g, "$1");

/** Each use of the mock monitor beyond its public wire interface in `text`, or of the monitor outside `capture`. */
function monitorUses(text: string, capture: boolean): string[] {
    const body = code(text);
    return [
        ...[...body.matchAll(MOCK_INTERNALS)].map((m) => m[0]),
        ...[...body.matchAll(MONITOR_FIELDS)].map((m) => m[0]),
        ...(capture ? [] : [...body.matchAll(GET_MONITOR)].map((m) => m[0])),
    ];
}

describe("uses of the SDK's monitor", () => {
    it("touch only its wire interface, and only in scripts/plan/capture.ts (the tests record through it)", () => {
        const capture = path.join("scripts", "plan", "capture.ts");
        const found = sourceFiles(ROOT).flatMap((file) => {
            const rel = path.relative(ROOT, file);
            if (rel === path.join("test", "plan", "sdk-seam.test.ts")) return [];
            return monitorUses(readFileSync(file, "utf8"), rel === capture).map((use) => `${rel}: ${use}`);
        });
        assert.deepEqual(found, []);
    });

    it("finds a private member, the monitor's records and a second patch of the monitor when there are", () => {
        const text = [
            "// newUrn in a comment is no use",
            "const m = pulumi.runtime.getMonitor() as any;",
            "m.newUrn = (p, t, n) => n;",
            "const records = monitor.resources;",
            'const url = "https://example.com/newUrn";',
        ].join("\n");
        assert.deepEqual(monitorUses(text, false), ["newUrn", "newUrn", "monitor.resources", "getMonitor("]);
        assert.deepEqual(monitorUses(text, true), ["newUrn", "newUrn", "monitor.resources"]);
    });
});

describe("the SDK's wire constants", () => {
    it("are read from its runtime's exports, never copied into the program, the plan or the policy pack", () => {
        const { specialSigKey, specialSecretSig, specialOutputValueSig, specialResourceSig } = pulumi.runtime;
        const { specialAssetSig, specialArchiveSig, unknownValue } = pulumi.runtime;
        const values = [specialSigKey, specialSecretSig, specialOutputValueSig, specialResourceSig];
        values.push(specialAssetSig, specialArchiveSig, unknownValue);
        const found = ["components", "scripts", "policy", "index.ts"].flatMap((top) => {
            const at = path.join(ROOT, top);
            const files = top.endsWith(".ts") ? [at] : sourceFiles(at);
            return files.flatMap((file) => {
                const text = readFileSync(file, "utf8");
                return values.filter((v) => text.includes(v)).map((v) => `${path.relative(ROOT, file)}: ${v}`);
            });
        });
        assert.deepEqual(found, []);
    });
});
