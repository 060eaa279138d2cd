import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hooksAgentsPerInstance, renderedAgentsPerInstance } from "../../../policy/invariants/hooks";
import { runPolicies } from "../../../policy/offline";
import { SECRET, UNKNOWN, type PlanResource } from "../../../policy/resource";
import { RULES } from "../../../policy/rules";

/*
 * The rule is tested over resources shaped as the offline plan records them: per fleet, a component
 * (ci-platform:agents:Fleet) whose children are the Elastic CI Stack and the bootstrap script object.
 */
const PREFIX = "urn:pulumi:test::ci-platform::";
const FLEET_TYPE = "ci-platform:agents:Fleet";
const STACK = "aws:cloudformation/stack:Stack";
const OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2";

/** A bootstrap script as renderBootstrapScript renders it, trimmed to its settings block. */
function script(agentsPerInstance: string | undefined): string {
    return [
        "#!/bin/bash",
        "# >>> ci-platform:settings (rendered by renderBootstrapScript)",
        "readonly CI_PLATFORM_FLEET='linux-us-east-1'",
        ...(agentsPerInstance === undefined ? [] : [`readonly CI_PLATFORM_AGENTS_PER_INSTANCE='${agentsPerInstance}'`]),
        "readonly CI_PLATFORM_MIN_FREE_DISK_GB='10'",
        "# <<< ci-platform:settings",
        "bootstrap_main </dev/null",
        "",
    ].join("\n");
}

interface FleetShape {
    readonly name: string;
    /** The stack's AgentsPerInstance parameter; undefined leaves it out (the template default, 1). */
    readonly stackValue: unknown;
    /** The bootstrap object's content; undefined declares no object and no BootstrapScriptUrl. */
    readonly content?: unknown;
    /** The object's key; defaults to the one BootstrapScriptUrl names. */
    readonly key?: string;
}

/** One fleet's component, stack and bootstrap object. */
function fleet(shape: FleetShape): PlanResource[] {
    const component = `${PREFIX}${FLEET_TYPE}::${shape.name}`;
    const key = `_ci-platform/bootstrap/${shape.name}-0123456789abcdef.sh`;
    const parameters: Record<string, unknown> = {
        BuildkiteQueue: "default",
        // A fleet without our hooks (Windows) boots with no script: "", the template's default.
        BootstrapScriptUrl: shape.content === undefined ? "" : `s3://secrets-us-east-1/${key}`,
    };
    if (shape.stackValue !== undefined) parameters.AgentsPerInstance = shape.stackValue;
    const resources: PlanResource[] = [
        { urn: component, type: FLEET_TYPE, name: shape.name, inputs: {}, parent: null },
        {
            urn: `${PREFIX}${FLEET_TYPE}$${STACK}::${shape.name}-stack`,
            type: STACK,
            name: `${shape.name}-stack`,
            inputs: { name: `buildkite-${shape.name}`, parameters },
            parent: component,
        },
    ];
    if (shape.content !== undefined) {
        resources.push({
            urn: `${PREFIX}${FLEET_TYPE}$${OBJECT}::${shape.name}-bootstrap`,
            type: OBJECT,
            name: `${shape.name}-bootstrap`,
            inputs: { bucket: "secrets-us-east-1", key: shape.key ?? key, content: shape.content },
            parent: component,
        });
    }
    return resources;
}

const check = (resources: PlanResource[]) => hooksAgentsPerInstance.check(resources, { requiredTags: [] });

