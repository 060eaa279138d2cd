import { BUNDLES_KEY_PREFIX, fleetVersionedKeyPattern } from "../hooks/bundle";
/*
 * The IAM documents of one AWS fleet's instances, as plain data. The platform owns each fleet's instance role and
 * passes it to the Elastic CI Stack as InstanceRoleARN, so the stack creates no role and no policy of its own
 * (buildkite/elastic-ci-stack-for-aws v6.71.1 templates/aws-stack.yml: IAMRole and IAMPolicies have
 * `Condition: CreateIAMRole`, which is `InstanceRoleARN == ""`). What the stack would have granted is gone with its
 * role: `s3:Get*`/`s3:List*` on the whole SecretsBucket, DecryptAgentToken (an unconditional kms:Decrypt), and the
 * ECRAccessPolicy managed policy (ECR pulls from every repository of the account). Instead, the role below grants,
 * each statement mirroring the template statement or the instance script that needs it:
 * - the stack's own machinery: instance discovery, disk-full and failed-boot termination of its own group,
 *   CloudWatch Logs under /buildkite/, Session Manager, the fleet's own agent-token parameter;
 * - the secrets bucket of its (region, cluster) by prefix: the organisation's root objects when the cluster takes
 *   them, and `<slug>/*` for each pipeline the fleet serves (`pipelinesServed`), nothing else;
 * - the hooks bundle and the fleet's bootstrap script;
 * - pulls from the platform's own ECR repositories, and the registry login.
 * Buildkite's own list of what a custom role needs (buildkite/docs pages/agent/self_hosted/aws/elastic_ci_stack/
 * ec2_linux_and_windows/managing_elastic_ci_stack.md, "Using custom IAM roles", core agent policy) is the template's
 * statements above; here each is narrowed to the fleet's own stack, group, log groups, parameter, bucket prefixes and
 * repositories. Pure: plain values in, plain JSON out; the plan shows these documents as they are.
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

/** What a fleet's role reads from its secrets bucket: computed from `pipelinesServed` and the cluster's setting. */
export interface SecretsScope {
    /** The organisation-wide root objects (`env`, `private_ssh_key`, `git-credentials`, `secret-files/*`). */
    readonly organization: boolean;
    /** Pipeline slugs whose `<slug>/*` objects the fleet reads: exactly the pipelines it serves. */
    readonly pipelines: readonly string[];
}

/** Inputs of {@link fleetPolicyDocument}, all resolved values. */
export interface FleetPolicyInput {
    /** ARN of the (region, cluster) secrets bucket. */
    readonly secretsBucketArn: string;
    /** ARN of the KMS key the bucket's objects are encrypted with. */
    readonly secretsKeyArn: string;
    /** ARN of the KMS key the fleet's agent-token parameter is encrypted with. */
    readonly tokenKeyArn: string;
    /** SSM Parameter Store path of the fleet's agent token, `/ci-platform/<fleet>/buildkite-agent-token`. */
    readonly tokenParameterPath: string;
    /** Name of the fleet's CloudFormation stack: its auto-scaling group is named after it. */
    readonly stackName: string;
    /** The fleet's region: the bucket's, the parameter's, and where KMS is called through S3 and SSM. */
    readonly region: string;
    /** The AWS account of every resource named here. */
    readonly accountId: string;
    /** Which secrets the role reads. */
    readonly secrets: SecretsScope;
    /** ECR repository names the fleet pulls (`ci-platform/<image>`). */
    readonly ecrRepositories: readonly string[];
    /** Regions whose repositories the fleet pulls from (its own region, where every image is pushed). */
    readonly ecrRegions: readonly string[];
    /**
     * AWS partition. Defaults to "aws", the only one the pinned template accepts in InstanceRoleARN (AllowedPattern
     * `^$|^arn:aws:iam::[0-9]+:role/.*$`), so a fleet in aws-cn or aws-us-gov cannot take our role.
     */
    readonly partition?: string;
    /**
     * What the fleet's instances read of our hooks, absent for a fleet that installs none (Windows): the fleet's name
     * as its boot-time object keys carry it (`fleetVersionedKey`), and the key of its own allow-list object
     * (`allowlistObjectKey`), which the pre-bootstrap hook reads at job time; when absent, no allow-list object is
     * granted. Every bundle and every version of the fleet's bootstrap script are readable, not only the current
     * ones: a CloudFormation rollback of a hook change points new instances at the old script, which installs the
     * old bundle; both are retained for that (agent-fleet.ts, secrets-bucket.ts).
     */
    readonly hooks?: { readonly fleetName: string; readonly allowlistKey?: string };
    /**
     * The fleet's name as its agent env file keys carry it (its AgentEnvFileUrl, a Windows fleet's allow-list), when
     * it has one: every version is readable, for the same rollback.
     */
    readonly agentEnvFleetName?: string;
    /**
     * SSM paths, or IAM patterns of paths, of the fleet's signing and verification key sets (components/signing/
     * fleets.ts `signingParameterPatterns`: every version, for a rollback), when its cluster signs: the verification
     * set always, the signing set only for a fleet that runs uploads.
     */
    readonly signingParameterPaths?: readonly string[];
    /**
     * The cluster's KMS signing key in the fleet's region (`clusters[].signing.mode: kms`), and whether the fleet signs
     * (its queue runs uploads): components/signing/fleets.ts `kmsStackParameters`.
     */
    readonly signingKms?: { readonly keyArn: string; readonly sign: boolean };
}

