import { z } from "zod";
import { AWS_REGION_NAMES } from "./regions";

/*
 * The shape of every `ci-platform:*` stack config key. Objects are strict: an unknown key is an error, so a typo
 * is never silently ignored. Cross-references (a trigger naming a pipeline, a pipeline naming a queue) are checked
 * afterwards in cross-checks.ts, where every declared name is known.
 */

const SLUG = /^[a-z0-9][a-z0-9-]*$/;
const slug = (what: string) =>
    z
        .string({ error: `expected a ${what} (a string)` })
        .regex(SLUG, { error: `must be lowercase letters, digits and dashes, starting with a letter or digit` })
        .max(100, { error: "must be at most 100 characters" });

const name = (what: string) =>
    z
        .string({ error: `expected a ${what} (a string)` })
        .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { error: "must be letters, digits, '.', '_' and '-'" });

const region = z.enum(AWS_REGION_NAMES, {
    error: (issue) => `"${String(issue.input)}" is not an AWS region name (for example us-east-1 or eu-west-2)`,
});

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const envName = z.string().regex(ENV_NAME, { error: "environment variable names are letters, digits and _" });

const envMap = z.record(envName, z.string({ error: "environment values are strings; quote numbers and booleans" }));

const tagMap = z.record(
    z.string().min(1).max(128),
    z.string({ error: "tag values are strings" }).max(256, { error: "tag values are at most 256 characters" }),
);

/** How agents clone a pipeline's repository: `git@github.com:owner/name.git` or `https://github.com/owner/name.git`. */
export const CHECKOUT_METHODS = ["ssh", "https"] as const;
export type CheckoutMethod = (typeof CHECKOUT_METHODS)[number];

/** `owner/name` of a GitHub repository. */
export const REPOSITORY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9-]*\/[A-Za-z0-9._-]+$/;

export const githubSchema = z.strictObject({
    /** The GitHub organization or user that owns the repositories. */
    owner: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]*$/, { error: "must be a GitHub organization or user name" }),
});

export const elasticStackSchema = z.strictObject({
    /** The Elastic CI Stack for AWS release, a tag such as v6.71.1. Never `latest`. */
    version: z.string().regex(/^v\d+\.\d+\.\d+$/, {
        error: (issue) =>
            `"${String(issue.input)}" is not a pinned release; the Elastic CI Stack must be pinned to a tag such as v6.71.1, never latest or a branch`,
    }),
    /** Days after which a replaced or deleted object version in a secrets bucket expires. Defaults to 90. */
    secretsVersionExpirationDays: z.number().int().min(1).max(3650).default(90),
});

export const clusterSchema = z.strictObject({
    name: name("cluster name"),
    description: z.string().optional(),
    emoji: z.string().optional(),
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
});

export const TEAM_PRIVACY = ["VISIBLE", "SECRET"] as const;
export const TEAM_ROLES = ["MEMBER", "MAINTAINER"] as const;
export const teamSchema = z.strictObject({
    name: z.string().min(1),
    description: z.string().optional(),
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
    kind: z.literal("aws"),
    description: z.string().optional(),
    cluster: z.string(),
    queue: slug("queue name"),
    region,
    /** EC2 instance types, most preferred first. */
    instanceTypes: z
        .array(
            z.string().regex(/^[a-z0-9-]+\.[a-z0-9]+$/, { error: "must be an EC2 instance type such as c7i.xlarge" }),
        )
        .min(1, { error: "an AWS fleet needs at least one instance type" })
        .max(25, { error: "the Elastic CI Stack takes at most 25 instance types" }),
    minSize: z.number().int().min(0),
    maxSize: z.number().int().min(0),
    onDemandPercentage: z.number().int().min(0).max(100).default(100),
    spotAllocationStrategy: z.enum(SPOT_ALLOCATION_STRATEGIES).default("price-capacity-optimized"),
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
        .regex(/^vpc-[0-9a-f]+$/, { error: "must be a VPC id such as vpc-0abc1234" })
        .optional(),
    subnets: z.array(z.string().regex(/^subnet-[0-9a-f]+$/, { error: "must be a subnet id" })).optional(),
    securityGroupIds: z.array(z.string().regex(/^sg-[0-9a-f]+$/, { error: "must be a security group id" })).optional(),
    rootVolumeSizeGb: z.number().int().min(10).max(16384).optional(),
    /** ARN of an IAM permissions boundary for the fleet's roles. */
    permissionsBoundary: z
        .string()
        .regex(/^arn:aws[a-z-]*:iam::\d{12}:policy\/.+$/, { error: "must be an IAM policy ARN" })
        .optional(),
    /** Extra IAM managed policies for the instances. */
    managedPolicyArns: z
        .array(
            z.string().regex(/^arn:aws[a-z-]*:iam::(\d{12}|aws):policy\/.+$/, { error: "must be an IAM policy ARN" }),
        )
        .default([]),
    logRetentionDays: z.number().int().min(1).default(30),
    tags: tagMap.default({}),
});

