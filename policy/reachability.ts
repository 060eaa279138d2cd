/*
 * Who can read which secret, computed from the plan's resources alone: for every AWS fleet and every secrets object,
 * whether the fleet's instances (their instance role) can `s3:GetObject` the object and decrypt it with its KMS key,
 * and whether they should (the fleet serves the object's pipeline, or the object is organisation-wide and the
 * fleet's cluster takes those).
 *
 * What is modelled (same-account requests; the fleets, buckets and keys live in one account):
 * - the role the instances get. With the stack parameter `InstanceRoleARN` empty, the Elastic CI Stack creates its
 *   own role and attaches to it the `ManagedPolicyARNs` parameter's policies, the ECR managed policy and its inline
 *   policies, among them `s3:Get*`/`s3:List*` on the SecretsBucket parameter's bucket and its objects and `kms:Decrypt`
 *   on the agent-token key (see STACK_ROLE_* below). With `InstanceRoleARN` set, the stack creates no role or policy
 *   and attaches nothing (not even ManagedPolicyARNs): only what the plan attaches to that role counts (the role's
 *   inline and managed policies, RolePolicy, RolePolicyAttachment, PolicyAttachment);
 * - IAM evaluation: an explicit Deny anywhere wins; otherwise an Allow in the identity policies or in the bucket
 *   policy grants the request (same account: either suffices). Action and resource wildcards `*` and `?`, NotAction,
 *   NotResource, and Principal/NotPrincipal of resource policies;
 * - KMS: an object encrypted with a KMS key (its own `kmsKeyId`, else the bucket's default encryption) is readable
 *   only if the role may `kms:Decrypt` with that key: the key policy names the role, or it lets the account's IAM
 *   policies decide (a statement for the account root, which is also the default key policy) and an identity policy
 *   allows it; a Deny in either wins.
 *
 * Assumptions, stated once:
 * - Conditions: an Allow's condition is assumed to hold (it could: for a boundary that is the safe side), a Deny's
 *   condition is assumed not to hold, except the keys evaluated here: `aws:SecureTransport` (the agent and the
 *   secrets hooks call S3 over HTTPS) and `aws:PrincipalArn` (the role's ARN). Both choices lean towards "readable".
 * - Policy variables (`${aws:username}`) in a resource match anything.
 * - Unknown values (a preview made before ids exist; secret values): a whole policy document, a role or a key policy
 *   the plan cannot read makes the answer `unknown` for the pairs it could decide, never `no`. The offline plan's
 *   values are all known (its mocks compute every id), so there every answer is `yes` or `no`.
 * - AWS managed policies are not in the plan: the ones a fleet may get and that grant neither S3 nor KMS actions are
 *   listed in AWS_MANAGED_WITHOUT_S3_OR_KMS; any other policy ARN the plan does not declare makes the answer unknown.
 *
 * Pure module: resources in, a matrix out.
 */
import { bucketOf, type DeployedFleet, type DeployedPipeline, type Platform, readPlatform } from "./platform";
import { asList, blocks, isOpaque, isRecord, jsonDocument, type PlanResource, stackParameters } from "./resource";

/** Type tokens this module reads besides the platform model's. */
export const REACHABILITY_TYPES = {
    role: "aws:iam/role:Role",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
    rolePolicyAttachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    policyAttachment: "aws:iam/policyAttachment:PolicyAttachment",
    policy: "aws:iam/policy:Policy",
    bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
    bucketEncryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    kmsKey: "aws:kms/key:Key",
    kmsKeyPolicy: "aws:kms/keyPolicy:KeyPolicy",
    kmsGrant: "aws:kms/grant:Grant",
    bucket: "aws:s3/bucket:Bucket",
} as const;

/**
 * What the Elastic CI Stack v6.71.1 grants the role it creates (templates/aws-stack.yml; CreateIAMRole is
 * `InstanceRoleARN == ""`, line 1296): IAMPolicies (line 2046) statement `SecretsBucket` (line 2055), `s3:Get*` and
 * `s3:List*` on `arn:aws:s3:::<SecretsBucket>/*` and `arn:aws:s3:::<SecretsBucket>` whenever the SecretsBucket
 * parameter is set (HasSecretsBucket, line 1350); statement `ArtifactsBucket` (line 2070), s3:GetObject and more on
 * the ArtifactsBucket parameter's bucket.
 */
export const STACK_ROLE_SECRETS_ACTIONS = ["s3:Get*", "s3:List*"];
export const STACK_ROLE_ARTIFACTS_ACTIONS = ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"];

/**
 * AWS managed policies that grant no S3 and no KMS action: the ECR policies of the ECRAccessPolicy parameter
 * (templates/aws-stack.yml v6.71.1 ECRManagedPolicy, line 1611; AWS managed policy reference: ecr:* and, for
 * PowerUser/FullAccess, no other service) and AmazonSSMManagedInstanceCore (ssm, ssmmessages, ec2messages).
 */
