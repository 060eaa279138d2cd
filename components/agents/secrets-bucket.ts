import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { SecretsConfig } from "../config/schema";
import { secretsBucketPolicyDocument } from "./iam-policy";
import { secretsKeyPolicy, TokenReader, tokenKeyPolicy } from "./key-policy";
import { hookObjects, HooksBundleFiles } from "./hook-objects";
import { childName, hooksKeyPrefix, scalerRolePattern, secretObjectName, TYPES } from "./naming";
import { secretObjectContents, secretObjectMetadata, secretObjects } from "./secret-objects";

export type { HooksBundleFiles } from "./hook-objects";

/**
 * The resource options every child of a {@link SecretsBucket} has, the bucket and keys included: none is protected or
 * retained on delete, so removing the (region, cluster) deletes the bucket as a whole (see {@link SecretsBucket}).
 */
export const SECRETS_BUCKET_STANCE = { protect: false, retainOnDelete: false } as const;

/**
 * Days a secrets or agent-token key waits, unusable, between its deletion from the stack and AWS deleting it: the
 * longest window KMS allows, to notice a mistake (@pulumi/aws 7.48.0 kms/key.d.ts `deletionWindowInDays`: "After the
 * waiting period ends, AWS KMS deletes the KMS key", 7 to 30).
 */
export const KEY_DELETION_WINDOW_DAYS = 30;

/** Inputs of a {@link SecretsBucket}: one per (region, cluster) with AWS fleets. */
export interface SecretsBucketArgs {
    /** The region the bucket is in (the component's provider must be that region's). */
    readonly region: string;
    /** The Buildkite cluster whose fleets in the region read the bucket, and no other cluster's. */
    readonly cluster: string;
    /** Which secrets the bucket holds (`ci-platform:secrets` names; values are placeholders): object keys, metadata. */
    readonly secrets: SecretsConfig;
    /** The same secrets' values, a Pulumi secret since they were read (config `loadStackSecrets`): the bodies. */
    readonly secretValues: pulumi.Output<SecretsConfig>;
    /** The agent hooks, uploaded under a content-addressed prefix. */
    readonly hooksBundle: HooksBundleFiles;
    /** Days after which a replaced or deleted object version is expired. */
    readonly noncurrentVersionExpirationDays: number;
}

/** A fleet that reads a {@link SecretsBucket}: wired in by {@link SecretsBucket.grantFleets} once the fleets exist. */
export interface BucketReader {
    /** The fleet's name. */
    readonly fleet: string;
    /** The fleet's instance role. */
    readonly roleArn: pulumi.Input<string>;
    /** ARN of the fleet's agent-token parameter, which the token key encrypts. */
    readonly tokenParameterArn: pulumi.Input<string>;
    /** Whether the fleet's stack runs a scaler (MinSize != MaxSize), whose role reads the token too. */
    readonly scaled: boolean;
}

/** Who, besides the fleets, may use the keys (key-policy.ts). Names and ARNs from config, so plain values. */
export interface KeyPrincipals {
    /** Names of the `deploy` roles of `ci-platform:deployRoles` (path `/`): they write secrets and tokens. */
    readonly deployRoleNames: readonly string[];
    /** Names of the `read` roles: they read the token parameters back, decrypted, through SSM. */
    readonly readRoleNames: readonly string[];
    /** `ci-platform:kmsAdministrators`: break-glass principals (ARNs) that write like the deploy roles. */
    readonly administratorArns: readonly string[];
}

