/**
 * The bootstrap scripts of the REAL prod plan: the path production takes (Pulumi.prod.yaml → index.ts → AgentFleet →
 * renderBootstrapScript → the BucketObjectv2 content), not a renderer called with the value in hand. Issue 11 defect
 * 2: the linux-* fleets run 2 agents per instance, and their scripts rendered 1.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { renderedAgentsPerInstance } from "../../policy/invariants/hooks";
import { runPolicies } from "../../policy/offline";
import type { PlanResource } from "../../policy/resource";
import { checkoutUrl, pipelinesServed } from "../../components/config/access-checks";
import { prodConfig } from "../fixtures/config";
import { resourceMatches } from "../../policy/reachability";
import { cachedPlan } from "../fixtures/plans";

const STACK = "aws:cloudformation/stack:Stack";
const OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2";

describe("the prod plan's bootstrap scripts", { timeout: 180_000 }, () => {
    let resources: PlanResource[] = [];
    const byName = (type: string, name: string): PlanResource => {
        const found = resources.find((r) => r.type === type && r.name === name);
        assert.ok(found, `the plan has no ${type} named ${name}`);
        return found;
    };

    before(async () => {
        // The plan as `npm run plan` builds it (scripts/plan/run.ts buildPlan), shared with the other files of the shard.
        resources = [...(await cachedPlan({ stack: "prod" })).resources];
    });

    it("linux-us-east-1 runs 2 agents per instance, and its bootstrap script says 2", () => {
        const stack = byName(STACK, "linux-us-east-1-stack");
        const bootstrap = byName(OBJECT, "linux-us-east-1-bootstrap");
        assert.equal((stack.inputs.parameters as Record<string, unknown>).AgentsPerInstance, "2");
        assert.equal(bootstrap.parent, stack.parent, "both are children of the fleet component");
        const content = bootstrap.inputs.content;
        assert.equal(typeof content, "string");
        assert.equal(renderedAgentsPerInstance(content as string), "2");
        assert.match(content as string, /^readonly CI_PLATFORM_AGENTS_PER_INSTANCE='2'$/m);
    });

    it("every AWS fleet with our hooks renders its config's agentsPerInstance", () => {
        const config = prodConfig();
        const rendered = Object.fromEntries(
            resources
                .filter(
                    (r) =>
                        r.type === OBJECT &&
                        r.parent?.includes("::ci-platform:agents:Fleet::") &&
                        r.name.endsWith("-bootstrap"),
                )
                .map((r) => [
                    r.name.slice(0, -"-bootstrap".length),
                    renderedAgentsPerInstance(String(r.inputs.content)),
                ]),
        );
        const expected = Object.fromEntries(
            config.fleets.flatMap((f) =>
                f.kind === "aws" && f.os !== "windows" ? [[f.name, String(f.agentsPerInstance)]] : [],
            ),
        );
        assert.deepEqual(rendered, expected);
        assert.ok(Object.values(expected).includes("2"), "prod has fleets sharing an instance between agents");
    });

    /**
     * The allow-list each prod fleet's agents get, read from the plan alone: a Linux fleet's from its bootstrap
     * script's settings (bootstrap.sh writes them into the agent config and allowed-pipelines), a Windows fleet's from
     * the agent env file its stack's AgentEnvFileUrl names. Expected: exactly pipelinesServed, each with its checkout
     * URL, computed here from the config without the allow-list module.
     */
    it("gives every AWS fleet's agents exactly the pipelines it serves (pipelinesServed), on Linux and Windows", () => {
        const config = prodConfig();
        const setting = (content: string, name: string): string | undefined =>
            new RegExp(`^readonly ${name}='([^'\n]*)'$`, "m").exec(content)?.[1];
        let windows = 0;
        for (const fleet of config.fleets) {
            if (fleet.kind !== "aws") continue;
            const served = pipelinesServed(config, fleet);
            const urls = [...new Set(served.map((p) => checkoutUrl(p.repository, p.checkout)))];
            const exact = urls.map((u) => `^${u.replace(/\./g, "[.]")}$`).sort();
            // A Linux fleet's agent gets one pattern per owner (the URL up to its last `/`, then one segment): the
            // exact list is its allow-list object, which the pre-bootstrap hook reads.
            const perOwner = [
                ...new Set(
                    urls.map((u) => `^${u.slice(0, u.lastIndexOf("/") + 1).replace(/\./g, "[.]")}[A-Za-z0-9._-]+$`),
                ),
            ].sort();
            const expectedPatterns = fleet.os === "windows" ? exact : perOwner;
            const stack = byName(STACK, `${fleet.name}-stack`);
            const parameters = stack.inputs.parameters as Record<string, unknown>;
            let value: string | undefined;
            if (fleet.os === "windows") {
                windows++;
                const env = byName(OBJECT, `${fleet.name}-agent-env`);
                assert.equal(parameters.AgentEnvFileUrl, `s3://${String(env.inputs.bucket)}/${String(env.inputs.key)}`);
                assert.equal(parameters.BootstrapScriptUrl, "", "no bash bootstrap on Windows");
                value = /^BUILDKITE_ALLOWED_REPOSITORIES=(.*)$/m.exec(String(env.inputs.content))?.[1];
                // The stack fetches it with the instance role at boot (bk-fetch.ps1: aws s3 cp).
                const policy = JSON.parse(
                    String(byName("aws:iam/policy:Policy", `${fleet.name}-policy`).inputs.policy),
                ) as {
                    Statement: { Action: string[]; Resource: string | string[] }[];
                };
                assert.ok(
                    policy.Statement.some(
                        (st) =>
                            st.Action.includes("s3:GetObject") &&
                            [st.Resource]
                                .flat()
                                .some((r) =>
                                    resourceMatches(
                                        r,
                                        `arn:aws:s3:::${String(env.inputs.bucket)}/${String(env.inputs.key)}`,
                                    ),
                                ),
                    ),
                    `${fleet.name}'s role cannot read its agent env file`,
                );
            } else {
                const content = String(byName(OBJECT, `${fleet.name}-bootstrap`).inputs.content);
                value = setting(content, "CI_PLATFORM_ALLOWED_REPOSITORIES");
                const list = byName(OBJECT, `${fleet.name}-allowlist`);
                assert.equal(setting(content, "CI_PLATFORM_ALLOWLIST_KEY"), list.inputs.key, fleet.name);
                const pairs = String(list.inputs.content)
                    .split("\n")
                    .filter((l) => l !== "" && !l.startsWith("#"));
                assert.deepEqual(
                    pairs,
                    served.map((p) => `${p.slug} ${checkoutUrl(p.repository, p.checkout)}`).sort(),
                    fleet.name,
                );
            }
            assert.ok(value !== undefined, `${fleet.name} has no allowed-repositories`);
            assert.deepEqual(
                value.split(",").sort(),
                expectedPatterns.length > 0 ? expectedPatterns : ["^.^$"],
                fleet.name,
            );
        }
        assert.equal(windows, 1, "prod has one Windows fleet");
    });

    it("breaks no hooks-agents-per-instance invariant", () => {
        assert.deepEqual(
            runPolicies(resources).filter((v) => v.policy === "hooks-agents-per-instance"),
            [],
        );
    });
});