export const AWS_MANAGED_WITHOUT_S3_OR_KMS: readonly string[] = [
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess",
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
];

/** Three-valued answer: `unknown` when the plan does not hold a value that decides it. */
export type Answer = "yes" | "no" | "unknown";

/** One IAM statement, normalised. */
export interface Statement {
    readonly effect: "Allow" | "Deny";
    readonly actions?: readonly string[];
    readonly notActions?: readonly string[];
    readonly resources?: readonly string[];
    readonly notResources?: readonly string[];
    /** Resource policies: `*`, or the principal ARNs / account ids named. Undefined in an identity policy. */
    readonly principals?: readonly string[];
    readonly notPrincipals?: readonly string[];
    readonly condition?: Readonly<Record<string, unknown>>;
    /** Where it comes from, for messages: `policy linux-us-east-1-policy`, `Elastic CI Stack role`. */
    readonly source: string;
}

/** The identity side of a fleet: the role its instances get and every statement attached to it. */
export interface FleetIdentity {
    /** `stack`: the role the Elastic CI Stack creates; `platform`: the InstanceRoleARN parameter's. */
    readonly roleOwner: "stack" | "platform";
    /** The role's ARN, when known. */
    readonly roleArn?: string;
    readonly statements: readonly Statement[];
    /** What the plan does not show (an opaque document, an undeclared policy ARN), each a short phrase. */
    readonly unknowns: readonly string[];
}

/** A secrets object, where it is and what it is for. */
export interface SecretObject {
    readonly urn: string;
    readonly key: string;
    /** The SecretsBucket component that holds it. */
    readonly bucket: string;
    readonly bucketName?: string;
    /** The pipeline slug of `<slug>/...`; undefined for an organisation-wide root object. */
    readonly pipeline?: string;
    /** The bucket's region. */
    readonly region?: string;
    /** ARN (or id) of the KMS key it is encrypted with; undefined when not KMS-encrypted. */
    readonly kmsKey?: string;
}

/** What a fleet should be able to read. */
export type Expectation = "must" | "may" | "must-not";

/** One (fleet, object) pair. */
export interface Reach {
    readonly fleet: string;
    readonly fleetUrn: string;
    readonly object: SecretObject;
    readonly readable: Answer;
    readonly expected: Expectation;
    /** Why it is (or may be) readable or not, one phrase. */
    readonly why: string;
}

const str = (value: unknown): string | undefined => (typeof value === "string" && !isOpaque(value) ? value : undefined);
const strs = (value: unknown): string[] => asList(value).filter((v): v is string => typeof v === "string");

/** An IAM wildcard pattern (`*`, `?`; `${...}` policy variables match anything) as a RegExp. */
function wildcard(pattern: string, caseInsensitive: boolean): RegExp {
    // Keyed by the pattern itself: a key built per call (flag + pattern) was a new string to hash on every match.
    const patterns = caseInsensitive ? insensitivePatterns : sensitivePatterns;
    const cached = patterns.get(pattern);
    if (cached !== undefined) return cached;
    const body = pattern
        .split(/(\$\{[^}]*\}|\*|\?)/)
        .map((part) =>
            part === "*" || part.startsWith("${")
                ? ".*"
                : part === "?"
                  ? "."
                  : part.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"),
        )
        .join("");
    const compiled = new RegExp(`^${body}$`, caseInsensitive ? "is" : "s");
    patterns.set(pattern, compiled);
    return compiled;
}
/** Compiled patterns, case-insensitive and not (a pure function of the pattern, so the cache cannot go stale). */
const insensitivePatterns = new Map<string, RegExp>();
const sensitivePatterns = new Map<string, RegExp>();

/** Whether an action pattern (`s3:Get*`, `*`) matches an action; service and action names are case-insensitive. */
export function actionMatches(pattern: string, action: string): boolean {
    return wildcard(pattern, true).test(action);
}

/** Whether a resource pattern (`arn:aws:s3:::bucket/prefix/*`, `*`) matches a resource ARN; case-sensitive. */
export function resourceMatches(pattern: string, resource: string): boolean {
    return wildcard(pattern, false).test(resource);
}

/** The statements of an IAM or resource policy document; undefined when the document cannot be read. */
export function statementsOf(document: unknown, source: string): Statement[] | undefined {
    const parsed = jsonDocument(document);
    if (parsed === undefined) return undefined;
    const principals = (value: unknown): string[] | undefined => {
        if (value === undefined) return undefined;
        if (value === "*") return ["*"];
        if (!isRecord(value)) return [];
        return Object.values(value).flatMap(strs);
    };
    return asList(parsed.Statement)
        .filter(isRecord)
        .map((s): Statement => ({
            effect: s.Effect === "Deny" ? "Deny" : "Allow",
            actions: s.Action === undefined ? undefined : strs(s.Action),
            notActions: s.NotAction === undefined ? undefined : strs(s.NotAction),
            resources: s.Resource === undefined ? undefined : strs(s.Resource),
            notResources: s.NotResource === undefined ? undefined : strs(s.NotResource),
            principals: principals(s.Principal),
            notPrincipals: principals(s.NotPrincipal),
            condition: isRecord(s.Condition) ? s.Condition : undefined,
            source,
        }));
}

