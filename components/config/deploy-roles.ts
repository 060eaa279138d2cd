import { z } from "zod";

/*
 * `ci-platform:deployRoles`: the AWS roles that deploy and preview this stack, each assumed per job through OpenID
 * Connect, never held by an agent's instance role. Cross-references (the pipeline a Buildkite trust names) are
 * checked in components/access/checks.ts; the roles are declared in components/access/deploy-roles.ts.
 */

/** What a role may do: `deploy` the stack (the first `pulumi up` creates IAM, KMS, S3, CloudFormation...), `read`
 * it (`pulumi preview`, `--refresh`), or `preview` a pull request: read, and never a secret value. */
export const DEPLOY_ACCESS = ["deploy", "read", "preview"] as const;
export type DeployAccess = (typeof DEPLOY_ACCESS)[number];

/** A Buildkite step key: what `buildkite-agent oidc request-token` puts after `:step:` in the token's subject. */
const STEP_KEY = /^[A-Za-z0-9_-]+$/;
/** A git branch name without glob characters or `:` (the subject's separator). */
const BRANCH = /^[A-Za-z0-9._/-]+$/;

/** Jobs of one Buildkite pipeline, on one branch, in the named steps (the token's `sub` claim decides). */
export const buildkiteTrustSchema = z.strictObject({
    /** Slug of the pipeline whose jobs may assume the role. */
    pipeline: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, { error: "must be a pipeline slug" }),
    /** The branch its builds must be on (`ref:refs/heads/<branch>` in the subject). */
    branch: z
        .string()
        .regex(BRANCH, { error: "must be a branch name: letters, digits, '.', '_', '/' and '-', no wildcards" })
        .refine((b) => !b.includes(".."), { error: "must not contain '..'" }),
    /** Keys of the steps whose jobs may assume it. At least one. */
    steps: z
        .array(z.string().regex(STEP_KEY, { error: "step keys are letters, digits, '_' and '-'" }))
        .min(1, { error: "name at least one step key" }),
});

/** Pull request workflows of one GitHub repository (GitHub Actions OIDC `sub` `repo:<owner>/<name>:pull_request`). */
export const githubActionsTrustSchema = z.strictObject({
    /** `owner/name` of the repository whose pull request workflows may assume the role. */
    repository: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]*\/[A-Za-z0-9._-]+$/, { error: "must be owner/name" }),
});

export const deployRoleSchema = z
    .strictObject({
        /** The IAM role's name (IAM: up to 64 of letters, digits and `+=,.@_-`). */
        name: z.string().regex(/^[A-Za-z0-9+=,.@_-]{1,64}$/, {
            error: "IAM role names are 1 to 64 letters, digits and +=,.@_-",
        }),
        /** What the role may do. */
        access: z.enum(DEPLOY_ACCESS),
        /** Who may assume it through Buildkite's OIDC tokens. Exactly one of `buildkite` and `githubActions`. */
        buildkite: buildkiteTrustSchema.optional(),
        /** Who may assume it through GitHub Actions' OIDC tokens (pull requests only, `preview` access only). */
        githubActions: githubActionsTrustSchema.optional(),
        /** Longest session, in seconds (IAM: 3600 to 43200). Defaults to 3600; a long `pulumi up` renews it. */
        maxSessionDurationSeconds: z.number().int().min(3600).max(43200).default(3600),
    })
    .refine((r) => (r.buildkite === undefined) !== (r.githubActions === undefined), {
        error: "give exactly one of buildkite or githubActions: who may assume the role",
    });

export type DeployRoleConfig = z.infer<typeof deployRoleSchema>;
