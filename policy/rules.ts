/*
 * The ci-platform policies, as pure functions over the resources the program declares. pack.ts wraps them for
 * CrossGuard (`pulumi preview --policy-pack policy`); offline.ts runs them over the offline plan. Every message says
 * what is wrong and how to fix it, and never repeats a secret value.
 */
import { signedPipelinesVerified, signingOffDeclared, signingUnset } from "./invariants/signing";
import { yamlDocument } from "../components/steps/parsed-yaml";
import { findCredentials } from "./credentials";
import { storedUploadDocuments } from "./platform";
import { checkoutOnEveryFleet } from "./invariants/checkout";
import { crossClusterTriggerRules } from "./invariants/cluster-rules";
import { secretsOnlyWhereRun, secretsReachFleets } from "./invariants/secrets";
import { PLATFORM_INVARIANTS } from "./invariants/platform";
import { hooksAgentsPerInstance } from "./invariants/hooks";
import { agentsAllowlist } from "./invariants/allowlist";
import { secretsBucketOneCluster } from "./invariants/secrets-cluster";
import { elasticStackOwnInstanceRole, kmsKeyPolicyNamedPrincipals } from "./invariants/fleet-role";
import { deployRolesApart } from "./invariants/deploy-roles";
import { repositoryOwnersPerCluster } from "./invariants/repository-owners";
import { everyResourceHasParentComponent } from "./invariants/parents";
import { ecrRepositoriesWhole } from "./invariants/ecr-repositories";
import { noSecretLookingValues } from "./invariants/secret-looking-values";
import { secretsReadableOnlyByServingFleets } from "./invariants/secrets-reachability";
import { stepContainersNoInstanceRole } from "./invariants/step-containers";
import { isSecretsBucketChild, secretsBucketWhole } from "./invariants/secrets-bucket-whole";
import { linuxFleetAllowlistObject } from "./invariants/allowlist-object";
import { stepsMatchSchema } from "./invariants/step-schema";
import { isPinnedPlugin } from "../components/steps/pipeline-schema";
import {
    asList,
    at,
    blocks,
    isOpaque,
    isRecord,
    isSet,
    isTrue,
    jsonDocument,
    type PlanResource,
    stackParameters,
    UNKNOWN,
} from "./resource";

/** What a violation does: `mandatory` stops a deployment (and makes the offline plan exit non-zero). */
export type EnforcementLevel = "mandatory" | "advisory";

/** How bad a violation is, in CrossGuard's terms. */
export type Severity = "low" | "medium" | "high" | "critical";

/** Settings a stack can change (`pulumi policy` config, or the offline runner's options). */
export interface PolicyParams {
    /** Tag keys every taggable AWS resource must carry. */
    readonly requiredTags: readonly string[];
}

/** The settings used when none are given. */
export const DEFAULT_PARAMS: PolicyParams = { requiredTags: ["CostCenter"] };

/** What a resource rule may read besides the resource itself. */
export interface RuleContext {
    /** The settings in force. */
    readonly params: PolicyParams;
    /** The provider resource that manages the resource, when known (its inputs hold e.g. `defaultTags`). */
    readonly provider?: PlanResource;
}

interface RuleInfo {
    /** Unique, kebab-case; the CrossGuard policy name. */
    readonly name: string;
    /** One sentence: what the rule requires. */
    readonly description: string;
    readonly enforcementLevel: EnforcementLevel;
    readonly severity: Severity;
    /** The type tokens the rule looks at. */
    readonly types: readonly string[];
    /** How to fix a violation, in general (each message also says it for the case at hand). */
    readonly remediation: string;
}

/** A rule that judges one resource at a time. Returns one message per problem; none when it complies. */
export interface ResourceRule extends RuleInfo {
    readonly kind: "resource";
    /** Resources outside `types` the rule also judges. */
    readonly alsoApplies?: (resource: PlanResource) => boolean;
    check(resource: PlanResource, context: RuleContext): string[];
}

/** A problem a stack rule found, and the resource it is about. */
export interface StackFinding {
    readonly urn: string;
    readonly message: string;
}

/** A rule that needs to see every resource, e.g. to find the versioning resource that points at a bucket. */
export interface StackRule extends RuleInfo {
    readonly kind: "stack";
    check(resources: readonly PlanResource[], params: PolicyParams): StackFinding[];
}

export type Rule = ResourceRule | StackRule;