/** ECR actions needed to pull an image, and nothing that writes. */
export const ECR_PULL_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"];

/**
 * The root objects of a secrets bucket that components/agents/secret-objects.ts writes for the organisation. The
 * hooks also try `environment` and `id_rsa_github`; we never write them, and a denied read counts as absent.
 */
export const ORGANIZATION_OBJECT_KEYS = ["env", "private_ssh_key", "git-credentials", "secret-files/*"] as const;

/**
 * The `s3:prefix` values of the helper's listings for the jobs of these pipelines (no trailing slash):
 * elastic-ci-stack-s3-secrets-hooks v2.8.0 s3secrets-helper/secrets/secrets.go getSecrets lists "secret-files"
 * and "<prefix>/secret-files" with ListObjectsV2.
 */
export const secretFilesPrefixes = (scope: SecretsScope): string[] => [
    ...(scope.organization ? ["secret-files"] : []),
    ...[...new Set(scope.pipelines)].sort().map((slug) => `${slug}/secret-files`),
];

/** The object ARNs of a secrets bucket that a role with this scope reads. */
export function secretsObjectArns(bucketArn: string, scope: SecretsScope): string[] {
    return [
        ...(scope.organization ? ORGANIZATION_OBJECT_KEYS.map((k) => `${bucketArn}/${k}`) : []),
        ...[...new Set(scope.pipelines)].sort().map((slug) => `${bucketArn}/${slug}/*`),
    ];
}

/** The ARN of an SSM parameter from its path (which starts with `/`). */
export const parameterArn = (partition: string, region: string, account: string, path: string): string =>
    `arn:${partition}:ssm:${region}:${account}:parameter${path}`;

/**
 * The policy document attached to a fleet's instance role. Each statement names the template statement or the
 * instance script it serves (buildkite/elastic-ci-stack-for-aws v6.71.1; the same calls on Linux and Windows).
 */
