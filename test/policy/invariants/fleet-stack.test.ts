import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    BUCKET_OBJECTS,
    CLOUDFORMATION_STACK,
    FLEET_COMPONENT,
    fleetStackFindings,
    renderedSetting,
    SETTINGS_MARKER,
} from "../../../policy/invariants/fleet-stack";
import type { PlanResource } from "../../../policy/resource";
import { prodResources } from "./plan-resources";

const PREFIX = "urn:pulumi:test::ci-platform::";
const fleetUrn = (name: string) => `${PREFIX}${FLEET_COMPONENT}::${name}`;
const resource = (type: string, name: string, parent: string | null): PlanResource =>
    ({ urn: `${PREFIX}${type}::${name}`, type, name, parent, inputs: {} }) as PlanResource;

describe("renderedSetting", () => {
    const script = [
        "#!/bin/bash",
        "readonly CI_PLATFORM_FLEET='outside-the-block'",
        `${SETTINGS_MARKER} (rendered by renderBootstrapScript)`,
        "readonly CI_PLATFORM_FLEET='linux-us-east-1'",
        "readonly CI_PLATFORM_AGENTS_PER_INSTANCE='2'",
        "# <<< ci-platform:settings",
        "readonly CI_PLATFORM_QUEUE='after-the-block'",
    ].join("\n");

    it("reads a setting from the settings block only", () => {
        assert.equal(renderedSetting(script, "CI_PLATFORM_FLEET"), "linux-us-east-1");
        assert.equal(renderedSetting(script, "CI_PLATFORM_AGENTS_PER_INSTANCE"), "2");
        assert.equal(renderedSetting(script, "CI_PLATFORM_QUEUE"), undefined);
    });

    it("is undefined for a text that is not a rendered bootstrap script, and matches whole names only", () => {
        assert.equal(renderedSetting("readonly CI_PLATFORM_FLEET='x'\n", "CI_PLATFORM_FLEET"), undefined);
        assert.equal(renderedSetting(script, "CI_PLATFORM_AGENTS"), undefined);
        assert.equal(renderedSetting(script, "FLEET"), undefined);
    });

    it("reads what the program renders: each prod fleet's bootstrap script (Linux fleets have one) names its fleet", async () => {
        const resources = await prodResources();
        const stacks = resources.filter((r) => r.type === CLOUDFORMATION_STACK && r.parent?.includes(FLEET_COMPONENT));
        let read = 0;
        for (const stack of stacks) {
            const scripts = resources.filter(
                (r) =>
                    r.parent === stack.parent &&
                    BUCKET_OBJECTS.includes(r.type) &&
                    typeof r.inputs.content === "string" &&
                    r.inputs.content.includes(SETTINGS_MARKER),
            );
            assert.ok(scripts.length <= 1, stack.urn);
            if (scripts.length === 0) continue;
            read++;
            const fleet = renderedSetting(scripts[0].inputs.content as string, "CI_PLATFORM_FLEET");
            assert.ok(fleet !== undefined && stack.parent?.endsWith(`::${fleet}`), `${stack.urn}: ${fleet}`);
        }
        assert.ok(read > 0, "no fleet of the prod plan has a rendered bootstrap script");
    });
});

describe("fleetStackFindings", () => {
    it("checks every fleet's stack with the other children of its fleet component, and reports at the stack", () => {
        const a = fleetUrn("a");
        const b = fleetUrn("b");
        const stackA = resource(CLOUDFORMATION_STACK, "a", a);
        const stackB = resource(CLOUDFORMATION_STACK, "b", b);
        const objectA = resource(BUCKET_OBJECTS[0], "a-script", a);
        const objectB = resource(BUCKET_OBJECTS[1], "b-script", b);
        const seen: [string, string[]][] = [];
        const findings = fleetStackFindings([stackA, objectA, stackB, objectB], (stack, siblings) => {
            seen.push([stack.name, siblings.map((s) => s.name)]);
            return stack.name === "b" ? "broken" : undefined;
        });
        assert.deepEqual(seen, [
            ["a", ["a-script"]],
            ["b", ["b-script"]],
        ]);
        assert.deepEqual(findings, [{ urn: stackB.urn, message: "broken" }]);
    });

    it("leaves out stacks that no fleet component holds", () => {
        const loose = resource(CLOUDFORMATION_STACK, "loose", null);
        const other = resource(CLOUDFORMATION_STACK, "other", `${PREFIX}ci-platform:other:Thing::x`);
        const findings = fleetStackFindings([loose, other], () => "always");
        assert.deepEqual(findings, []);
    });
});