/** Type tokens the rules know about, from @pulumi/aws 7, @pulumi/github 6 and @pulumiverse/buildkite 3. */
export const TYPES = {
    bucket: ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"],
    bucketVersioning: ["aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2"],
    bucketEncryption: [
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
    ],
    bucketPublicAccessBlock: ["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"],
    bucketPolicy: ["aws:s3/bucketPolicy:BucketPolicy"],
    kmsKey: ["aws:kms/key:Key"],
    ssmParameter: ["aws:ssm/parameter:Parameter"],
    cloudFormationStack: ["aws:cloudformation/stack:Stack"],
    ecrRepository: ["aws:ecr/repository:Repository"],
    iamPolicies: ["aws:iam/policy:Policy", "aws:iam/rolePolicy:RolePolicy", "aws:iam/role:Role"],
    githubWebhook: ["github:index/repositoryWebhook:RepositoryWebhook"],
    pipeline: ["buildkite:Pipeline/pipeline:Pipeline"],
} as const;

/**
 * AWS types this platform declares (or may) that take tags and whose tags matter for cost allocation. Any other AWS
 * resource given a `tags` input is checked too. S3 objects are left out on purpose: object tags do not reach cost
 * allocation reports, and an object takes at most 10 tags.
 */
export const TAGGABLE_AWS_TYPES: readonly string[] = [
    ...TYPES.bucket,
    ...TYPES.kmsKey,
    ...TYPES.ssmParameter,
    ...TYPES.cloudFormationStack,
    ...TYPES.ecrRepository,
    "aws:iam/role:Role",
    "aws:iam/policy:Policy",
    "aws:iam/instanceProfile:InstanceProfile",
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:lambda/function:Function",
    "aws:sns/topic:Topic",
    "aws:sqs/queue:Queue",
    "aws:secretsmanager/secret:Secret",
    "aws:ec2/securityGroup:SecurityGroup",
];

/** Resources that hold state a rebuild cannot recreate: a fleet is rebuilt around them, never through them. */
export const STATEFUL_TYPES: readonly string[] = [...TYPES.bucket, ...TYPES.kmsKey, ...TYPES.ecrRepository];

/** `https://s3.amazonaws.com/buildkite-aws-stack/v6.71.1/aws-stack.yml` and the bucket-host form of it. */
const PINNED_TEMPLATE_URL =
    /^https:\/\/(?:s3\.amazonaws\.com\/buildkite-aws-stack|buildkite-aws-stack\.s3\.amazonaws\.com)\/v\d+\.\d+\.\d+\/aws-stack\.yml$/;

const is = (types: readonly string[]) => (resource: PlanResource) => types.includes(resource.type);

/** Whether a resource rule judges `resource`. */
export function appliesTo(rule: ResourceRule, resource: PlanResource): boolean {
    return rule.types.includes(resource.type) || (rule.alsoApplies?.(resource) ?? false);
}

// ---------------------------------------------------------------------------------------------------------------
// S3 secrets buckets: each bucket needs companion resources pointing at it, so these rules look at the whole stack.

/**
 * Whether `companion` (a versioning, encryption, public-access-block or policy resource) configures `bucket`: it
 * depends on the bucket, or names it. An unknown bucket name is matched through the dependency only.
 */
export function configuresBucket(companion: PlanResource, bucket: PlanResource): boolean {
    if (companion.dependsOn?.includes(bucket.urn) || companion.parent === bucket.urn) return true;
    const named = companion.inputs.bucket;
    if (typeof named !== "string" || isOpaque(named)) return false;
    return named === bucket.inputs.bucket || named === bucket.name;
}

/** A stack rule over every bucket: `problem` returns what is missing for one bucket, or undefined. */
function bucketRule(
    info: Omit<StackRule, "kind" | "check">,
    companionTypes: readonly string[],
    problem: (bucket: PlanResource, companions: PlanResource[]) => string | undefined,
): StackRule {
    return {
        ...info,
        kind: "stack",
        check(resources) {
            const companions = resources.filter(is(companionTypes));
            return resources.filter(is(TYPES.bucket)).flatMap((bucket) => {
                const message = problem(
                    bucket,
                    companions.filter((c) => configuresBucket(c, bucket)),
                );
                return message === undefined ? [] : [{ urn: bucket.urn, message }];
            });
        },
    };
}

const secretsBucketVersioned = bucketRule(
    {
        name: "secrets-bucket-versioned",
        description:
            "Every S3 bucket (secrets, hooks) has versioning enabled, so an overwritten secret can be restored.",
        enforcementLevel: "mandatory",
        severity: "high",
        types: [...TYPES.bucket, ...TYPES.bucketVersioning],
        remediation:
            'Declare an aws.s3.BucketVersioning with `bucket: bucket.id` and `versioningConfiguration: { status: "Enabled" }`.',
    },
    TYPES.bucketVersioning,
    (bucket, companions) => {
        if (isTrue(at(bucket.inputs, "versioning", "enabled"))) return undefined;
        const statuses = companions.map((c) => at(c.inputs, "versioningConfiguration", "status"));
        if (statuses.some((s) => s === "Enabled" || s === UNKNOWN)) return undefined;
        const found =
            statuses.length === 0
                ? "no versioning resource points at it"
                : `versioning status is ${statuses.map(String).join(", ")}`;
        return `S3 bucket "${bucket.name}" is not versioned (${found}). Fix: add an aws.s3.BucketVersioning with bucket: <this bucket>.id and versioningConfiguration: { status: "Enabled" }.`;
    },
);

