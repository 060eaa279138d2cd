/*
 * The IAM policy of one fleet's instances: read its region's secrets bucket (and decrypt its objects with the
 * bucket's key), list and read the hooks bundle and the fleet's bootstrap script, pull step images from ECR. This
 * policy grants nothing more, but it is not all the instances can do: the Elastic CI Stack's own role adds
 * (buildkite/elastic-ci-stack-for-aws v6.71.1 templates/aws-stack.yml, IAMRole):
 * - `s3:Get*` and `s3:List*` on the SecretsBucket parameter's bucket, for its secrets hooks;
 * - with ECRAccessPolicy `readonly` (stack-parameters.ts), the managed AmazonEC2ContainerRegistryReadOnly policy:
 *   ECR read and pull on every repository of the account, in every region, not only ours (ECRManagedPolicy map);
 * - DecryptAgentToken: `kms:Decrypt` on the BuildkiteAgentTokenParameterStoreKMSKey, which is our secrets key, with
 *   no `kms:ViaService` condition: the instances can decrypt with that key directly, not only through S3 as the
 *   condition below intends.
 */

/** An IAM policy statement, as much of the grammar as this module writes. */
export interface PolicyStatement {
    readonly Sid: string;
    readonly Effect: "Allow" | "Deny";
    readonly Action: readonly string[];
    readonly Resource: string | readonly string[];
    readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

/** An IAM policy document. */
export interface PolicyDocument {
    readonly Version: "2012-10-17";
    readonly Statement: readonly PolicyStatement[];
}

/** Inputs of {@link fleetPolicyDocument}, all resolved values. */
export interface FleetPolicyInput {
    /** ARN of the region's secrets bucket. */
    readonly secretsBucketArn: string;
    /** ARN of the KMS key the bucket's objects are encrypted with. */
    readonly secretsKeyArn: string;
    /** The fleet's region: the bucket's region, and where KMS is called through S3. */
    readonly region: string;
    /** The AWS account that owns the ECR repositories. */
    readonly accountId: string;
    /** Regions whose ECR repositories the fleet pulls from (its own region, where every image is pushed). */
    readonly ecrRegions: readonly string[];
    /** AWS partition. Defaults to "aws". */
    readonly partition?: string;
    /**
     * Where the fleet's bootstrap script finds its hooks, absent for a fleet that installs none (Windows): the
     * bundle's key prefix (`bundleKeyPrefix`, `_ci-platform/hooks/<hash>`) and the bootstrap script's key.
     */
    readonly hooks?: { readonly bundlePrefix: string; readonly bootstrapKey: string };
    /** Key of the fleet's agent env file (its AgentEnvFileUrl, a Windows fleet's allow-list), when it has one. */
    readonly agentEnvKey?: string;
}

/** ECR actions needed to pull an image, and nothing that writes. */
export const ECR_PULL_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"];

/** The policy document attached to a fleet's instance role. */
export function fleetPolicyDocument(input: FleetPolicyInput): PolicyDocument {
    const partition = input.partition ?? "aws";
    const ecrRegions = [...new Set(input.ecrRegions)].sort();
    return {
        Version: "2012-10-17",
        Statement: [
            ...(input.hooks === undefined ? [] : hooksStatements(input.secretsBucketArn, input.hooks)),
            ...(input.agentEnvKey === undefined
                ? []
                : [
                      {
                          // The stack fetches it at boot with the instance role (bk-fetch.ps1: aws s3 cp).
                          Sid: "ReadAgentEnvFile",
                          Effect: "Allow" as const,
                          Action: ["s3:GetObject"],
                          Resource: `${input.secretsBucketArn}/${input.agentEnvKey}`,
                      },
                  ]),
            {
                Sid: "ReadSecretsObjects",
                Effect: "Allow",
                Action: ["s3:GetObject", "s3:GetObjectVersion"],
                Resource: `${input.secretsBucketArn}/*`,
            },
            {
                Sid: "DecryptSecretsObjects",
                Effect: "Allow",
                Action: ["kms:Decrypt"],
                Resource: input.secretsKeyArn,
                Condition: { StringEquals: { "kms:ViaService": `s3.${input.region}.amazonaws.com` } },
            },
            {
                // GetAuthorizationToken cannot be scoped to a repository.
                Sid: "EcrLogin",
                Effect: "Allow",
                Action: ["ecr:GetAuthorizationToken"],
                Resource: "*",
            },
            {
                Sid: "EcrPull",
                Effect: "Allow",
                Action: ECR_PULL_ACTIONS,
                Resource: ecrRegions.map((r) => `arn:${partition}:ecr:${r}:${input.accountId}:repository/*`),
            },
        ],
    };
}

/**
 * bootstrap.sh fetches the bundle with one `aws s3 cp --recursive s3://<bucket>/<prefix>/`, a ListObjectsV2 call
 * with `Prefix=<prefix>/`: ListBucket is granted for that prefix only. GetObject covers the bundle and the script.
 */
function hooksStatements(
    bucketArn: string,
    hooks: { readonly bundlePrefix: string; readonly bootstrapKey: string },
): PolicyStatement[] {
    return [
        {
            Sid: "ListHooksBundle",
            Effect: "Allow",
            Action: ["s3:ListBucket"],
            Resource: bucketArn,
            Condition: { StringLike: { "s3:prefix": [`${hooks.bundlePrefix}/*`] } },
        },
        {
            Sid: "ReadHooksBundle",
            Effect: "Allow",
            Action: ["s3:GetObject"],
            Resource: [`${bucketArn}/${hooks.bundlePrefix}/*`, `${bucketArn}/${hooks.bootstrapKey}`],
        },
    ];
}

/** A bucket policy statement: like {@link PolicyStatement}, with a principal. */
export interface BucketPolicyStatement extends PolicyStatement {
    readonly Principal: "*" | Readonly<Record<string, string | readonly string[]>>;
}

/**
 * The secrets bucket's policy: deny every request not made over TLS, and deny uploads not encrypted with SSE-KMS.
 * Reads are granted to fleets by their own IAM policies, not here.
 */
export function secretsBucketPolicyDocument(bucketArn: string): {
    Version: "2012-10-17";
    Statement: BucketPolicyStatement[];
} {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "DenyInsecureTransport",
                Effect: "Deny",
                Principal: "*",
                Action: ["s3:*"],
                Resource: [bucketArn, `${bucketArn}/*`],
                Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
            {
                Sid: "DenyUploadsWithoutKms",
                Effect: "Deny",
                Principal: "*",
                Action: ["s3:PutObject"],
                Resource: `${bucketArn}/*`,
                Condition: { StringNotEquals: { "s3:x-amz-server-side-encryption": "aws:kms" } },
            },
        ],
    };
}