/** The request being judged. */
interface Request {
    readonly action: string;
    readonly resource: string;
    readonly principalArn?: string;
    readonly account?: string;
}

/** Whether a statement's action and resource cover the request (principal and condition aside). */
function covers(s: Statement, request: Request): boolean {
    const action =
        s.actions !== undefined
            ? s.actions.some((p) => actionMatches(p, request.action))
            : s.notActions !== undefined && !s.notActions.some((p) => actionMatches(p, request.action));
    if (!action) return false;
    if (s.resources !== undefined) return s.resources.some((p) => resourceMatches(p, request.resource));
    if (s.notResources !== undefined) return !s.notResources.some((p) => resourceMatches(p, request.resource));
    return true; // a resource policy statement may omit Resource only in a key policy, where it means the key
}

/** How a principal entry relates to the role: the role itself (or everyone), its account, or someone else. */
function principalRelation(entry: string, request: Request): "role" | "account" | "other" {
    if (entry === "*") return "role";
    if (request.principalArn !== undefined && resourceMatches(entry, request.principalArn)) return "role";
    const account = request.account;
    if (account !== undefined && (entry === account || entry === `arn:aws:iam::${account}:root`)) return "account";
    return "other";
}

/**
 * Whether a Deny's condition holds for the request: `true`, `false`, or `undefined` when it tests a key this model
 * does not evaluate (then the Deny is assumed not to apply).
 */
function denyConditionHolds(condition: Readonly<Record<string, unknown>>, request: Request): boolean | undefined {
    let holds = true;
    for (const [operator, tests] of Object.entries(condition)) {
        if (!isRecord(tests)) return undefined;
        for (const [key, values] of Object.entries(tests)) {
            const wanted = asList(values).map(String);
            let actual: string | undefined;
            if (key.toLowerCase() === "aws:securetransport") actual = "true";
            else if (key.toLowerCase() === "aws:principalarn") actual = request.principalArn;
            if (actual === undefined) return undefined;
            const like = /Like$/.test(operator) || operator.startsWith("Arn");
            const match = wanted.some((w) =>
                like
                    ? resourceMatches(w, actual)
                    : operator.startsWith("Bool")
                      ? w.toLowerCase() === actual
                      : w === actual,
            );
            const negated = /Not/.test(operator);
            if (!["Bool", "StringEquals", "StringLike", "ArnEquals", "ArnLike"].includes(operator.replace("Not", "")))
                return undefined;
            if (negated ? match : !match) holds = false;
        }
    }
    return holds;
}

/** What a set of statements says about a request: an explicit deny, an allow, or nothing. */
function evaluate(
    statements: readonly Statement[],
    request: Request,
    resourcePolicy: boolean,
): { deny?: Statement; allow?: Statement; accountAllow?: Statement } {
    let allow: Statement | undefined;
    let accountAllow: Statement | undefined;
    for (const s of statements) {
        if (!covers(s, request)) continue;
        let relation: "role" | "account" | "other" = "role";
        if (resourcePolicy) {
            if (s.principals !== undefined) {
                const relations = s.principals.map((p) => principalRelation(p, request));
                relation = relations.includes("role") ? "role" : relations.includes("account") ? "account" : "other";
            } else if (s.notPrincipals !== undefined) {
                relation = s.notPrincipals.some((p) => principalRelation(p, request) === "role") ? "other" : "role";
            } else relation = "other";
        }
        if (s.effect === "Deny") {
            if (relation === "other") continue;
            if (s.condition !== undefined && denyConditionHolds(s.condition, request) !== true) continue;
            return { deny: s };
        }
        if (relation === "role") allow ??= s;
        else if (relation === "account") accountAllow ??= s;
    }
    return { allow, accountAllow };
}

const nameOfArn = (arn: string) => arn.slice(arn.lastIndexOf("/") + 1);

/**
 * Whether an IAM resource (Role, Policy) has the physical name `name`: its `name` input, a `namePrefix` and more, or
 * the name Pulumi gives it without one (`<logical name>-<7 hex>`).
 */
function hasPhysicalName(resource: PlanResource, name: string): boolean {
    const explicit = str(resource.inputs.name);
    if (explicit !== undefined) return explicit === name;
    const prefix = str(resource.inputs.namePrefix);
    if (prefix !== undefined) return name.startsWith(prefix);
    // Pulumi's auto-name adds 7 hex characters; the offline plan's mocks give an id (what `role.id` passes) 8.
    return name.startsWith(`${resource.name}-`) && /^[0-9a-f]{7,8}$/.test(name.slice(resource.name.length + 1));
}

