/*
 * Every pipeline can check out on every fleet that can run its jobs. The scheme of the pipeline's repository URL
 * (Buildkite hands it to the agent as BUILDKITE_REPO, and the agent clones it) decides which credential the clone
 * uses; an AWS fleet gets credentials only from its region's secrets bucket, a static fleet only from its machines.
 */
import type { StackFinding, StackRule } from "../rules";
import { bucketOf, type DeployedFleet, type DeployedPipeline, fleetsOfPipeline, readPlatform } from "../platform";

/** How a clone URL authenticates: `ssh` (git@host:path, ssh://), `https`, or neither. */
export function checkoutScheme(url: string): "ssh" | "https" | undefined {
    if (/^(?:ssh:\/\/)?git@[^/:]+[:/]/.test(url)) return "ssh";
    if (/^https:\/\//.test(url)) return "https";
    return undefined;
}

/**
 * Bucket keys the secrets hooks load as SSH keys for a pipeline, into ssh-agent, which only an SSH clone uses
 * (buildkite/elastic-ci-stack-s3-secrets-hooks v2.8.0 s3secrets-helper/secrets/secrets.go getSSHKeys; the prefix is
 * the pipeline slug, main.go).
 */
export function sshKeyObjects(slug: string): string[] {
    return [`${slug}/private_ssh_key`, `${slug}/id_rsa_github`, "private_ssh_key", "id_rsa_github"];
}

/**
 * Bucket keys the secrets hooks install as git credential helpers for a pipeline; git asks a credential helper only
 * for an HTTP(S) remote (s3-secrets-hooks v2.8.0 secrets.go getGitCredentials/handleGitCredentials,
 * git-credential-s3-secrets answers protocol, host, username and password).
 */
export function gitCredentialObjects(slug: string): string[] {
    return ["git-credentials", `${slug}/git-credentials`];
}

/** Why `pipeline` cannot check out on `fleet`, or undefined when it can. */
export function checkoutProblem(
    platform: ReturnType<typeof readPlatform>,
    pipeline: DeployedPipeline,
    fleet: DeployedFleet,
): string | undefined {
    const scheme = checkoutScheme(pipeline.repository);
    const url = pipeline.repository;
    const where =
        fleet.kind === "aws"
            ? `AWS fleet "${fleet.name}" (${fleet.region ?? "unknown region"})`
            : `static fleet "${fleet.name}"`;
    if (scheme === undefined)
        return `Buildkite pipeline "${pipeline.slug}" has repository ${JSON.stringify(url)}, neither an SSH nor an HTTPS clone URL, so no credential of ${where} applies. Fix: set pipelines[].checkout to ssh or https.`;
    // GitHub accepts no anonymous SSH clone, even of a public repository; an HTTPS clone of a public one needs nothing.
    if (scheme === "https" && pipeline.publicRepository) return undefined;
    if (fleet.kind === "static") {
        if (fleet.checkoutCredentials.includes(scheme)) return undefined;
        return `Buildkite pipeline "${pipeline.slug}" checks out ${url} over ${scheme.toUpperCase()} on ${where}, which reads no secrets bucket and declares no ${scheme} credential of its own; the clone fails (exit 128). Fix: give the machines the credential and list ${scheme} in the fleet's checkoutCredentials${scheme === "https" ? ", or mark the repository public (publicRepository: true)" : ", or check out over HTTPS"}.`;
    }
    const bucket = bucketOf(platform, fleet);
    const wanted = scheme === "ssh" ? sshKeyObjects(pipeline.slug) : gitCredentialObjects(pipeline.slug);
    if (bucket !== undefined && wanted.some((key) => bucket.objects.has(key))) return undefined;
    const held =
        bucket === undefined
            ? `it reads no secrets bucket in ${fleet.region ?? "its region"}`
            : `the secrets bucket it reads holds none of ${wanted.join(", ")}`;
    return scheme === "ssh"
        ? `Buildkite pipeline "${pipeline.slug}" checks out ${url} over SSH, but ${where} gets no SSH key: ${held}; the clone fails (exit 128). Fix: set ci-platform:secrets.pipelines.${pipeline.slug}.privateSshKey (a deploy key of the repository) or the organisation's, or check out over HTTPS.`
        : `Buildkite pipeline "${pipeline.slug}" checks out ${url} over HTTPS, but ${where} gets no git credentials: ${held}; a private repository fails to clone (exit 128). Fix: set ci-platform:secrets.organization.gitCredentials (or the pipeline's), or mark a public repository publicRepository: true.`;
}

export const checkoutOnEveryFleet: StackRule = {
    kind: "stack",
    name: "checkout-on-every-fleet",
    description:
        "Every pipeline can check out its repository on every fleet that can run its jobs: an SSH URL needs an SSH key delivered to that pipeline there, an HTTPS URL git credentials (or a public repository).",
    enforcementLevel: "mandatory",
    severity: "high",
    types: ["buildkite:Pipeline/pipeline:Pipeline", "aws:s3/bucketObjectv2:BucketObjectv2", "ci-platform:agents:Fleet"],
    remediation:
        "Choose pipelines[].checkout (ssh or https) and deliver the matching credential: privateSshKey or gitCredentials in ci-platform:secrets for AWS fleets, checkoutCredentials on a static fleet; or mark a public repository publicRepository: true.",
    check(resources): StackFinding[] {
        const platform = readPlatform(resources);
        return platform.pipelines.flatMap((pipeline) =>
            fleetsOfPipeline(platform, pipeline).flatMap((fleet) => {
                const message = checkoutProblem(platform, pipeline, fleet);
                return message === undefined ? [] : [{ urn: pipeline.urn, message }];
            }),
        );
    },
};
