import type { AwsFleetConfig } from "../config/schema";
import { didYouMean } from "../config/issues";
import { ELASTIC_STACK_PARAMETERS, ParameterFacts, PINNED_ELASTIC_STACK_VERSION } from "./elastic-stack-template";

/*
 * The Elastic CI Stack's parameters for one fleet, and the check that holds them to the pinned template: every name
 * must exist in the template and every value must be one CloudFormation accepts. Pure: plain values in, plain values out.
 */

/** What the program wires into a fleet's stack besides the fleet's own config. All plain (already resolved) values. */
export interface StackWiring {
    /** SSM Parameter Store path of the fleet's agent token (a SecureString), never the token itself. */
    readonly tokenParameterPath: string;
    /**
     * Key id (not ARN) of the KMS key that encrypts the token parameter: the scaler's role decrypts with it
     * (buildkite-agent-scaler v1.12.0 template.yaml DecryptAgentToken builds `key/${BuildkiteAgentTokenParameterStoreKMSKey}`).
     */
    readonly tokenKeyId: string;
    /** Name of the region's secrets bucket. */
    readonly secretsBucket: string;
    /** Region of the secrets bucket (the fleet's own region). */
    readonly secretsBucketRegion: string;
    /** `s3://bucket/key` of the bootstrap script that installs our hooks. */
    readonly bootstrapScriptUrl: string;
    /**
     * ARN of the fleet's instance role, which the platform owns: the stack then creates no role and no policy
     * (templates/aws-stack.yml IAMRole, IAMPolicies: `Condition: CreateIAMRole`).
     */
    readonly instanceRoleArn: string;
    /** `s3://bucket/key` of the agent's env file (a Windows fleet's allow-list), or `""`/absent for none. */
    readonly agentEnvFileUrl?: string;
    /** The one cost allocation tag the template can apply to everything it creates. */
    readonly costAllocationTag: { readonly name: string; readonly value: string };
}

/** Booleans as CloudFormation's `"true"`/`"false"` strings. */
const flag = (b: boolean) => (b ? "true" : "false");

/**
 * The Elastic CI Stack parameters of one AWS fleet. Only parameters we mean to set are present; the template's
 * defaults apply to the rest. The agent token is referenced by its parameter path, never passed as a value.
 */
export function toStackParameters(fleet: AwsFleetConfig, wiring: StackWiring): Record<string, string> {
    const params: Record<string, string> = {
        BuildkiteQueue: fleet.queue,
        BuildkiteAgentTokenParameterStorePath: wiring.tokenParameterPath,
        // The scaler reads the token too: elastic-ci-stack-for-aws v6.71.1 templates/aws-stack.yml Autoscaling (and
        // AutoscalingArm64, both only when MinSize != MaxSize: HasVariableSize) passes this key on, and
        // buildkite-agent-scaler v1.12.0 template.yaml grants its ExecutionRole kms:Decrypt on `key/<this>` only when
        // it is set; scaler/ssm.go reads the parameter WithDecryption. Without it a fleet at 0 never scales up.
        // The instance role's own DecryptAgentToken grant is ignored here (IAMPolicies: Condition CreateIAMRole);
        // ours decrypts through iam-policy.ts. The key policy admits the scaler (key-policy.ts, scalerRolePattern).
        BuildkiteAgentTokenParameterStoreKMSKey: wiring.tokenKeyId,
        InstanceRoleARN: wiring.instanceRoleArn,
        BuildkiteAgentTags: agentTags(fleet),
        BuildkiteAgentEnableGracefulShutdown: flag(true),
        // A full disk: purge old build directories first; if that is not enough, replace the instance. The job then
        // ends as "agent lost" (exit -1), which the generated steps retry on another instance.
        BuildkitePurgeBuildsOnDiskFull: flag(true),
        BuildkiteTerminateInstanceOnDiskFull: flag(true),
        InstanceOperatingSystem: fleet.os,
        InstanceTypes: fleet.instanceTypes.join(","),
        MinSize: String(fleet.minSize),
        MaxSize: String(fleet.maxSize),
        OnDemandPercentage: String(fleet.onDemandPercentage),
        SpotAllocationStrategy: fleet.spotAllocationStrategy,
        AgentsPerInstance: String(fleet.agentsPerInstance),
        IMDSv2Tokens: "required",
        RootVolumeEncrypted: flag(true),
        SecretsBucket: wiring.secretsBucket,
        SecretsBucketRegion: wiring.secretsBucketRegion,
        SecretsBucketEncryption: flag(true),
        EnableSecretsPlugin: flag(true),
        // With InstanceRoleARN set this grants nothing: the managed policy it names is attached only to the role the
        // stack would create (templates/aws-stack.yml IAMRole ManagedPolicyArns, ECRManagedPolicy). What it still
        // does is turn on the registry login: the stack's environment hook runs the ECR plugin only when
        // BUILDKITE_ECR_POLICY (this value) is not "none" (packer/linux/stack/conf/buildkite-agent/hooks/environment,
        // and the Windows one), and the steps' images are in our ECR. Our role's policy decides what can be pulled.
        ECRAccessPolicy: "readonly",
        BootstrapScriptUrl: wiring.bootstrapScriptUrl,
        EnableCostAllocationTags: flag(true),
        CostAllocationTagName: wiring.costAllocationTag.name,
        CostAllocationTagValue: wiring.costAllocationTag.value,
        LogRetentionDays: String(fleet.logRetentionDays),
        EnableEC2LogRetentionPolicy: flag(true),
        EC2LogRetentionDays: String(fleet.logRetentionDays),
    };
    if (wiring.agentEnvFileUrl) params.AgentEnvFileUrl = wiring.agentEnvFileUrl;
    if (fleet.vpcId !== undefined) params.VpcId = fleet.vpcId;
    if (fleet.subnets !== undefined && fleet.subnets.length > 0) params.Subnets = fleet.subnets.join(",");
    if (fleet.securityGroupIds !== undefined && fleet.securityGroupIds.length > 0)
        params.SecurityGroupIds = fleet.securityGroupIds.join(",");
    if (fleet.rootVolumeSizeGb !== undefined) params.RootVolumeSize = String(fleet.rootVolumeSizeGb);
    // fleet.permissionsBoundary goes on our role (agent-fleet.ts) and on the roles the stack still creates: v6.71.1
    // templates/aws-stack.yml applies InstanceRolePermissionsBoundaryARN to AsgProcessSuspenderRole,
    // StopBuildkiteAgentsRole and the scaler (Autoscaling RolePermissionsBoundaryARN); only its IAMRole, which our
    // InstanceRoleARN replaces, would ignore it. fleet.managedPolicyArns go on our role only: the template attaches
    // ManagedPolicyARNs to its own IAMRole alone.
    if (fleet.permissionsBoundary !== undefined) params.InstanceRolePermissionsBoundaryARN = fleet.permissionsBoundary;
    return params;
}

