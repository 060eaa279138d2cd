import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { INSTANCE_REPLACING_PARAMETERS } from "../../scripts/plan/consequences";

const TEMPLATE = "/work/shared/reference/aws-stack-v6.71.1.yml";

/** CloudFormation's short-form intrinsic functions, read as their long forms so that `Ref`s can be found. */
const FUNCTIONS = ["Ref", "Sub", "If", "GetAtt", "Join", "Select", "Split", "Equals", "Not", "And", "Or"]
    .concat(["FindInMap", "Base64", "Condition", "GetAZs", "ImportValue", "Cidr"])
    .flatMap((f) =>
        (["scalar", "seq", "map"] as const).map((collection) => ({
            tag: `!${f}`,
            ...(collection === "scalar" ? {} : { collection }),
            resolve: (v: unknown) => {
                const value = (v as { toJSON?: () => unknown } | null)?.toJSON?.() ?? v;
                return { [f === "Ref" || f === "Condition" ? f : `Fn::${f}`]: value };
            },
        })),
    );

interface Template {
    Parameters: Record<string, unknown>;
    Conditions: Record<string, unknown>;
    Resources: Record<string, { Properties: Record<string, unknown>; UpdatePolicy?: unknown }>;
}

/** Parameters a template fragment reads: `Ref`s, `${Name}` in `Fn::Sub`, and through the conditions it names. */
function parametersOf(node: unknown, t: Template, seen = new Set<string>()): Set<string> {
    const out = new Set<string>();
    const visit = (v: unknown) => {
        if (Array.isArray(v)) return v.forEach(visit);
        if (v === null || typeof v !== "object") return;
        for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
            if (k === "Ref" && typeof x === "string" && x in t.Parameters) out.add(x);
            if (k === "Fn::Sub")
                for (const s of [x].flat().filter((y): y is string => typeof y === "string"))
                    for (const [, name] of s.matchAll(/\$\{([A-Za-z0-9]+)\}/g)) if (name in t.Parameters) out.add(name);
            const condition = k === "Fn::If" && Array.isArray(x) ? x[0] : k === "Condition" ? x : undefined;
            if (typeof condition === "string" && condition in t.Conditions && !seen.has(condition)) {
                seen.add(condition);
                parametersOf(t.Conditions[condition], t, seen).forEach((p) => out.add(p));
            }
            visit(x);
        }
    };
    visit(node);
    return out;
}

describe("the Elastic CI Stack parameters that replace a fleet's instances", () => {
    const template = parse(readFileSync(TEMPLATE, "utf8"), {
        customTags: FUNCTIONS as never, // the yaml library's tag type is wider than these literals
        maxAliasCount: -1,
    }) as Template;

    it("the agents' group is replaced on update (AutoScalingReplacingUpdate WillReplace)", () => {
        assert.deepEqual(template.Resources.AgentAutoScaleGroup.UpdatePolicy, {
            AutoScalingReplacingUpdate: { WillReplace: true },
        });
    });

    // Direct reads only: a parameter that reaches the group through another resource's replacement (AvailabilityZones
    // → Subnet0/Subnet1, replaced on a new AZ → VPCZoneIdentifier) is not followed. The program never sets
    // AvailabilityZones (components/agents/stack-parameters.ts), so the table misses nothing the program changes.
    it("the table is exactly the parameters the launch template and the group's replacing properties read", () => {
        const group = template.Resources.AgentAutoScaleGroup.Properties;
        const derived = new Set([
            ...parametersOf(template.Resources.AgentLaunchTemplate.Properties, template),
            ...parametersOf(group.VPCZoneIdentifier, template),
            ...parametersOf(group.MixedInstancesPolicy, template),
            ...parametersOf(group.PlacementGroup, template),
        ]);
        assert.deepEqual(Object.keys(INSTANCE_REPLACING_PARAMETERS).sort(), [...derived].sort());
    });

    it("leaves out what only scales (MinSize, MaxSize) or only the scaler reads", () => {
        for (const p of ["MinSize", "MaxSize", "ScaleOutFactor", "DisableScaleIn"])
            assert.equal(INSTANCE_REPLACING_PARAMETERS[p], undefined, p);
    });
});
