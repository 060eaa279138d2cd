import { CheckoutMethod, PipelineConfig, checkoutUrl } from "../config";

/*
 * Pure mapping from a validated pipeline config to the inputs of Buildkite and GitHub resources.
 */

/** GitHub webhook events Buildkite acts on. */
export const GITHUB_WEBHOOK_EVENTS = ["push", "pull_request", "deployment", "merge_group"] as const;

/**
 * The clone URL Buildkite agents check out (the pipeline's `repository`, handed to jobs as BUILDKITE_REPO):
 * `git@github.com:owner/name.git` for SSH, `https://github.com/owner/name.git` for HTTPS. The scheme decides which
 * credential the clone uses: an SSH key in ssh-agent, or a git credential helper (see components/config/access-checks.ts).
 */
export function repositoryUrl(repository: string, checkout: CheckoutMethod): string {
    return checkoutUrl(repository, checkout);
}

/** The pipeline tag that marks a public repository: its HTTPS checkout needs no credentials. */
export const PUBLIC_REPOSITORY_TAG = "public-repository";

/** `owner/name` split in two. */
export function splitRepository(repository: string): { owner: string; name: string } {
    const [owner, name] = repository.split("/");
    return { owner, name };
}

/** The pipeline's display name: its `name`, or its slug in words. */
export function displayName(pipeline: Pick<PipelineConfig, "slug" | "name">): string {
    return (
        pipeline.name ??
        pipeline.slug
            .split("-")
            .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
            .join(" ")
    );
}

/** A stable resource-name fragment for free text such as a schedule label. */
export function nameFragment(text: string): string {
    return (
        text
            .toLowerCase()
            .replace(/[^a-z0-9]+/g, "-")
            .replace(/^-+|-+$/g, "") || "unnamed"
    );
}

/**
 * The plain (non-resource) inputs of a `buildkite.pipeline.Pipeline`. Provider settings are passed through: the
 * config keys are named after the provider's own fields.
 */
export function pipelineInputs(pipeline: PipelineConfig) {
    const { filterCondition, ...settings } = pipeline.provider;
    return {
        name: displayName(pipeline),
        slug: pipeline.slug,
        description: pipeline.description,
        repository: repositoryUrl(pipeline.repository, pipeline.checkout),
        defaultBranch: pipeline.defaultBranch,
        branchConfiguration: pipeline.branches,
        skipIntermediateBuilds: pipeline.skipIntermediateBuilds,
        cancelIntermediateBuilds: pipeline.cancelIntermediateBuilds,
        allowRebuilds: true,
        providerSettings: {
            ...settings,
            ...(filterCondition !== undefined ? { filterCondition } : {}),
        },
        // Tags are labels for searching pipelines in the Buildkite UI; the policy pack reads the public marker too.
        tags: [`repo:${pipeline.repository}`, ...(pipeline.publicRepository ? [PUBLIC_REPOSITORY_TAG] : [])],
    };
}