const staticFleetSchema = z.strictObject({
    name: slug("fleet name"),
    kind: z.literal("static"),
    description: z.string().optional(),
    cluster: z.string(),
    queue: slug("queue name"),
    /** Where the machines are, for people reading the plan. */
    location: z.string().optional(),
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

export const imageSchema = z.strictObject({
    name: slug("image name"),
    description: z.string().optional(),
    variants: z.array(slug("variant").or(z.string().regex(/^[a-z0-9][a-z0-9._-]*$/))).min(1, {
        error: "an image needs at least one variant",
    }),
    /** How many versions of the image its ECR repositories keep (the lifecycle policy). Defaults to 10. */
    keepVersions: z.number().int().min(1).max(1000).optional(),
});

/** An image a step runs in: one of `ci-platform:images` and one of its variants. */
export const imageRefSchema = z.strictObject({
    name: z.string(),
    variant: z.string(),
});

export const triggerSchema = z.strictObject({
    /** Slug of the pipeline to trigger. */
    pipeline: z.string(),
    /** Step key of the trigger step, so other triggers can depend on it. */
    key: z
        .string()
        .regex(/^[A-Za-z0-9_:-]+$/, { error: "step keys are letters, digits, _, : and -" })
        .optional(),
    /** Keys of other triggers of the same pipeline this one waits for. */
    dependsOn: z
        .union([z.string(), z.array(z.string())])
        .optional()
        .transform((v) => (v === undefined ? [] : typeof v === "string" ? [v] : v)),
    /** Do not wait for the triggered build to finish. */
    async: z.boolean().default(false),
    /** Branch filter: only trigger from these branches (Buildkite branch pattern syntax). */
    branches: z.string().optional(),
    label: z.string().optional(),
    /** Extra environment for the triggered build. */
    env: envMap.default({}),
});

export const packageSchema = z.strictObject({
    name: slug("package name").or(name("package name")),
    /** Repository-relative directory of the package, no leading or trailing slash. */
    path: z.string().regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/, {
        error: "must be a repository-relative directory such as python_modules/dagster (no leading or trailing /)",
    }),
    dependsOn: z.array(z.string()).default([]),
    /** Command that tests the package; defaults to the pipeline's package command. */
    command: z.string().optional(),
    image: imageRefSchema.optional(),
});

export const scheduleSchema = z.strictObject({
    label: z.string().min(1),
    cronline: z.string().min(1),
    branch: z.string().optional(),
    message: z.string().optional(),
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
    filterCondition: z.string().optional(),
});

export const TEAM_ACCESS_LEVELS = ["READ_ONLY", "BUILD_AND_READ", "MANAGE_BUILD_AND_READ"] as const;

export const pipelineSchema = z.strictObject({
    slug: slug("pipeline slug"),
    name: z.string().min(1).optional(),
    description: z.string().optional(),
    /** `owner/name` on GitHub. */
    repository: z.string().regex(REPOSITORY_PATTERN, {
        error: (issue) => `"${String(issue.input)}" is not a GitHub repository; write it as owner/name`,
    }),
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
    cluster: z.string().default("default"),
    queue: z.string().default("default"),
    defaultBranch: z.string().min(1).default("main"),
    /** Branch filter for builds (Buildkite branch pattern syntax); all branches when omitted. */
    branches: z.string().optional(),
    webhook: z.enum(["github", "github-app", "none"]).default("github"),
    /** The team that owns the pipeline; defaults to the first of `ci-platform:teams`. */
    team: z.string().optional(),
    /** Other teams and their access. */
    teams: z.array(z.strictObject({ team: z.string(), access: z.enum(TEAM_ACCESS_LEVELS) })).default([]),
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
    packageCommand: z.string().default("make -C {path} test"),
    /** Paths whose change makes every package run (besides `.buildkite/`). */
    alwaysRebuildPaths: z.array(z.string()).default([]),
    /**
     * What this pipeline's builds upload as artifacts (agent artifact search patterns such as `dist/*.whl`): what
     * its triggered children download, and, for a gated child, what it adds to the parent's GitHub release.
     */
    artifacts: z
        .array(
            z.string().regex(/^[^/$\s][^$\s]*$/, {
                error: "must be a repository-relative artifact pattern such as dist/*.whl (no spaces, no $, no leading /)",
            }),
        )
        .default([]),
});

/** Secret material for one scope (the organisation, or one pipeline). Values are secret; keys are not. */
export const secretSetSchema = z.strictObject({
    /** Variables exported into every job (the `env` object). */
    env: envMap.optional(),
    /** SSH key for checking out private repositories (the `private_ssh_key` object). */
    privateSshKey: z.string().min(1).optional(),
    /** Lines of a git-credentials file, e.g. https://user:token@github.com (the `git-credentials` object). */
    gitCredentials: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    /** One object per variable under `secret-files/`, named after the variable. */
    files: z
        .record(
            z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "secret file names are environment variable names" }),
            z.string(),
        )
        .optional(),
});

export const secretsSchema = z.strictObject({
    /** Organisation-wide secrets, at the root of every secrets bucket. */
    organization: secretSetSchema.optional(),
    /** Per-pipeline secrets, under the pipeline's slug. */
    pipelines: z.record(z.string(), secretSetSchema).default({}),
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
});

/** The keys of the config namespace. */
export const CONFIG_KEYS = Object.keys(platformConfigSchema.shape) as (keyof typeof platformConfigSchema.shape)[];

export type PlatformConfig = z.infer<typeof platformConfigSchema>;
export type ClusterConfig = z.infer<typeof clusterSchema>;
export type TeamConfig = z.infer<typeof teamSchema>;
export type FleetConfig = z.infer<typeof fleetSchema>;
export type AwsFleetConfig = z.infer<typeof awsFleetSchema>;
export type StaticFleetConfig = z.infer<typeof staticFleetSchema>;
export type ImageConfig = z.infer<typeof imageSchema>;
export type ImageRef = z.infer<typeof imageRefSchema>;
/** A pipeline as the validated config holds it (intermediate-build settings resolved). */
export type PipelineConfig = PlatformConfig["pipelines"][number];
export type TriggerConfig = z.infer<typeof triggerSchema>;
export type PackageConfig = z.infer<typeof packageSchema>;
export type ScheduleConfig = z.infer<typeof scheduleSchema>;
export type ProviderSettings = z.infer<typeof providerSettingsSchema>;
export type SecretSet = z.infer<typeof secretSetSchema>;
export type SecretsConfig = z.infer<typeof secretsSchema>;
