/**
 * The IAM documents of the deploy roles: trust policies for Buildkite's and GitHub Actions' OIDC tokens, the
 * managed policies of each access level, and the deny that keeps a pull request preview from secret values.
 *
 * Pure module: config in, JSON-ready documents out.
 *
 * Facts relied on:
 * - Buildkite's issuer is `https://agent.buildkite.com` (buildkite/docs pages/agent/cli/reference/oidc.md, "OIDC
 *   URLs"); `buildkite-agent oidc request-token --audience sts.amazonaws.com` sets `aud` (buildkite/agent v3.137.0
 *   clicommand/oidc_request_token.go `--audience`); the default subject is
 *   `organization:ORG:pipeline:SLUG:ref:REF:commit:SHA:step:KEY`, REF `refs/heads/BRANCH` for a branch build and
 *   `refs/tags/TAG` for a tag build (oidc.md, "Claims", `sub`). A job that asks for another subject claim
 *   (`--subject-claim`) gets a subject without the `organization:` prefix, which no pattern here matches.
 * - GitHub Actions' issuer is `https://token.actions.githubusercontent.com`; a `pull_request` run's subject is
 *   `repo:OWNER/NAME:pull_request`; a run for a pull request from a fork cannot request a token at all (its
 *   `id-token` permission is read-only: github/docs "About security hardening with OpenID Connect").
 * - AWS IAM: a web-identity trust conditions on `<issuer host>:aud` and `<issuer host>:sub` (AWS IAM User Guide,
 *   "Available keys for AWS OIDC federation"); `StringLike` takes `*` and `?` wildcards.
 * - Session tags: `buildkite-agent oidc request-token --aws-session-tag build_source,pipeline_id` adds those claims
 *   under the token's `https://aws.amazon.com/tags` claim (buildkite/agent v3.137.0 clicommand/oidc_request_token.go
 *   `--aws-session-tag`, api/oidc.go `aws_session_tags`; buildkite/docs pages/agent/cli/reference/oidc.md "AWS session
 *   tags": any supported claim). `build_source` is a standard claim, one of `ui`, `api`, `webhook`, `trigger_job`,
 *   `schedule`; `pipeline_id` an optional claim, the pipeline's UUID (oidc.md, "Claims" and "Optional claims"). Both
 *   are written by Buildkite, not by the job. STS turns them into request tags `aws:RequestTag/<claim>`, and a role
 *   whose trust policy does not allow `sts:TagSession` refuses a token that carries tags (AWS IAM User Guide,
 *   "Passing session tags using AssumeRoleWithWebIdentity"); a condition on a tag the token lacks fails.
 *
 * @module
 */
import { DeployAccess, DeployRoleConfig } from "../config/deploy-roles";

/** Buildkite's OIDC issuer. */
export const BUILDKITE_ISSUER = "https://agent.buildkite.com";
/** GitHub Actions' OIDC issuer. */
export const GITHUB_ACTIONS_ISSUER = "https://token.actions.githubusercontent.com";
/** The audience both kinds of token are requested for, and the provider's client id. */
export const STS_AUDIENCE = "sts.amazonaws.com";

/** The issuer a role trusts. */
export const issuerOf = (role: DeployRoleConfig): string =>
    role.buildkite !== undefined ? BUILDKITE_ISSUER : GITHUB_ACTIONS_ISSUER;

