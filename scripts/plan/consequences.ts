import { PlanDiff, ResourceChange } from "./diff";
import { PlanResource } from "./model";

/*
 * What a plan diff does beyond its resources: which fleets lose their running instances, which deletions `pulumi up`
 * refuses until a resource is unprotected, which secrets were set again. Pure: a diff in, sentences out.
 */

/** Where a parameter reaches the agents: the launch template, or a property of the Auto Scaling group itself. */
export type ReplacingVia = "launch template" | "group";

const LT: ReplacingVia = "launch template";

/**
 * The Elastic CI Stack parameters whose change replaces a fleet's instances. elastic-ci-stack-for-aws v6.71.1
 * templates/aws-stack.yml (pinned copy: /work/shared/reference/aws-stack-v6.71.1.yml): AgentAutoScaleGroup (line
 * 2544) has `UpdatePolicy: AutoScalingReplacingUpdate: WillReplace: true` (line 2686), so CloudFormation builds a
 * new group, with new instances, and deletes the old one whenever the group's launch template (it names
 * AgentLaunchTemplate's LatestVersionNumber, line 2558, so any change to AgentLaunchTemplate, line 2250),
 * VPCZoneIdentifier (line 2549) or MixedInstancesPolicy (line 2550) changes (AWS CloudFormation User Guide,
 * "UpdatePolicy attribute": the replacing and rolling policies apply when the group's launch template,
 * VPCZoneIdentifier, mixed instances policy or placement group changes). Each parameter below is read by those
 * properties, directly (`Ref`, `${...}` in `Fn::Sub`) or through a condition. MinSize, MaxSize and the scaler's
 * parameters update the group or the scaler in place. test/plan/instance-replacement.test.ts derives this set from
 * the template and checks it is exactly this table.
 */
export const INSTANCE_REPLACING_PARAMETERS: Readonly<Record<string, ReplacingVia>> = {
    AgentEndpoint: LT,
    AgentEnvFileUrl: LT,
    AgentsPerInstance: LT,
    ArtifactsBucket: LT,
    ArtifactsBucketRegion: LT,
    ArtifactsS3ACL: LT,
    AssociatePublicIpAddress: LT,
    AuthorizedUsersUrl: LT,
    BootstrapScriptUrl: LT,
    BuildkiteAdditionalSudoPermissions: LT,
    BuildkiteAgentCancelGracePeriod: LT,
    BuildkiteAgentDisconnectAfterUptime: LT,
    BuildkiteAgentEnableGitMirrors: LT,
    BuildkiteAgentExperiments: LT,
    BuildkiteAgentRelease: LT,
    BuildkiteAgentSignalGracePeriod: LT,
    BuildkiteAgentSigningKeyID: LT,
    BuildkiteAgentSigningKeySSMParameter: LT,
    BuildkiteAgentTags: LT,
    BuildkiteAgentTimestampLines: LT,
    BuildkiteAgentTokenParameterStorePath: LT,
    BuildkiteAgentTracingBackend: LT,
    BuildkiteAgentVerificationKeySSMParameter: LT,
    BuildkitePurgeBuildsOnDiskFull: LT,
    BuildkiteQueue: LT,
    BuildkiteTerminateInstanceAfterJob: LT,
    BuildkiteTerminateInstanceOnDiskFull: LT,
    BuildkiteWindowsAdministrator: LT,
    CostAllocationTagName: LT,
    CostAllocationTagValue: LT,
    CpuCredits: LT,
    DockerBuilderPruneEnabled: LT,
    DockerFixedCidrV4: LT,
    DockerFixedCidrV6: LT,
    DockerIPv4AddressPool1: LT,
    DockerIPv4AddressPool2: LT,
    DockerIPv6AddressPool: LT,
    DockerNetworkingProtocol: LT,
    DockerPruneUntil: LT,
    EC2LogRetentionDays: LT,
    ECRAccessPolicy: LT,
    EnableCostAllocationTags: LT,
    EnableDetailedMonitoring: LT,
    EnableDockerExperimental: LT,
    EnableDockerLoginPlugin: LT,
    EnableDockerUserNamespaceRemap: LT,
    EnableEC2LogRetentionPolicy: LT,
    EnableECRCredentialHelper: LT,
    EnableECRPlugin: LT,
    EnableInstanceStorage: LT,
    EnablePreExitDiskCleanup: LT,
    EnableSecretsPlugin: LT,
    ExperimentalEnableResourceLimits: LT,
    IMDSv2Tokens: LT,
    ImageId: LT,
    ImageIdParameter: LT,
    InstanceName: LT,
    InstanceOperatingSystem: LT,
    KeyName: LT,
    LinuxDistribution: LT,
    MountTmpfsAtTmp: LT,
    NestedVirtualizationEnabled: LT,
    PipelineSigningKMSKeyId: LT,
    PipelineSigningKMSKeySpec: LT,
    PipelineSigningVerificationFailureBehavior: LT,
    ResourceLimitsCPUQuota: LT,
    ResourceLimitsCPUWeight: LT,
    ResourceLimitsIOWeight: LT,
    ResourceLimitsMemoryHigh: LT,
    ResourceLimitsMemoryMax: LT,
    ResourceLimitsMemorySwapMax: LT,
    RootVolumeDeleteOnTermination: LT,
    RootVolumeEncrypted: LT,
    RootVolumeIops: LT,
    RootVolumeName: LT,
    RootVolumeSize: LT,
    RootVolumeThroughput: LT,
    RootVolumeType: LT,
    ScaleInIdlePeriod: LT,
    SecretsBucket: LT,
    SecretsBucketRegion: LT,
    SecretsPluginSkipSSHKeyNotFoundWarning: LT,
    SecurityGroupIds: LT,
    InstanceTypes: "launch template", // and the group's MixedInstancesPolicy overrides (line 2560)
    OnDemandBaseCapacity: "group",
    OnDemandPercentage: "group",
    SpotAllocationStrategy: "group",
    Subnets: "group",
    VpcId: "group", // through condition CreateVpcResources, in VPCZoneIdentifier
};