/**
 * The secrets bucket of one cluster's fleets in one region, and the cluster's agent-token key there: its own KMS
 * keys (one for the objects, one for the fleets' token parameters, so that decrypting one never decrypts the
 * other), versioning, SSE-KMS, public access blocked, TLS-only, old versions
 * expired. Holds the objects the Elastic CI Stack's secrets hooks read (from `ci-platform:secrets`, so a rebuilt
 * region gets every secret back) and our hooks bundle.
 *
 * The bucket lives and dies whole ({@link SECRETS_BUCKET_STANCE}): removing the (region, cluster) from the config
 * deletes the bucket with every object version in it and schedules both keys for deletion; nothing of it is protected
 * or retained. Everything it holds is derived: the secrets from `ci-platform:secrets`, the hooks from this repository,
 * the token parameters' ciphertexts from the fleets' tokens (recreated with the fleets). So deleting loses nothing a
 * later `pulumi up` cannot write again, while keeping it would keep every secret the config no longer holds:
 * - keeping only the bucket and keys (as before) dropped versioning, encryption, the public-access block, the TLS-only
 *   policy and the lifecycle rule with the region, and left every secret as a noncurrent version that never expires,
 *   in an orphaned bucket whose key still decrypts it; re-adding the region made a second bucket beside it;
 * - keeping every guard too would protect the objects, and a hooks change (a new content-addressed key, which
 *   replaces the object) would then stop every `pulumi up` at a protected replacement.
 * An accidental removal costs a fleet rebuild, not data: re-adding the region creates a new bucket and keys and
 * uploads every object again. The keys wait {@link KEY_DELETION_WINDOW_DAYS} days, unusable (AWS KMS Developer Guide,
 * "Deleting AWS KMS keys": a key pending deletion cannot be used in any cryptographic operation), before AWS deletes
 * them; `aws kms cancel-key-deletion` takes one back within that window if something outside the stack still needs
 * it. Re-adding never piles up orphans: nothing is left behind to collide with or to re-adopt. With the region down
 * the runbook drops the bucket from the state instead (README, "Recovery runbook"): then it stays whole in the
 * account, every guard included, until it is deleted by hand.
 */
export class SecretsBucket extends pulumi.ComponentResource {
    /** The bucket's name. */
    public readonly bucketName: pulumi.Output<string>;
    /** The bucket's ARN. */
    public readonly bucketArn: pulumi.Output<string>;
    /** ARN of the bucket's KMS key. */
    public readonly keyArn: pulumi.Output<string>;
    /** Id of the bucket's KMS key. */
    public readonly keyId: pulumi.Output<string>;
    /** ARN of the KMS key of the agent-token parameters of the cluster's fleets in the region. */
    public readonly tokenKeyArn: pulumi.Output<string>;
    /** Id of that key (the stack's BuildkiteAgentTokenParameterStoreKMSKey). */
    public readonly tokenKeyId: pulumi.Output<string>;
    /** The bucket's region. */
    public readonly region: string;
    /** The cluster whose fleets read it. */
    public readonly cluster: string;
    /** Key prefix of the hooks bundle, `_ci-platform/hooks/<hash>`. */
    public readonly hooksPrefix: string;
    /** The hooks bundle's objects: what a Linux fleet's bootstrap script fetches when an instance boots. */
    public readonly hookObjects: aws.s3.BucketObjectv2[] = [];
    /** The secrets objects, each with the pipeline it belongs to (undefined: the organisation's root objects). */
    public readonly secretObjects: { readonly pipeline?: string; readonly object: aws.s3.BucketObjectv2 }[] = [];
    private readonly componentName: string;
    private readonly secretsKey: aws.kms.Key;
    private readonly tokenKey: aws.kms.Key;

