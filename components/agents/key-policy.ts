import { tokenParameterPath } from "./naming";

/*
 * The key policies of the two KMS keys of one (region, cluster): the secrets key (the bucket's objects) and the
 * agent-token key (the fleets' SSM SecureString token parameters). Pure: plain values in, plain JSON out.
 *
 * Who may do what, statement by statement:
 * - the account root administers the key (no use of it). Without an administering principal the key becomes
 *   unmanageable: KMS refuses a policy that would lock out the principal setting it (the PutKeyPolicy lockout safety
 *   check), and a key nobody can administer can only be recovered through AWS Support (AWS KMS Developer Guide,
 *   "Default key policy": "allows the AWS account ... full access to the KMS key").
 * - the writers: the `deploy` roles of `ci-platform:deployRoles` and the break-glass administrators of
 *   `ci-platform:kmsAdministrators` (whoever runs the first `pulumi up` must be one), and no other principal of the
 *   account (condition `aws:PrincipalArn`), write through the service and nothing else: for the secrets key
 *   GenerateDataKey (S3 PutObject with SSE-KMS) and Decrypt (S3 reads and multipart uploads), through S3 and for this
 *   bucket only; for the token key Encrypt (PutParameter) and Decrypt (the provider reads the parameter back with
 *   decryption), through SSM and for the named token parameters only. The account root as principal delegates to
 *   IAM, so a writer needs its own IAM grant as well: the statement caps it, it does not give it.
 * - the `read` roles of `ci-platform:deployRoles`: kms:Decrypt of the token key through SSM for the named token
 *   parameters (the drift check's `pulumi preview --refresh` reads SecureString parameters with decryption:
 *   terraform-provider-aws internal/service/ssm findParameterByName(..., true)); nothing of the secrets key.
 * - each fleet role, named by ARN: kms:Decrypt only, through S3 for its bucket, or through SSM for its own token
 *   parameter.
 * - each autoscaled fleet's scaler role (its name is generated: naming.ts scalerRolePattern): kms:Decrypt through SSM
 *   for its fleet's token parameter only (buildkite-agent-scaler v1.12.0 scaler/ssm.go: GetParameter WithDecryption).
 * No statement gives a usage action without kms:ViaService and an encryption context.
 */