/** The context every fleet's evaluation shares. */
interface Context {
    readonly platform: Platform;
    readonly byUrn: ReadonlyMap<string, PlanResource>;
    readonly ofType: (type: string) => PlanResource[];
    readonly account?: string;
    /** Per-object results of {@link objectSide}. */
    readonly objectSides: Map<string, ObjectSide>;
}

/** The account the plan deploys to: from the first account-qualified ARN among the fleets' and keys' inputs. */
function accountOf(resources: readonly PlanResource[]): string | undefined {
    const text = JSON.stringify(
        resources
            .filter((r) => r.type === "aws:cloudformation/stack:Stack" || r.type.startsWith("aws:s3/"))
            .map((r) => r.inputs),
    );
    return /arn:aws[a-z-]*:(?:iam|kms)::?(?:[a-z0-9-]+:)?(\d{12}):/.exec(text)?.[1];
}

/** The statements of a managed policy ARN: a Policy of the plan, a known AWS policy, or unknown. */
function managedPolicy(ctx: Context, arn: string, near: PlanResource, out: Statement[], unknowns: string[]): void {
    if (AWS_MANAGED_WITHOUT_S3_OR_KMS.includes(arn)) return;
    const policies = ctx.ofType(REACHABILITY_TYPES.policy);
    const policy =
        policies.find((p) => near.dependsOn?.includes(p.urn) && hasPhysicalName(p, nameOfArn(arn))) ??
        policies.find((p) => hasPhysicalName(p, nameOfArn(arn)));
    if (policy === undefined) {
        unknowns.push(`policy ${arn} is not declared in the plan`);
        return;
    }
    policyStatements(policy.inputs.policy, `policy ${policy.name}`, out, unknowns);
}

function policyStatements(document: unknown, source: string, out: Statement[], unknowns: string[]): void {
    const statements = statementsOf(document, source);
    if (statements === undefined) unknowns.push(`the document of ${source} is not known`);
    else out.push(...statements);
}

/** The policy ARNs a list-valued input names; the policies a dependency names when the list is opaque. */
function arnsOrDependencies(
    ctx: Context,
    value: unknown,
    resource: PlanResource,
): { arns: string[]; deps: PlanResource[] } {
    if (isOpaque(value) || (Array.isArray(value) && value.some(isOpaque))) {
        const deps = (resource.dependsOn ?? [])
            .map((u) => ctx.byUrn.get(u))
            .filter((r): r is PlanResource => r?.type === REACHABILITY_TYPES.policy);
        return { arns: strs(value).filter((v) => !isOpaque(v)), deps };
    }
    const list = typeof value === "string" ? value.split(",") : strs(value);
    return { arns: list.map((v) => v.trim()).filter((v) => v !== ""), deps: [] };
}

