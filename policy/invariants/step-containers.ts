/*
 * Step containers cannot reach the instance role unless the config says a step needs it. The Elastic CI Stack's
 * launch template lets a container on a Docker bridge network reach the instance metadata service
 * (elastic-ci-stack-for-aws v6.71.1 templates/aws-stack.yml, AgentLaunchTemplate MetadataOptions:
 * HttpPutResponseHopLimit 2, for Linux and Windows instances alike), and so the instance role's credentials. Our
 * bootstrap script (hooks/bootstrap.sh, block_container_imds) rejects that traffic, unless the fleet sets
 * `stepsUseInstanceRole: true`, rendered into the script as CI_PLATFORM_STEPS_USE_INSTANCE_ROLE.
 *
 * Read from the plan: the fleet's bootstrap object is the script its instances run (BootstrapScriptUrl); its text
 * says whether the block runs. A Windows fleet runs no bootstrap script of ours (components/agents/naming.ts
 * installsHooks), so nothing blocks its containers; the template offers no other means, and this rule does not judge
 * Windows fleets (the README says so).
 */
import type { StackFinding, StackRule } from "../rules";
import { isOpaque, type PlanResource } from "../resource";
import { type DeployedFleet, PLATFORM_TYPES, readPlatform } from "../platform";

/** The line of a rendered bootstrap script that switches the block off (components/hooks/bundle.ts renders it). */
export const STEPS_USE_ROLE_SETTING = "CI_PLATFORM_STEPS_USE_INSTANCE_ROLE";

/** What a rendered bootstrap script does about step containers and IMDS. */
export function containerImdsBlock(script: unknown): "blocked" | "allowed-by-config" | "open" | "unknown" {
    if (typeof script !== "string" || isOpaque(script)) return "unknown";
    const setting = new RegExp(`^readonly ${STEPS_USE_ROLE_SETTING}=['"]?(true|false)['"]?$`, "m").exec(script)?.[1];
    if (setting === "true") return "allowed-by-config";
    // The block must be defined and called from bootstrap_main.
    const called = /^\s+block_container_imds$/m.test(script) && /^block_container_imds\(\) \{$/m.test(script);
    return setting === "false" && called ? "blocked" : "open";
}

/**
 * The script a fleet's instances boot with: the fleet's bucket object whose key the stack's BootstrapScriptUrl names
 * (`s3://<bucket>/<key>`). `none` when the URL is empty or absent (the template's default: no script), `unknown`
 * when the URL is not known yet.
 */
export function bootedScript(
    fleet: DeployedFleet,
    resources: readonly PlanResource[],
): PlanResource | "none" | "unknown" {
    const url = fleet.parameters.BootstrapScriptUrl;
    if (isOpaque(url)) return "unknown";
    const key = typeof url === "string" ? /^s3:\/\/[^/]+\/(.+)$/.exec(url)?.[1] : undefined;
    if (key === undefined) return "none";
    const objects = resources.filter((r) => r.parent === fleet.urn && r.type === PLATFORM_TYPES.bucketObject);
    return (
        objects.find((o) => o.inputs.key === key) ?? (objects.some((o) => isOpaque(o.inputs.key)) ? "unknown" : "none")
    );
}

export const stepContainersNoInstanceRole: StackRule = {
    kind: "stack",
    name: "step-containers-no-instance-role",
    description:
        "On every Linux AWS fleet, the bootstrap script keeps Docker step containers from the instance metadata service (and so from the instance role), unless the fleet's config sets stepsUseInstanceRole: true.",
    enforcementLevel: "mandatory",
    severity: "high",
    types: ["ci-platform:agents:Fleet", "aws:cloudformation/stack:Stack", "aws:s3/bucketObjectv2:BucketObjectv2"],
    remediation:
        "Render the fleet's bootstrap script from hooks/bootstrap.sh (it calls block_container_imds), or set ci-platform:fleets[].stepsUseInstanceRole: true for a fleet whose steps need the role.",
    check(resources): StackFinding[] {
        return readPlatform(resources).fleets.flatMap((fleet): StackFinding[] => {
            if (fleet.kind !== "aws" || fleet.parameters.InstanceOperatingSystem === "windows") return [];
            const script = bootedScript(fleet, resources);
            if (script === "unknown") return [];
            const state = script === "none" ? "open" : containerImdsBlock(script.inputs.content);
            if (state !== "open") return [];
            return [
                {
                    urn: fleet.urn,
                    message: `AWS fleet "${fleet.name}" ${script === "none" ? "boots with no bootstrap script of ours (BootstrapScriptUrl)" : `boots with a bootstrap script (${String(script.inputs.key)}) that does not block IMDS`}, so every Docker step container on a bridge network reaches the instance metadata service (hop limit 2) and the instance role's credentials. Fix: install the ci-platform bootstrap script (it rejects that traffic in DOCKER-USER), or set ci-platform:fleets[].stepsUseInstanceRole: true if its steps need the role.`,
                },
            ];
        });
    },
};
