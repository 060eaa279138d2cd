import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { REPOSITORY_PREFIX } from "./image-ref";
import { DEFAULT_KEEP_VERSIONS, lifecyclePolicy, pullPolicy, replicationRule } from "./registry";

/** The inputs of the registry's replication. */
export interface ImageReplicationArgs {
    /** Destination regions, from `replicationRegions(config)`: every AWS fleet region except home, sorted. */
    readonly regions: readonly string[];
    /** The AWS account id (replication stays in the account). */
    readonly accountId: pulumi.Input<string>;
    /** ARNs of the roles allowed to pull the replicas; the account root when empty. */
    readonly pullerRoleArns: pulumi.Input<string>[];
    /** How many versions the replicas keep. Defaults to 10 (with {@link variantCount}). */
    readonly keepVersions?: number;
    /** The largest number of variants of any image, so the replicas' lifecycle keeps as many versions as home. */
    readonly variantCount: number;
    /** Tags for the repositories that replication creates. */
    readonly tags?: Readonly<Record<string, string>>;
}

/**
 * ECR replication from the home registry to every fleet region: one registry-level replication configuration
 * (it replaces any other the home registry has), filtered to `ci-platform/` repositories; and in each destination
 * region a repository creation template, so the repositories replication creates there get the same settings as
 * home (immutable tags, KMS, lifecycle, pull policy) instead of ECR's defaults. Declares nothing when every fleet
 * is in the home region. The component's provider is the home region's; each template names its own `region`.
 */
export class ImageReplication extends pulumi.ComponentResource {
    /** The replication configuration, or undefined when there is nowhere to replicate to. */
    public readonly configuration: aws.ecr.ReplicationConfiguration | undefined;
    /** The destination regions. */
    public readonly regions: readonly string[];

    /**
     * @param name The _unique_ name of the resource.
     * @param args The arguments to use to populate this resource's properties.
     * @param opts A bag of options that control this resource's behavior.
     */
    constructor(name: string, args: ImageReplicationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ci-platform:images:Replication", name, { regions: [...args.regions] }, opts);
        this.regions = [...args.regions];
        if (this.regions.length > 0) {
            const keepVersions = args.keepVersions ?? DEFAULT_KEEP_VERSIONS;
            this.configuration = new aws.ecr.ReplicationConfiguration(
                `${name}-configuration`,
                {
                    replicationConfiguration: {
                        rules: [
                            pulumi
                                .output(args.accountId)
                                .apply(
                                    (account) =>
                                        replicationRule(
                                            this.regions,
                                            account,
                                        ) as aws.types.input.ecr.ReplicationConfigurationReplicationConfigurationRule,
                                ),
                        ],
                    },
                },
                { parent: this },
            );
            const policy = pulumi
                .all([pulumi.output(args.pullerRoleArns), args.accountId])
                .apply(([arns, account]) => JSON.stringify(pullPolicy(arns, account)));
            for (const region of this.regions) {
                new aws.ecr.RepositoryCreationTemplate(
                    `${name}-${region}`,
                    {
                        region,
                        prefix: REPOSITORY_PREFIX.replace(/\/$/, ""),
                        appliedFors: ["REPLICATION"],
                        description: "Replicas of the ci-platform agent images",
                        imageTagMutability: "IMMUTABLE",
                        encryptionConfigurations: [{ encryptionType: "KMS" }],
                        lifecyclePolicy: JSON.stringify(lifecyclePolicy(keepVersions, args.variantCount)),
                        repositoryPolicy: policy,
                        resourceTags: { ...args.tags },
                    },
                    { parent: this },
                );
            }
        }
        this.registerOutputs({ regions: this.regions });
    }
}