/** The role a fleet's instances get, and every statement attached to it. */
export function fleetIdentity(ctx: Context, fleet: DeployedFleet): FleetIdentity {
    const stack = fleet.stack;
    const params = stack ? stackParameters(stack) : {};
    const statements: Statement[] = [];
    const unknowns: string[] = [];
    const roleParam = params.InstanceRoleARN;
    if (roleParam === undefined || roleParam === "") {
        if (stack === undefined) return { roleOwner: "stack", statements, unknowns: ["the fleet has no stack"] };
        const source = "the Elastic CI Stack's own role";
        const stackName = str(stack.inputs.name);
        const roleName = str(params.InstanceRoleName) || (stackName && `${stackName}-Role`);
        const roleArn = roleName && ctx.account ? `arn:aws:iam::${ctx.account}:role/${roleName}` : undefined;
        // templates/aws-stack.yml v6.71.1 IAMPolicies (line 2046): s3:Get*/s3:List* on the SecretsBucket parameter.
        const buckets = bucketNamesOf(ctx, params.SecretsBucket, stack);
        if (buckets === undefined) unknowns.push("the SecretsBucket parameter is not known");
        for (const bucket of buckets ?? [])
            statements.push({
                effect: "Allow",
                actions: STACK_ROLE_SECRETS_ACTIONS,
                resources: [`arn:aws:s3:::${bucket}/*`, `arn:aws:s3:::${bucket}`],
                source: `${source} (statement SecretsBucket: s3:Get*, s3:List* on bucket ${bucket})`,
            });
        const artifacts = params.ArtifactsBucket;
        if (isOpaque(artifacts)) unknowns.push("the ArtifactsBucket parameter is not known");
        else if (typeof artifacts === "string" && artifacts !== "")
            statements.push({
                effect: "Allow",
                actions: STACK_ROLE_ARTIFACTS_ACTIONS,
                resources: [`arn:aws:s3:::${artifacts}/*`, `arn:aws:s3:::${artifacts}`],
                source: `${source} (statement ArtifactsBucket on bucket ${artifacts})`,
            });
        // templates/aws-stack.yml v6.71.1 IAMRole (line 1920) policy DecryptAgentToken (line 1988): kms:Decrypt on
        // arn:aws:kms:<region>:<account>:key/<BuildkiteAgentTokenParameterStoreKMSKey>, no condition.
        const tokenKey = params.BuildkiteAgentTokenParameterStoreKMSKey;
        if (isOpaque(tokenKey)) unknowns.push("the BuildkiteAgentTokenParameterStoreKMSKey parameter is not known");
        else if (typeof tokenKey === "string" && tokenKey !== "")
            statements.push({
                effect: "Allow",
                actions: ["kms:Decrypt"],
                resources: [
                    tokenKey.startsWith("arn:")
                        ? tokenKey
                        : `arn:aws:kms:${fleet.region ?? "*"}:${ctx.account ?? "*"}:key/${tokenKey}`,
                ],
                source: `${source} (policy DecryptAgentToken)`,
            });
        // templates/aws-stack.yml v6.71.1 IAMRole ManagedPolicyArns: the ECR policy and every ManagedPolicyARNs entry.
        const { arns, deps } = arnsOrDependencies(ctx, params.ManagedPolicyARNs, stack);
        for (const arn of arns) managedPolicy(ctx, arn, stack, statements, unknowns);
        for (const dep of deps) policyStatements(dep.inputs.policy, `policy ${dep.name}`, statements, unknowns);
        return { roleOwner: "stack", roleArn: roleArn || undefined, statements, unknowns };
    }

    // InstanceRoleARN set: "the stack will not create any IAM roles or policies" (templates/aws-stack.yml v6.71.1,
    // InstanceRoleARN, line 879), and ManagedPolicyARNs is attached only to the role it creates (IAMRole, line 1920).
    const roles = ctx.ofType(REACHABILITY_TYPES.role);
    const roleArn = str(roleParam);
    const role =
        roleArn !== undefined
            ? roles.find((r) => hasPhysicalName(r, nameOfArn(roleArn)))
            : roles.find((r) => stack?.dependsOn?.includes(r.urn));
    if (role === undefined) {
        unknowns.push(`the role ${roleArn ?? "of the InstanceRoleARN parameter"} is not declared in the plan`);
        return { roleOwner: "platform", roleArn, statements, unknowns };
    }
    for (const inline of blocks(role.inputs.inlinePolicies))
        policyStatements(
            inline.policy,
            `inline policy ${str(inline.name) ?? "?"} of role ${role.name}`,
            statements,
            unknowns,
        );
    const own = arnsOrDependencies(ctx, role.inputs.managedPolicyArns, role);
    for (const arn of own.arns) managedPolicy(ctx, arn, role, statements, unknowns);
    for (const dep of own.deps) policyStatements(dep.inputs.policy, `policy ${dep.name}`, statements, unknowns);
    const names = (value: unknown, attachment: PlanResource): boolean => {
        const name = str(value);
        return name !== undefined
            ? hasPhysicalName(role, nameOfArn(name)) || name === role.urn
            : isOpaque(value) && (attachment.dependsOn ?? []).includes(role.urn);
    };
    for (const rp of ctx.ofType(REACHABILITY_TYPES.rolePolicy))
        if (names(rp.inputs.role, rp))
            policyStatements(rp.inputs.policy, `role policy ${rp.name}`, statements, unknowns);
    for (const attachment of [
        ...ctx.ofType(REACHABILITY_TYPES.rolePolicyAttachment).filter((a) => names(a.inputs.role, a)),
        ...ctx
            .ofType(REACHABILITY_TYPES.policyAttachment)
            .filter((a) => asList(a.inputs.roles).some((r) => names(r, a))),
    ]) {
        const { arns, deps } = arnsOrDependencies(ctx, attachment.inputs.policyArn, attachment);
        for (const arn of arns) managedPolicy(ctx, arn, attachment, statements, unknowns);
        for (const dep of deps) policyStatements(dep.inputs.policy, `policy ${dep.name}`, statements, unknowns);
    }
    const resolvedArn =
        roleArn ?? (ctx.account ? `arn:aws:iam::${ctx.account}:role/${str(role.inputs.name) ?? role.name}` : undefined);
    return { roleOwner: "platform", roleArn: resolvedArn, statements, unknowns };
}

/** The bucket resource of a SecretsBucket component. */
function bucketResource(ctx: Context, component: string): PlanResource | undefined {
    return ctx.ofType(REACHABILITY_TYPES.bucket).find((r) => r.parent === component);
}

/** A bucket's name: its `bucket` input, or the `bucket` input of a resource that configures it. */
function bucketName(ctx: Context, bucket: PlanResource | undefined): string | undefined {
    if (bucket === undefined) return undefined;
    const own = str(bucket.inputs.bucket);
    if (own !== undefined) return own;
    for (const r of ctx.platform.resources)
        if (r.dependsOn?.includes(bucket.urn) && r.type.startsWith("aws:s3/")) {
            const named = str(r.inputs.bucket);
            if (named !== undefined && r.parent === bucket.parent) return named;
        }
    return undefined;
}

