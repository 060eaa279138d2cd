/**
 * The cross-checks of `clusters[].signing` against the rest of the config. Pure: the validated config in, issues
 * out. Names and paths only: never a key's material.
 */
import type { ConfigIssue } from "../config/issues";
import { pipelineQueues, releaseQueue } from "../config/access-checks";
import type { PlatformConfig } from "../config/schema";
import { servedByPosix, signsSteps } from "../steps/pipeline-steps";
import { kmsKeyRegion } from "./kms";

/**
 * Problems of the signing config: a KMS key the fleets cannot use, a jwks cluster without its private set, a
 * private set of no jwks cluster, a
 * signing pipeline whose stored upload step (components/steps/stored-upload.ts: printenv, base64, a POSIX shell)
 * has no POSIX agent to run on: its queue, and every other queue of its cluster, served by Windows fleets only.
 */
export function signingIssues(
    config: Pick<PlatformConfig, "clusters" | "secrets" | "pipelines" | "fleets">,
): ConfigIssue[] {
    const issues: ConfigIssue[] = [...kmsKeyIssues(config)];
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

/**
 * Problems of a named KMS key (`clusters[].signing.key`, mode kms): it is a key ARN (the agent's KMS client and the
 * program's signer both need its region), and when the cluster's AWS fleets are in a region other than the key's it is
 * a multi-region key (`mrk-`), whose replica in each such region the fleets there use. KMS keys are regional: an
 * agent's client uses its instance's region (buildkite/agent v3.137.0 internal/awslib/awsv2.go `GetConfigV2`: the
 * default config's region, else the instance metadata's), and a key ARN of another region is not found there.
 */
function kmsKeyIssues(config: Pick<PlatformConfig, "clusters" | "fleets">): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    config.clusters.forEach((cluster, i) => {
        const key = cluster.signing?.mode === "kms" ? cluster.signing.key : undefined;
        if (key === undefined) return;
        const path = ["clusters", i, "signing", "key"];
        const region = kmsKeyRegion(key);
        if (region === undefined) {
            issues.push({
                path,
                message: `"${key}" is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>); an alias or a bare key id names no region`,
                fix: "give the key's ARN (aws kms describe-key --key-id <id> --query KeyMetadata.Arn), or leave key unset and the stack creates the cluster's key",
            });
            return;
        }
        const others = [
            ...new Set(
                config.fleets.flatMap((f) =>
                    f.kind === "aws" && f.cluster === cluster.name && f.region !== region ? [f.region] : [],
                ),
            ),
        ].sort();
        if (others.length > 0 && !/:key\/mrk-[0-9a-f]+$/.test(key))
            issues.push({
                path,
                message: `cluster "${cluster.name}" has AWS fleets in ${others.join(", ")}, outside the key's region ${region}, but "${key}" is not a multi-region key (mrk-): KMS keys are regional, so those fleets' agents could not use it`,
                fix: `name a multi-region key with a replica in ${others.join(", ")} (aws kms replicate-key), or leave key unset and the stack creates one`,
            });
    });
    return issues;
}