/** The input of an Elastic CI Stack's CloudFormation stack that holds its parameters. */
const STACK_TYPE = "aws:cloudformation/stack:Stack";

/** The fleet a CloudFormation stack belongs to: its parent component's name (ci-platform:agents:Fleet). */
export function fleetOf(change: Pick<ResourceChange, "name">, parent: string | null = null): string {
    if (parent !== null && parent.includes("ci-platform:agents:Fleet::"))
        return parent.slice(parent.lastIndexOf("::") + 2);
    // Without the parent: the stack's child name is `<fleet>-stack` (agent-fleet.ts `childName(name, "stack")`).
    return change.name.replace(/-stack$/, "");
}

/** One thing a change does that its resource lines do not say. */
export interface Consequence {
    /** `instances`: a fleet's instances are replaced; `protected`: `pulumi up` stops; `rotated`: secrets set again. */
    readonly kind: "instances" | "protected" | "rotated";
    /** One line, plain text (markdown adds code quotes). */
    readonly text: string;
    /** The resource's URN. */
    readonly urn: string;
}

/** The parameters among a stack change's paths that replace its instances, sorted. */
export function instanceReplacingPaths(change: Pick<ResourceChange, "paths">): string[] {
    const params = change.paths
        .map((p) => /^parameters\.([A-Za-z0-9]+)/.exec(p)?.[1])
        .filter((p): p is string => p !== undefined && p in INSTANCE_REPLACING_PARAMETERS);
    // A new template version (templateUrl) may change the launch template itself.
    if (change.paths.includes("templateUrl")) params.push("templateUrl");
    return [...new Set(params)].sort();
}

/** What a diff does beyond its resource lines, fleets first. Deterministic: sorted by kind, then text. */
export function consequencesOf(diff: PlanDiff, parents: ReadonlyMap<string, string | null> = new Map()): Consequence[] {
    const out: Consequence[] = [];
    const fleet = (c: ResourceChange) => fleetOf(c, parents.get(c.urn) ?? null);
    for (const c of diff.replaced.filter((x) => x.type === STACK_TYPE))
        out.push({
            kind: "instances",
            urn: c.urn,
            text: `${fleet(c)}: replaces its instances (the whole stack is replaced: ${c.replaceReasons.join(", ")})`,
        });
    for (const c of diff.updated.filter((x) => x.type === STACK_TYPE)) {
        const causes = instanceReplacingPaths(c);
        if (causes.length > 0)
            out.push({
                kind: "instances",
                urn: c.urn,
                text: `${fleet(c)}: replaces its instances (${causes.join(", ")})`,
            });
    }
    const stops = (r: Pick<PlanResource, "urn" | "name" | "type">, verb: string) => ({
        kind: "protected" as const,
        urn: r.urn,
        text: `${verb} protected ${shortType(r.type)} ${r.name}: pulumi up stops until pulumi state unprotect '${r.urn}'`,
    });
    for (const r of diff.removed.filter((x) => x.protect)) out.push(stops(r, "deletes"));
    for (const c of diff.replaced.filter((x) => x.protect)) out.push(stops(c, "replaces"));
    // A secret named in the stack file (diff.ts `rotatedSecrets`) once, with the objects that carry it; a path whose
    // secrets have no name, by its resource as before.
    const carriers = new Map<string, ResourceChange[]>();
    for (const c of [...diff.updated, ...diff.replaced]) {
        const named = c.rotatedSecrets ?? {};
        for (const name of new Set(Object.values(named).flat())) carriers.set(name, [...(carriers.get(name) ?? []), c]);
        const unnamed = (c.rotated ?? []).filter((p) => named[p] === undefined);
        if (unnamed.length > 0)
            out.push({
                kind: "rotated",
                urn: c.urn,
                text: `${shortType(c.type)} ${c.name}: secret set again (${unnamed.join(", ")})`,
            });
    }
    for (const [name, changes] of carriers) {
        const objects = changes.map((c) => `${shortType(c.type)} ${c.name}`).sort();
        out.push({
            kind: "rotated",
            urn: changes[0].urn,
            text: `${name} rotated (carried by ${objects.length <= 3 ? objects.join(", ") : `${objects.slice(0, 3).join(", ")} and ${objects.length - 3} more`})`,
        });
    }
    const order = { protected: 0, instances: 1, rotated: 2 };
    return out.sort((a, b) => order[a.kind] - order[b.kind] || (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
}

/**
 * A short type name: `aws:s3/bucketObjectv2:BucketObjectv2` → `aws s3 BucketObjectv2`,
 * `buildkite:Pipeline/pipeline:Pipeline` → `buildkite Pipeline`, `ci-platform:agents:Fleet` → `ci-platform agents Fleet`,
 * `pulumi:providers:aws` → `provider aws`. The package, the module when it is not the type's own name, the type.
 */
export function shortType(type: string): string {
    const parts = type.split(":");
    if (parts[0] === "pulumi" && parts[1] === "providers") return `provider ${parts[2]}`;
    if (parts[0] === "ci-platform") return parts.join(" "); // a component: never mistaken for a provider type
    if (parts.length !== 3) return type;
    const [pkg, mod, name] = parts;
    const module = mod.split("/")[0];
    return module === "index" || module.toLowerCase() === name.toLowerCase()
        ? `${pkg} ${name}`
        : `${pkg} ${module} ${name}`;
}
