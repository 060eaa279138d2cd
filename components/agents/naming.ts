import { createHash } from "node:crypto";
import { bundleKeyPrefix, fleetVersionedKey, sha256Hex } from "../hooks/bundle";

/*
 * Names and types of the resources the agents module declares. Names derive from fleet names, regions, cluster/queue
 * names and object keys only: never from an index or from which other regions exist. (`npm run dr` reads the resource
 * tree from the offline plan, not from here: scripts/dr/scope.ts.)
 */

/** Types of the agents module's components, and of the resources other modules find them by (scripts/dr/scope.ts). */
export const TYPES = {
    fleet: "ci-platform:agents:Fleet",
    secretsBucket: "ci-platform:agents:SecretsBucket",
    clusterQueue: "buildkite:Cluster/clusterQueue:ClusterQueue",
    bucketObject: "aws:s3/bucketObjectv2:BucketObjectv2",
} as const;

/**
 * Whether a fleet's instances install our hooks bundle. Only Linux: the hooks and bootstrap.sh are bash, and the
 * Elastic CI Stack runs a Windows instance's BootstrapScriptUrl as PowerShell. Windows fleets get no bootstrap
 * script, hence no per-pipeline check (pre-bootstrap), no cleanup hooks and no `CI_PLATFORM_*` variables; they get the
 * agent's own allow-list from an agent env file instead (AgentFleet, `agent-env`).
 */
export function installsHooks(os: "linux" | "windows"): boolean {
    return os === "linux";
}

/**
 * The role suffix of the attachment of one of the config's extra managed policies (`fleets[].managedPolicyArns`) to
 * a fleet's role: from a hash of the ARN, a stable key, so reordering the list renames nothing.
 */
export const managedPolicyAttachmentRole = (policyArn: string): string =>
    `managed-${createHash("sha256").update(policyArn).digest("hex").slice(0, 12)}`;

/**
 * Key of a fleet's agent env file (AgentEnvFileUrl): beside the bootstrap scripts, named by its content, so a change
 * of the allow-list changes the key and with it the fleet's launch template.
 */
export const agentEnvObjectKey = (fleet: string, content: string): string =>
    fleetVersionedKey(fleet, sha256Hex(content), "env");

/** The name of a component's child. */
export const childName = (component: string, role: string): string => `${component}-${role}`;

/**
 * The cluster whose secrets buckets keep the names they had when there was one bucket per region (`secrets-<region>`),
 * so that splitting the buckets by cluster replaces none of that cluster's protected buckets and keys. `default` is
 * the cluster a pipeline runs in when its config names none (components/config/schema.ts).
 */
export const HOME_SECRETS_CLUSTER = "default";

/**
 * The SecretsBucket component of one (region, cluster): `secrets-<region>` for {@link HOME_SECRETS_CLUSTER},
 * `secrets-<cluster>-<region>` for any other cluster. Cluster names are lowercase slugs and region names end in a
 * digit, so two pairs never share a name.
 */
export const secretsBucketName = (region: string, cluster: string = HOME_SECRETS_CLUSTER): string =>
    cluster === HOME_SECRETS_CLUSTER ? `secrets-${region}` : `secrets-${cluster}-${region}`;

/**
 * Why the S3 bucket of (region, cluster) cannot be named, or undefined when it can. Pulumi names the bucket after its
 * resource, `<component>-bucket`, plus `-` and 7 random characters; S3 bucket names are 3 to 63 lowercase letters,
 * digits, dots and hyphens (AWS S3 User Guide, "General purpose bucket naming rules").
 */
export function secretsBucketNameProblem(region: string, cluster: string): string | undefined {
    const physical = `${childName(secretsBucketName(region, cluster), "bucket")}-0123456`;
    if (!/^[a-z0-9-]+$/.test(physical))
        return `its secrets bucket would be named ${physical.slice(0, -8)}-…, but S3 bucket names are lowercase letters, digits and hyphens`;
    if (physical.length > 63)
        return `its secrets bucket's name (${physical.slice(0, -8)} and 8 random characters) would be ${physical.length} characters, over S3's 63`;
    return undefined;
}

/** A cluster queue. Cluster names and queue keys cannot contain `/`, so the name is unambiguous. */
export const clusterQueueName = (cluster: string, queue: string): string => `queue-${cluster}/${queue}`;