const secretsBucketKmsEncrypted = bucketRule(
    {
        name: "secrets-bucket-kms-encrypted",
        description: "Every S3 bucket encrypts objects by default with a customer-managed KMS key.",
        enforcementLevel: "mandatory",
        severity: "high",
        types: [...TYPES.bucket, ...TYPES.bucketEncryption],
        remediation:
            'Declare an aws.s3.BucketServerSideEncryptionConfiguration whose rule applies `sseAlgorithm: "aws:kms"` with `kmsMasterKeyId` set to the platform\'s KMS key.',
    },
    TYPES.bucketEncryption,
    (bucket, companions) => {
        const defaults = [
            ...companions.flatMap((c) => blocks(c.inputs.rules)),
            ...blocks(at(bucket.inputs, "serverSideEncryptionConfiguration", "rule")),
        ].flatMap((rule) => blocks(rule.applyServerSideEncryptionByDefault));
        const kms = (d: Record<string, unknown>) =>
            (d.sseAlgorithm === "aws:kms" || d.sseAlgorithm === "aws:kms:dsse" || d.sseAlgorithm === UNKNOWN) &&
            isSet(d.kmsMasterKeyId);
        if (defaults.some(kms)) return undefined;
        const found =
            defaults.length === 0
                ? "no server-side encryption configuration points at it"
                : `its default encryption is ${defaults.map((d) => `${String(d.sseAlgorithm)}${isSet(d.kmsMasterKeyId) ? "" : " without a key"}`).join(", ")}`;
        return `S3 bucket "${bucket.name}" is not encrypted with a KMS key (${found}). Fix: add an aws.s3.BucketServerSideEncryptionConfiguration with rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: <key>.arn }, bucketKeyEnabled: true }].`;
    },
);

const PUBLIC_ACCESS_FLAGS = [
    "blockPublicAcls",
    "blockPublicPolicy",
    "ignorePublicAcls",
    "restrictPublicBuckets",
] as const;

const secretsBucketPublicAccessBlocked = bucketRule(
    {
        name: "secrets-bucket-public-access-blocked",
        description: "Every S3 bucket has a public access block with all four settings on.",
        enforcementLevel: "mandatory",
        severity: "critical",
        types: [...TYPES.bucket, ...TYPES.bucketPublicAccessBlock],
        remediation:
            "Declare an aws.s3.BucketPublicAccessBlock for the bucket with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets all true.",
    },
    TYPES.bucketPublicAccessBlock,
    (bucket, companions) => {
        const off = (c: PlanResource) =>
            PUBLIC_ACCESS_FLAGS.filter((flag) => !isTrue(c.inputs[flag]) && c.inputs[flag] !== UNKNOWN);
        if (companions.some((c) => off(c).length === 0)) return undefined;
        const found =
            companions.length === 0
                ? "no public access block points at it"
                : `${[...new Set(companions.flatMap(off))].join(", ")} not true`;
        return `S3 bucket "${bucket.name}" does not block public access (${found}). Fix: add an aws.s3.BucketPublicAccessBlock with bucket: <this bucket>.id and blockPublicAcls, blockPublicPolicy, ignorePublicAcls, restrictPublicBuckets all true.`;
    },
);

/** Whether a policy document denies every request that does not use TLS. */
export function deniesInsecureTransport(policy: unknown): boolean {
    const document = jsonDocument(policy);
    if (document === undefined) return policy === UNKNOWN;
    return asList(document.Statement).some((statement) => {
        if (!isRecord(statement) || statement.Effect !== "Deny") return false;
        const secure = at(statement, "Condition", "Bool", "aws:SecureTransport");
        const everyone = statement.Principal === "*" || asList(at(statement, "Principal", "AWS")).includes("*");
        const everyAction = asList(statement.Action).some((a) => a === "s3:*" || a === "*");
        return (secure === "false" || secure === false) && everyone && everyAction;
    });
}

