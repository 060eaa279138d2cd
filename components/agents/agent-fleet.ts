import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as buildkite from "@pulumiverse/buildkite";
import type { FleetConfig, StaticFleetConfig } from "../config/schema";
import { ELASTIC_STACK_CAPABILITIES } from "./elastic-stack-template";
import { fleetPolicyDocument } from "./iam-policy";
import { childName, cloudFormationStackName, installsHooks, tokenParameterPath, TYPES } from "./naming";
import { checkParameters, costAllocationTag, toStackParameters } from "./stack-parameters";

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
}

/** Renders the boot script that installs the hooks bundle beside the stack's own hooks: its object key and body. */
export type RenderBootstrap = (request: BootstrapRequest) => { readonly key: string; readonly content: string };

/** The region-level resources an AWS fleet uses. */
export interface FleetRegionWiring {
    /** The region's secrets bucket name. */
    readonly secretsBucketName: pulumi.Input<string>;
    /** The region's secrets bucket ARN. */
    readonly secretsBucketArn: pulumi.Input<string>;
    /** ARN of the region's secrets KMS key; also encrypts the agent token parameter. */
    readonly secretsKeyArn: pulumi.Input<string>;
    /** Id of the same key. */
    readonly secretsKeyId: pulumi.Input<string>;
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
    /** Organisation-wide tags; the fleet's own tags are merged over them. Defaults to none. */
    readonly tags?: Readonly<Record<string, string>>;
}

/** The inputs a static fleet's component records: what its machines provide themselves. */
export function staticFleetDeclaration(fleet: StaticFleetConfig): {
    providesSecrets: string[];
    checkoutCredentials: string[];
} {
    return { providesSecrets: [...fleet.providesSecrets], checkoutCredentials: [...fleet.checkoutCredentials] };
}

