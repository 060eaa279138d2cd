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

/** Files that may reach a deep SDK path, each with its reason. */
const ALLOWED: Record<string, string> = {
    // Reads isConfigSecret, which has no public accessor (its own comment says so); issue 15's config split owns it.
    "components/config/stack-config.ts": "@pulumi/pulumi/runtime/config",
};

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