/** `https://agent.buildkite.com` → `agent.buildkite.com`: the prefix of the IAM condition keys. */
export const issuerHost = (issuer: string): string => issuer.replace(/^https:\/\//, "");

/** The token subjects a role admits, as `StringLike` patterns: one per step (Buildkite) or the pull request one. */
export function trustedSubjects(role: DeployRoleConfig, organization: string): string[] {
    if (role.buildkite !== undefined) {
        const { pipeline, branch, steps } = role.buildkite;
        // Only the commit is left open: any commit of that branch, and nothing else.
        return steps.map(
            (step) =>
                `organization:${organization}:pipeline:${pipeline}:ref:refs/heads/${branch}:commit:*:step:${step}`,
        );
    }
    if (role.githubActions !== undefined) return [`repo:${role.githubActions.repository}:pull_request`];
    return [];
}

/**
 * The build sources a Buildkite-trusted role admits (the `build_source` claim, as session tag). `webhook` is a push
 * the repository's webhook reported (the pipeline builds no pull requests: ./checks.ts), `schedule` a scheduled build.
 * Never `api`, `ui` or `trigger_job`: whoever holds a Buildkite API token with write_builds, or the Build permission,
 * can create those on any branch at any commit, and their jobs would carry the same subject as a push to main.
 */
export const BUILD_SOURCES: Readonly<Record<DeployAccess, readonly string[]>> = {
    // pulumi up: a push to main, and nothing else.
    deploy: ["webhook"],
    // pulumi preview before the block step (a push) and the daily drift check (the pipeline's schedule).
    read: ["webhook", "schedule"],
    // Assumed from GitHub Actions only (./checks.ts), whose tokens carry no Buildkite claims.
    preview: [],
};

/** The claims every Buildkite job asks to carry as AWS session tags (.buildkite/lib.bash `oidc_token_to`). */
export const SESSION_TAGS = ["build_source", "pipeline_id"] as const;

/** Who the role's trust policy names: the organization, the IAM OIDC provider and, for a Buildkite trust, the
 * trusted pipeline's UUID (an output of its `buildkite:Pipeline/pipeline:Pipeline`, `uuid`). */
export interface TrustContext {
    /** The Buildkite organization slug (the subject's `organization:` part). */
    readonly organization: string;
    /** ARN of the IAM OIDC provider of the role's issuer. */
    readonly providerArn: string;
    /** UUID of the pipeline a Buildkite trust names (the `pipeline_id` claim); unused for GitHub Actions. */
    readonly pipelineId?: string;
}

/**
 * The role's trust policy: web identity from the provider, for the STS audience and the role's subjects only; for a
 * Buildkite trust also the session tags `pipeline_id` (the pipeline's immutable UUID: a pipeline deleted and
 * recreated under the same slug is another pipeline) and `build_source` ({@link BUILD_SOURCES}).
 */
export function trustPolicy(role: DeployRoleConfig, context: TrustContext): Record<string, unknown> {
    const host = issuerHost(issuerOf(role));
    const subjects = { [`${host}:sub`]: trustedSubjects(role, context.organization) };
    const trust = (action: string | string[], tags: Record<string, string | string[]>) => ({
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "OidcJobsOnly",
                Effect: "Allow",
                Principal: { Federated: context.providerArn },
                Action: action,
                Condition: { StringEquals: { [`${host}:aud`]: STS_AUDIENCE, ...tags }, StringLike: subjects },
            },
        ],
    });
    if (role.buildkite === undefined) return trust("sts:AssumeRoleWithWebIdentity", {});
    if (context.pipelineId === undefined || context.pipelineId === "")
        throw new Error(`deploy role "${role.name}": the UUID of pipeline "${role.buildkite.pipeline}" is not known`);
    return trust(["sts:AssumeRoleWithWebIdentity", "sts:TagSession"], {
        "aws:RequestTag/pipeline_id": context.pipelineId,
        "aws:RequestTag/build_source": [...BUILD_SOURCES[role.access]],
    });
}

/** AWS managed policies of each access level. */
export const MANAGED_POLICIES: Readonly<Record<DeployAccess, readonly string[]>> = {
    // The first `pulumi up` creates IAM roles and policies, KMS keys, S3, SSM, ECR and CloudFormation stacks that
    // create VPCs, Auto Scaling groups and Lambdas (README, "Running it for real"): an administrator.
    deploy: ["arn:aws:iam::aws:policy/AdministratorAccess"],
    read: ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
    preview: ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
};

/**
 * What a pull request preview must not read, though ReadOnlyAccess allows it: objects of the secrets buckets
 * (`secrets-*`: components/agents/naming.ts `secretsBucketName`; ReadOnlyAccess has `s3:Get*`), SSM parameter
 * values (the agent tokens), Secrets Manager values, and anything KMS would decrypt. An explicit Deny wins over
 * any Allow (AWS IAM User Guide, "Policy evaluation logic"). The pull request's code runs with the role, so it must
 * not be able to read what the stack keeps secret.
 */
export function previewDenyPolicy(): Record<string, unknown> {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "NoSecretsBucketObjects",
                Effect: "Deny",
                Action: ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectAttributes"],
                Resource: ["arn:aws:s3:::secrets-*/*"],
            },
            {
                Sid: "NoSecretValues",
                Effect: "Deny",
                Action: [
                    "ssm:GetParameter",
                    "ssm:GetParameters",
                    "ssm:GetParametersByPath",
                    "ssm:GetParameterHistory",
                    "secretsmanager:GetSecretValue",
                    "kms:Decrypt",
                ],
                Resource: "*",
            },
        ],
    };
}

/**
 * What a `read` role adds to ReadOnlyAccess: `pulumi preview --refresh` reads the fleets' agent-token parameters,
 * SecureStrings, with decryption (terraform-provider-aws internal/service/ssm/parameter.go findParameterByName(...,
 * true)), so SSM decrypts them with the platform's token keys on the caller's behalf. Decrypt on those keys only, and
 * only through SSM (`kms:ViaService` = `ssm.<region>.amazonaws.com`: AWS KMS Developer Guide, "kms:ViaService"); the
 * keys' own policies must admit the role too (components/agents/key-policy.ts). Never for `preview` roles, which
 * run pull request code and are denied kms:Decrypt outright ({@link previewDenyPolicy}).
 */
export function readRoleTokenKeysPolicy(tokenKeyArns: readonly string[]): Record<string, unknown> {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "DecryptAgentTokenParametersThroughSsm",
                Effect: "Allow",
                Action: "kms:Decrypt",
                Resource: [...new Set(tokenKeyArns)].sort(),
                Condition: { StringLike: { "kms:ViaService": "ssm.*.amazonaws.com" } },
            },
        ],
    };
}