export function fleetPolicyDocument(input: FleetPolicyInput): PolicyDocument {
    const p = input.partition ?? "aws";
    const { region, accountId: account, secretsBucketArn: bucket } = input;
    const ecrRegions = [...new Set(input.ecrRegions)].sort();
    const repositories = [...new Set(input.ecrRepositories)].sort();
    const tokenParameter = parameterArn(p, region, account, input.tokenParameterPath);
    return {
        Version: "2012-10-17",
        Statement: [
            ...(input.agentEnvFleetName === undefined
                ? []
                : [
                      {
                          // The stack fetches it at boot with the instance role (bk-fetch.ps1: aws s3 cp).
                          Sid: "ReadAgentEnvFile",
                          Effect: "Allow" as const,
                          Action: ["s3:GetObject"],
                          Resource: `${input.secretsBucketArn}/${fleetVersionedKeyPattern(input.agentEnvFleetName, "env")}`,
                      },
                  ]),
            {
                // templates/aws-stack.yml IAMPolicies, first statement: these actions take no resource ARN.
                Sid: "InstanceDiscovery",
                Effect: "Allow",
                Action: ["autoscaling:DescribeAutoScalingInstances", "cloudwatch:PutMetricData", "ec2:DescribeTags"],
                Resource: "*",
            },
            {
                // templates/aws-stack.yml IAMPolicies, first statement (cfn-init reads its metadata): own stack only.
                Sid: "DescribeOwnStack",
                Effect: "Allow",
                Action: ["cloudformation:DescribeStackResource"],
                Resource: `arn:${p}:cloudformation:${region}:${account}:stack/${input.stackName}/*`,
            },
            {
                // templates/aws-stack.yml IAMPolicies Sid TerminateInstance, same resource pattern: used by
                // bk-install-elastic-stack.sh/.ps1 on a failed boot (set-instance-health) and by
                // scripts/terminate-instance(.ps1) when the disk is full (BuildkiteTerminateInstanceOnDiskFull).
                Sid: "TerminateInstance",
                Effect: "Allow",
                Action: ["autoscaling:SetInstanceHealth", "autoscaling:TerminateInstanceInAutoScalingGroup"],
                Resource: `arn:${p}:autoscaling:${region}:${account}:autoScalingGroup:*:autoScalingGroupName/${input.stackName}-AgentAutoScaleGroup-*`,
            },
            {
                // templates/aws-stack.yml IAMPolicies Sid Logging, scoped: every group the CloudWatch agent and
                // lifecycled write is under /buildkite/ (packer/{linux,windows}/stack/conf/cloudwatch-agent/
                // amazon-cloudwatch-agent.json; bk-install-elastic-stack.sh LIFECYCLED_CLOUDWATCH_GROUP).
                Sid: "Logging",
                Effect: "Allow",
                Action: [
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:PutRetentionPolicy",
                    "logs:DescribeLogStreams",
                ],
                Resource: `arn:${p}:logs:${region}:${account}:log-group:/buildkite/*`,
            },
            {
                // templates/aws-stack.yml IAMPolicies Sid Logging: DescribeLogGroups lists, so it names no group.
                Sid: "DescribeLogGroups",
                Effect: "Allow",
                Action: ["logs:DescribeLogGroups"],
                Resource: `arn:${p}:logs:${region}:${account}:log-group:*`,
            },
            {
                // templates/aws-stack.yml IAMPolicies Sid Ssm: the SSM agent (Session Manager); no resource ARNs.
                Sid: "SessionManager",
                Effect: "Allow",
                Action: [
                    "ssm:DescribeInstanceProperties",
                    "ssm:ListAssociations",
                    "ssm:PutInventory",
                    "ssm:UpdateInstanceInformation",
                    "ssmmessages:CreateControlChannel",
                    "ssmmessages:CreateDataChannel",
                    "ssmmessages:OpenControlChannel",
                    "ssmmessages:OpenDataChannel",
                    "ec2messages:AcknowledgeMessage",
                    "ec2messages:DeleteMessage",
                    "ec2messages:FailMessage",
                    "ec2messages:GetEndpoint",
                    "ec2messages:GetMessages",
                    "ec2messages:SendReply",
                ],
                Resource: "*",
            },
            {
                // templates/aws-stack.yml IAMRole policy ReadAgentToken; bk-install-elastic-stack.sh/.ps1 run
                // `aws ssm get-parameter --with-decryption` on BUILDKITE_AGENT_TOKEN_PATH.
                Sid: "ReadAgentToken",
                Effect: "Allow",
                Action: ["ssm:GetParameter"],
                Resource: tokenParameter,
            },
            {
                // templates/aws-stack.yml IAMRole policy DecryptAgentToken, narrowed to SSM and this parameter:
                // Parameter Store's encryption context is {"PARAMETER_ARN": <arn>} (AWS Systems Manager User
                // Guide, "How AWS Systems Manager Parameter Store uses AWS KMS").
                Sid: "DecryptAgentToken",
                Effect: "Allow",
                Action: ["kms:Decrypt"],
                Resource: input.tokenKeyArn,
                Condition: {
                    StringEquals: {
                        "kms:ViaService": `ssm.${region}.amazonaws.com`,
                        "kms:EncryptionContext:PARAMETER_ARN": tokenParameter,
                    },
                },
            },
            ...(input.signingParameterPaths === undefined || input.signingParameterPaths.length === 0
                ? []
                : [
                      {
                          // bk-install-elastic-stack.sh/.ps1 (v6.71.1) read both at boot with `aws ssm get-parameter
                          // --with-decryption`; the template grants this on no signing parameter (its IAMRole's
                          // ReadAgentToken names the token only). SecureStrings under the AWS managed key aws/ssm,
                          // whose key policy admits the account's principals through SSM: no kms grant is needed.
                          Sid: "ReadSigningKeys",
                          Effect: "Allow" as const,
                          Action: ["ssm:GetParameter"],
                          Resource: [...new Set(input.signingParameterPaths)]
                              .sort()
                              .map((path) => parameterArn(p, region, account, path)),
                      },
                  ]),
            ...(input.signingKms === undefined
                ? []
                : [
                      {
                          // buildkite/agent v3.137.0 internal/cryptosigner/aws/kms.go: GetPublicKey when the agent
                          // starts and for each job it verifies (`Public()`); the template's own
                          // PipelineSigningKMSKeyAccess (on its IAMRole, which InstanceRoleARN replaces) would also
                          // give kms:Verify, which the agent never calls.
                          Sid: "PipelineSigningKMSVerify",
                          Effect: "Allow" as const,
                          Action: ["kms:GetPublicKey"],
                          Resource: input.signingKms.keyArn,
                      },
                      ...(input.signingKms.sign
                          ? [
                                {
                                    // kms.go `Sign`: ECDSA_SHA_256 of a digest, for `pipeline upload`.
                                    Sid: "PipelineSigningKMSSign",
                                    Effect: "Allow" as const,
                                    Action: ["kms:Sign"],
                                    Resource: input.signingKms.keyArn,
                                    Condition: { StringEquals: { "kms:SigningAlgorithm": "ECDSA_SHA_256" } },
                                },
                            ]
                          : []),
                  ]),
            ...(input.hooks === undefined ? [] : hooksStatements(bucket, input.hooks)),
            ...secretsStatements(bucket, input.secrets),
            {
                // Every object of the bucket is SSE-KMS with an S3 Bucket Key, whose encryption context is the bucket
                // ARN (AWS S3 User Guide, "Reducing the cost of SSE-KMS with Amazon S3 Bucket Keys"). Which objects
                // the role reads is the S3 statements' business; this only lets S3 decrypt those for it.
                Sid: "DecryptSecretsObjects",
                Effect: "Allow",
                Action: ["kms:Decrypt"],
                Resource: input.secretsKeyArn,
                Condition: {
                    StringEquals: {
                        "kms:ViaService": `s3.${region}.amazonaws.com`,
                        "kms:EncryptionContext:aws:s3:arn": bucket,
                    },
                },
            },
            {
                // Cannot be scoped to a repository. The stack's environment hook logs in through the ECR plugin
                // (buildkite-plugins/ecr-buildkite-plugin v2.11.0 hooks/environment: `aws ecr get-login-password`).
                Sid: "EcrLogin",
                Effect: "Allow",
                Action: ["ecr:GetAuthorizationToken"],
                Resource: "*",
            },
            ...(repositories.length === 0
                ? []
                : [
                      {
                          Sid: "EcrPull",
                          Effect: "Allow" as const,
                          Action: ECR_PULL_ACTIONS,
                          Resource: ecrRegions.flatMap((r) =>
                              repositories.map((repo) => `arn:${p}:ecr:${r}:${account}:repository/${repo}`),
                          ),
                      },
                  ]),
        ],
    };
}

