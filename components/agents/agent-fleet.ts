import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as buildkite from "@pulumiverse/buildkite";
import type { FleetConfig, StaticFleetConfig } from "../config/schema";
import { agentEnvFileContent, allowlistObjectContent, type FleetAllowlist } from "../hooks/allowlist";
import { allowlistObjectKey } from "../hooks/bundle";
import { ELASTIC_STACK_CAPABILITIES } from "./elastic-stack-template";
import { fleetPolicyDocument, instanceTrustPolicy, parameterArn, SecretsScope } from "./iam-policy";
import {
    agentEnvObjectKey,
    childName,
    cloudFormationStackName,
    fleetPhysicalName,
    installsHooks,
    managedPolicyAttachmentRole,
    tokenParameterPath,
    TYPES,
} from "./naming";
import { checkParameters, costAllocationTag, toStackParameters } from "./stack-parameters";
import { renamedChildAliases, renamedComponentAliases } from "../buildkite/renames";
import {
    type FleetSigning,
    kmsStackParameters,
    signingParameterPaths,
    signingParameterPatterns,
    signingStackParameters,
} from "../signing/fleets";

/** What a bootstrap renderer is told about the fleet whose instances run the script. */
export interface BootstrapRequest {
    /** The region's secrets bucket, which holds the hooks bundle. */
    readonly bucket: string;
    /** The bucket's region. */
    readonly region: string;
    /** Content hash of the hooks bundle. */
    readonly bundleHash: string;
    /** Key prefix of the hooks bundle in the bucket, `_ci-platform/hooks/<hash>`. */
    readonly bundlePrefix: string;
    /** The fleet. */
    readonly fleet: {
        readonly name: string;
        readonly queue: string;
        readonly region: string;
        /** The instances' operating system: Windows instances run a PowerShell bootstrap script. */
        readonly os: "linux" | "windows";
        /** `<account>.dkr.ecr.<region>.amazonaws.com`, where the fleet's step images are. */
        readonly ecrRegistry: string;
        /** Agents per instance, the same value as the stack's `AgentsPerInstance` parameter. */
        readonly agentsPerInstance: number;
        /** Whether step containers may use the instance role (`fleets[].stepsUseInstanceRole`). */
        readonly stepsUseInstanceRole: boolean;
    };
    /** What the fleet's agents admit: the pipelines it serves (components/hooks/allowlist.ts). */
    readonly allowlist: FleetAllowlist;
    /** Key of the fleet's allow-list object (`allowlistObjectKey`), which the pre-bootstrap hook reads at job time. */
    readonly allowlistKey: string;
}

/** Renders the boot script that installs the hooks bundle beside the stack's own hooks: its object key and body. */
export type RenderBootstrap = (request: BootstrapRequest) => { readonly key: string; readonly content: string };

/** The region-level resources an AWS fleet uses. */
export interface FleetRegionWiring {
    /** The region's secrets bucket name. */
    readonly secretsBucketName: pulumi.Input<string>;
    /** The region's secrets bucket ARN. */
    readonly secretsBucketArn: pulumi.Input<string>;
    /** ARN of the region's secrets KMS key (the bucket's objects). */
    readonly secretsKeyArn: pulumi.Input<string>;
    /** ARN of the (region, cluster) agent-token KMS key, which encrypts the token parameter. */
    readonly tokenKeyArn: pulumi.Input<string>;
    /** Id of that key: the stack passes it to its scaler (BuildkiteAgentTokenParameterStoreKMSKey). */
    readonly tokenKeyId: pulumi.Input<string>;
    /** Content hash of the hooks bundle. */
    readonly hooksHash: string;
    /** Key prefix of the hooks bundle in the bucket. */
    readonly hooksPrefix: string;
}