/** The bucket names a SecretsBucket-like parameter names; when it is opaque, the buckets the stack depends on. */
function bucketNamesOf(ctx: Context, value: unknown, stack: PlanResource): string[] | undefined {
    if (value === "" || value === undefined) return [];
    const known = str(value);
    if (known !== undefined) return [known];
    const names = (stack.dependsOn ?? [])
        .map((u) => ctx.byUrn.get(u))
        .filter((r): r is PlanResource => r?.type === REACHABILITY_TYPES.bucket)
        .map((b) => bucketName(ctx, b));
    return names.every((n) => n !== undefined) && names.length > 0 ? names : undefined;
}

/** The KMS key an object is encrypted with: its own `kmsKeyId`, else its bucket's default encryption key. */
function objectKey(ctx: Context, object: PlanResource, bucket: PlanResource | undefined): string | undefined {
    if (object.inputs.serverSideEncryption === "AES256") return undefined;
    const own = object.inputs.kmsKeyId;
    if (own !== undefined) return isOpaque(own) ? "[unknown]" : str(own);
    const encryption = ctx
        .ofType(REACHABILITY_TYPES.bucketEncryption)
        .find((e) => bucket !== undefined && (e.dependsOn?.includes(bucket.urn) ?? false));
    const rule = blocks(encryption?.inputs.rules)[0];
    const byDefault = blocks(rule?.applyServerSideEncryptionByDefault)[0];
    if (byDefault === undefined) return undefined;
    const algorithm = byDefault.sseAlgorithm;
    if (algorithm !== "aws:kms" && algorithm !== "aws:kms:dsse" && !isOpaque(algorithm)) return undefined;
    const key = byDefault.kmsMasterKeyId;
    // No key named: the AWS managed key aws/s3, whose policy lets any principal of the account use it through S3.
    if (key === undefined) return undefined;
    return isOpaque(key) ? "[unknown]" : str(key);
}

/** The Key resource behind an object's key: the one key the object (or its bucket's encryption) depends on. */
function keyResource(ctx: Context, object: PlanResource, bucket: PlanResource | undefined): PlanResource | undefined {
    const keysOf = (r: PlanResource | undefined) =>
        (r?.dependsOn ?? []).map((u) => ctx.byUrn.get(u)).filter((k) => k?.type === REACHABILITY_TYPES.kmsKey);
    const own = keysOf(object);
    if (own.length === 1) return own[0];
    const encryption = ctx
        .ofType(REACHABILITY_TYPES.bucketEncryption)
        .find((e) => bucket !== undefined && (e.dependsOn?.includes(bucket.urn) ?? false));
    const viaBucket = keysOf(encryption);
    return viaBucket.length === 1 ? viaBucket[0] : undefined;
}

/** The default key policy: the account root may use the key, i.e. IAM policies decide (AWS KMS "Default key policy"). */
const DEFAULT_KEY_POLICY = (account: string | undefined): Statement[] => [
    {
        effect: "Allow",
        principals: [account ? `arn:aws:iam::${account}:root` : "*"],
        actions: ["kms:*"],
        resources: ["*"],
        source: "the default key policy",
    },
];

/** Every secrets object of the plan's secrets buckets (our own `_ci-platform/` objects are not secrets). */
export function secretObjects(platform: Platform, ctx: Context): SecretObject[] {
    const slugs = new Set(platform.pipelines.map((p) => p.slug));
    return platform.buckets.flatMap((bucket) => {
        const resource = bucketResource(ctx, bucket.urn);
        const name = bucketName(ctx, resource);
        return [...bucket.objects.entries()]
            .filter(([key]) => !key.startsWith("_"))
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
            .map(([key, object]): SecretObject => {
                const first = key.includes("/") ? key.slice(0, key.indexOf("/")) : undefined;
                // `secret-files/NAME` at the root is organisation-wide (elastic-ci-stack-s3-secrets-hooks v2.8.0
                // s3secrets-helper/secrets/secrets.go getSecrets reads it for every pipeline) unless a pipeline has
                // that slug.
                const pipeline =
                    first !== undefined && (first !== "secret-files" || slugs.has(first)) ? first : undefined;
                return {
                    urn: object.urn,
                    key,
                    bucket: bucket.urn,
                    bucketName: name,
                    pipeline,
                    region: bucket.region,
                    kmsKey: objectKey(ctx, object, resource),
                };
            });
    });
}

/**
 * Every queue the pipeline's command steps target, stored or uploaded, as the plan shows them
 * (components/config/access-checks.ts `pipelineQueues`: the pipeline's own queue, and a gated child's release steps
 * move to a Linux queue of its cluster when only Windows agents serve its own). Sorted.
 */
export function pipelineQueues(pipeline: DeployedPipeline): string[] {
    const queues = pipeline.steps.flatMap((s) => (s.kind === "command" && s.queue !== undefined ? [s.queue] : []));
    return [...new Set(queues)].sort();
}

