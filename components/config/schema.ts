import { z } from "zod";
import { adoptSchema } from "./adopt";
import { pathProblem } from "./repository-path";
import { cronLineProblem } from "./cron";
import { deployRoleSchema } from "./deploy-roles";
import { AWS_REGION_NAMES } from "./regions";

/*
 * The shape of every `ci-platform:*` stack config key. Objects are strict: an unknown key is an error, so a typo
 * is never silently ignored. Cross-references (a trigger naming a pipeline, a pipeline naming a queue) are checked
 * afterwards in cross-checks.ts, where every declared name is known.
 */

// Buildkite's own rule for a pipeline slug: 1-100 characters, lowercase letters, digits and hyphens
// (buildkite/terraform-provider-buildkite v1.38.0 buildkite/resource_pipeline.go, `slug` validators).
const SLUG = /^[a-z0-9][a-z0-9-]*$/;
const slug = (what: string) =>
    z
        .string({ error: `expected a ${what} (a string)` })
        .regex(SLUG, { error: `must be lowercase letters, digits and dashes, starting with a letter or digit` })
        .max(100, { error: "must be at most 100 characters" });

/**
 * A name of ours (cluster, package): letters, digits, '.', '_' and '-'. At most 63 characters: cluster names end up
 * inside S3 bucket and IAM names (see components/agents/naming.ts), and 63 is S3's whole bucket-name limit.
 */
const name = (what: string) =>
    z
        .string({ error: `expected a ${what} (a string)` })
        .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { error: "must be letters, digits, '.', '_' and '-'" })
        .max(63, { error: "must be at most 63 characters" });

/** No control characters (a newline or NUL in a name or label reaches YAML, URLs and shell scripts). */
// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const NO_CONTROL = /^[^\u0000-\u001f\u007f]*$/;
/** Control characters other than tab and newline, which free text may hold. */
// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const TEXT_CONTROL = /^[^\u0000-\u0008\u000b-\u001f\u007f]*$/;

/**
 * Free text shown to people (descriptions, labels, messages). The bounds are ours: Buildkite documents none for these
 * fields, and a value longer than this is a paste accident, not a description.
 */
const text = (what: string, max: number) =>
    z
        .string({ error: `expected ${what} (a string)` })
        .max(max, { error: `must be at most ${max} characters` })
        .regex(TEXT_CONTROL, { error: "must not hold control characters" });

/** A one-line label or name: no control characters at all. */
const label = (what: string, max: number) =>
    z
        .string({ error: `expected ${what} (a string)` })
        .min(1, { error: "must not be empty" })
        .max(max, { error: `must be at most ${max} characters` })
        .regex(NO_CONTROL, { error: "must be one line without control characters" });

/**
 * A git branch name (git-check-ref-format(1): no "..", no space, ~ ^ : ? * [ \\, no "@{", not starting with "-"
 * or "/", not ending with "/", "." or ".lock"). At most 255 characters: one ref component is a file name in the
 * repository's refs directory, and file systems cap a name at 255 bytes.
 */
