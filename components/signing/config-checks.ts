/**
 * The cross-checks of `clusters[].signing` against the rest of the config. Pure: the validated config in, issues
 * out. Names and paths only: never a key's material.
 */
import type { ConfigIssue } from "../config/issues";
import { pipelineQueues, releaseQueue } from "../config/access-checks";
import type { PlatformConfig } from "../config/schema";
import { servedByPosix, signsSteps } from "../steps/pipeline-steps";

/**
 * Problems of the signing config: a jwks cluster without its private set, a private set of no jwks cluster, a
 * signing pipeline whose stored upload step (components/steps/stored-upload.ts: printenv, base64, a POSIX shell)
 * has no POSIX agent to run on: its queue, and every other queue of its cluster, served by Windows fleets only.
 */
export function signingIssues(
    config: Pick<PlatformConfig, "clusters" | "secrets" | "pipelines" | "fleets">,
): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    config.pipelines.forEach((pipeline, i) => {
        if (!signsSteps(config, pipeline)) return;
        // The stored step runs where a gated child's release steps run (access-checks.ts releaseQueue): the
        // pipeline's own queue unless only Windows fleets serve it, then a POSIX queue of its cluster if any.
        const queue = releaseQueue(pipeline, config.fleets);
        if (!servedByPosix(config, pipeline.cluster, queue))
            issues.push({
                path: ["pipelines", i, "queue"],
                message: `pipeline "${pipeline.slug}" is in cluster "${pipeline.cluster}", which signs: its one stored step uploads the pipeline's steps with printenv, base64 and a POSIX shell, but queue "${queue}" is served by Windows fleets only and no other queue of the cluster has Linux or on-premises agents`,
                fix: `add a Linux (or static) fleet to cluster "${pipeline.cluster}" (the stored upload step then runs on its queue), or move the pipeline to a cluster whose signing is off`,
            });
        // Only a gated child's jobs go to that other queue today (pipelineQueues): its fleets' allow-lists would
        // refuse the upload step of any other pipeline.
        else if (!pipelineQueues(pipeline, config.fleets).includes(queue))
            issues.push({
                path: ["pipelines", i, "queue"],
                message: `pipeline "${pipeline.slug}" is in cluster "${pipeline.cluster}", which signs: its one stored step uploads the pipeline's steps with a POSIX shell, which Windows queue "${pipeline.queue}" lacks, and queue "${queue}" does not serve the pipeline (only a gated child's release steps move there), so its fleets would refuse the step`,
                fix: `set pipelines[${i}].gate to release (its release steps and the upload then run on "${queue}"), or give the pipeline a Linux queue of its cluster`,
            });
    });
    const privateSets = config.secrets.signing ?? {};
    config.clusters.forEach((cluster, i) => {
        if (cluster.signing?.mode === "jwks" && privateSets[cluster.name] === undefined)
            issues.push({
                path: ["clusters", i, "signing", "mode"],
                message: `cluster "${cluster.name}" signs with a JWKS, but ci-platform:secrets.signing.${cluster.name} holds no private key set`,
                fix: `pulumi config set --secret --path 'ci-platform:secrets.signing.${cluster.name}' "$(cat private-jwks.json)" (an Ed25519 JWKS: buildkite-agent tool keygen --alg EdDSA --key-id <kid>)`,
            });
    });
    for (const name of Object.keys(privateSets).sort()) {
        const cluster = config.clusters.find((c) => c.name === name);
        if (cluster?.signing?.mode !== "jwks")
            issues.push({
                path: ["secrets", "signing", name],
                message:
                    cluster === undefined
                        ? `"${name}" is not a declared cluster`
                        : `cluster "${name}" does not sign with a JWKS (clusters[].signing.mode is not jwks), so its private key set is unused`,
                fix: "remove the entry, or set the cluster's signing to mode jwks with its public key in verificationKeys",
            });
    }
    return issues;
}