/**
 * The pipelines a fleet serves (components/config/access-checks.ts `pipelinesServed`, read from the plan): those of
 * its cluster some of whose jobs target the fleet's queue.
 */
export function servedPipelines(platform: Platform, fleet: DeployedFleet): string[] {
    return platform.pipelines
        .filter(
            (p) =>
                fleet.cluster !== undefined &&
                fleet.queue !== undefined &&
                p.cluster === fleet.cluster &&
                queuesOf(p).includes(fleet.queue),
        )
        .map((p) => p.slug)
        .sort();
}

/** {@link pipelineQueues}, once per pipeline read from the plan: every fleet asks it of every pipeline. */
function queuesOf(pipeline: DeployedPipeline): readonly string[] {
    let queues = pipelineQueuesMemo.get(pipeline);
    if (queues === undefined) {
        queues = Object.freeze(pipelineQueues(pipeline));
        pipelineQueuesMemo.set(pipeline, queues);
    }
    return queues;
}
/** By pipeline object: a read platform is not changed afterwards (its types are readonly), so this cannot go stale. */
const pipelineQueuesMemo = new WeakMap<DeployedPipeline, readonly string[]>();

/** Whether `fleet` should read `object`: must (it runs jobs that load it from its own bucket), may, or must not. */
export function expectation(
    platform: Platform,
    fleet: DeployedFleet,
    object: SecretObject,
    known?: { readonly served: ReadonlySet<string>; readonly ownBucket?: string },
): Expectation {
    const bucket = platform.buckets.find((b) => b.urn === object.bucket);
    const own = (known ? known.ownBucket : bucketOf(platform, fleet)?.urn) === object.bucket;
    let allowed: boolean;
    if (object.pipeline === undefined) {
        // Organisation-wide: the program puts root objects only in the buckets of clusters that take them
        // (clusters[].organizationSecrets, components/agents/secret-objects.ts), so the bucket's cluster says so.
        allowed = bucket?.cluster !== undefined ? bucket.cluster === fleet.cluster : own;
    } else allowed = (known?.served ?? new Set(servedPipelines(platform, fleet))).has(object.pipeline);
    if (!allowed) return "must-not";
    // A fleet reads its own region's bucket; another bucket's copy of a secret it may read is no boundary crossing.
    return own ? "must" : "may";
}

/** Whether the fleet's role can read and decrypt the object, and why. */
/** What decides access to an object whoever asks: its bucket's policies and its KMS key. Computed once per object. */
interface ObjectSide {
    readonly bucketResourceOf?: PlanResource;
    readonly resourceStatements: readonly Statement[];
    readonly unknowns: readonly string[];
    readonly key?: PlanResource;
}

function objectSide(ctx: Context, object: SecretObject): ObjectSide {
    const cached = ctx.objectSides.get(object.urn);
    if (cached !== undefined) return cached;
    const bucketResourceOf = bucketResource(ctx, object.bucket);
    const resourceStatements: Statement[] = [];
    const unknowns: string[] = [];
    for (const p of ctx.ofType(REACHABILITY_TYPES.bucketPolicy))
        if (bucketResourceOf !== undefined && (p.dependsOn?.includes(bucketResourceOf.urn) ?? false))
            policyStatements(p.inputs.policy, `bucket policy ${p.name}`, resourceStatements, unknowns);
    const objectResource = ctx.byUrn.get(object.urn);
    const key = objectResource && keyResource(ctx, objectResource, bucketResourceOf);
    const side = { bucketResourceOf, resourceStatements, unknowns, key };
    ctx.objectSides.set(object.urn, side);
    return side;
}

