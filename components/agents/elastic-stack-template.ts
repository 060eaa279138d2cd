/*
 * Facts about the pinned Elastic CI Stack for AWS template, carried into the project so that the program and its
 * tests never need the template itself at run time. Read from `templates/aws-stack.yml` of the release tag
 * v6.71.1 (buildkite/elastic-ci-stack-for-aws); the table holds every parameter of that template with the
 * constraints CloudFormation enforces on it. Update the table together with `PINNED_ELASTIC_STACK_VERSION`.
 */

/** The release the table below was read from. */
export const PINNED_ELASTIC_STACK_VERSION = "v6.71.1";

/** CloudFormation parameter types the template uses. */
export type ParameterType = "String" | "Number" | "CommaDelimitedList";

/** What CloudFormation accepts for one template parameter. */
export interface ParameterFacts {
    /** The parameter's CloudFormation type. */
    readonly type: ParameterType;
    /** The template's default, as the string CloudFormation would pass on. */
    readonly default?: string;
    /** The only values accepted, when the template lists them. */
    readonly allowedValues?: readonly string[];
    /** A regular expression the whole value must match. */
    readonly allowedPattern?: string;
    /** Smallest accepted number (Number parameters). */
    readonly minValue?: number;
    /** Largest accepted number (Number parameters). */
    readonly maxValue?: number;
    /** Shortest accepted string. */
    readonly minLength?: number;
    /** Longest accepted string. */
    readonly maxLength?: number;
    /** CloudFormation hides the value (a credential): the program never passes these. */
    readonly noEcho?: boolean;
}

/**
 * The capabilities the stack must be created with: it creates named IAM roles and uses the SAM transform with
 * nested serverless applications (`Transform: AWS::Serverless-2016-10-31`).
 */
export const ELASTIC_STACK_CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"] as const;