/** The AWS side of a fleet. */
export interface AwsFleetStack {
    /** The fleet's region. */
    readonly region: string;
    /** Name of the CloudFormation stack. */
    readonly stackName: pulumi.Output<string>;
    /** SSM Parameter Store path of the agent token. */
    readonly tokenParameter: string;
    /** ARN of the agent token parameter (the token key's encryption context). */
    readonly tokenParameterArn: pulumi.Output<string>;
    /** The instances' IAM role, ours (the stack's InstanceRoleARN). */
    readonly roleArn: pulumi.Output<string>;
    /** The region's secrets bucket. */
    readonly secretsBucket: pulumi.Output<string>;
    /** `s3://bucket/key` of the bootstrap script; `""` for a fleet without our hooks (Windows, see {@link installsHooks}). */
    readonly bootstrapScriptUrl: pulumi.Output<string>;
}

/** Inputs of an {@link AgentFleet}. */
export interface AgentFleetArgs {
    /** The fleet, as validated config. */
    readonly fleet: FleetConfig;
    /** GraphQL id of the fleet's Buildkite cluster. */
    readonly clusterId: pulumi.Input<string>;
    /** The cluster queue the fleet serves; the stack waits for it. */
    readonly queue?: pulumi.Resource;
    /** Elastic CI Stack template URL of the pinned release. Required for `kind: aws`. */
    readonly templateUrl?: string;
    /** The region's bucket and key. Required for `kind: aws`. */
    readonly region?: FleetRegionWiring;
    /** Renders the fleet's bootstrap script. Required for `kind: aws`; never called for a Windows fleet. */
    readonly renderBootstrap?: RenderBootstrap;
    /** The AWS account id (for ECR ARNs and the registry host). Required for `kind: aws`. */
    readonly accountId?: pulumi.Input<string>;
    /** Regions whose ECR repositories the fleet may pull from, besides its own. */
    readonly extraEcrRegions?: readonly string[];
    /**
     * What the role reads from the secrets bucket: the root objects or not, and the slugs of the pipelines the fleet
     * serves (`pipelinesServed`). Required for `kind: aws`.
     */
    readonly secrets?: SecretsScope;
    /** The platform's ECR repository names (`ci-platform/<image>`), the only ones the role pulls. Defaults to none. */
    readonly ecrRepositories?: readonly string[];
    /** Organisation-wide tags; the fleet's own tags are merged over them. Defaults to none. */
    readonly tags?: Readonly<Record<string, string>>;
    /**
     * What the fleet's agents admit (`fleetAllowlist(config, fleet)`). Required for `kind: aws`: a Linux fleet's
     * bootstrap script renders it, a Windows fleet gets it as the agent's environment (AgentEnvFileUrl).
     */
    readonly allowlist?: FleetAllowlist;
    /**
     * The bucket objects the fleet's instances and jobs read that other components declare (the hooks bundle, the
     * secrets objects of the pipelines it serves): the stack waits for them, so that no instance boots, or takes a
     * job, before they exist (declareFleets chooses them: {@link readsSecretObject} in components/agents/index.ts).
     */
    readonly bootObjects?: readonly pulumi.Resource[];
    /** The fleet's part in signed pipelines (components/signing/fleets.ts `fleetSigning`). Defaults to unset. */
    readonly signing?: FleetSigning;
    /**
     * The cluster's private signing key set (`ci-platform:secrets.signing.<cluster>`), a Pulumi secret. Required for
     * an AWS fleet that signs (`signing.signs`).
     */
    readonly signingJwks?: pulumi.Output<string>;
    /**
     * The cluster's KMS signing key in the fleet's region (the replica's of a multi-region key), for `signing.mode`
     * kms: components/signing/kms-key.ts `arnIn`. Required for an AWS fleet of a kms cluster.
     */
    readonly signingKmsKeyArn?: pulumi.Input<string>;
}

/** What a fleet's component records of its signing, for the policy pack (policy/invariants/signing.ts). */
export function signingDeclaration(signing: FleetSigning | undefined): {
    mode: string;
    failureBehavior: string;
    signs: boolean;
    reason?: string;
} {
    const s = signing ?? { mode: "unset", failureBehavior: "block", signs: false };
    return {
        mode: s.mode,
        failureBehavior: s.failureBehavior,
        signs: s.signs,
        ...(s.reason !== undefined ? { reason: s.reason } : {}),
    };
}

/** The inputs a static fleet's component records: what its machines provide themselves. */
export function staticFleetDeclaration(fleet: StaticFleetConfig): {
    providesSecrets: string[];
    checkoutCredentials: string[];
} {
    return { providesSecrets: [...fleet.providesSecrets], checkoutCredentials: [...fleet.checkoutCredentials] };
}