describe("invariant hooks-agents-per-instance", () => {
    it("is registered in the pack as mandatory", () => {
        const rule = RULES.find((r) => r.name === "hooks-agents-per-instance");
        assert.equal(rule, hooksAgentsPerInstance);
        assert.equal(rule.enforcementLevel, "mandatory");
    });

    it("reads the value a rendered script sets, and nothing from other text", () => {
        assert.equal(renderedAgentsPerInstance(script("2")), "2");
        assert.equal(renderedAgentsPerInstance(script(undefined)), undefined);
        assert.equal(renderedAgentsPerInstance("readonly CI_PLATFORM_AGENTS_PER_INSTANCE='2'\n"), undefined);
    });

    describe("compliant", () => {
        for (const [what, shapes] of [
            [
                "fleets whose scripts render their stacks' AgentsPerInstance",
                [
                    { name: "linux-us-east-1", stackValue: "2", content: script("2") },
                    { name: "large-us-east-1", stackValue: "1", content: script("1") },
                ],
            ],
            [
                "a stack that leaves AgentsPerInstance to the template default (1)",
                [{ name: "a", stackValue: undefined, content: script("1") }],
            ],
            ["a numeric parameter value", [{ name: "a", stackValue: 3, content: script("3") }]],
            ["a Windows fleet with no bootstrap script", [{ name: "windows", stackValue: "1" }]],
            ["a script not known yet (preview)", [{ name: "a", stackValue: "2", content: UNKNOWN }]],
            ["a parameter not known yet (preview)", [{ name: "a", stackValue: UNKNOWN, content: script("1") }]],
        ] as const) {
            it(`passes ${what}`, () => {
                const resources = shapes.flatMap((s) => fleet(s));
                assert.deepEqual(check(resources), []);
                assert.deepEqual(
                    runPolicies(resources, { rules: [hooksAgentsPerInstance] }),
                    [],
                    "and through the offline runner",
                );
            });
        }
    });

    describe("violating", () => {
        it("fails a fleet of 2 agents per instance whose script renders 1 (issue 11 defect 2), naming the fix", () => {
            const resources = [
                ...fleet({ name: "linux-us-east-1", stackValue: "2", content: script("1") }),
                ...fleet({ name: "large-us-east-1", stackValue: "1", content: script("1") }),
            ];
            const findings = check(resources);
            assert.deepEqual(
                findings.map((f) => f.urn),
                [`${PREFIX}${FLEET_TYPE}$${STACK}::linux-us-east-1-stack`],
            );
            assert.equal(
                findings[0].message,
                'Elastic CI Stack "linux-us-east-1-stack" runs 2 agent(s) per instance (AgentsPerInstance), but its bootstrap script "linux-us-east-1-bootstrap" renders agents-per-instance 1: the hooks would clean docker as if 1 job(s) shared the host. Fix: pass the fleet\'s agentsPerInstance (ci-platform:fleets[].agentsPerInstance) to renderBootstrapScript, the same value the stack gets.',
            );
            const violations = runPolicies(resources);
            assert.deepEqual(
                violations.filter((v) => v.policy === "hooks-agents-per-instance").map((v) => v.enforcementLevel),
                ["mandatory"],
            );
        });

        it("fails a script that sets no agents-per-instance at all", () => {
            const findings = check(fleet({ name: "a", stackValue: "2", content: script(undefined) }));
            assert.equal(findings.length, 1);
            assert.match(findings[0].message, /sets no CI_PLATFORM_AGENTS_PER_INSTANCE/);
        });

        it("fails a template default of 1 against a script that renders 2", () => {
            assert.equal(check(fleet({ name: "a", stackValue: undefined, content: script("2") })).length, 1);
        });

        it("fails a stack booting a ci-platform script that its fleet does not declare", () => {
            const findings = check(
                fleet({ name: "a", stackValue: "2", content: script("2"), key: "_ci-platform/bootstrap/other.sh" }),
            );
            assert.equal(findings.length, 1);
            assert.match(findings[0].message, /declares no bucket object with that key/);
        });

        it("links a script to its own fleet only, through the parent", () => {
            // Two fleets: each script matches the other fleet's stack, not its own.
            const resources = [
                ...fleet({ name: "one", stackValue: "2", content: script("1") }),
                ...fleet({ name: "two", stackValue: "1", content: script("2") }),
            ];
            assert.deepEqual(
                check(resources).map((f) => f.urn.split("::").at(-1)),
                ["one-stack", "two-stack"],
            );
        });

        it("does not judge a secret script but does judge its neighbours", () => {
            const resources = [
                ...fleet({ name: "one", stackValue: "2", content: SECRET }),
                ...fleet({ name: "two", stackValue: "2", content: script("1") }),
            ];
            assert.deepEqual(
                check(resources).map((f) => f.urn.split("::").at(-1)),
                ["two-stack"],
            );
        });
    });
});