const secretsBucketTlsOnly = bucketRule(
    {
        name: "secrets-bucket-tls-only",
        description: "Every S3 bucket's policy denies requests that do not use TLS (aws:SecureTransport false).",
        enforcementLevel: "mandatory",
        severity: "high",
        types: [...TYPES.bucket, ...TYPES.bucketPolicy],
        remediation:
            'Declare an aws.s3.BucketPolicy with a statement { Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [arn, arn/*], Condition: { Bool: { "aws:SecureTransport": "false" } } }.',
    },
    TYPES.bucketPolicy,
    (bucket, companions) => {
        const policies = [
            ...companions.map((c) => c.inputs.policy),
            ...(bucket.inputs.policy ? [bucket.inputs.policy] : []),
        ];
        if (policies.some(deniesInsecureTransport)) return undefined;
        const found =
            policies.length === 0 ? "no bucket policy points at it" : "its bucket policy has no such Deny statement";
        return `S3 bucket "${bucket.name}" accepts requests without TLS (${found}). Fix: add an aws.s3.BucketPolicy with a statement { Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [<arn>, <arn>/*], Condition: { Bool: { "aws:SecureTransport": "false" } } }.`;
    },
);

// ---------------------------------------------------------------------------------------------------------------
// Agent tokens and the Elastic CI Stack.

const agentTokenSecureString: ResourceRule = {
    kind: "resource",
    name: "agent-token-securestring",
    description:
        "SSM parameters (this platform keeps agent tokens there) are SecureStrings, never String or insecureValue.",
    enforcementLevel: "mandatory",
    severity: "critical",
    types: TYPES.ssmParameter,
    remediation: 'Declare the parameter with type: "SecureString" and value: <token> (a Pulumi secret).',
    check(resource) {
        const problems: string[] = [];
        const type = resource.inputs.type;
        if (type !== "SecureString" && type !== UNKNOWN) {
            problems.push(
                `SSM parameter "${resource.name}" has type ${JSON.stringify(type ?? null)}: an agent token in SSM is readable by anyone with ssm:GetParameter. Fix: set type: "SecureString" (optionally keyId: <KMS key>).`,
            );
        }
        if (resource.inputs.insecureValue !== undefined) {
            problems.push(
                `SSM parameter "${resource.name}" sets insecureValue, which Pulumi keeps in plain text. Fix: pass the token as value: pulumi.secret(...).`,
            );
        }
        return problems;
    },
};

const elasticStackPinned: ResourceRule = {
    kind: "resource",
    name: "elastic-stack-pinned-release",
    description:
        "Every CloudFormation stack runs the Elastic CI Stack template of a pinned release (vX.Y.Z), never latest.",
    enforcementLevel: "mandatory",
    severity: "high",
    types: TYPES.cloudFormationStack,
    remediation:
        "Set templateUrl to https://s3.amazonaws.com/buildkite-aws-stack/<version>/aws-stack.yml with a release tag such as v6.71.1 (ci-platform:elasticStack.version).",
    check(resource) {
        const url = resource.inputs.templateUrl;
        if (url === UNKNOWN || (typeof url === "string" && PINNED_TEMPLATE_URL.test(url))) return [];
        const what =
            typeof url === "string"
                ? `templateUrl ${url}`
                : "no templateUrl (an inline templateBody cannot be reviewed as a release)";
        return [
            `CloudFormation stack "${resource.name}" has ${what}, not a pinned Elastic CI Stack release. Fix: use https://s3.amazonaws.com/buildkite-aws-stack/vX.Y.Z/aws-stack.yml with the release in ci-platform:elasticStack.version.`,
        ];
    },
};

const elasticStackImdsV2: ResourceRule = {
    kind: "resource",
    name: "elastic-stack-imdsv2-required",
    description: "Elastic CI Stack instances require IMDSv2 tokens (IMDSv2Tokens: required).",
    enforcementLevel: "mandatory",
    severity: "high",
    types: TYPES.cloudFormationStack,
    remediation: 'Pass parameters.IMDSv2Tokens = "required" to the stack (the template defaults to "optional").',
    check(resource) {
        const value = stackParameters(resource).IMDSv2Tokens;
        if (value === "required" || value === UNKNOWN) return [];
        return [
            `Elastic CI Stack "${resource.name}" has IMDSv2Tokens ${JSON.stringify(value ?? "optional (the default)")}: a step could read the instance role's credentials through IMDSv1. Fix: set parameters.IMDSv2Tokens to "required".`,
        ];
    },
};

const elasticStackGracefulShutdown: ResourceRule = {
    kind: "resource",
    name: "elastic-stack-graceful-shutdown",
    description:
        "Elastic CI Stack agents shut down gracefully when the stack is updated (BuildkiteAgentEnableGracefulShutdown: true).",
    enforcementLevel: "mandatory",
    severity: "medium",
    types: TYPES.cloudFormationStack,
    remediation: 'Pass parameters.BuildkiteAgentEnableGracefulShutdown = "true" to the stack.',
    check(resource) {
        const value = stackParameters(resource).BuildkiteAgentEnableGracefulShutdown;
        if (isTrue(value) || value === UNKNOWN) return [];
        return [
            `Elastic CI Stack "${resource.name}" does not enable graceful shutdown (BuildkiteAgentEnableGracefulShutdown is ${JSON.stringify(value ?? "false (the default)")}): a stack update kills running jobs. Fix: set parameters.BuildkiteAgentEnableGracefulShutdown to "true".`,
        ];
    },
};