/** A secrets object of a SecretsBucket, by its key (e.g. `kolibri/env`). */
export const secretObjectName = (bucketComponent: string, key: string): string => `${bucketComponent}-secret-${key}`;

/** A hook file of a SecretsBucket, by its path in the bundle. Stable when the hook changes; its key is not. */
export const hookObjectName = (bucketComponent: string, path: string): string => `${bucketComponent}-hook-${path}`;

/** Content-addressed prefix of a hooks bundle in a secrets bucket: `bundleKeyPrefix` of components/hooks. */
export const hooksKeyPrefix = (bundleHash: string): string => bundleKeyPrefix(bundleHash);

/**
 * The name a fleet's physical names derive from: its `physicalName` (config schema.ts), else its name; never the
 * order of `renamedFrom` (a rename back, a dropped oldest name or a list newest first would move it). A rename changes
 * the fleet's URNs (and aliases keep them), never a name that forces a replacement: the CloudFormation stack name
 * (aws_cloudformation_stack `name`, ForceNew), the SSM parameter path (aws_ssm_parameter `name`, ForceNew), the
 * bootstrap object key (aws_s3_object `key`, ForceNew; it also names the fleet, so a new key would roll every
 * instance), the scaler role pattern in the token key's policy (from the stack name), the IAM policy description
 * (aws_iam_policy `description`, ForceNew) and the agent token's description. config/renames.ts requires
 * `physicalName` on a fleet with `renamedFrom`.
 */
export const fleetPhysicalName = (fleet: { readonly name: string; readonly physicalName?: string }): string =>
    fleet.physicalName ?? fleet.name;

/** The SSM Parameter Store path of a fleet's agent token. */
export const tokenParameterPath = (fleet: string): string => `/ci-platform/${fleet}/buildkite-agent-token`;

/**
 * The CloudFormation stack of a fleet. Explicit, so the runbook can name it, and so the fleet's role policy can name
 * its auto-scaling group (`<stack>-AgentAutoScaleGroup-*`); unique per account because fleet names are.
 */
export const cloudFormationStackName = (fleet: string): string => `buildkite-${fleet}`;

/**
 * Longest fleet name whose IAM role name fits IAM's 64 characters: `buildkite-<fleet>-Role` when the stack made its own
 * role; ours is `<fleet>-role-` and 7 random characters (agent-fleet.ts), which this bound also keeps within 64.
 */
export const MAX_AWS_FLEET_NAME_LENGTH = 64 - "buildkite-".length - "-Role".length;

/**
 * How many leading characters of its nested stack's name CloudFormation keeps in the scaler role's generated name:
 * the role is `<nested stack name, cut>-ExecutionRole-<12 random>`, at most 64 characters; the nested stack is
 * `<stack>-Autoscaling-<random>` (or `-AutoscalingArm64-`). buildkite/buildkite-agent-scaler issue #68 shows one:
 * `buildkite-5-11-0-test-Autoscaling-CV-ExecutionRole-X4NRVJKLN5LX`, 36 characters of the nested stack's name.
 */
export const SCALER_ROLE_STACK_PREFIX_LENGTH = 36;

/**
 * `aws:PrincipalArn` pattern (ArnLike) of a fleet's scaler role. The scaler's template gives its ExecutionRole no
 * RoleName and path `/` (buildkite-agent-scaler v1.12.0 template.yaml ExecutionRole), so CloudFormation generates the
 * name from the nested stack's (elastic-ci-stack-for-aws v6.71.1 templates/aws-stack.yml Autoscaling, an
 * AWS::Serverless::Application, i.e. a nested stack named after the fleet's stack and the logical id). The pattern
 * keeps what survives the name's cut: `buildkite-<fleet>-Autoscal…` up to {@link SCALER_ROLE_STACK_PREFIX_LENGTH}.
 */
export function scalerRolePattern(partition: string, account: string, fleet: string): string {
    const prefix = `${cloudFormationStackName(fleet)}-Autoscaling`.slice(0, SCALER_ROLE_STACK_PREFIX_LENGTH);
    return `arn:${partition}:iam::${account}:role/${prefix}*-ExecutionRole-*`;
}