    /**
     * @param name The _unique_ name of the component, `secrets-<region>` or `secrets-<cluster>-<region>`.
     * @param args The region, cluster, secrets and hooks bundle.
     * @param opts Options; pass the region's provider in `providers` and children inherit it.
     */
    constructor(name: string, args: SecretsBucketArgs, opts?: pulumi.ComponentResourceOptions) {
        // The cluster is an input of the component so that the policy pack can tell, from the plan alone, whose
        // bucket it is (policy/invariants/secrets-cluster.ts).
        super(TYPES.secretsBucket, name, { cluster: args.cluster }, opts);
        this.componentName = name;
        // Every child, the bucket and keys included, gets the bucket's stance (policy/invariants/secrets-bucket-whole.ts).
        const whole = { parent: this, ...SECRETS_BUCKET_STANCE };

        // A rotated KMS key and its alias: one for the bucket's objects, one for the fleets' agent tokens.
        const keyWithAlias = (role: string, what: string, aliasPrefix: string): aws.kms.Key => {
            const key = new aws.kms.Key(
                childName(name, role),
                {
                    description: `ci-platform ${what} of cluster ${args.cluster} in ${args.region}`,
                    enableKeyRotation: true,
                    deletionWindowInDays: KEY_DELETION_WINDOW_DAYS,
                },
                whole,
            );
            new aws.kms.Alias(
                childName(name, `${role}-alias`),
                { namePrefix: aliasPrefix, targetKeyId: key.keyId },
                whole,
            );
            return key;
        };
        const key = keyWithAlias("key", "secrets bucket", "alias/ci-platform-secrets-");
        const tokenKey = keyWithAlias("token-key", "agent tokens", "alias/ci-platform-agent-tokens-");
        // forceDestroy: the provider deletes every object version and delete marker before the bucket, which S3 would
        // refuse while any is left (terraform-provider-aws internal/service/s3/bucket.go resourceBucketDelete: on
        // BucketNotEmpty with force_destroy, emptyBucket then delete again). Without it the delete would fail after
        // the guards, which depend on the bucket and go first, were already deleted: a bucket kept half. The flag
        // acts only once a `pulumi up` has stored it (@pulumi/aws 7.48.0 s3/bucket.d.ts `forceDestroy`): README,
        // "Recovery runbook", says to run one before removing a region from a stack created before it was set.
        const bucket = new aws.s3.Bucket(childName(name, "bucket"), { forceDestroy: true }, whole);
        new aws.s3.BucketVersioning(
            childName(name, "versioning"),
            { bucket: bucket.bucket, versioningConfiguration: { status: "Enabled" } },
            whole,
        );
        const encryption = new aws.s3.BucketServerSideEncryptionConfiguration(
            childName(name, "encryption"),
            {
                bucket: bucket.bucket,
                rules: [
                    {
                        applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn },
                        bucketKeyEnabled: true,
                    },
                ],
            },
            whole,
        );
        const publicAccess = new aws.s3.BucketPublicAccessBlock(
            childName(name, "public-access"),
            {
                bucket: bucket.bucket,
                blockPublicAcls: true,
                blockPublicPolicy: true,
                ignorePublicAcls: true,
                restrictPublicBuckets: true,
            },
            whole,
        );
        const policy = new aws.s3.BucketPolicy(
            childName(name, "policy"),
            {
                bucket: bucket.bucket,
                policy: bucket.arn.apply((arn) => JSON.stringify(secretsBucketPolicyDocument(arn))),
            },
            { ...whole, dependsOn: [publicAccess] },
        );
        new aws.s3.BucketLifecycleConfiguration(
            childName(name, "lifecycle"),
            {
                bucket: bucket.bucket,
                rules: [
                    {
                        id: "expire-noncurrent-versions",
                        status: "Enabled",
                        filter: {},
                        noncurrentVersionExpiration: { noncurrentDays: args.noncurrentVersionExpirationDays },
                        abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
                    },
                ],
            },
            whole,
        );

        const objectOpts = { ...whole, dependsOn: [encryption, policy] };
        const upload = (
            resourceName: string,
            objectKey: string,
            content: pulumi.Input<string>,
            contentType: string,
            metadata?: Record<string, string>,
            options: pulumi.CustomResourceOptions = objectOpts,
        ) =>
            new aws.s3.BucketObjectv2(
                resourceName,
                {
                    bucket: bucket.bucket,
                    key: objectKey,
                    content,
                    contentType,
                    ...(metadata ? { metadata } : {}),
                    serverSideEncryption: "aws:kms",
                    kmsKeyId: key.arn,
                    bucketKeyEnabled: true,
                },
                options,
            );
        // The variable names (never the values) go in each object's metadata, so the policy pack can check from the
        // plan alone that every secret a pipeline needs is in the bucket of every region that runs it.
        const contents = args.secretValues.apply(secretObjectContents);
        for (const object of secretObjects(args.secrets)) {
            const resource = upload(
                secretObjectName(name, object.key),
                object.key,
                pulumi.secret(
                    contents.apply((c) => {
                        const body = c[object.key];
                        if (body === undefined) throw new pulumi.ResourceError(`no value for ${object.key}`, this);
                        return body;
                    }),
                ),
                "text/plain",
                secretObjectMetadata(object),
            );
            this.secretObjects.push({ pipeline: object.pipeline, object: resource });
        }