const elasticStackTokenFromSsm: ResourceRule = {
    kind: "resource",
    name: "elastic-stack-token-from-ssm",
    description:
        "The Elastic CI Stack reads its agent token from SSM (BuildkiteAgentTokenParameterStorePath), never from a plain BuildkiteAgentToken parameter.",
    enforcementLevel: "mandatory",
    severity: "critical",
    types: TYPES.cloudFormationStack,
    remediation:
        "Store the token in an SSM SecureString and pass its name as parameters.BuildkiteAgentTokenParameterStorePath; leave BuildkiteAgentToken unset.",
    check(resource) {
        const p = stackParameters(resource);
        const problems: string[] = [];
        if (isSet(p.BuildkiteAgentToken)) {
            problems.push(
                `Elastic CI Stack "${resource.name}" passes the agent token as the BuildkiteAgentToken parameter, where CloudFormation and its console can expose it. Fix: remove it and set BuildkiteAgentTokenParameterStorePath to the token's SSM SecureString.`,
            );
        }
        if (!isSet(p.BuildkiteAgentTokenParameterStorePath)) {
            problems.push(
                `Elastic CI Stack "${resource.name}" has no BuildkiteAgentTokenParameterStorePath. Fix: set it to the name of the SSM SecureString holding the cluster's agent token.`,
            );
        }
        return problems;
    },
};

// ---------------------------------------------------------------------------------------------------------------
// ECR.

const ecrImmutableTags: ResourceRule = {
    kind: "resource",
    name: "ecr-immutable-tags",
    description: "ECR repositories have immutable tags, so a pinned image version always means the same image.",
    enforcementLevel: "mandatory",
    severity: "high",
    types: TYPES.ecrRepository,
    remediation: 'Set imageTagMutability: "IMMUTABLE" on the repository.',
    check(resource) {
        const value = resource.inputs.imageTagMutability;
        if (value === "IMMUTABLE" || value === UNKNOWN) return [];
        return [
            `ECR repository "${resource.name}" has imageTagMutability ${JSON.stringify(value ?? "MUTABLE (the default)")}: a pushed tag can be replaced under a pin. Fix: set imageTagMutability: "IMMUTABLE".`,
        ];
    },
};

const ecrScanOnPush: ResourceRule = {
    kind: "resource",
    name: "ecr-scan-on-push",
    description: "ECR repositories scan every image on push.",
    enforcementLevel: "mandatory",
    severity: "medium",
    types: TYPES.ecrRepository,
    remediation: "Set imageScanningConfiguration: { scanOnPush: true } on the repository.",
    check(resource) {
        const value = at(resource.inputs, "imageScanningConfiguration", "scanOnPush");
        if (isTrue(value) || value === UNKNOWN) return [];
        return [
            `ECR repository "${resource.name}" does not scan images on push. Fix: set imageScanningConfiguration: { scanOnPush: true }.`,
        ];
    },
};

const ecrKmsEncrypted: ResourceRule = {
    kind: "resource",
    name: "ecr-kms-encrypted",
    description: "ECR repositories encrypt images with KMS rather than the default AES256.",
    enforcementLevel: "advisory",
    severity: "low",
    types: TYPES.ecrRepository,
    remediation: 'Set encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: <key>.arn }] on the repository.',
    check(resource) {
        const types = blocks(resource.inputs.encryptionConfigurations).map((c) => c.encryptionType);
        if (types.some((t) => t === "KMS" || t === "KMS_DSSE" || t === UNKNOWN)) return [];
        return [
            `ECR repository "${resource.name}" is encrypted with ${types.length === 0 ? "AES256 (the default)" : types.map(String).join(", ")}. Fix: set encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: <key>.arn }] (changing it replaces the repository: do it before images are pushed).`,
        ];
    },
};

// ---------------------------------------------------------------------------------------------------------------
// Webhooks and pipelines.