/** Agent tags the fleet's agents register with, besides their queue: `region=...,fleet=...`. */
export function agentTags(fleet: Pick<AwsFleetConfig, "name" | "region">): string {
    return `region=${fleet.region},fleet=${fleet.name}`;
}

/** The tag preferred as the stack's cost allocation tag when the config has it. */
export const PREFERRED_COST_TAG = "CostCenter";

/**
 * Picks the single cost allocation tag the template supports from a fleet's tags (organisation tags merged with
 * the fleet's own): `CostCenter` when present, else the alphabetically first tag, else `ManagedBy=ci-platform`.
 */
export function costAllocationTag(tags: Readonly<Record<string, string>>): { name: string; value: string } {
    if (tags[PREFERRED_COST_TAG] !== undefined) return { name: PREFERRED_COST_TAG, value: tags[PREFERRED_COST_TAG] };
    const first = Object.keys(tags).sort()[0];
    return first === undefined ? { name: "ManagedBy", value: "ci-platform" } : { name: first, value: tags[first] };
}

/**
 * Checks parameters against the pinned template's facts. Returns one message per problem (empty when all is
 * well): unknown names, credential (NoEcho) parameters, non-numbers, values out of range, outside AllowedValues,
 * not matching AllowedPattern, or of the wrong length.
 */
export function checkParameters(
    params: Readonly<Record<string, string>>,
    facts: Readonly<Record<string, ParameterFacts>> = ELASTIC_STACK_PARAMETERS,
): string[] {
    const problems: string[] = [];
    for (const name of Object.keys(params).sort()) {
        const value = params[name];
        const fact = facts[name];
        if (fact === undefined) {
            problems.push(
                `unknown parameter "${name}": the Elastic CI Stack ${PINNED_ELASTIC_STACK_VERSION} template has no such parameter; ${didYouMean(name, Object.keys(facts))}`.trimEnd(),
            );
            continue;
        }
        problems.push(...checkValue(name, value, fact));
    }
    return problems;
}

function checkValue(name: string, value: string, fact: ParameterFacts): string[] {
    if (fact.noEcho && value !== "")
        return [
            `parameter ${name} is a credential (NoEcho); pass it through SSM Parameter Store instead of as a value`,
        ];
    const problems: string[] = [];
    if (fact.type === "Number") {
        if (!/^-?\d+(\.\d+)?$/.test(value)) return [`parameter ${name} must be a number, got "${value}"`];
        const n = Number(value);
        if (fact.minValue !== undefined && n < fact.minValue)
            problems.push(`parameter ${name} is ${value}, below the template's MinValue ${fact.minValue}`);
        if (fact.maxValue !== undefined && n > fact.maxValue)
            problems.push(`parameter ${name} is ${value}, above the template's MaxValue ${fact.maxValue}`);
    }
    if (fact.allowedValues !== undefined && !fact.allowedValues.includes(value))
        problems.push(
            `parameter ${name} is "${value}", not one of the allowed values ${fact.allowedValues.join(", ")}`,
        );
    if (fact.allowedPattern !== undefined && !new RegExp(`^(?:${fact.allowedPattern})$`).test(value))
        problems.push(`parameter ${name} is "${value}", which does not match the pattern ${fact.allowedPattern}`);
    if (fact.minLength !== undefined && value.length < fact.minLength)
        problems.push(`parameter ${name} is shorter than the template's MinLength ${fact.minLength}`);
    if (fact.maxLength !== undefined && value.length > fact.maxLength)
        problems.push(`parameter ${name} is longer than the template's MaxLength ${fact.maxLength}`);
    return problems;
}