export function canRead(
    ctx: Context,
    identity: FleetIdentity,
    object: SecretObject,
): { readable: Answer; why: string } {
    if (object.bucketName === undefined) return { readable: "unknown", why: "the bucket's name is not known" };
    const base = { principalArn: identity.roleArn, account: ctx.account };
    const s3: Request = {
        ...base,
        action: "s3:GetObject",
        resource: `arn:aws:s3:::${object.bucketName}/${object.key}`,
    };
    const side = objectSide(ctx, object);
    const { resourceStatements } = side;
    const unknowns = [...identity.unknowns, ...side.unknowns];

    const fromIdentity = evaluate(identity.statements, s3, false);
    const fromBucket = evaluate(resourceStatements, s3, true);
    const deny = fromIdentity.deny ?? fromBucket.deny;
    if (deny) return { readable: "no", why: `s3:GetObject is denied by ${deny.source}` };
    const allow = fromIdentity.allow ?? fromBucket.allow;
    if (!allow)
        return unknowns.length > 0
            ? { readable: "unknown", why: unknowns.join("; ") }
            : { readable: "no", why: "no policy of its role allows s3:GetObject on it" };

    // An Allow found is enough for "yes": an unknown document could only add a Deny, and a boundary assumes none.
    if (object.kmsKey === undefined) return { readable: "yes", why: `${allow.source} allows s3:GetObject` };
    if (object.kmsKey === "[unknown]") return { readable: "unknown", why: "the object's KMS key is not known" };
    const keyArn = object.kmsKey.startsWith("arn:") ? object.kmsKey : undefined;
    const kms: Request = {
        ...base,
        action: "kms:Decrypt",
        resource: keyArn ?? `arn:aws:kms:${object.region ?? "?"}:${ctx.account ?? "?"}:key/${object.kmsKey}`,
    };
    const key = side.key;
    // The key policy: a KeyPolicy resource for the key replaces the key's own `policy` input; neither is the default.
    const keyPolicyResource =
        key && ctx.ofType(REACHABILITY_TYPES.kmsKeyPolicy).find((p) => p.dependsOn?.includes(key.urn) ?? false);
    const policyDocument = keyPolicyResource?.inputs.policy ?? key?.inputs.policy;
    const keyPolicy =
        policyDocument === undefined
            ? DEFAULT_KEY_POLICY(ctx.account)
            : statementsOf(policyDocument, `key policy of ${key?.name ?? "its key"}`);
    if (keyPolicy === undefined)
        return { readable: "unknown", why: `the key policy of ${key?.name ?? "its key"} is not known` };
    const fromKey = evaluate(
        keyPolicy.map((s) => ({ ...s, resources: s.resources ?? ["*"] })),
        kms,
        true,
    );
    const fromIdentityKms = evaluate(identity.statements, kms, false);
    const kmsDeny = fromKey.deny ?? fromIdentityKms.deny;
    if (kmsDeny) return { readable: "no", why: `kms:Decrypt with its key is denied by ${kmsDeny.source}` };
    // A grant lets its grantee use the key whatever the key policy says (AWS KMS "Grants in AWS KMS").
    const grant =
        key &&
        ctx
            .ofType(REACHABILITY_TYPES.kmsGrant)
            .find(
                (g) =>
                    (g.dependsOn?.includes(key.urn) ?? false) &&
                    identity.roleArn !== undefined &&
                    g.inputs.granteePrincipal === identity.roleArn &&
                    strs(g.inputs.operations).includes("Decrypt"),
            );
    const grantAllow: Statement | undefined = grant && {
        effect: "Allow",
        actions: ["kms:Decrypt"],
        source: `grant ${grant.name}`,
    };
    const kmsAllow = fromKey.allow ?? grantAllow ?? (fromKey.accountAllow && fromIdentityKms.allow);
    if (!kmsAllow) {
        const missing = fromKey.accountAllow
            ? "no policy of its role allows kms:Decrypt with the object's key"
            : `the key policy of ${key?.name ?? "its key"} neither names the role nor delegates to the account's IAM policies`;
        return unknowns.length > 0
            ? { readable: "unknown", why: `${missing}; ${unknowns.join("; ")}` }
            : { readable: "no", why: missing };
    }
    const via = fromKey.allow || grantAllow ? kmsAllow.source : `${kmsAllow.source} (the key policy delegates to IAM)`;
    return { readable: "yes", why: `${allow.source} allows s3:GetObject and ${via} allows kms:Decrypt` };
}

/** Every (AWS fleet, secrets object) pair of the plan, with what the fleet can read and should read. */
export function reachability(resources: readonly PlanResource[]): Reach[] {
    const platform = readPlatform(resources);
    const byType = new Map<string, PlanResource[]>();
    for (const r of resources) {
        const ofType = byType.get(r.type);
        if (ofType === undefined) byType.set(r.type, [r]);
        else ofType.push(r);
    }
    const ctx: Context = {
        platform,
        byUrn: new Map(resources.map((r) => [r.urn, r])),
        ofType: (type) => byType.get(type) ?? [],
        account: accountOf(resources),
        objectSides: new Map(),
    };
    const objects = secretObjects(platform, ctx);
    return platform.fleets
        .filter((f) => f.kind === "aws")
        .flatMap((fleet) => {
            const identity = fleetIdentity(ctx, fleet);
            const known = {
                served: new Set(servedPipelines(platform, fleet)),
                ownBucket: bucketOf(platform, fleet)?.urn,
            };
            return objects.map((object): Reach => {
                const { readable, why } = canRead(ctx, identity, object);
                return {
                    fleet: fleet.name,
                    fleetUrn: fleet.urn,
                    object,
                    readable,
                    expected: expectation(platform, fleet, object, known),
                    why,
                };
            });
        });
}

/** A pair where what the fleet can read differs from what it should: `too-much` or `too-little`. */
export function mismatch(reach: Reach): "too-much" | "too-little" | undefined {
    if (reach.readable === "yes" && reach.expected === "must-not") return "too-much";
    if (reach.readable === "no" && reach.expected === "must") return "too-little";
    return undefined;
}