/** The values of an AWS fleet's stack parameters that other resources give: unknown in a preview until created. */
export interface StackOutputValues {
    readonly secretsBucket: string;
    readonly bootstrapScriptUrl: string;
    readonly instanceRoleArn: string;
    readonly agentEnvFileUrl: string;
    readonly tokenKeyId: string;
    readonly signingKeyArn: string;
}

/** What {@link checkAwsFleetInputs} hands the constructor. */
export interface AwsFleetStackInputs {
    /** The fleet's Elastic CI Stack parameters, from the values other resources give. */
    readonly build: (values: StackOutputValues) => Record<string, string>;
    /** The names of the parameters that come from plain inputs only (the config, names, signing): checked already. */
    readonly plain: readonly string[];
}

/**
 * Checks an AWS fleet's plain inputs, before any resource is declared: the wiring an AWS fleet needs, its signing
 * inputs, and each Elastic CI Stack parameter that comes from plain inputs against the pinned template
 * (stack-parameters.ts `checkParameters`). Throws one `InputPropertiesError` naming every property at fault. Which
 * parameters are plain: those equal when the parameters are built twice with different stand-ins for the values
 * other resources give; the rest are checked when known (in the constructor's apply).
 */
export function checkAwsFleetInputs(name: string, args: AgentFleetArgs, physical: string): AwsFleetStackInputs {
    const fleet = args.fleet;
    if (fleet.kind !== "aws") throw new Error(`checkAwsFleetInputs: fleet ${name} is not an AWS fleet`);
    const errors: pulumi.InputPropertyErrorDetails[] = [];
    for (const key of ["region", "renderBootstrap", "templateUrl", "accountId", "secrets", "allowlist"] as const)
        if (args[key] === undefined)
            errors.push({ propertyPath: key, reason: `an AWS fleet needs ${key}; pass it (declareFleets does)` });
    const signing = args.signing;
    if (signing?.mode === "jwks" && signing.signs && args.signingJwks === undefined)
        errors.push({
            propertyPath: "signingJwks",
            reason: `fleet ${name} signs uploads (its queue runs a stored upload step of a signing cluster): pass the cluster's private key set (ci-platform:secrets.signing.<cluster>)`,
        });
    if (signing?.mode === "kms" && args.signingKmsKeyArn === undefined)
        errors.push({
            propertyPath: "signingKmsKeyArn",
            reason: `fleet ${name} is in a cluster whose signing is mode kms: pass the key's ARN in ${fleet.region} (ClusterSigningKey.arnIn)`,
        });
    const tags = { ...(args.tags ?? {}), ...fleet.tags };
    const signingPaths = signingParameterPaths(physical, signing ?? {});
    const build = (values: StackOutputValues): Record<string, string> => {
        // The agents' `fleet=` tag is the first name too: it is in the launch template.
        const params = toStackParameters(
            { ...fleet, name: physical },
            {
                tokenParameterPath: tokenParameterPath(physical),
                tokenKeyId: values.tokenKeyId,
                secretsBucket: values.secretsBucket,
                secretsBucketRegion: fleet.region,
                bootstrapScriptUrl: values.bootstrapScriptUrl,
                instanceRoleArn: values.instanceRoleArn,
                agentEnvFileUrl: values.agentEnvFileUrl,
                costAllocationTag: costAllocationTag(tags),
            },
        );
        if (signing !== undefined)
            Object.assign(
                params,
                signingStackParameters(signing, signingPaths),
                kmsStackParameters(signing, values.signingKeyArn),
            );
        return params;
    };
    const standIn = (tag: string): StackOutputValues => ({
        secretsBucket: `stand-in-${tag}`,
        bootstrapScriptUrl: `s3://stand-in-${tag}/bootstrap.sh`,
        instanceRoleArn: `arn:aws:iam::000000000000:role/stand-in-${tag}`,
        agentEnvFileUrl: `s3://stand-in-${tag}/env`,
        tokenKeyId: `stand-in-${tag}`,
        signingKeyArn: `arn:aws:kms:${fleet.region}:000000000000:key/stand-in-${tag}`,
    });
    const [a, b] = [build(standIn("a")), build(standIn("b"))];
    const plain = Object.keys(a).filter((k) => k in b && a[k] === b[k]);
    for (const problem of checkParameters(Object.fromEntries(plain.map((k) => [k, a[k]]))))
        errors.push({
            propertyPath: "fleet",
            reason: `${problem} (the Elastic CI Stack template the platform pins): fix fleet ${name} in ci-platform:fleets`,
        });
    if (errors.length > 0)
        throw new pulumi.InputPropertiesError({
            message: `AWS fleet "${name}" has invalid inputs: ${errors.map((e) => e.propertyPath).join(", ")}`,
            errors,
        });
    return { build, plain };
}