/** A key policy statement. */
export interface KeyPolicyStatement {
    readonly Sid: string;
    readonly Effect: "Allow";
    readonly Principal: { readonly AWS: string | readonly string[] };
    readonly Action: readonly string[];
    readonly Resource: "*";
    readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

/** A key policy document. */
export interface KeyPolicyDocument {
    readonly Version: "2012-10-17";
    readonly Statement: readonly KeyPolicyStatement[];
}

/**
 * What administering a key takes, and none of its cryptographic operations (AWS KMS Developer Guide, "Allows key
 * administrators to administer the KMS key"), without `kms:CreateGrant`: a grant is not bound by the conditions of the
 * statements below (kms:ViaService, the encryption context), so whoever may create one could give themselves Decrypt
 * (AWS KMS Developer Guide, "Grants in AWS KMS": a grant allows its operations on its own, within its own constraints).
 * Neither S3 (with a Bucket Key) nor SSM Parameter Store needs a grant on these keys; the stack creates an alias.
 */
export const KEY_ADMIN_ACTIONS = [
    "kms:CreateAlias",
    "kms:Describe*",
    "kms:Enable*",
    "kms:List*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:Disable*",
    "kms:Get*",
    "kms:Delete*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
    "kms:RotateKeyOnDemand",
];

/** The `aws:PrincipalArn` condition that narrows an account-root statement to the named principals. */
const principalIn = (arns: readonly string[]) => ({ ArnLike: { "aws:PrincipalArn": [...new Set(arns)].sort() } });

/** The account root principal's ARN. */
export const accountRoot = (partition: string, account: string): string => `arn:${partition}:iam::${account}:root`;

type Conditions = NonNullable<KeyPolicyStatement["Condition"]>;

/**
 * A use of the key by the account root, narrowed to `principals` (`aws:PrincipalArn`) on top of `conditions`; no
 * statement at all when nobody is named (an account-root statement without the narrowing would admit every
 * principal whose IAM policies allow the action).
 */
export function rootFor(
    root: string,
    sid: string,
    actions: readonly string[],
    principals: readonly string[],
    conditions: Conditions,
): KeyPolicyStatement[] {
    return principals.length === 0
        ? []
        : [
              {
                  Sid: sid,
                  Effect: "Allow",
                  Principal: { AWS: root },
                  Action: actions,
                  Resource: "*",
                  Condition: { ...conditions, ...principalIn(principals) },
              },
          ];
}

/**
 * Administration of the key, by the account root narrowed to the named administrators (the deploy roles, the
 * `ci-platform:kmsAdministrators`, and the root user as the last resort) when there are any. With none named, the
 * statement stays the account's: KMS refuses a policy that would lock its own writer out (PutKeyPolicy's lockout
 * safety check), and a key nobody can administer is recoverable only through AWS Support.
 */
export function administer(partition: string, account: string, administrators: readonly string[]): KeyPolicyStatement {
    const root = accountRoot(partition, account);
    return {
        Sid: "AccountAdministersKey",
        Effect: "Allow",
        Principal: { AWS: root },
        Action: KEY_ADMIN_ACTIONS,
        Resource: "*",
        ...(administrators.length === 0 ? {} : { Condition: principalIn([...administrators, root]) }),
    };
}

/** Inputs of {@link secretsKeyPolicy}. */
export interface SecretsKeyPolicyInput {
    readonly accountId: string;
    readonly region: string;
    /** ARN of the bucket whose objects the key encrypts (with an S3 Bucket Key: the encryption context). */
    readonly bucketArn: string;
    /** Instance roles of the fleets that read the bucket. */
    readonly fleetRoleArns: readonly string[];
    /** Who may write (ARNs or ArnLike patterns): the deploy roles and the key administrators. None: nobody writes. */
    readonly writers: readonly string[];
    /** Defaults to "aws". */
    readonly partition?: string;
}

/** The secrets key's policy. */
export function secretsKeyPolicy(input: SecretsKeyPolicyInput): KeyPolicyDocument {
    const partition = input.partition ?? "aws";
    const viaS3 = {
        "kms:ViaService": `s3.${input.region}.amazonaws.com`,
        "kms:EncryptionContext:aws:s3:arn": input.bucketArn,
    };
    const roles = [...new Set(input.fleetRoleArns)].sort();
    return {
        Version: "2012-10-17",
        Statement: [
            administer(partition, input.accountId, input.writers),
            ...rootFor(
                accountRoot(partition, input.accountId),
                "DeployWritesThroughS3",
                ["kms:GenerateDataKey", "kms:Decrypt"],
                input.writers,
                { StringEquals: { ...viaS3, "kms:CallerAccount": input.accountId } },
            ),
            ...(roles.length === 0
                ? []
                : [
                      {
                          Sid: "FleetRolesDecryptThroughS3",
                          Effect: "Allow" as const,
                          Principal: { AWS: roles },
                          Action: ["kms:Decrypt"],
                          Resource: "*" as const,
                          Condition: { StringEquals: viaS3 },
                      },
                  ]),
        ],
    };
}

/** One fleet whose token parameter the token key encrypts. */
export interface TokenReader {
    /** The fleet's name (for the statement id). */
    readonly fleet: string;
    /** Its instance role. */
    readonly roleArn: string;
    /** ARN of its token parameter: the encryption context SSM uses. */
    readonly parameterArn: string;
    /**
     * `aws:PrincipalArn` pattern of its scaler role (naming.ts scalerRolePattern), when its stack has a scaler
     * (MinSize != MaxSize); absent for a fixed-size fleet.
     */
    readonly scalerRolePattern?: string;
}

/** Inputs of {@link tokenKeyPolicy}. */
export interface TokenKeyPolicyInput {
    readonly accountId: string;
    readonly region: string;
    /** The fleets of the (region, cluster). */
    readonly readers: readonly TokenReader[];
    /** Who may write the token parameters (ARNs or ArnLike patterns): deploy roles and key administrators. */
    readonly writers: readonly string[];
    /** Who may read them back, decrypted, through SSM (ARNs): the `read` deploy roles (drift check). */
    readonly tokenReaders: readonly string[];
    /** Defaults to "aws". */
    readonly partition?: string;
}

/** A statement id from a fleet name: Sids take letters and digits only. */
const sidPart = (name: string): string =>
    name
        .split(/[^A-Za-z0-9]+/)
        .filter((w) => w !== "")
        .map((w) => w[0].toUpperCase() + w.slice(1))
        .join("");

/** The agent-token key's policy: each fleet role and its scaler decrypt their own parameter only. */
export function tokenKeyPolicy(input: TokenKeyPolicyInput): KeyPolicyDocument {
    const partition = input.partition ?? "aws";
    const root = accountRoot(partition, input.accountId);
    const viaSsm = `ssm.${input.region}.amazonaws.com`;
    const readers = [...input.readers].sort((a, b) => (a.fleet < b.fleet ? -1 : a.fleet > b.fleet ? 1 : 0));
    const parameters = readers.map((r) => r.parameterArn);
    const throughSsm = {
        "kms:ViaService": viaSsm,
        "kms:CallerAccount": input.accountId,
        "kms:EncryptionContext:PARAMETER_ARN": parameters,
    };
    return {
        Version: "2012-10-17",
        Statement: [
            administer(partition, input.accountId, input.writers),
            // The writers' statement names the platform's token parameters by pattern, not one by one: a `pulumi up`
            // that adds a fleet writes the new parameter (kms:Encrypt, context PARAMETER_ARN = its ARN) before it
            // can update this policy, which needs the new fleet's role; a list of today's ARNs would refuse it.
            ...rootFor(root, "DeployWritesTokensThroughSsm", ["kms:Encrypt", "kms:Decrypt"], input.writers, {
                StringEquals: { "kms:ViaService": viaSsm, "kms:CallerAccount": input.accountId },
                StringLike: {
                    "kms:EncryptionContext:PARAMETER_ARN": `arn:${partition}:ssm:${input.region}:${input.accountId}:parameter${tokenParameterPath("*")}`,
                },
            }),
            // With no token parameter there is nothing to read back.
            ...rootFor(
                root,
                "ReadRolesDecryptTokensThroughSsm",
                ["kms:Decrypt"],
                parameters.length === 0 ? [] : input.tokenReaders,
                { StringEquals: throughSsm },
            ),
            ...readers.map((r): KeyPolicyStatement => ({
                Sid: `Fleet${sidPart(r.fleet)}DecryptsOwnToken`,
                Effect: "Allow",
                Principal: { AWS: r.roleArn },
                Action: ["kms:Decrypt"],
                Resource: "*",
                Condition: {
                    StringEquals: { "kms:ViaService": viaSsm, "kms:EncryptionContext:PARAMETER_ARN": r.parameterArn },
                },
            })),
            ...readers.flatMap((r): KeyPolicyStatement[] =>
                r.scalerRolePattern === undefined
                    ? []
                    : [
                          {
                              Sid: `Fleet${sidPart(r.fleet)}ScalerDecryptsOwnToken`,
                              Effect: "Allow",
                              Principal: { AWS: root },
                              Action: ["kms:Decrypt"],
                              Resource: "*",
                              Condition: {
                                  StringEquals: {
                                      "kms:ViaService": viaSsm,
                                      "kms:CallerAccount": input.accountId,
                                      "kms:EncryptionContext:PARAMETER_ARN": r.parameterArn,
                                  },
                                  ArnLike: { "aws:PrincipalArn": r.scalerRolePattern },
                              },
                          },
                      ],
            ),
        ],
    };
}