const BRANCH =
    // eslint-disable-next-line no-control-regex -- control characters and space are not allowed in a ref
    /^(?!-)(?!\/)(?!.*\.\.)(?!.*@\{)(?!.*\/\/)(?!.*\/\.)(?!.*(\.lock|\/|\.)$)[^\u0000-\u0020\u007f~^:?*[\\]+$/;
const branch = (what: string) =>
    z
        .string({ error: `expected ${what} (a string)` })
        .max(255, { error: "must be at most 255 characters" })
        .regex(BRANCH, {
            error: "must be a git branch name (no spaces, no '..', none of ~ ^ : ? * [ \\, not starting with - or /, not ending with /, . or .lock)",
        });

/**
 * A path inside the repository: relative, normalised (no empty, "." or ".." segment), no backslash (a Windows agent
 * would read it as a separator). The monorepo planner's own rule ({@link pathProblem}) is applied here, so a path it
 * would refuse never gets past the config. `directory`: a trailing "/" (a directory) is allowed.
 */
const repositoryPath = (what: string, directory = false) =>
    z
        .string({ error: `expected ${what} (a string)` })
        .max(1024, { error: "must be at most 1024 characters" })
        .superRefine((path, ctx) => {
            const problem = path.includes("\\")
                ? "must use / between directories, not a backslash"
                : !NO_CONTROL.test(path)
                  ? "must not hold control characters"
                  : pathProblem(directory ? path.replace(/\/+$/, "") : path);
            if (problem !== undefined)
                ctx.addIssue({
                    code: "custom",
                    message: `"${path}" ${problem}; give ${what}, relative to the repository root`,
                });
        });

/**
 * `renamedFrom`: the names an entry had before, oldest first (append the name you rename from). The program gives
 * the entry's resources Pulumi `aliases` from them, so a rename updates the Buildkite/AWS objects in place instead
 * of deleting them and creating new ones (README, "Renaming things"). A fleet's physical names (stack, SSM parameter,
 * bootstrap key) derive from its `physicalName` instead, never from this list's order: see {@link physicalName}.
 */
const renamedFrom = <T extends z.ZodType<string>>(entry: T) => z.array(entry).default([]);

/**
 * `physicalName`: the name a fleet's AWS and agent names derive from (CloudFormation stack, SSM token parameter,
 * bootstrap key, `fleet=` tag, IAM and token descriptions: components/agents/naming.ts `fleetPhysicalName`), each of
 * which forces a replacement when it changes. Defaults to `name`; a renamed fleet (non-empty `renamedFrom`) must set
 * it to the name it was first deployed under (components/config/renames.ts), so no order of `renamedFrom` decides it.
 */
const physicalName = () => slug("fleet name").optional();

/** The bound on commands is ours (a command longer than this belongs in a script in the repository). */
const MAX_COMMAND = 10000;
/** The bound on one secret value is ours: a key, a token or a credentials file fits in far less. */
const MAX_SECRET = 65536;
/** The largest fleet, see `maxSize`. */
const MAX_FLEET_SIZE = 1000;

/**
 * A Buildkite cluster queue key: letters, digits, hyphens and underscores (buildkite/docs
 * pages/agent/queues/managing.md, "Create a key"). Bounded like a slug.
 */
const queueKey = (what: string) =>
    z
        .string({ error: `expected a ${what} (a string)` })
        .regex(/^[A-Za-z0-9_-]+$/, { error: "queue keys are letters, digits, '-' and '_'" })
        .max(100, { error: "must be at most 100 characters" });

const region = z.enum(AWS_REGION_NAMES, {
    error: (issue) => `"${String(issue.input)}" is not an AWS region name (for example us-east-1 or eu-west-2)`,
});

// Environment variable names as POSIX shells accept them (the hooks export them). The length bound is ours.
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const envName = z
    .string({ error: "environment variable names are strings" })
    .regex(ENV_NAME, { error: "environment variable names are letters, digits and _, not starting with a digit" })
    .max(128, { error: "environment variable names are at most 128 characters" });

/**
 * An environment value: well under Linux's limit for one environment string handed to a process, MAX_ARG_STRLEN,
 * 128 KiB (include/uapi/linux/binfmts.h), which the agent's exec of each hook and command is subject to.
 */
const MAX_ENV_VALUE = 32768;
const envMap = z.record(
    envName,
    z
        .string({ error: "environment values are strings; quote numbers and booleans" })
        .max(MAX_ENV_VALUE, { error: `environment values are at most ${MAX_ENV_VALUE} characters` }),
);

/**
 * AWS tag rules (AWS docs, "Tag naming limits and requirements", e.g. docs.aws.amazon.com/batch/latest/userguide/
 * tag-restrictions.html): keys 1-128 and values 0-256 Unicode characters; letters, digits, spaces and + - = . _ : / @;
 * the `aws:` prefix, in any case, is reserved for AWS in keys and values.
 */
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const AWS_PREFIX = /^aws:/i;
const tagMap = z.record(
    z
        .string()
        .min(1, { error: "tag keys must not be empty" })
        .refine((k) => [...k].length <= 128, { error: "tag keys are at most 128 characters" })
        .regex(TAG_CHARS, { error: "tag keys are letters, digits, spaces and + - = . _ : / @" })
        .refine((k) => !AWS_PREFIX.test(k), { error: "the aws: prefix is reserved for AWS" }),
    z
        .string({ error: "tag values are strings; quote numbers and booleans" })
        .refine((v) => [...v].length <= 256, { error: "tag values are at most 256 characters" })
        .regex(TAG_CHARS, { error: "tag values are letters, digits, spaces and + - = . _ : / @" })
        .refine((v) => !AWS_PREFIX.test(v), {
            error: "tag values must not start with aws:, a prefix reserved for AWS",
        }),
);

/** How agents clone a pipeline's repository: `git@github.com:owner/name.git` or `https://github.com/owner/name.git`. */
export const CHECKOUT_METHODS = ["ssh", "https"] as const;
export type CheckoutMethod = (typeof CHECKOUT_METHODS)[number];

/**
 * A GitHub account (user or organization) name: 1-39 letters, digits and hyphens, not starting or ending with a
 * hyphen (GitHub's sign-up rules for a username; organizations share the namespace).
 */
const GITHUB_OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$/;
/**
 * A GitHub repository name: 1-100 letters, digits, '.', '_' and '-' (GitHub's repository-name rule), but never "." or
 * "..", which are path segments and would turn owner/name into another path in a clone URL or an allow-list.
 */
const GITHUB_REPOSITORY_NAME = /^(?!\.\.?$)[A-Za-z0-9._-]{1,100}$/;

/** `owner/name` of a GitHub repository. */
export const REPOSITORY_PATTERN = new RegExp(
    `^${GITHUB_OWNER.source.slice(1, -1)}/${GITHUB_REPOSITORY_NAME.source.slice(1, -1)}$`,
);

export const githubSchema = z.strictObject({
    /** The GitHub organization or user that owns the repositories. */
    owner: z.string({ error: "expected a GitHub organization or user name (a string)" }).regex(GITHUB_OWNER, {
        error: "must be a GitHub organization or user name: 1-39 letters, digits and hyphens, not starting or ending with a hyphen",
    }),
});

export const elasticStackSchema = z.strictObject({
    /** The Elastic CI Stack for AWS release, a tag such as v6.71.1. Never `latest`. */
    version: z.string().regex(/^v\d{1,4}\.\d{1,4}\.\d{1,4}$/, {
        error: (issue) =>
            `"${String(issue.input)}" is not a pinned release; the Elastic CI Stack must be pinned to a tag such as v6.71.1, never latest or a branch`,
    }),
    /** Days after which a replaced or deleted object version in a secrets bucket expires. Defaults to 90. */
    // The bound is ours: ten years of superseded secret versions is already more than anyone restores from.
    secretsVersionExpirationDays: z.number().int().min(1).max(3650).default(90),
});

/** The agent's `verification-failure-behavior` values (buildkite/agent v3.137.0 clicommand/agent_start.go). */
export const VERIFICATION_FAILURE_BEHAVIORS = ["block", "warn"] as const;

/** One public Ed25519 key of a cluster's verification set (a JWK: components/signing/jws.ts). */
const verificationKeySchema = z.strictObject({
    kty: z.literal("OKP", { error: 'expected kty "OKP": pipeline signing here uses Ed25519 keys' }),
    crv: z.literal("Ed25519", { error: 'expected crv "Ed25519": signatures must be deterministic (EdDSA)' }),
    kid: label("a key id", 128),
    x: z.string().regex(/^[A-Za-z0-9_-]{43}$/, { error: "expected the 32-byte public key, base64url (43 characters)" }),
    alg: z.literal("EdDSA").optional(),
    use: z.literal("sig").optional(),
});

/**
 * Signed pipelines for one cluster (README, "Signed pipelines"). `jwks`: the program signs the steps it stores, the
 * fleets that run uploads sign what they upload with the private set `ci-platform:secrets.signing.<cluster>`, and
 * every fleet verifies with `verificationKeys` (list the old and the new key while rotating). `kms`: a KMS key (`key`,
 * or one the stack creates per cluster) signs the stored steps at deploy and the uploads, and verifies. `off` needs a
 * reason.
 * Verification blocks a job that fails it unless `failureBehavior: warn`, which needs a reason too.
 */
export const signingSchema = z
    .strictObject({
        mode: z.enum(["jwks", "kms", "off"]),
        /**
         * mode kms: the ARN of an existing KMS key (ECC_NIST_P256, SIGN_VERIFY) that signs; a multi-region `mrk-` key
         * when the cluster's AWS fleets are in several regions. Unset: the stack creates the cluster's key.
         */
        key: z.string().max(2048).optional(),
        verificationKeys: z.array(verificationKeySchema).optional(),
        /** The kid of the private set's key that signs; needed when the private set holds several. */
        signingKeyId: label("a key id", 128).optional(),
        failureBehavior: z.enum(VERIFICATION_FAILURE_BEHAVIORS).default("block"),
        /** Why verification is off or only warns: shown by the policy warning. */
        reason: label("a reason", 1000).optional(),
    })
    .superRefine((signing, ctx) => {
        const kids = (signing.verificationKeys ?? []).map((k) => k.kid);
        if (signing.mode !== "kms" && signing.key !== undefined)
            ctx.addIssue({
                code: "custom",
                path: ["key"],
                message: "key names a KMS key: set mode kms, or remove key",
            });
        if (signing.mode === "kms" && (signing.verificationKeys !== undefined || signing.signingKeyId !== undefined))
            ctx.addIssue({
                code: "custom",
                path: [signing.verificationKeys !== undefined ? "verificationKeys" : "signingKeyId"],
                message:
                    "mode kms verifies with the KMS key itself (buildkite/agent: signing-aws-kms-key is the only verification key): remove verificationKeys and signingKeyId",
            });
        if (signing.mode === "jwks" && kids.length === 0)
            ctx.addIssue({
                code: "custom",
                // On the signing object: a custom issue at a missing key would be reported as "is required" alone.
                message:
                    "mode jwks needs verificationKeys: list the public JWK of the signing key (and, while rotating, the old one)",
            });
        if (new Set(kids).size !== kids.length)
            ctx.addIssue({
                code: "custom",
                path: ["verificationKeys"],
                message: "two keys share a kid; give each its own",
            });
        if (signing.signingKeyId !== undefined && !kids.includes(signing.signingKeyId))
            ctx.addIssue({
                code: "custom",
                path: ["signingKeyId"],
                message: `"${signing.signingKeyId}" is not the kid of a verificationKeys entry; agents could not verify what it signs`,
            });
        if ((signing.mode === "off" || signing.failureBehavior === "warn") && signing.reason === undefined)
            ctx.addIssue({
                code: "custom",
                message:
                    signing.mode === "off"
                        ? "signing off needs a reason: set reason (the policy pack reports it as a warning)"
                        : "failureBehavior warn runs jobs that fail verification: set reason, or leave it at block",
            });
    });

export const clusterSchema = z.strictObject({
    name: name("cluster name"),
    /** Earlier names of the cluster, oldest first: see {@link renamedFrom}. */
    renamedFrom: renamedFrom(name("cluster name")),
    description: text("a description", 1000).optional(),
    emoji: label("an emoji", 64).optional(),
    color: z
        .string()
        .regex(/^#[0-9A-Fa-f]{6}$/, { error: "must be a hex colour such as #14CC80" })
        .optional(),
    /**
     * Whether the cluster's secrets buckets get the organisation's secrets (`ci-platform:secrets.organization`).
     * Set false for a cluster that builds untrusted code (pull requests): its pipelines then need their own
     * credentials. Defaults to true.
     */
    organizationSecrets: z.boolean().default(true),
    /** Signed pipelines ({@link signingSchema}). Unset: nothing is signed or verified (a policy warning). */
    signing: signingSchema.optional(),
});

export const TEAM_PRIVACY = ["VISIBLE", "SECRET"] as const;
export const TEAM_ROLES = ["MEMBER", "MAINTAINER"] as const;
export const teamSchema = z.strictObject({
    name: label("a team name", 255),
    /** Earlier names of the team, oldest first: see {@link renamedFrom}. */
    renamedFrom: renamedFrom(label("a team name", 255)),
    description: text("a description", 1000).optional(),
    privacy: z.enum(TEAM_PRIVACY).default("VISIBLE"),
    /** Whether new organization members join this team. */
    isDefaultTeam: z.boolean().default(false),
    defaultMemberRole: z.enum(TEAM_ROLES).default("MEMBER"),
});

export const SPOT_ALLOCATION_STRATEGIES = [
    "price-capacity-optimized",
    "capacity-optimized",
    "capacity-optimized-prioritized",
    "lowest-price",
] as const;

const awsFleetSchema = z.strictObject({
    name: slug("fleet name"),
    /** Earlier names of the fleet ({@link renamedFrom}); a renamed fleet sets {@link physicalName}. */
    renamedFrom: renamedFrom(slug("fleet name")),
    /** What its physical names derive from: the name it was first deployed under ({@link physicalName}). */
    physicalName: physicalName(),
    kind: z.literal("aws"),
    description: text("a description", 1000).optional(),
    cluster: name("cluster name"),
    queue: slug("queue name"),
    region,
    /** EC2 instance types, most preferred first. */
    instanceTypes: z
        .array(
            z
                .string({ error: "expected an EC2 instance type (a string)" })
                .regex(/^[a-z0-9-]+\.[a-z0-9]+$/, { error: "must be an EC2 instance type such as c7i.xlarge" })
                .max(64, { error: "must be at most 64 characters" }),
        )
        .min(1, { error: "an AWS fleet needs at least one instance type" })
        .max(25, { error: "the Elastic CI Stack takes at most 25 instance types" }),
    // aws-stack.yml v6.71.1 MinSize and MaxSize: MinValue 0 and no MaxValue. The upper bound is ours: a fleet of more
    // than 1000 instances is a typo, and one that would run up a bill before anyone noticed.
    minSize: z.number().int().min(0).max(MAX_FLEET_SIZE),
    maxSize: z.number().int().min(0).max(MAX_FLEET_SIZE),
    // aws-stack.yml v6.71.1 OnDemandPercentage: MinValue 0, MaxValue 100.
    onDemandPercentage: z.number().int().min(0).max(100).default(100),
    spotAllocationStrategy: z.enum(SPOT_ALLOCATION_STRATEGIES).default("price-capacity-optimized"),
    // aws-stack.yml v6.71.1 AgentsPerInstance: MinValue 1 and no MaxValue; 64 is ours (agents share one instance).
    agentsPerInstance: z.number().int().min(1).max(64).default(1),
    os: z.enum(["linux", "windows"]).default("linux"),
    /**
     * Whether Docker step containers may use the instance role through the instance metadata service. Off by default:
     * the bootstrap script rejects container traffic to IMDS, so a step's container gets no AWS credentials unless a
     * plugin hands it some (e.g. docker's propagate-aws-auth-tokens after an assume-role step). Linux fleets only.
     */
    stepsUseInstanceRole: z.boolean().default(false),
    /** Existing VPC to run in; the stack creates its own when omitted. */
    vpcId: z
        .string()
        .regex(/^vpc-[0-9a-f]{8,17}$/, { error: "must be a VPC id such as vpc-0abc1234" })
        .optional(),
    // EC2 resource ids are the prefix and 8 or 17 hexadecimal digits.
    subnets: z.array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, { error: "must be a subnet id" })).optional(),
    securityGroupIds: z
        .array(z.string().regex(/^sg-[0-9a-f]{8,17}$/, { error: "must be a security group id" }))
        .optional(),
    // aws-stack.yml v6.71.1 RootVolumeSize: MinValue 10; 16384 GiB is the largest gp3 EBS volume.
    rootVolumeSizeGb: z.number().int().min(10).max(16384).optional(),
    /** ARN of an IAM permissions boundary for the fleet's roles. */
    permissionsBoundary: z
        .string()
        .regex(/^arn:aws[a-z-]*:iam::\d{12}:policy\/[\w+=,.@/-]{1,512}$/, { error: "must be an IAM policy ARN" })
        .optional(),
    /** Extra IAM managed policies for the instances. */
    managedPolicyArns: z
        .array(
            z.string().regex(/^arn:aws[a-z-]*:iam::(\d{12}|aws):policy\/[\w+=,.@/-]{1,512}$/, {
                error: "must be an IAM policy ARN",
            }),
        )
        .default([]),
    // One of CloudWatch Logs' retention values, checked in cross-checks.ts; 3653 is the largest.
    logRetentionDays: z.number().int().min(1).max(3653).default(30),
    tags: tagMap.default({}),
});

const staticFleetSchema = z.strictObject({
    name: slug("fleet name"),
    /** Earlier names of the fleet ({@link renamedFrom}); a renamed fleet sets {@link physicalName}. */
    renamedFrom: renamedFrom(slug("fleet name")),
    /** What its physical names derive from: the name it was first deployed under ({@link physicalName}). */
    physicalName: physicalName(),
    kind: z.literal("static"),
    description: text("a description", 1000).optional(),
    cluster: name("cluster name"),
    queue: slug("queue name"),
    /** Where the machines are, for people reading the plan. */
    location: label("a location", 255).optional(),
    /**
     * Names of the secret environment variables the machines set for every job themselves (held in their keychain
     * or the agent's environment, not managed by this stack). An on-premises fleet has no access to the secrets
     * buckets, so this is the only way a secret reaches its jobs.
     */
    providesSecrets: z.array(envName).default([]),
    /**
     * Which checkouts the machines can authenticate themselves: `ssh` (a key in the agent user's ssh-agent or
     * ~/.ssh that GitHub accepts for the repositories), `https` (a git credential helper for https://github.com).
     * A public repository checked out over HTTPS needs neither.
     */
    checkoutCredentials: z.array(z.enum(CHECKOUT_METHODS)).default([]),
    tags: tagMap.default({}),
});

export const fleetSchema = z.discriminatedUnion("kind", [awsFleetSchema, staticFleetSchema], {
    error: 'a fleet\'s kind must be "aws" or "static"',
});

/**
 * An image name: its ECR repository is `ci-platform/<name>`, and ECR repository names are lowercase letters and
 * digits, separated by single '.', '_' or '-' (and '/'), 2-256 characters (AWS ECR API, CreateRepository
 * repositoryName pattern). 200 leaves room for the prefix.
 */
const IMAGE_NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
/**
 * A variant is the first part of the image tag `<variant>-<version>`; Docker and ECR tags are at most 128 characters
 * of letters, digits, '_', '.' and '-', not starting with '.' or '-'. 64 leaves room for the version.
 */
const VARIANT = /^[a-z0-9][a-z0-9._-]*$/;

export const imageSchema = z.strictObject({
    name: z
        .string({ error: "expected an image name (a string)" })
        .regex(IMAGE_NAME, {
            error: "must be an ECR repository name: lowercase letters and digits, separated by single '.', '_' or '-'",
        })
        .max(200, { error: "must be at most 200 characters" }),
    description: text("a description", 1000).optional(),
    variants: z
        .array(
            z
                .string({ error: "expected a variant (a string)" })
                .regex(VARIANT, {
                    error: "must be lowercase letters, digits, '.', '_' and '-', starting with a letter or digit (it starts the image tag)",
                })
                .max(64, { error: "must be at most 64 characters (it is part of a 128-character image tag)" }),
        )
        .min(1, {
            error: "an image needs at least one variant",
        }),
    /** How many versions of the image its ECR repositories keep (the lifecycle policy). Defaults to 10. */
    // The bound is ours, well under ECR's 20,000 images per repository (ECR service quotas).
    keepVersions: z.number().int().min(1).max(1000).optional(),
});

/** An image a step runs in: one of `ci-platform:images` and one of its variants. */
export const imageRefSchema = z.strictObject({
    name: z
        .string({ error: "expected an image name (a string)" })
        .max(200, { error: "must be at most 200 characters" }),
    variant: z.string({ error: "expected a variant (a string)" }).max(64, { error: "must be at most 64 characters" }),
});

export const triggerSchema = z.strictObject({
    /** Slug of the pipeline to trigger. */
    pipeline: slug("pipeline slug"),
    /** Step key of the trigger step, so other triggers can depend on it. */
    key: z
        .string()
        .regex(/^[A-Za-z0-9_:-]+$/, { error: "step keys are letters, digits, _, : and -" })
        // The bound is ours; the pipeline schema sets none.
        .max(100, { error: "step keys are at most 100 characters" })
        .optional(),
    /** Keys of other triggers of the same pipeline this one waits for. */
    dependsOn: z
        .union([z.string().max(100), z.array(z.string().max(100))])
        .optional()
        .transform((v) => (v === undefined ? [] : typeof v === "string" ? [v] : v)),
    /** Do not wait for the triggered build to finish. */
    async: z.boolean().default(false),
    /** Branch filter: only trigger from these branches (Buildkite branch pattern syntax). */
    branches: label("a branch filter", 1000).optional(),
    label: label("a label", 255).optional(),
    /** Extra environment for the triggered build. */
    env: envMap.default({}),
});

export const packageSchema = z.strictObject({
    name: name("package name"),
    /** Repository-relative directory of the package, no leading or trailing slash. */
    path: repositoryPath("a package directory such as python_modules/dagster"),
    dependsOn: z.array(z.string().max(63)).default([]),
    /** Command that tests the package; defaults to the pipeline's package command. */
    command: text("a command", MAX_COMMAND).optional(),
    image: imageRefSchema.optional(),
    /**
     * Artifacts the package's step produces, as upload globs relative to the package's directory (`dist/*.whl`).
     * When the step is skipped, the steps that use them download them from the base build that last made them.
     */
    artifacts: z.array(repositoryPath("an artifact glob such as dist/*.whl")).default([]),
    /**
     * The packages whose artifacts this one uses; by default every package of its dependency closure that
     * declares artifacts.
     */
    uses: z.array(z.string().max(63)).optional(),
    /**
     * The opt-out, per artifact (entries of `artifacts`): when the step is skipped these are copied from the base
     * build into the current one (downloaded and uploaded again) instead of being read from the base build.
     */
    copyArtifacts: z.array(z.string().max(1024)).default([]),
});

export const scheduleSchema = z.strictObject({
    label: label("a label", 255),
    /** A Buildkite cron interval: five fields and an optional time zone, or a predefined interval such as @daily. */
    cronline: z
        .string({ error: "expected a cron line (a string)" })
        .max(255, { error: "must be at most 255 characters" })
        .superRefine((line, ctx) => {
            const problem = cronLineProblem(line);
            if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
        }),
    branch: branch("a branch name").optional(),
    message: text("a message", 1000).optional(),
    env: envMap.default({}),
    enabled: z.boolean().default(true),
});

export const providerSettingsSchema = z.strictObject({
    triggerMode: z.enum(["code", "deployment", "fork", "none"]).default("code"),
    buildPullRequests: z.boolean().default(true),
    buildPullRequestForks: z.boolean().default(false),
    prefixPullRequestForkBranchNames: z.boolean().default(true),
    buildPullRequestReadyForReview: z.boolean().default(true),
    skipBuildsForExistingCommits: z.boolean().default(true),
    skipPullRequestBuildsForExistingCommits: z.boolean().default(true),
    buildTags: z.boolean().default(true),
    buildBranches: z.boolean().default(true),
    publishCommitStatus: z.boolean().default(true),
    publishCommitStatusPerStep: z.boolean().default(false),
    publishBlockedAsPending: z.boolean().default(true),
    cancelDeletedBranchBuilds: z.boolean().default(true),
    separatePullRequestStatuses: z.boolean().default(false),
    filterEnabled: z.boolean().default(false),
    filterCondition: label("a filter condition", 1000).optional(),
});

export const TEAM_ACCESS_LEVELS = ["READ_ONLY", "BUILD_AND_READ", "MANAGE_BUILD_AND_READ"] as const;

export const pipelineSchema = z.strictObject({
    slug: slug("pipeline slug"),
    /** Earlier slugs of the pipeline, oldest first: see {@link renamedFrom}. */
    renamedFrom: renamedFrom(slug("pipeline slug")),
    name: label("a pipeline name", 255).optional(),
    description: text("a description", 1000).optional(),
    /** `owner/name` on GitHub. */
    repository: z
        .string({ error: "expected a GitHub repository, owner/name (a string)" })
        .regex(REPOSITORY_PATTERN, {
            error: (issue) =>
                `"${String(issue.input)}" is not a GitHub repository; write it as owner/name (owner: 1-39 letters, digits and inner hyphens; name: up to 100 letters, digits, '.', '_' and '-', not "." or "..")`,
        })
        .refine((r) => !/\.git$/i.test(r), { error: "write the repository without the .git suffix (owner/name)" }),
    /**
     * How agents clone the repository. `https` (the default): one git-credentials token serves every repository it
     * can read, and a public repository needs no credential at all. `ssh`: needs a key GitHub accepts for this
     * repository (a deploy key is tied to one repository), delivered as the pipeline's or the organisation's
     * `privateSshKey`.
     */
    checkout: z.enum(CHECKOUT_METHODS).default("https"),
    /** The repository is public on GitHub: an HTTPS checkout needs no credentials. */
    publicRepository: z.boolean().default(false),
    /**
     * Names of secret environment variables the pipeline's jobs need. Each must reach every fleet that runs them:
     * a value in `ci-platform:secrets` (pipeline or organisation) for AWS fleets, `providesSecrets` for static ones.
     * The names of the pipeline's own `ci-platform:secrets` env and files count as needed too.
     */
    requiresSecrets: z.array(envName).default([]),
    cluster: name("cluster name").default("default"),
    queue: queueKey("queue key").default("default"),
    defaultBranch: branch("a branch name").default("main"),
    /** Branch filter for builds (Buildkite branch pattern syntax); all branches when omitted. */
    branches: label("a branch filter", 1000).optional(),
    webhook: z.enum(["github", "github-app", "none"]).default("github"),
    /** The team that owns the pipeline; defaults to the first of `ci-platform:teams`. */
    team: label("a team name", 255).optional(),
    /** Other teams and their access. */
    teams: z.array(z.strictObject({ team: label("a team name", 255), access: z.enum(TEAM_ACCESS_LEVELS) })).default([]),
    schedules: z.array(scheduleSchema).default([]),
    provider: providerSettingsSchema.default(() => providerSettingsSchema.parse({})),
    /**
     * Skip queued builds when a newer build of the same branch is created. Unset: true, except for a pipeline some
     * trigger targets (false): see {@link resolveIntermediateBuilds}.
     */
    skipIntermediateBuilds: z.boolean().optional(),
    /** Cancel running and blocked builds when a newer build of the same branch is created. Unset: as above. */
    cancelIntermediateBuilds: z.boolean().optional(),
    /** Non-secret environment for every build (secret values belong in `ci-platform:secrets`). */
    env: envMap.default({}),
    /** The image command steps run in. */
    image: imageRefSchema.optional(),
    triggers: z.array(triggerSchema).default([]),
    /** `release`: a build triggered by a non-release parent waits at a block step. */
    gate: z.enum(["release", "none"]).default("none"),
    /** Monorepo packages: one step each, skipped when a change cannot affect them. */
    packages: z.array(packageSchema).default([]),
    /** Command that tests one package; `{name}` and `{path}` are replaced. */
    packageCommand: text("a command", MAX_COMMAND).default("make -C {path} test"),
    /**
     * The release's publish step of a monorepo: on a tag only, after every package step passed, on the release
     * queue, with every producer's artifacts downloaded into the checkout first (components/steps/pipeline-steps.ts
     * `publishStep`). `secrets`: pipeline secret names only this step's container gets (e.g. a PyPI token).
     */
    publish: z
        .strictObject({
            command: text("a command", MAX_COMMAND),
            secrets: z.array(envName).default([]),
        })
        .optional(),
    /** Paths whose change makes every package run (besides `.buildkite/`). */
    alwaysRebuildPaths: z.array(repositoryPath("a repository path such as pyproject.toml", true)).default([]),
    /**
     * What this pipeline's builds upload as artifacts (agent artifact search patterns such as `dist/*.whl`): what
     * its triggered children download, and, for a gated child, what it adds to the parent's GitHub release.
     */
    artifacts: z
        .array(
            z
                .string({ error: "expected an artifact pattern (a string)" })
                .max(1024, { error: "must be at most 1024 characters" })
                .regex(/^[^/$\s][^$\s]*$/, {
                    error: "must be a repository-relative artifact pattern such as dist/*.whl (no spaces, no $, no leading /)",
                })
                // An upload pattern with a `..` segment reaches outside the checkout the agent uploads from.
                .refine((p) => !p.split("/").includes("..") && !p.includes("\\"), {
                    error: "must stay inside the checkout: no '..' segment and no backslash",
                }),
        )
        .default([]),
});

/** Secret material for one scope (the organisation, or one pipeline). Values are secret; keys are not. */
export const secretSetSchema = z.strictObject({
    /** Variables exported into every job (the `env` object). */
    env: envMap.optional(),
    /** SSH key for checking out private repositories (the `private_ssh_key` object). */
    privateSshKey: z.string().min(1).max(MAX_SECRET).optional(),
    /** Lines of a git-credentials file, e.g. https://user:token@github.com (the `git-credentials` object). */
    gitCredentials: z
        .union([z.string().min(1).max(MAX_SECRET), z.array(z.string().min(1).max(MAX_SECRET)).min(1)])
        .optional(),
    /** One object per variable under `secret-files/`, named after the variable. */
    files: z
        .record(
            z
                .string()
                .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "secret file names are environment variable names" })
                .max(128, { error: "secret file names are at most 128 characters" }),
            z.string({ error: "expected a string" }).max(MAX_SECRET),
        )
        .optional(),
});