/**
 * One agent fleet. For `kind: aws`: a cluster agent token kept in SSM Parameter Store as a SecureString under the
 * (region, cluster) token key, the instances' IAM role (ours, passed as InstanceRoleARN, so the stack creates none)
 * with its policy, the fleet's bootstrap script, and Buildkite's Elastic CI Stack as a CloudFormation stack at the
 * pinned release. For `kind: static`: the token only.
 */
export class AgentFleet extends pulumi.ComponentResource {
    /** The fleet's queue key. */
    public readonly queue: string;
    /** The agent token. Secret. */
    public readonly token: pulumi.Output<string>;
    /** What an AWS fleet adds; undefined for a static fleet. */
    public readonly aws?: AwsFleetStack;

    /**
     * @param name The _unique_ name of the fleet (its config name).
     * @param args The fleet's config and wiring.
     * @param opts Options; pass the region's AWS provider and the Buildkite provider in `providers`, and children
     *   inherit them (the agent token is a Buildkite resource).
     */
    constructor(name: string, args: AgentFleetArgs, opts?: pulumi.ComponentResourceOptions) {
        // A static fleet's machines hold their own secrets and checkout credentials; the component records what they
        // are declared to hold (names, never values), so the policy pack can check it from the plan alone.
        // Earlier names (`renamedFrom`) alias the component and each child under the old component: a rename keeps
        // every object. Physical names come from `physicalName` (naming.ts fleetPhysicalName), so nothing the
        // provider replaces on change moves either. The name it was first deployed under comes first: the engine
        // keeps an autonamed child's name (the role's) from its state, and the offline plan takes the first alias as
        // that name (scripts/plan/capture.ts aliasUrns).
        const first = fleetPhysicalName(args.fleet);
        const previous = [...new Set([...(first === args.fleet.name ? [] : [first]), ...args.fleet.renamedFrom])];
        // Its signing too (mode, failure behaviour, whether it signs, the reason for off or warn), for the policy pack.
        const signing = { signing: signingDeclaration(args.signing) };
        const recorded = args.fleet.kind === "static" ? { ...staticFleetDeclaration(args.fleet), ...signing } : signing;
        super(TYPES.fleet, name, recorded, {
            ...opts,
            aliases: [...(opts?.aliases ?? []), ...renamedComponentAliases(previous)],
        });
        const fleet = args.fleet;
        this.queue = fleet.queue;
        const physical = first;
        /** A child's options: parented here, aliased to its old name under each old name of the fleet. */
        const child = (role: string): pulumi.CustomResourceOptions => ({
            parent: this,
            aliases: renamedChildAliases({ type: TYPES.fleet, previous, parent: opts?.parent }, (old) =>
                childName(old, role),
            ),
        });

        // Input errors first, before any child is declared and outside every `apply`: in a preview the outputs an
        // apply waits for may be unknown, and then the apply never runs (@pulumi/pulumi 3.276.0 output.js
        // applyHelperAsync: an unknown output does not run its callback), so a check there would be skipped.
        const stackInputs = fleet.kind === "aws" ? checkAwsFleetInputs(name, args, physical) : undefined;

        // Built from the first name, the queue and the region only: no free text (a static fleet's `location` was
        // here, and descriptions are for people, not a reason to touch the token). terraform-provider-buildkite
        // v1.32.0 buildkite/resource_cluster_agent_token.go updates `description` in place (only `cluster_id` has a
        // RequiresReplace since v1.27.1; before, a changed description created a new token and revoked the old one).
        const where = fleet.kind === "aws" ? ` in ${fleet.region}` : "";
        const token = new buildkite.cluster.ClusterAgentToken(
            childName(name, "token"),
            { clusterId: args.clusterId, description: `ci-platform fleet ${physical} (queue ${fleet.queue}${where})` },
            child("token"),
        );
        this.token = pulumi.secret(token.token);

        if (fleet.kind === "aws") {
            const { region, renderBootstrap, templateUrl, accountId, secrets, allowlist } = args;
            // Checked by checkAwsFleetInputs; the narrowing for the compiler.
            if (
                !region ||
                !renderBootstrap ||
                !templateUrl ||
                accountId === undefined ||
                !secrets ||
                !allowlist ||
                !stackInputs
            )
                throw new pulumi.ResourceError(`AWS fleet "${name}" lacks inputs checkAwsFleetInputs requires`, this);
            const tags = { ...(args.tags ?? {}), ...fleet.tags };

            const parameterPath = tokenParameterPath(physical);
            const parameter = new aws.ssm.Parameter(
                childName(name, "token-parameter"),
                {
                    name: parameterPath,
                    description: `Buildkite agent token of fleet ${physical}`,
                    type: "SecureString",
                    keyId: region.tokenKeyArn,
                    value: this.token,
                },
                // Kept: the path is fixed, and SSM parameter names are unique per account and region, so the same-region
                // replacement `npm run dr -- --fleet` runs would clash with the old one if it were created first. A
                // move to another region never replaces it: the dr runbook drops the lost region's resources from
                // the state before the config edit (scripts/dr/evacuation.ts, the jq state filter).
                { ...child("token-parameter"), deleteBeforeReplace: true },
            );

            // Signed pipelines: the verification set for every fleet of a signing cluster, the private set for those
            // that run uploads (components/signing/fleets.ts). SecureStrings (agent-token-securestring) under the AWS
            // managed key; the private set stays a Pulumi secret end to end. Their paths carry a digest of the key
            // set, so a rotation is a new stack parameter and rolls the fleet (signingParameterPaths). Retained, as the
            // bootstrap script is: if the stack update fails, CloudFormation rolls back to the old path, and
            // instances launched then must still read it; `overwrite` lets a path come back (a reverted key set, or
            // the same-path replacement `npm run dr -- --fleet` runs) over the retained one (@pulumi/aws 7.48.0
            // ssm.Parameter `overwrite`: overwrites a parameter the stack does not manage). A replacement here
            // (deleteBeforeReplace) does not replace the stack: it takes the paths as plain strings and names the
            // parameters only in dependsOn (pulumi/pulumi pkg/resource/deploy/step_generator.go
            // calculateDependentReplacements: a dependent none of whose inputs depends on the replaced resource stays).
            const fleetSigning = args.signing;
            const signingPaths = signingParameterPaths(physical, fleetSigning ?? {});
            const kept = { deleteBeforeReplace: true, retainOnDelete: true };
            const signingParameters: aws.ssm.Parameter[] = [];
            if (fleetSigning?.mode === "jwks") {
                signingParameters.push(
                    new aws.ssm.Parameter(
                        childName(name, "verification-jwks"),
                        {
                            name: signingPaths.verification,
                            description: `Public keys that fleet ${physical} verifies pipeline signatures with`,
                            type: "SecureString",
                            value: fleetSigning.verificationJwks ?? "",
                            overwrite: true,
                        },
                        { ...child("verification-jwks"), ...kept },
                    ),
                );
                if (fleetSigning.signs && args.signingJwks !== undefined) {
                    signingParameters.push(
                        new aws.ssm.Parameter(
                            childName(name, "signing-jwks"),
                            {
                                name: signingPaths.signing,
                                description: `Private key that fleet ${physical} signs uploaded steps with`,
                                type: "SecureString",
                                value: pulumi.secret(args.signingJwks),
                                overwrite: true,
                            },
                            { ...child("signing-jwks"), ...kept },
                        ),
                    );
                }
            }
            // Every version of the paths: a rollback boots with the previous one (signingParameterPatterns).
            const kmsKeyArn = pulumi.output(args.signingKmsKeyArn ?? "");
            const signingReads =
                fleetSigning?.mode === "jwks" ? signingParameterPatterns(physical, fleetSigning.signs) : [];

            // Our hooks are bash; the Elastic CI Stack runs a Windows instance's BootstrapScriptUrl with PowerShell.
            // So a Windows fleet gets no bootstrap script (BootstrapScriptUrl "", the template's default) and
            // runs without our hooks: see `installsHooks`.
            // A Linux fleet's allow-list object: a fixed key, so a change of the pipelines the fleet serves is an in-place
            // update of this one object (terraform-provider-aws internal/service/s3/object.go: `key` is ForceNew,
            // `content` is not) and touches neither the bootstrap script nor the stack's parameters. The
            // pre-bootstrap hook reads it for every job (hooks/pre-bootstrap).
            const allowlistKey = installsHooks(fleet.os) ? allowlistObjectKey(physical) : undefined;
            const allowlistObject =
                allowlistKey === undefined
                    ? undefined
                    : new aws.s3.BucketObjectv2(
                          childName(name, "allowlist"),
                          {
                              bucket: region.secretsBucketName,
                              key: allowlistKey,
                              content: allowlistObjectContent(allowlist),
                              contentType: "text/plain",
                              serverSideEncryption: "aws:kms",
                              kmsKeyId: region.secretsKeyArn,
                              bucketKeyEnabled: true,
                          },
                          child("allowlist"),
                      );
            const bootstrap = installsHooks(fleet.os)
                ? pulumi.all([region.secretsBucketName, accountId]).apply(([bucket, account]) => {
                      const rendered = renderBootstrap({
                          bucket,
                          region: fleet.region,
                          bundleHash: region.hooksHash,
                          bundlePrefix: region.hooksPrefix,
                          fleet: {
                              // The first name: the bootstrap key and content carry it (CI_PLATFORM_FLEET), and
                              // a new key is a new launch template, which rolls every instance.
                              name: physical,
                              queue: fleet.queue,
                              region: fleet.region,
                              os: fleet.os,
                              ecrRegistry: `${account}.dkr.ecr.${fleet.region}.amazonaws.com`,
                              agentsPerInstance: fleet.agentsPerInstance,
                              stepsUseInstanceRole: fleet.stepsUseInstanceRole,
                          },
                          allowlist,
                          allowlistKey: allowlistObjectKey(physical),
                      });
                      if (!rendered.key || rendered.key.startsWith("/"))
                          throw new pulumi.ResourceError(
                              `bootstrap key "${rendered.key}" of fleet ${name} is not an object key`,
                              this,
                          );
                      return rendered;
                  })
                : undefined;
            const bootstrapObject =
                bootstrap &&
                new aws.s3.BucketObjectv2(
                    childName(name, "bootstrap"),
                    {
                        bucket: region.secretsBucketName,
                        key: bootstrap.key,
                        content: bootstrap.content,
                        contentType: "text/x-shellscript",
                        serverSideEncryption: "aws:kms",
                        kmsKeyId: region.secretsKeyArn,
                        bucketKeyEnabled: true,
                    },
                    // Retained: a hook change gives the script a new key (it names the bundle hash), and CloudFormation
                    // rolls the instances to it; if that update fails and rolls back, the stack's BootstrapScriptUrl is
                    // the old key again, and instances launched then must still find that script. The bucket is
                    // emptied when it goes (forceDestroy), so a retained object never outlives it.
                    { ...child("bootstrap"), retainOnDelete: true },
                );
            const bootstrapScriptUrl = bootstrapObject
                ? pulumi.interpolate`s3://${region.secretsBucketName}/${bootstrapObject.key}`
                : pulumi.output("");

            // A fleet without our hooks (Windows) still gets the agent's own allow-list: the Elastic CI Stack loads
            // AgentEnvFileUrl into the agent's environment (v6.71.1 bk-install-elastic-stack.ps1: nssm
            // AppEnvironmentExtra, one line each), and the agent reads BUILDKITE_ALLOWED_REPOSITORIES from it
            // (buildkite/agent v3.137.0 clicommand/agent_start.go). A Linux fleet's bootstrap script writes the same
            // value into the agent config instead (hooks/bootstrap.sh, set_allowed_repositories).
            const agentEnv = installsHooks(fleet.os)
                ? undefined
                : {
                      key: agentEnvObjectKey(physical, agentEnvFileContent(allowlist)),
                      content: agentEnvFileContent(allowlist),
                  };
            const agentEnvObject =
                agentEnv &&
                new aws.s3.BucketObjectv2(
                    childName(name, "agent-env"),
                    {
                        bucket: region.secretsBucketName,
                        key: agentEnv.key,
                        content: agentEnv.content,
                        contentType: "text/plain",
                        serverSideEncryption: "aws:kms",
                        kmsKeyId: region.secretsKeyArn,
                        bucketKeyEnabled: true,
                    },
                    // Retained, as the bootstrap script is: a new served set gives it a new key and rolls the fleet,
                    // and a rollback of that update points instances at this one again.
                    { ...child("agent-env"), retainOnDelete: true },
                );
            const agentEnvFileUrl = agentEnvObject
                ? pulumi.interpolate`s3://${region.secretsBucketName}/${agentEnvObject.key}`
                : pulumi.output("");

            const ecrRegions = [fleet.region, ...(args.extraEcrRegions ?? [])];
            const stackName = cloudFormationStackName(physical);
            // The stack builds the instance profile around this role (templates/aws-stack.yml IAMInstanceProfile:
            // Roles is the role name taken from InstanceRoleARN) and creates no IAMRole/IAMPolicies (both
            // `Condition: CreateIAMRole`), so ManagedPolicyARNs and the ECRAccessPolicy managed policy would be
            // ignored there, and InstanceRolePermissionsBoundaryARN reaches only the stack's other roles
            // (stack-parameters.ts): the boundary and the config's managed policies go on this role as well.
            const role = new aws.iam.Role(
                childName(name, "role"),
                {
                    description: `Instances of ci-platform fleet ${physical} (queue ${fleet.queue} in ${fleet.region})`,
                    assumeRolePolicy: JSON.stringify(instanceTrustPolicy()),
                    ...(fleet.permissionsBoundary !== undefined
                        ? { permissionsBoundary: fleet.permissionsBoundary }
                        : {}),
                    tags: { ...tags, "ci-platform:fleet": physical },
                },
                child("role"),
            );
            const policy = new aws.iam.Policy(
                childName(name, "policy"),
                {
                    // ForceNew (terraform-provider-aws v6 internal/service/iam/policy.go `description`): from the first
                    // name and the region only, so neither a rename nor an edit of prose replaces the policy.
                    description: `Instances of fleet ${physical}: read the ${fleet.region} secrets bucket, pull images from ECR`,
                    policy: pulumi
                        .all([region.secretsBucketArn, region.secretsKeyArn, region.tokenKeyArn, accountId, kmsKeyArn])
                        .apply(([secretsBucketArn, secretsKeyArn, tokenKeyArn, account, signingKeyArn]) =>
                            JSON.stringify(
                                fleetPolicyDocument({
                                    secretsBucketArn,
                                    secretsKeyArn,
                                    tokenKeyArn,
                                    tokenParameterPath: parameterPath,
                                    stackName,
                                    region: fleet.region,
                                    accountId: account,
                                    secrets,
                                    ecrRepositories: args.ecrRepositories ?? [],
                                    ecrRegions,
                                    hooks: bootstrap === undefined ? undefined : { fleetName: physical, allowlistKey },
                                    agentEnvFleetName: agentEnv === undefined ? undefined : physical,
                                    signingParameterPaths: signingReads,
                                    ...(fleetSigning?.mode === "kms"
                                        ? { signingKms: { keyArn: signingKeyArn, sign: fleetSigning.signs } }
                                        : {}),
                                }),
                            ),
                        ),
                },
                child("policy"),
            );
            const attachments = [
                new aws.iam.RolePolicyAttachment(
                    childName(name, "policy-attachment"),
                    { role: role.name, policyArn: policy.arn },
                    child("policy-attachment"),
                ),
                ...[...new Set(fleet.managedPolicyArns)].map(
                    (arn) =>
                        new aws.iam.RolePolicyAttachment(
                            childName(name, managedPolicyAttachmentRole(arn)),
                            { role: role.name, policyArn: arn },
                            child(managedPolicyAttachmentRole(arn)),
                        ),
                ),
            ];

            const parameters = pulumi
                .all([
                    region.secretsBucketName,
                    bootstrapScriptUrl,
                    role.arn,
                    agentEnvFileUrl,
                    region.tokenKeyId,
                    kmsKeyArn,
                ])
                .apply(([secretsBucket, bootstrapScriptUrl, roleArn, agentEnvFileUrl, tokenKeyId, signingKeyArn]) => {
                    const params = stackInputs.build({
                        secretsBucket,
                        bootstrapScriptUrl,
                        instanceRoleArn: roleArn,
                        agentEnvFileUrl,
                        tokenKeyId,
                        signingKeyArn,
                    });
                    // The plain parameters were checked before any child was declared; these are the values other
                    // resources gave (bucket, role, key, object URLs).
                    const problems = checkParameters(
                        Object.fromEntries(Object.entries(params).filter(([k]) => !stackInputs.plain.includes(k))),
                    );
                    if (problems.length > 0)
                        throw new pulumi.ResourceError(
                            `the Elastic CI Stack parameters of fleet ${name} do not fit the pinned template:\n  ${problems.join("\n  ")}`,
                            this,
                        );
                    return params;
                });
            const stack = new aws.cloudformation.Stack(
                childName(name, "stack"),
                {
                    name: stackName,
                    templateUrl,
                    capabilities: [...ELASTIC_STACK_CAPABILITIES],
                    parameters,
                    tags: { ...tags, "ci-platform:fleet": physical },
                },
                {
                    ...child("stack"),
                    // Kept for the same reason as the token parameter's: CloudFormation stack names are unique per
                    // account and region, and the name is fixed (cloudFormationStackName).
                    deleteBeforeReplace: true,
                    // The instances boot with the role's grants in place and every object they read already written:
                    // the token; the bootstrap script, which bk-install-elastic-stack.sh fetches at boot
                    // (elastic-ci-stack-for-aws v6.71.1 packer/linux/stack/conf/bin/bk-install-elastic-stack.sh:
                    // bk-fetch.sh "$BUILDKITE_ELASTIC_BOOTSTRAP_SCRIPT"), and the hooks bundle it installs; a
                    // Windows fleet's agent env file (same tag, bk-install-elastic-stack.ps1: bk-fetch.ps1
                    // "$Env:BUILDKITE_ENV_FILE_URL"); and the secrets objects its jobs read from the first job on
                    // (elastic-ci-stack-s3-secrets-hooks v2.8.0 s3secrets-helper/secrets/secrets.go: the environment
                    // hook reads <prefix>/private_ssh_key, env, secret-files/, git-credentials). With minSize >= 1 an
                    // instance starts as soon as the stack exists.
                    dependsOn: [
                        parameter,
                        ...signingParameters,
                        ...attachments,
                        ...(args.queue ? [args.queue] : []),
                        ...(bootstrapObject ? [bootstrapObject] : []),
                        ...(allowlistObject ? [allowlistObject] : []),
                        ...(agentEnvObject ? [agentEnvObject] : []),
                        ...(args.bootObjects ?? []),
                    ],
                },
            );

            this.aws = {
                region: fleet.region,
                stackName: stack.name,
                tokenParameter: parameterPath,
                tokenParameterArn: pulumi
                    .output(accountId)
                    .apply((account) => parameterArn("aws", fleet.region, account, parameterPath)),
                roleArn: role.arn,
                secretsBucket: pulumi.output(region.secretsBucketName),
                bootstrapScriptUrl,
            };
        }

        // The recorded declaration is among its outputs too: a real preview's stack policy reads those
        // (@pulumi/policy PolicyResource.props), not the component's inputs.
        this.registerOutputs({ ...recorded, queue: this.queue, token: this.token, ...this.aws });
    }
}