const webhookSecure: ResourceRule = {
    kind: "resource",
    name: "webhook-json-https-verified",
    description: "GitHub webhooks deliver JSON over HTTPS with SSL verification on.",
    enforcementLevel: "mandatory",
    severity: "high",
    types: TYPES.githubWebhook,
    remediation:
        'Set configuration: { url: pipeline.webhookUrl, contentType: "json", insecureSsl: false } on the github.RepositoryWebhook.',
    check(resource) {
        const configuration = blocks(resource.inputs.configuration)[0];
        if (configuration === undefined) {
            if (isOpaque(resource.inputs.configuration)) {
                return [
                    `GitHub webhook "${resource.name}" has its whole configuration secret, so it cannot be reviewed. Fix: make only configuration.url (and configuration.secret) secret; keep contentType and insecureSsl plain.`,
                ];
            }
            return [
                `GitHub webhook "${resource.name}" has no configuration. Fix: set configuration: { url, contentType: "json", insecureSsl: false }.`,
            ];
        }
        const problems: string[] = [];
        const { url, contentType, insecureSsl } = configuration;
        if (!isOpaque(url) && !(typeof url === "string" && url.startsWith("https://"))) {
            problems.push(
                `GitHub webhook "${resource.name}" does not deliver over HTTPS. Fix: set configuration.url to the pipeline's https:// webhook URL.`,
            );
        }
        if (contentType !== "json" && contentType !== UNKNOWN) {
            problems.push(
                `GitHub webhook "${resource.name}" has contentType ${JSON.stringify(contentType ?? "form (the default)")}; Buildkite expects JSON. Fix: set configuration.contentType: "json".`,
            );
        }
        if (
            insecureSsl !== undefined &&
            insecureSsl !== UNKNOWN &&
            insecureSsl !== false &&
            insecureSsl !== "0" &&
            insecureSsl !== "false"
        ) {
            problems.push(
                `GitHub webhook "${resource.name}" turns SSL verification off (insecureSsl). Fix: set configuration.insecureSsl: false.`,
            );
        }
        return problems;
    },
};

const pipelineInCluster: ResourceRule = {
    kind: "resource",
    name: "pipeline-in-cluster",
    description: "Every Buildkite pipeline belongs to a cluster, so only that cluster's agents run its jobs.",
    enforcementLevel: "mandatory",
    severity: "high",
    types: TYPES.pipeline,
    remediation: "Set clusterId to the cluster's id (ci-platform:pipelines[].cluster names it).",
    check(resource) {
        if (isSet(resource.inputs.clusterId)) return [];
        return [
            `Buildkite pipeline "${resource.name}" is in no cluster, so any unclustered agent may run its jobs. Fix: set clusterId: <cluster>.uuid (ci-platform:pipelines[].cluster).`,
        ];
    },
};

const pipelineOwnedByTeam: ResourceRule = {
    kind: "resource",
    name: "pipeline-owned-by-team",
    description: "Every Buildkite pipeline is owned by a team (defaultTeamId), so someone answers for it.",
    enforcementLevel: "mandatory",
    severity: "medium",
    types: TYPES.pipeline,
    remediation: "Set defaultTeamId to the owning team's id (ci-platform:pipelines[].team names it).",
    check(resource) {
        if (isSet(resource.inputs.defaultTeamId)) return [];
        return [
            `Buildkite pipeline "${resource.name}" has no owning team. Fix: set defaultTeamId: <team>.id (ci-platform:pipelines[].team).`,
        ];
    },
};

const stepsNoCredentials: ResourceRule = {
    kind: "resource",
    name: "steps-no-credentials",
    description: "No pipeline's step YAML contains something shaped like a credential (keys, tokens, passwords).",
    enforcementLevel: "mandatory",
    severity: "critical",
    types: TYPES.pipeline,
    remediation:
        "Move the value to ci-platform:secrets (pulumi config set --secret) so the agent loads it from the secrets bucket, revoke the exposed credential, and reference it as $NAME in the step.",
    check(resource) {
        const stored = resource.inputs.steps;
        if (typeof stored !== "string" || isOpaque(stored)) return [];
        // A signing pipeline stores its document base64 encoded: read the document itself too.
        return [stored, ...storedUploadDocuments(stored)]
            .flatMap((steps) => findCredentials(steps))
            .map(
                ({ kind, line }) =>
                    `Buildkite pipeline "${resource.name}" has a ${kind} in its steps (line ${line}); steps are visible to everyone who can read the pipeline. Fix: revoke it, store it under ci-platform:secrets with pulumi config set --secret, and refer to it as an environment variable.`,
            );
    },
};

// The one definition of a pinned plugin reference, shared with the program's step rules.
export { isPinnedPlugin };

