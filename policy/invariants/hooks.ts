/*
 * Invariant: the hooks know how many agents share an instance.
 *
 * Every AWS fleet is an Elastic CI Stack (a CloudFormation stack) whose `AgentsPerInstance` parameter sets how many
 * agents, and so how many concurrent jobs, one instance runs: the template hands it to the instance's install script
 * as BUILDKITE_AGENTS_PER_INSTANCE (buildkite/elastic-ci-stack-for-aws v6.71.1 templates/aws-stack.yml, the
 * AgentLaunchTemplate user data), which writes it to the agent config as `spawn=`
 * (packer/linux/stack/conf/bin/bk-install-elastic-stack.sh, same tag). Beside the stack, the fleet component uploads
 * the bootstrap script that installs our hooks (hooks/bootstrap.sh, rendered by components/hooks/bundle.ts); its
 * settings block carries the same number as `CI_PLATFORM_AGENTS_PER_INSTANCE`, and the pre-command and pre-exit hooks
 * read it. The two must agree: a script that says 1 on a fleet that runs 2 is the claim the docker cleanup was once
 * built on, and it removed the other agent's running containers (issue 11, defect 2). The hooks now check the claim
 * against the agent config on the instance (hooks/lib/docker.bash), and this rule keeps the claim true in the plan.
 *
 * The bootstrap object and its stack are linked through their parent: both are children of the same fleet component
 * (ci-platform:agents:Fleet). The script's content is plain text in the plan.
 */
import type { StackFinding, StackRule } from "../rules";
import { isOpaque, type PlanResource, stackParameters } from "../resource";
import { BUCKET_OBJECTS, CLOUDFORMATION_STACK, renderedSetting, SETTINGS_MARKER } from "./fleet-stack";

/** Key prefix of the rendered bootstrap scripts in a secrets bucket (components/hooks/bundle.ts BOOTSTRAP_KEY_PREFIX). */
const BOOTSTRAP_KEY_PREFIX = "_ci-platform/bootstrap/";
/** The Elastic CI Stack's default when the parameter is not passed (templates/aws-stack.yml v6.71.1: `Default: 1`). */
const TEMPLATE_DEFAULT_AGENTS_PER_INSTANCE = "1";

/**
 * The agents-per-instance a rendered bootstrap script sets: the value of its `readonly
 * CI_PLATFORM_AGENTS_PER_INSTANCE='<n>'` line inside the settings block. `undefined` when the text is not a rendered
 * bootstrap script or the block has no such line.
 */
export function renderedAgentsPerInstance(script: string): string | undefined {
    return renderedSetting(script, "CI_PLATFORM_AGENTS_PER_INSTANCE");
}

/** The object key a `s3://bucket/key` URL names, or undefined. */
function keyOfUrl(url: unknown): string | undefined {
    if (typeof url !== "string" || isOpaque(url)) return undefined;
    return /^s3:\/\/[^/]+\/(.+)$/.exec(url)?.[1];
}

/** One stack's finding, or undefined when it complies (or cannot be judged: a value is secret or not known yet). */
function checkFleet(stack: PlanResource, siblings: readonly PlanResource[]): string | undefined {
    const parameters = stackParameters(stack);
    const url = parameters.BootstrapScriptUrl;
    const urlKey = keyOfUrl(url);
    const scripts = siblings.filter(
        (r) =>
            BUCKET_OBJECTS.includes(r.type) &&
            (isOpaque(r.inputs.content) ||
                (typeof r.inputs.content === "string" && r.inputs.content.includes(SETTINGS_MARKER))),
    );
    // The one the stack boots with, when its URL is known; otherwise every candidate must agree.
    const booted = urlKey === undefined ? scripts : scripts.filter((r) => r.inputs.key === urlKey);
    if (booted.length === 0) {
        if (urlKey === undefined || !urlKey.startsWith(BOOTSTRAP_KEY_PREFIX)) return undefined; // not our hooks
        return `Elastic CI Stack "${stack.name}" boots with the ci-platform bootstrap script ${String(url)}, but its fleet declares no bucket object with that key, so the agents-per-instance the hooks get cannot be checked. Fix: upload the script rendered by renderBootstrapScript as a child of the same fleet component, under the key BootstrapScriptUrl names.`;
    }
    const raw = parameters.AgentsPerInstance;
    if (isOpaque(raw)) return undefined;
    const stackValue = raw === undefined || raw === null ? TEMPLATE_DEFAULT_AGENTS_PER_INSTANCE : String(raw);
    for (const script of booted) {
        const content = script.inputs.content;
        if (typeof content !== "string" || isOpaque(content)) continue;
        const rendered = renderedAgentsPerInstance(content);
        if (rendered === stackValue) continue;
        const says =
            rendered === undefined
                ? "sets no CI_PLATFORM_AGENTS_PER_INSTANCE"
                : `renders agents-per-instance ${rendered}`;
        return `Elastic CI Stack "${stack.name}" runs ${stackValue} agent(s) per instance (AgentsPerInstance), but its bootstrap script "${script.name}" ${says}: the hooks would clean docker as if ${rendered ?? "1"} job(s) shared the host. Fix: pass the fleet's agentsPerInstance (ci-platform:fleets[].agentsPerInstance) to renderBootstrapScript, the same value the stack gets.`;
    }
    return undefined;
}

/** Every AWS fleet's bootstrap script renders the agents-per-instance its Elastic CI Stack runs. */
export const hooksAgentsPerInstance: StackRule = {
    kind: "stack",
    name: "hooks-agents-per-instance",
    description:
        "The bootstrap script of every AWS fleet renders the same agents-per-instance as its Elastic CI Stack's AgentsPerInstance parameter.",
    enforcementLevel: "mandatory",
    severity: "critical",
    types: [CLOUDFORMATION_STACK, ...BUCKET_OBJECTS],
    remediation:
        "Render each fleet's bootstrap script with the fleet's agentsPerInstance, the value its stack's AgentsPerInstance parameter gets.",
    check(resources) {
        const findings: StackFinding[] = [];
        for (const stack of resources.filter((r) => r.type === CLOUDFORMATION_STACK)) {
            const siblings = stack.parent ? resources.filter((r) => r.parent === stack.parent && r !== stack) : [];
            const message = checkFleet(stack, siblings);
            if (message !== undefined) findings.push({ urn: stack.urn, message });
        }
        return findings;
    },
};
