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
 *
 * @module
 */
import { DeployAccess, DeployRoleConfig } from "./schema";

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

/** The role's trust policy: web identity from `providerArn`, for the STS audience and the role's subjects only. */
export function trustPolicy(
    role: DeployRoleConfig,
    organization: string,
    providerArn: string,
): Record<string, unknown> {
    const host = issuerHost(issuerOf(role));
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "OidcJobsOnly",
                Effect: "Allow",
                Principal: { Federated: providerArn },
                Action: "sts:AssumeRoleWithWebIdentity",
                Condition: {
                    StringEquals: { [`${host}:aud`]: STS_AUDIENCE },
                    StringLike: { [`${host}:sub`]: trustedSubjects(role, organization) },
                },
            },
        ],
    };
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