/**
 * One agent fleet. For `kind: aws`: a cluster agent token kept in SSM Parameter Store as a SecureString under the
 * region's secrets key, an IAM managed policy for the instances, the fleet's bootstrap script, and Buildkite's
 * Elastic CI Stack as a CloudFormation stack at the pinned release. For `kind: static`: the token only.
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
        super(TYPES.fleet, name, args.fleet.kind === "static" ? staticFleetDeclaration(args.fleet) : {}, opts);
        const fleet = args.fleet;
        this.queue = fleet.queue;

        const where = fleet.kind === "aws" ? ` in ${fleet.region}` : fleet.location ? ` at ${fleet.location}` : "";
        const token = new buildkite.cluster.ClusterAgentToken(
            childName(name, "token"),
            { clusterId: args.clusterId, description: `ci-platform fleet ${name} (queue ${fleet.queue}${where})` },
            { parent: this },
        );
        this.token = pulumi.secret(token.token);

        if (fleet.kind === "aws") {
            const { region, renderBootstrap, templateUrl, accountId } = args;
            const missing = (
                [
                    ["region", region],
                    ["renderBootstrap", renderBootstrap],
                    ["templateUrl", templateUrl],
                    ["accountId", accountId],
                ] as const
            ).filter(([, v]) => v === undefined);
            if (!region || !renderBootstrap || !templateUrl || accountId === undefined)
                throw new pulumi.ResourceError(
                    `AWS fleet "${name}" needs ${missing.map(([k]) => k).join(", ")} in its args`,
                    this,
                );
            const tags = { ...(args.tags ?? {}), ...fleet.tags };

            const parameterPath = tokenParameterPath(name);
            const parameter = new aws.ssm.Parameter(
                childName(name, "token-parameter"),
                {
                    name: parameterPath,
                    description: `Buildkite agent token of fleet ${name}`,
                    type: "SecureString",
                    keyId: region.secretsKeyArn,
                    value: this.token,
                },
                // Kept: the path is fixed, and SSM parameter names are unique per account and region, so the same-region
                // replacement `npm run dr -- --fleet` runs would clash with the old one if it were created first. A
                // move to another region never replaces it: the dr runbook drops the lost region's resources from
                // the state before the config edit (components/agents/recovery.ts, evacuationStateDeletes).
                { parent: this, deleteBeforeReplace: true },
            );

            // Our hooks are bash; the Elastic CI Stack runs a Windows instance's BootstrapScriptUrl with PowerShell.
            // So a Windows fleet gets no bootstrap script (BootstrapScriptUrl "", the template's default) and
            // runs without our hooks: see `installsHooks`.
            const bootstrap = installsHooks(fleet.os)
                ? pulumi.all([region.secretsBucketName, accountId]).apply(([bucket, account]) => {
                      const rendered = renderBootstrap({
                          bucket,
                          region: fleet.region,
                          bundleHash: region.hooksHash,
                          bundlePrefix: region.hooksPrefix,
                          fleet: {
                              name,
                              queue: fleet.queue,
                              region: fleet.region,
                              os: fleet.os,
                              ecrRegistry: `${account}.dkr.ecr.${fleet.region}.amazonaws.com`,
                              agentsPerInstance: fleet.agentsPerInstance,
                              stepsUseInstanceRole: fleet.stepsUseInstanceRole,
                          },
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
                    { parent: this },
                );
            const bootstrapScriptUrl = bootstrapObject
                ? pulumi.interpolate`s3://${region.secretsBucketName}/${bootstrapObject.key}`
                : pulumi.output("");

            const ecrRegions = [fleet.region, ...(args.extraEcrRegions ?? [])];
            const policy = new aws.iam.Policy(
                childName(name, "policy"),
                {
                    description: `Instances of fleet ${name}: read the ${fleet.region} secrets bucket, pull images from ECR`,
                    policy: pulumi
                        .all([region.secretsBucketArn, region.secretsKeyArn, accountId, bootstrap?.key])
                        .apply(([secretsBucketArn, secretsKeyArn, account, bootstrapKey]) =>
                            JSON.stringify(
                                fleetPolicyDocument({
                                    secretsBucketArn,
                                    secretsKeyArn,
                                    region: fleet.region,
                                    accountId: account,
                                    ecrRegions,
                                    hooks:
                                        bootstrapKey === undefined
                                            ? undefined
                                            : { bundlePrefix: region.hooksPrefix, bootstrapKey },
                                }),
                            ),
                        ),
                },
                { parent: this },
            );

            const parameters = pulumi
                .all([region.secretsBucketName, region.secretsKeyId, bootstrapScriptUrl, policy.arn])
                .apply(([secretsBucket, keyId, bootstrapScriptUrl, policyArn]) => {
                    const params = toStackParameters(fleet, {
                        tokenParameterPath: parameterPath,
                        tokenParameterKmsKeyId: keyId,
                        secretsBucket,
                        secretsBucketRegion: fleet.region,
                        bootstrapScriptUrl,
                        managedPolicyArns: [policyArn],
                        costAllocationTag: costAllocationTag(tags),
                    });
                    const problems = checkParameters(params);
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
                    name: cloudFormationStackName(name),
                    templateUrl,
                    capabilities: [...ELASTIC_STACK_CAPABILITIES],
                    parameters,
                    tags: { ...tags, "ci-platform:fleet": name },
                },
                {
                    parent: this,
                    // Kept for the same reason as the token parameter's: CloudFormation stack names are unique per
                    // account and region, and the name is fixed (cloudFormationStackName).
                    deleteBeforeReplace: true,
                    dependsOn: [parameter, ...(args.queue ? [args.queue] : [])],
                },
            );

            this.aws = {
                region: fleet.region,
                stackName: stack.name,
                tokenParameter: parameterPath,
                secretsBucket: pulumi.output(region.secretsBucketName),
                bootstrapScriptUrl,
            };
        }

        this.registerOutputs({ queue: this.queue, token: this.token, ...this.aws });
    }
}