        this.hooksPrefix = hooksKeyPrefix(args.hooksBundle.hash);
        for (const object of hookObjects(name, args.hooksBundle))
            // Retained on delete, unlike the bucket's other children: a hook change uploads a new content-addressed
            // bundle and rolls the fleets to it, and a CloudFormation rollback of that update points the instances at
            // the old bootstrap script, which installs the old bundle: both must still be there. They go with the
            // bucket (forceDestroy empties it first), so the bucket still lives and dies whole
            // (policy/invariants/secrets-bucket-whole.ts allows exactly this: retained objects in a forceDestroy bucket).
            this.hookObjects.push(
                upload(object.name, object.key, object.content, object.contentType, undefined, {
                    ...objectOpts,
                    retainOnDelete: true,
                }),
            );

        this.bucketName = bucket.bucket;
        this.bucketArn = bucket.arn;
        this.keyArn = key.arn;
        this.keyId = key.keyId;
        this.tokenKeyArn = tokenKey.arn;
        this.tokenKeyId = tokenKey.keyId;
        this.secretsKey = key;
        this.tokenKey = tokenKey;
        this.region = args.region;
        this.cluster = args.cluster;
        this.registerOutputs({
            cluster: this.cluster,
            bucketName: this.bucketName,
            bucketArn: this.bucketArn,
            keyArn: this.keyArn,
            keyId: this.keyId,
            tokenKeyArn: this.tokenKeyArn,
            tokenKeyId: this.tokenKeyId,
            region: this.region,
            hooksPrefix: this.hooksPrefix,
        });
    }

    /**
     * Sets both keys' policies, naming the instance roles of the fleets that read the bucket (see key-policy.ts).
     * Separate resources (`aws.kms.KeyPolicy`), because the roles are created after the keys: a role's policy names
     * the keys. Call once, after the fleets of the (region, cluster) exist.
     */
    grantFleets(readers: readonly BucketReader[], accountId: pulumi.Input<string>, principals: KeyPrincipals): void {
        const sorted = [...readers].sort((a, b) => (a.fleet < b.fleet ? -1 : a.fleet > b.fleet ? 1 : 0));
        const region = this.region;
        const roleArn = (account: string, name: string) => `arn:aws:iam::${account}:role/${name}`;
        const writers = (account: string) => [
            ...principals.deployRoleNames.map((n) => roleArn(account, n)),
            ...principals.administratorArns,
        ];
        new aws.kms.KeyPolicy(
            childName(this.componentName, "key-policy"),
            {
                keyId: this.secretsKey.keyId,
                policy: pulumi
                    .all([accountId, this.bucketArn, pulumi.all(sorted.map((r) => r.roleArn))])
                    .apply(([account, bucketArn, roles]) =>
                        JSON.stringify(
                            secretsKeyPolicy({
                                accountId: account,
                                region,
                                bucketArn,
                                fleetRoleArns: roles,
                                writers: writers(account),
                            }),
                        ),
                    ),
            },
            { parent: this, ...SECRETS_BUCKET_STANCE },
        );
        new aws.kms.KeyPolicy(
            childName(this.componentName, "token-key-policy"),
            {
                keyId: this.tokenKey.keyId,
                policy: pulumi
                    .all([accountId, pulumi.all(sorted.map((r) => pulumi.all([r.roleArn, r.tokenParameterArn])))])
                    .apply(([account, pairs]) =>
                        JSON.stringify(
                            tokenKeyPolicy({
                                accountId: account,
                                region,
                                readers: pairs.map(([fleetRoleArn, parameterArn], i): TokenReader => ({
                                    fleet: sorted[i].fleet,
                                    roleArn: fleetRoleArn,
                                    parameterArn,
                                    ...(sorted[i].scaled
                                        ? { scalerRolePattern: scalerRolePattern("aws", account, sorted[i].fleet) }
                                        : {}),
                                })),
                                writers: writers(account),
                                tokenReaders: principals.readRoleNames.map((n) => roleArn(account, n)),
                            }),
                        ),
                    ),
            },
            { parent: this, ...SECRETS_BUCKET_STANCE },
        );
    }
}