/** Every plugin reference in parsed step YAML, with the key of the step using it. */
export function pluginReferences(pipeline: unknown): { step: string; plugin: string }[] {
    const out: { step: string; plugin: string }[] = [];
    const visit = (steps: unknown) => {
        for (const [i, step] of asList(steps).entries()) {
            if (!isRecord(step)) continue;
            const label =
                typeof step.key === "string" ? step.key : typeof step.label === "string" ? step.label : `#${i + 1}`;
            const plugins = step.plugins;
            const names = Array.isArray(plugins)
                ? plugins.flatMap((p) => (typeof p === "string" ? [p] : isRecord(p) ? Object.keys(p) : []))
                : isRecord(plugins)
                  ? Object.keys(plugins)
                  : [];
            out.push(...names.map((plugin) => ({ step: label, plugin })));
            if (step.steps !== undefined) visit(step.steps);
        }
    };
    visit(isRecord(pipeline) ? pipeline.steps : pipeline);
    return out;
}

const stepsPluginsPinned: ResourceRule = {
    kind: "resource",
    name: "steps-plugins-pinned",
    description: "Every plugin a pipeline's steps use is pinned to a release (name#vX.Y.Z) or a commit SHA.",
    enforcementLevel: "mandatory",
    severity: "high",
    types: TYPES.pipeline,
    remediation: "Reference each plugin as name#vX.Y.Z (or a full commit SHA), never without a version or at a branch.",
    check(resource) {
        const stored = resource.inputs.steps;
        if (typeof stored !== "string" || isOpaque(stored)) return [];
        const documents = [stored, ...storedUploadDocuments(stored)].map((steps) => yamlDocument(steps));
        const invalid = documents.find((d) => d.error !== undefined);
        if (invalid !== undefined) {
            return [
                `Buildkite pipeline "${resource.name}" has steps that are not valid YAML (${invalid.error?.split("\n")[0]}). Fix: generate steps with yaml.stringify from the step model.`,
            ];
        }
        return documents
            .flatMap((document) => pluginReferences(document.value))
            .filter(({ plugin }) => !isPinnedPlugin(plugin))
            .map(
                ({ step, plugin }) =>
                    `Buildkite pipeline "${resource.name}" step ${JSON.stringify(step)} uses plugin ${JSON.stringify(plugin)} without a pinned version: its code can change under the pipeline. Fix: reference it as ${plugin.split("#")[0]}#vX.Y.Z.`,
            );
    },
};

// ---------------------------------------------------------------------------------------------------------------
// Tags, state, KMS, IAM.

/** Tags from a provider's `defaultTags` input, which some engines pass as a JSON string. */
function providerDefaultTags(provider: PlanResource | undefined): Record<string, unknown> {
    if (provider === undefined) return {};
    const defaultTags = jsonDocument(provider.inputs.defaultTags) ?? {};
    const tags = at(defaultTags, "tags");
    return isRecord(tags) ? tags : (jsonDocument(tags) ?? {});
}

const costTags: ResourceRule = {
    kind: "resource",
    name: "cost-tags",
    description: "Every taggable AWS resource carries the cost allocation tags (by default CostCenter).",
    enforcementLevel: "mandatory",
    severity: "medium",
    types: TAGGABLE_AWS_TYPES,
    remediation: "Add the tags to ci-platform:tags (applied to every resource) or set defaultTags on the AWS provider.",
    alsoApplies: (resource) => resource.type.startsWith("aws:") && "tags" in resource.inputs,
    check(resource, { params, provider }) {
        const own = resource.inputs.tags;
        if (own === UNKNOWN) return [];
        const tags = { ...providerDefaultTags(provider), ...(isRecord(own) ? own : {}) };
        const missing = params.requiredTags.filter((key) => !isSet(tags[key]));
        if (missing.length === 0) return [];
        return [
            `${resource.type.split(":").pop()} "${resource.name}" lacks the cost tag${missing.length > 1 ? "s" : ""} ${missing.join(", ")}. Fix: add ${missing.join(", ")} to ci-platform:tags (every AWS resource gets them) or to the AWS provider's defaultTags.`,
        ];
    },
};

const statefulProtected: ResourceRule = {
    kind: "resource",
    name: "stateful-resources-protected",
    description:
        "Stateful resources (S3 buckets, KMS keys) are protected and retained on delete, so a fleet can be rebuilt without touching them; a secrets bucket's bucket and keys follow the secrets-bucket-whole invariant, ECR repositories ecr-repositories-whole, instead.",
    enforcementLevel: "mandatory",
    severity: "critical",
    types: STATEFUL_TYPES,
    remediation: "Create the resource with { protect: true, retainOnDelete: true }.",
    check(resource) {
        // A secrets bucket and its keys live and die whole with their bucket (invariants/secrets-bucket-whole.ts).
        if (isSecretsBucketChild(resource)) return [];
        // An image repository is deleted with its images (invariants/ecr-repositories.ts).
        if (resource.type === "aws:ecr/repository:Repository") return [];
        // CrossGuard does not show retainOnDelete (undefined there); the offline plan does.
        const missing = [
            ...(resource.protect === true ? [] : ["protect"]),
            ...(resource.retainOnDelete === false ? ["retainOnDelete"] : []),
        ];
        if (missing.length === 0) return [];
        return [
            `${resource.type.split(":").pop()} "${resource.name}" holds state a rebuild cannot recreate but is created without ${missing.join(" and ")}. Fix: pass { protect: true, retainOnDelete: true } in its resource options.`,
        ];
    },
};