/**
 * What the secrets hooks need (elastic-ci-stack-s3-secrets-hooks v2.8.0, run by every job's environment hook;
 * s3secrets-helper/s3/s3.go and secrets/secrets.go):
 * - HeadBucket first (`BucketExists`), and a failure ends the job. HeadBucket is authorised as s3:ListBucket with
 *   no `s3:prefix`, so a prefix-less ListBucket is granted: it shows the key names (never the contents) of this one
 *   (region, cluster) bucket. No GetBucketLocation: the stack passes SecretsBucketRegion, and the helper looks the
 *   region up only without one (s3.go New).
 * - ListObjectsV2 on "secret-files" and "<slug>/secret-files" (getSecrets): the served prefixes only; a denied
 *   listing is logged and skipped, not fatal (getSecrets: `continue`).
 * - GetObject on the root and `<slug>/` keys: AccessDenied becomes ErrForbidden, which every handler skips like
 *   ErrNotFound (s3.go Get; secrets.go handleSSHKeys, handleEnvs, handleGitCredentials, handleSecrets). So a job
 *   of a pipeline the fleet does not serve still runs, with none of its secrets (and the fleet's allow-list
 *   refuses such a job first). git-credential-s3-secrets reads the same keys with `aws s3 cp` (GetObject).
 */