/** Every parameter of the pinned template, by name. */
export const ELASTIC_STACK_PARAMETERS: Readonly<Record<string, ParameterFacts>> = {
    KeyName: { type: "String", default: "" },
    BuildkiteAgentRelease: {
        type: "String",
        default: "stable",
        allowedValues: ["stable", "oldstable", "beta", "edge"],
    },
    BuildkiteAgentToken: { type: "String", default: "", noEcho: true },
    BuildkiteAgentTokenParameterStorePath: {
        type: "String",
        default: "",
        allowedPattern: "^$|^/$|^/[a-zA-Z0-9_.\\-/]+$|^arn:aws:ssm:[a-z0-9-]+:[0-9]{12}:parameter/[a-zA-Z0-9_.\\-/]+$",
    },
    BuildkiteAgentTokenParameterStoreKMSKey: { type: "String", default: "" },
    AgentEndpoint: { type: "String", default: "https://agent-edge.buildkite.com/v3" },
    BuildkiteAgentTags: { type: "String", default: "" },
    BuildkiteAgentTimestampLines: { type: "String", default: "false", allowedValues: ["true", "false"] },
    BuildkiteAgentExperiments: { type: "String", default: "" },
    BuildkiteAgentScalerServerlessARN: {
        type: "String",
        default: "arn:aws:serverlessrepo:us-east-1:172840064832:applications/buildkite-agent-scaler",
    },
    ScalerEnableExperimentalElasticCIMode: { type: "String", default: "false", allowedValues: ["true", "false"] },
    DisableScaleIn: { type: "String", default: "true", allowedValues: ["true", "false"] },
    InstanceScaleInProtection: { type: "String", default: "true", allowedValues: ["true", "false"] },
    EnableScheduledScaling: { type: "String", default: "false", allowedValues: ["true", "false"] },
    ScheduleTimezone: { type: "String", default: "UTC" },
    ScaleUpSchedule: {
        type: "String",
        default: "0 8 * * MON-FRI",
        allowedPattern: "^[0-9*,-/]+ [0-9*,-/]+ [0-9*,-/]+ [0-9*,-/]+ [0-9A-Za-z*,-/]+$",
    },
    ScaleUpMinSize: { type: "Number", default: "1", minValue: 0 },
    ScaleDownSchedule: {
        type: "String",
        default: "0 18 * * MON-FRI",
        allowedPattern: "^[0-9*,-/]+ [0-9*,-/]+ [0-9*,-/]+ [0-9*,-/]+ [0-9A-Za-z*,-/]+$",
    },
    ScaleDownMinSize: { type: "Number", default: "0", minValue: 0 },
    ScaleOutCooldownPeriod: { type: "Number", default: "300" },
    ScaleInCooldownPeriod: { type: "Number", default: "3600" },
    EnableEC2LogRetentionPolicy: { type: "String", default: "false", allowedValues: ["true", "false"] },
    EC2LogRetentionDays: {
        type: "Number",
        default: "7",
        allowedValues: [
            "1",
            "3",
            "5",
            "7",
            "14",
            "30",
            "60",
            "90",
            "120",
            "150",
            "180",
            "365",
            "400",
            "545",
            "731",
            "1827",
            "3653",
        ],
    },
    LogRetentionDays: {
        type: "Number",
        default: "1",
        allowedValues: [
            "1",
            "3",
            "5",
            "7",
            "14",
            "30",
            "60",
            "90",
            "120",
            "150",
            "180",
            "365",
            "400",
            "545",
            "731",
            "1827",
            "3653",
        ],
    },
    BuildkiteAgentEnableGracefulShutdown: { type: "String", default: "false", allowedValues: ["true", "false"] },
    BuildkiteAgentTracingBackend: { type: "String", default: "", allowedValues: ["", "datadog", "opentelemetry"] },
    BuildkiteAgentSigningKeySSMParameter: { type: "String", default: "", allowedPattern: "^$|^/[a-zA-Z0-9_.\\-/]+$" },
    BuildkiteAgentSigningKeyID: { type: "String", default: "" },
    BuildkiteAgentVerificationKeySSMParameter: {
        type: "String",
        default: "",
        allowedPattern: "^$|^/[a-zA-Z0-9_.\\-/]+$",
    },
    BuildkiteAgentCancelGracePeriod: { type: "Number", default: "60", minValue: 1 },
    BuildkiteAgentSignalGracePeriod: { type: "Number", default: "-1", minValue: -1 },
    BuildkiteTerminateInstanceAfterJob: { type: "String", default: "false", allowedValues: ["true", "false"] },
    BuildkiteTerminateInstanceOnDiskFull: { type: "String", default: "false", allowedValues: ["true", "false"] },
    BuildkitePurgeBuildsOnDiskFull: { type: "String", default: "false", allowedValues: ["true", "false"] },
    BuildkiteAgentDisconnectAfterUptime: { type: "Number", default: "0", minValue: 0 },
    ExperimentalEnableResourceLimits: { type: "String", default: "false", allowedValues: ["true", "false"] },
    ResourceLimitsMemoryHigh: {
        type: "String",
        default: "90%",
        allowedPattern: "^(\\d+([KkMmGgTt])?|(?:[1-9][0-9]?|100)%|infinity)$",
    },
    ResourceLimitsMemoryMax: {
        type: "String",
        default: "90%",
        allowedPattern: "^(\\d+([KkMmGgTt])?|(?:[1-9][0-9]?|100)%|infinity)$",
    },
    ResourceLimitsMemorySwapMax: {
        type: "String",
        default: "90%",
        allowedPattern: "^(\\d+([KkMmGgTt])?|(?:[1-9][0-9]?|100)%|infinity)$",
    },
    ResourceLimitsCPUWeight: { type: "Number", default: "100", minValue: 1, maxValue: 10000 },
    ResourceLimitsCPUQuota: { type: "String", default: "90%", allowedPattern: "^\\d+%$" },
    ResourceLimitsIOWeight: { type: "Number", default: "80", minValue: 1, maxValue: 10000 },
    BuildkiteAdditionalSudoPermissions: { type: "String", default: "" },
    BuildkiteWindowsAdministrator: { type: "String", default: "true", allowedValues: ["true", "false"] },
    BuildkiteQueue: { type: "String", default: "default", minLength: 1 },
    AgentsPerInstance: { type: "Number", default: "1", minValue: 1 },
    SecretsBucket: { type: "String", default: "" },
    SecretsBucketRegion: { type: "String", default: "" },
    SecretsBucketEncryption: { type: "String", default: "false", allowedValues: ["true", "false"] },
    SecretsPluginSkipSSHKeyNotFoundWarning: { type: "String", default: "false", allowedValues: ["true", "false"] },
    ArtifactsBucket: { type: "String", default: "" },
    ArtifactsBucketRegion: { type: "String", default: "" },
    ArtifactsS3ACL: {
        type: "String",
        default: "private",
        allowedValues: [
            "private",
            "public-read",
            "public-read-write",
            "authenticated-read",
            "aws-exec-read",
            "bucket-owner-read",
            "bucket-owner-full-control",
        ],
    },
    BootstrapScriptUrl: { type: "String", default: "" },
    AgentEnvFileUrl: { type: "String", default: "" },
    AuthorizedUsersUrl: { type: "String", default: "" },
    VpcId: { type: "String", default: "" },
    Subnets: { type: "CommaDelimitedList", default: "" },
    AvailabilityZones: { type: "CommaDelimitedList", default: "" },
    InstanceTypes: {
        type: "String",
        default: "t3.large",
        allowedPattern: "^[\\w-\\.]+(,[\\w-\\.]*){0,24}$",
        minLength: 1,
    },
    CpuCredits: { type: "String", default: "unlimited", allowedValues: ["standard", "unlimited"] },
    NestedVirtualizationEnabled: { type: "String", default: "false", allowedValues: ["true", "false"] },
    MaxSize: { type: "Number", default: "10", minValue: 0 },
    MinSize: { type: "Number", default: "0", minValue: 0 },
    InstanceBuffer: { type: "Number", default: "0" },
    ScalerEventSchedulePeriod: { type: "String", default: "1 minute" },
    ScalerEventScheduleJitter: { type: "String", default: "0s" },
    ScalerMinPollInterval: { type: "String", default: "10s" },
    OnDemandBaseCapacity: { type: "Number", default: "0", minValue: 0 },
    OnDemandPercentage: { type: "Number", default: "100", minValue: 0, maxValue: 100 },
    SpotAllocationStrategy: {
        type: "String",
        default: "capacity-optimized",
        allowedValues: [
            "price-capacity-optimized",
            "capacity-optimized",
            "lowest-price",
            "capacity-optimized-prioritized",
        ],
    },
    ScaleOutFactor: { type: "Number", default: "1" },
    ScaleInIdlePeriod: { type: "Number", default: "600" },
    ScaleOutForWaitingJobs: { type: "String", default: "false", allowedValues: ["true", "false"] },
    InstanceCreationTimeout: { type: "String", default: "" },
    RootVolumeSize: { type: "Number", default: "250", minValue: 10 },
    RootVolumeName: { type: "String", default: "" },
    RootVolumeType: { type: "String", default: "gp3" },
    RootVolumeThroughput: { type: "Number", default: "125" },
    RootVolumeIops: { type: "Number", default: "3000" },
    RootVolumeEncrypted: { type: "String", default: "false", allowedValues: ["true", "false"] },
    RootVolumeDeleteOnTermination: { type: "String", default: "true", allowedValues: ["true", "false"] },
    SecurityGroupIds: { type: "String", default: "" },
    ImageId: { type: "String", default: "" },
    ImageIdParameter: { type: "String", default: "" },
    ManagedPolicyARNs: { type: "CommaDelimitedList", default: "" },
    ScalerManagedPolicyARNs: { type: "CommaDelimitedList", default: "" },
    IMDSv2Tokens: { type: "String", default: "optional", allowedValues: ["optional", "required"] },
    InstanceRoleName: { type: "String", default: "" },
    InstanceRolePermissionsBoundaryARN: { type: "String", default: "" },
    InstanceRoleTags: {
        type: "String",
        default: "",
        allowedPattern: "^$|^[\\w\\s_.:/+\\-@]+=[\\w\\s_.:/+\\-@]*(,[\\w\\s_.:/+\\-@]+=[\\w\\s_.:/+\\-@]*){0,4}$",
    },
    InstanceRoleARN: { type: "String", default: "", allowedPattern: "^$|^arn:aws:iam::[0-9]+:role/.*$" },
    InstanceOperatingSystem: { type: "String", default: "linux", allowedValues: ["linux", "windows"] },
    LinuxDistribution: { type: "String", default: "amazonlinux2023", allowedValues: ["amazonlinux2023", "ubuntu2404"] },
    ECRAccessPolicy: {
        type: "String",
        default: "none",
        allowedValues: ["none", "readonly", "readonly-pullthrough", "poweruser", "poweruser-pullthrough", "full"],
    },
    AssociatePublicIpAddress: { type: "String", default: "true", allowedValues: ["true", "false"] },
    EnableVpcEndpoints: { type: "String", default: "false", allowedValues: ["true", "false"] },
    DockerNetworkingProtocol: { type: "String", default: "ipv4", allowedValues: ["ipv4", "dualstack"] },
    DockerIPv4AddressPool1: {
        type: "String",
        default: "172.17.0.0/12",
        allowedPattern:
            "^(?:(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\\/(?:[0-9]|[12][0-9]|3[0-2])$",
    },
    DockerIPv4AddressPool2: {
        type: "String",
        default: "192.168.0.0/16",
        allowedPattern:
            "^(?:(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\\/(?:[0-9]|[12][0-9]|3[0-2])$",
    },
    DockerIPv6AddressPool: {
        type: "String",
        default: "2001:db8:2::/104",
        allowedPattern:
            "^(?:(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}|(?:[0-9a-fA-F]{1,4}:){1,7}:|(?:[0-9a-fA-F]{1,4}:){1,6}:[0-9a-fA-F]{1,4}|(?:[0-9a-fA-F]{1,4}:){1,5}(?::[0-9a-fA-F]{1,4}){1,2}|(?:[0-9a-fA-F]{1,4}:){1,4}(?::[0-9a-fA-F]{1,4}){1,3}|(?:[0-9a-fA-F]{1,4}:){1,3}(?::[0-9a-fA-F]{1,4}){1,4}|(?:[0-9a-fA-F]{1,4}:){1,2}(?::[0-9a-fA-F]{1,4}){1,5}|[0-9a-fA-F]{1,4}:(?::[0-9a-fA-F]{1,4}){1,6}|:(?:(?::[0-9a-fA-F]{1,4}){1,7}|:))\\/(?:[0-9]|[1-9][0-9]|1[01][0-9]|12[0-8])$",
    },
    DockerFixedCidrV4: {
        type: "String",
        default: "",
        allowedPattern:
            "^$|^(?:(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\\/(?:[0-9]|[12][0-9]|3[0-2])$",
    },
    DockerFixedCidrV6: {
        type: "String",
        default: "2001:db8:1::/64",
        allowedPattern:
            "^(?:(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}|(?:[0-9a-fA-F]{1,4}:){1,7}:|(?:[0-9a-fA-F]{1,4}:){1,6}:[0-9a-fA-F]{1,4}|(?:[0-9a-fA-F]{1,4}:){1,5}(?::[0-9a-fA-F]{1,4}){1,2}|(?:[0-9a-fA-F]{1,4}:){1,4}(?::[0-9a-fA-F]{1,4}){1,3}|(?:[0-9a-fA-F]{1,4}:){1,3}(?::[0-9a-fA-F]{1,4}){1,4}|(?:[0-9a-fA-F]{1,4}:){1,2}(?::[0-9a-fA-F]{1,4}){1,5}|[0-9a-fA-F]{1,4}:(?::[0-9a-fA-F]{1,4}){1,6}|:(?:(?::[0-9a-fA-F]{1,4}){1,7}|:))\\/(?:[0-9]|[1-9][0-9]|1[01][0-9]|12[0-8])$",
    },
    EnableSecretsPlugin: { type: "String", default: "true", allowedValues: ["true", "false"] },
    EnableECRPlugin: { type: "String", default: "true", allowedValues: ["true", "false"] },
    EnableECRCredentialHelper: { type: "String", default: "false", allowedValues: ["true", "false"] },
    EnableDockerLoginPlugin: { type: "String", default: "true", allowedValues: ["true", "false"] },
    EnableDockerUserNamespaceRemap: { type: "String", default: "true", allowedValues: ["true", "false"] },
    EnableDockerExperimental: { type: "String", default: "false", allowedValues: ["true", "false"] },
    DockerPruneUntil: { type: "String", default: "4h", allowedPattern: "^(\\d+[smhd])+$" },
    EnablePreExitDiskCleanup: { type: "String", default: "false", allowedValues: ["true", "false"] },
    DockerBuilderPruneEnabled: { type: "String", default: "false", allowedValues: ["true", "false"] },
    EnableInstanceStorage: { type: "String", default: "false", allowedValues: ["true", "false"] },
    MountTmpfsAtTmp: { type: "String", default: "true", allowedValues: ["true", "false"] },
    EnableCostAllocationTags: { type: "String", default: "false", allowedValues: ["true", "false"] },
    CostAllocationTagName: { type: "String", default: "CreatedBy" },
    CostAllocationTagValue: { type: "String", default: "buildkite-elastic-ci-stack-for-aws" },
    BuildkiteAgentEnableGitMirrors: { type: "String", default: "false", allowedValues: ["true", "false"] },
    EnableDetailedMonitoring: { type: "String", default: "false", allowedValues: ["true", "false"] },
    InstanceName: { type: "String", default: "" },
    PipelineSigningKMSKeyId: { type: "String", default: "" },
    PipelineSigningKMSKeySpec: { type: "String", default: "none", allowedValues: ["ECC_NIST_P256", "none"] },
    PipelineSigningKMSAccess: {
        type: "String",
        default: "sign-and-verify",
        allowedValues: ["sign-and-verify", "verify"],
    },
    PipelineSigningVerificationFailureBehavior: { type: "String", default: "block", allowedValues: ["block", "warn"] },
    LambdaArchitecture: { type: "String", default: "x86_64", allowedValues: ["x86_64", "arm64"] },
};

/**
 * The release's template URL. Each release tag publishes its template under its own prefix; `latest/` is never
 * used, so a stack only changes when the pinned version does.
 */
export function templateUrl(version: string): string {
    if (!/^v\d+\.\d+\.\d+$/.test(version))
        throw new Error(`Elastic CI Stack version "${version}" is not a pinned release tag such as v6.71.1`);
    return `https://s3.amazonaws.com/buildkite-aws-stack/${version}/aws-stack.yml`;
}