export const secretsSchema = z.strictObject({
    /** Organisation-wide secrets, at the root of every secrets bucket. */
    organization: secretSetSchema.optional(),
    /** Per-pipeline secrets, under the pipeline's slug. */
    pipelines: z.record(slug("pipeline slug"), secretSetSchema).default({}),
    /** By cluster: the private JWKS (Ed25519) that signs the cluster's steps (`clusters[].signing`, mode jwks). */
    signing: z.record(name("cluster name"), z.string().min(1).max(MAX_SECRET)).optional(),
});

/** Every `ci-platform:*` key, without its namespace. */
/**
 * Fills in each pipeline's unset `skipIntermediateBuilds` / `cancelIntermediateBuilds`: true, except false for a
 * pipeline another pipeline triggers. A trigger creates builds of the child's own default branch (or of the
 * parent's branch), so builds for different parent builds land on one branch; buildkite/docs
 * pages/pipelines/configure/canceling_builds.md: a new build cancels the branch's started, failing and BLOCKED
 * builds; skipping.md: it skips the branch's scheduled ones. Left on, any push to a parent would cancel a running
 * release build of the child (or the gated build waiting at its block step), and fail the parent's trigger step.
 */
export function resolveIntermediateBuilds<P extends z.infer<typeof pipelineSchema>>(
    pipelines: readonly P[],
): (P & { skipIntermediateBuilds: boolean; cancelIntermediateBuilds: boolean })[] {
    const targets = new Set(pipelines.flatMap((p) => p.triggers.map((t) => t.pipeline)));
    return pipelines.map((p) => ({
        ...p,
        skipIntermediateBuilds: p.skipIntermediateBuilds ?? !targets.has(p.slug),
        cancelIntermediateBuilds: p.cancelIntermediateBuilds ?? !targets.has(p.slug),
    }));
}

