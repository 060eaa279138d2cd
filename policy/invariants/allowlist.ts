/*
 * Invariant: every AWS fleet's agents refuse jobs of repositories its pipelines do not use.
 *
 * Buildkite lets any job of a cluster target any queue of that cluster, so an agent that takes every job it is given
 * runs other pipelines' jobs, with its fleet's role and secrets. The agent's own check is `allowed-repositories`
 * (buildkite/agent v3.137.0 clicommand/agent_start.go, env BUILDKITE_ALLOWED_REPOSITORIES): regular expressions the
 * job's BUILDKITE_REPO must match, with Go's unanchored regexp.MatchString (agent/run_job.go validateJobValue), and an
 * empty list admits everything. Each fleet gets it from one of two sibling objects of its Elastic CI Stack (children
 * of the same ci-platform:agents:Fleet component):
 * - Linux: the bootstrap script its `BootstrapScriptUrl` names, settings line `CI_PLATFORM_ALLOWED_REPOSITORIES`, which
 *   hooks/bootstrap.sh writes into the agent config;
 * - Windows: the agent env file its `AgentEnvFileUrl` names, line `BUILDKITE_ALLOWED_REPOSITORIES=`, which the stack
 *   loads into the agent's environment (elastic-ci-stack-for-aws v6.71.1 bk-install-elastic-stack.ps1).
 * The rule holds the list to: present, non-empty, every pattern anchored at both ends (an unanchored one admits any URL
 * that merely contains it, e.g. `https://evil.example/?github.com/org/repo`).
 *
 * That the list is exactly the fleet's pipelines (pipelinesServed) is checked against the config by
 * test/hooks/prod-bootstrap.test.ts; the plan alone does not say which pipelines a queue's fleets serve.
 */
import type { StackRule } from "../rules";
import { isOpaque, type PlanResource, stackParameters } from "../resource";
import { BUCKET_OBJECTS, CLOUDFORMATION_STACK, fleetStackFindings, renderedSetting } from "./fleet-stack";

/** The value of the bootstrap script's `readonly CI_PLATFORM_ALLOWED_REPOSITORIES='...'` settings line. */
export function renderedAllowedRepositories(script: string): string | undefined {
    return renderedSetting(script, "CI_PLATFORM_ALLOWED_REPOSITORIES");
}

/** The value of an agent env file's `BUILDKITE_ALLOWED_REPOSITORIES=` line. */
export function envFileAllowedRepositories(content: string): string | undefined {
    return /^BUILDKITE_ALLOWED_REPOSITORIES=(.*)$/m.exec(content)?.[1];
}

/** The patterns of a list, as the agent splits it (cliconfig/loader.go: on commas, empty entries dropped, trimmed). */
function patternsOf(value: string): string[] {
    return value
        .split(",")
        .filter((v) => v !== "")
        .map((v) => v.trim());
}

/** The object key a `s3://bucket/key` URL names, or undefined. */
function keyOfUrl(url: unknown): string | undefined {
    if (typeof url !== "string" || isOpaque(url)) return undefined;
    return /^s3:\/\/[^/]+\/(.+)$/.exec(url)?.[1];
}

type Source = { readonly where: string; readonly value: string | undefined } | "opaque" | undefined;

/** Where a stack's agents get their list, and the list; "opaque" when a secret or unknown value hides it. */
function allowlistSource(stack: PlanResource, siblings: readonly PlanResource[]): Source {
    const parameters = stackParameters(stack);
    const candidates: [unknown, string, (content: string) => string | undefined][] = [
        [parameters.BootstrapScriptUrl, "BootstrapScriptUrl", renderedAllowedRepositories],
        [parameters.AgentEnvFileUrl, "AgentEnvFileUrl", envFileAllowedRepositories],
    ];
    for (const [url, parameter, read] of candidates) {
        if (isOpaque(url)) return "opaque";
        const key = keyOfUrl(url);
        if (key === undefined) continue;
        const object = siblings.find((r) => BUCKET_OBJECTS.includes(r.type) && r.inputs.key === key);
        if (object === undefined) continue;
        const content = object.inputs.content;
        if (isOpaque(content)) return "opaque";
        if (typeof content !== "string") continue;
        const value = read(content);
        if (value !== undefined) return { where: `${parameter} object "${object.name}"`, value };
    }
    return undefined;
}

function checkStack(stack: PlanResource, siblings: readonly PlanResource[]): string | undefined {
    const source = allowlistSource(stack, siblings);
    if (source === "opaque") return undefined;
    const fix =
        "Fix: give the fleet its allow-list (components/hooks/allowlist.ts fleetAllowlist): render it into the bootstrap script (renderBootstrapScript's allowlist) on Linux, or upload agentEnvFileContent as the stack's AgentEnvFileUrl on Windows.";
    if (source === undefined || source.value === undefined)
        return `Elastic CI Stack "${stack.name}" gives its agents no allowed-repositories (neither its bootstrap script nor an agent env file sets one): its agents run any job of the cluster, whatever its repository. ${fix}`;
    const patterns = patternsOf(source.value);
    if (patterns.length === 0)
        return `Elastic CI Stack "${stack.name}" gives its agents an empty allowed-repositories (${source.where}), which the agent reads as "admit every repository". ${fix}`;
    const unanchored = patterns.filter((p) => !p.startsWith("^") || !p.endsWith("$"));
    if (unanchored.length > 0)
        return `Elastic CI Stack "${stack.name}" admits repositories by unanchored pattern(s) ${unanchored.map((p) => `"${p}"`).join(", ")} (${source.where}): the agent matches them anywhere in BUILDKITE_REPO, so any URL that contains one is admitted. ${fix}`;
    return undefined;
}

/** Every AWS fleet's agents have an anchored, non-empty allowed-repositories. */
export const agentsAllowlist: StackRule = {
    kind: "stack",
    name: "agents-allowlist",
    description:
        "Every AWS fleet's agents get a non-empty allowed-repositories of anchored patterns (bootstrap script on Linux, agent env file on Windows).",
    enforcementLevel: "mandatory",
    severity: "critical",
    types: [CLOUDFORMATION_STACK, ...BUCKET_OBJECTS],
    remediation:
        "Give each fleet the allow-list of the pipelines it serves: its bootstrap script's CI_PLATFORM_ALLOWED_REPOSITORIES, or BUILDKITE_ALLOWED_REPOSITORIES in its AgentEnvFileUrl object.",
    check: (resources) => fleetStackFindings(resources, checkStack),
};