function secretsStatements(bucket: string, scope: SecretsScope): PolicyStatement[] {
    const objects = secretsObjectArns(bucket, scope);
    const listPrefixes = secretFilesPrefixes(scope);
    return [
        {
            Sid: "FindSecretsBucket",
            Effect: "Allow",
            Action: ["s3:ListBucket"],
            Resource: bucket,
            Condition: { Null: { "s3:prefix": "true" } },
        },
        ...(listPrefixes.length === 0
            ? []
            : [
                  {
                      Sid: "ListSecretFiles",
                      Effect: "Allow" as const,
                      Action: ["s3:ListBucket"],
                      Resource: bucket,
                      Condition: { StringEquals: { "s3:prefix": listPrefixes } },
                  },
              ]),
        ...(objects.length === 0
            ? []
            : [{ Sid: "ReadSecretsObjects", Effect: "Allow" as const, Action: ["s3:GetObject"], Resource: objects }]),
    ];
}

/** The trust policy of a fleet's instance role: EC2 instances assume it, through the stack's instance profile. */
export function instanceTrustPolicy(): {
    Version: "2012-10-17";
    Statement: { Effect: "Allow"; Principal: { Service: string }; Action: string }[];
} {
    // templates/aws-stack.yml IAMRole AssumeRolePolicyDocument also names autoscaling.amazonaws.com; the group acts
    // through its own service-linked role, never through the instances' role, so EC2 alone assumes this one.
    return {
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
    };
}

/**
 * bootstrap.sh fetches the bundle with one `aws s3 cp --recursive s3://<bucket>/<prefix>/`, a ListObjectsV2 call
 * with `Prefix=<prefix>/`: ListBucket is granted under the bundles' prefix only. GetObject covers every bundle (hook
 * code, the same for every fleet of the bucket, nothing secret) and every version of the fleet's own bootstrap script,
 * so the grant does not change when a hook does and a rollback finds the old ones.
 */
function hooksStatements(
    bucketArn: string,
    hooks: { readonly fleetName: string; readonly allowlistKey?: string },
): PolicyStatement[] {
    return [
        {
            Sid: "ListHooksBundle",
            Effect: "Allow",
            Action: ["s3:ListBucket"],
            Resource: bucketArn,
            Condition: { StringLike: { "s3:prefix": [`${BUNDLES_KEY_PREFIX}/*`] } },
        },
        {
            Sid: "ReadHooksBundle",
            Effect: "Allow",
            Action: ["s3:GetObject"],
            // The fleet's own allow-list object only, by its exact key: not the prefix, so no fleet reads another's.
            Resource: [
                `${bucketArn}/${BUNDLES_KEY_PREFIX}/*`,
                `${bucketArn}/${fleetVersionedKeyPattern(hooks.fleetName, "sh")}`,
                ...(hooks.allowlistKey === undefined ? [] : [`${bucketArn}/${hooks.allowlistKey}`]),
            ],
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