export const platformConfigSchema = z.strictObject({
    organization: slug("Buildkite organization slug"),
    github: githubSchema,
    homeRegion: region,
    elasticStack: elasticStackSchema,
    clusters: z.array(clusterSchema).min(1, { error: "declare at least one cluster" }),
    teams: z.array(teamSchema).min(1, { error: "declare at least one team to own the pipelines" }),
    fleets: z.array(fleetSchema).default([]),
    images: z.array(imageSchema).default([]),
    pipelines: z
        .array(pipelineSchema)
        .default([])
        .transform((pipelines) => resolveIntermediateBuilds(pipelines)),
    secrets: secretsSchema.default({ pipelines: {} }),
    /**
     * The Buildkite organization has the rules feature (opt-in, enabled by Buildkite support). Needed for a trigger
     * between pipelines of different clusters: the trigger and the child's artifact download each need a rule.
     */
    organizationRules: z
        // Pulumi hands a program every top-level scalar as text, as `pulumi config get` prints it.
        .preprocess((v) => (v === "true" ? true : v === "false" ? false : v), z.boolean())
        .default(false),
    /** Cost allocation tags applied to every taggable AWS resource. */
    tags: tagMap.default({}),
    /** The AWS roles that deploy and preview this stack, assumed per job through OIDC (components/access). */
    deployRoles: z.array(deployRoleSchema).default([]),
    /**
     * Break-glass principals (IAM role or user ARNs) that may write the platform's secrets and agent tokens through
     * its KMS keys besides the `deploy` roles: the administrator who runs the first `pulumi up` (components/agents
     * key-policy.ts). Defaults to none.
     */
    kmsAdministrators: z
        .array(
            z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]{1,512}$/, {
                error: "must be an IAM role or user ARN, e.g. arn:aws:iam::123456789012:role/Admin",
            }),
        )
        .default([]),
    /** Existing cloud resources the stack adopts (`import`) instead of creating: components/config/adopt.ts. */
    adopt: adoptSchema,
});

export type PlatformConfig = z.infer<typeof platformConfigSchema>;
export type ClusterConfig = z.infer<typeof clusterSchema>;
export type TeamConfig = z.infer<typeof teamSchema>;
export type FleetConfig = z.infer<typeof fleetSchema>;
export type AwsFleetConfig = z.infer<typeof awsFleetSchema>;
export type StaticFleetConfig = z.infer<typeof staticFleetSchema>;
/** A pipeline as the validated config holds it (intermediate-build settings resolved). */
export type PipelineConfig = PlatformConfig["pipelines"][number];
export type SecretSet = z.infer<typeof secretSetSchema>;
export type SecretsConfig = z.infer<typeof secretsSchema>;
export type SigningConfig = z.infer<typeof signingSchema>;