const kmsKeyRotation: ResourceRule = {
    kind: "resource",
    name: "kms-key-rotation",
    description: "KMS keys rotate automatically and wait at least 14 days before deletion.",
    enforcementLevel: "mandatory",
    severity: "medium",
    types: TYPES.kmsKey,
    remediation: "Set enableKeyRotation: true and deletionWindowInDays: 30 (at least 14).",
    check(resource) {
        const problems: string[] = [];
        const rotation = resource.inputs.enableKeyRotation;
        // Only symmetric encryption keys rotate automatically (AWS KMS Developer Guide, "Rotate AWS KMS keys"): an
        // asymmetric signing key (signed pipelines' mode kms) is rotated by a new key.
        const asymmetric = resource.inputs.keyUsage === "SIGN_VERIFY";
        if (!asymmetric && !isTrue(rotation) && rotation !== UNKNOWN) {
            problems.push(`KMS key "${resource.name}" does not rotate. Fix: set enableKeyRotation: true.`);
        }
        const window = resource.inputs.deletionWindowInDays;
        if (typeof window === "number" && window < 14) {
            problems.push(
                `KMS key "${resource.name}" can be deleted after ${window} days, too soon to notice a mistake. Fix: set deletionWindowInDays: 30 (at least 14).`,
            );
        }
        return problems;
    },
};

/** The Allow statements of an IAM policy document that grant every action on every resource. */
function adminStatements(document: unknown): number {
    const parsed = jsonDocument(document);
    if (parsed === undefined) return 0;
    return asList(parsed.Statement).filter(
        (s) =>
            isRecord(s) && s.Effect === "Allow" && asList(s.Action).includes("*") && asList(s.Resource).includes("*"),
    ).length;
}

const iamNoAdmin: ResourceRule = {
    kind: "resource",
    name: "iam-no-admin-wildcard",
    description: 'No IAM policy this platform writes allows Action "*" on Resource "*".',
    enforcementLevel: "mandatory",
    severity: "critical",
    types: TYPES.iamPolicies,
    remediation:
        "Grant only the actions the agents need (s3:GetObject on the secrets bucket, ecr pulls...) on named resources.",
    check(resource) {
        const documents =
            resource.type === "aws:iam/role:Role"
                ? blocks(resource.inputs.inlinePolicies).map((p) => p.policy)
                : [resource.inputs.policy];
        const count = documents.reduce<number>((n, d) => n + adminStatements(d), 0);
        if (count === 0) return [];
        return [
            `IAM ${resource.type.split(":").pop()} "${resource.name}" allows every action on every resource; a step on an agent could take over the account. Fix: list the actions it needs (for example s3:GetObject, ecr:BatchGetImage) on the ARNs of the platform's own resources.`,
        ];
    },
};

/** Every rule of the ci-platform pack, in the order they are reported. */
export const RULES: readonly Rule[] = [
    secretsBucketVersioned,
    secretsBucketKmsEncrypted,
    secretsBucketPublicAccessBlocked,
    secretsBucketTlsOnly,
    agentTokenSecureString,
    elasticStackPinned,
    elasticStackImdsV2,
    elasticStackGracefulShutdown,
    elasticStackTokenFromSsm,
    ecrImmutableTags,
    ecrScanOnPush,
    ecrKmsEncrypted,
    webhookSecure,
    pipelineInCluster,
    pipelineOwnedByTeam,
    stepsNoCredentials,
    stepsPluginsPinned,
    costTags,
    statefulProtected,
    kmsKeyRotation,
    iamNoAdmin,
    checkoutOnEveryFleet,
    secretsReachFleets,
    secretsOnlyWhereRun,
    crossClusterTriggerRules,
    ...PLATFORM_INVARIANTS,
    hooksAgentsPerInstance,
    secretsBucketOneCluster,
    elasticStackOwnInstanceRole,
    kmsKeyPolicyNamedPrincipals,
    agentsAllowlist,
    deployRolesApart,
    repositoryOwnersPerCluster,
    noSecretLookingValues,
    secretsReadableOnlyByServingFleets,
    stepContainersNoInstanceRole,
    secretsBucketWhole,
    ecrRepositoriesWhole,
    linuxFleetAllowlistObject,
    signedPipelinesVerified,
    signingOffDeclared,
    signingUnset,
    stepsMatchSchema,
    everyResourceHasParentComponent,
];
