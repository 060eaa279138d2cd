/*
 * The trust boundary is the Buildkite cluster: every secrets bucket is read by the fleets of one cluster only, and
 * holds secrets only of pipelines of that cluster.
 *
 * Why a bucket, not an object: a role the Elastic CI Stack creates itself may read every object of its SecretsBucket
 * (elastic-ci-stack-for-aws v6.71.1 templates/aws-stack.yml InstancePolicy: s3:Get* and s3:List* on the bucket and
 * its objects; the platform's own roles read by prefix, see invariants/fleet-role.ts, but still list every key name),
 * and every job gets the bucket's name (v6.71.1 packer/linux/stack/conf/buildkite-agent/hooks/environment
 * exports BUILDKITE_PLUGIN_S3_SECRETS_BUCKET). So any job on any fleet that reads a bucket
 * can read every object in it, whatever pipeline the object's prefix names: the s3-secrets hook's per-pipeline prefix
 * decides what is exported, not what can be read (elastic-ci-stack-s3-secrets-hooks v2.8.0 s3secrets-helper/main.go).
 */
import type { StackFinding, StackRule } from "../rules";
import { bucketOf, type DeployedBucket, type Platform, readPlatform } from "../platform";

/** The pipeline slug an object key belongs to (`<slug>/...`), or undefined for the bucket root and our own objects. */
export function pipelineOfKey(key: string): string | undefined {
    const slash = key.indexOf("/");
    if (slash <= 0) return undefined;
    const first = key.slice(0, slash);
    // `_ci-platform/` holds the hooks bundle and bootstrap scripts; pipeline slugs cannot start with `_`.
    return first.startsWith("_") ? undefined : first;
}

/** The AWS fleets whose instance role reads `bucket`. */
export function readersOf(platform: Platform, bucket: DeployedBucket) {
    return platform.fleets.filter((f) => f.kind === "aws" && bucketOf(platform, f)?.urn === bucket.urn);
}

const quoted = (names: readonly string[]) => names.map((n) => `"${n}"`).join(", ");

export const secretsBucketOneCluster: StackRule = {
    kind: "stack",
    name: "secrets-bucket-one-cluster",
    description:
        "Every secrets bucket is read only by fleets of one Buildkite cluster and holds secrets only of pipelines of that cluster: a job can read every object of the bucket its fleet reads, so the cluster is the trust boundary.",
    enforcementLevel: "mandatory",
    severity: "critical",
    types: [
        "ci-platform:agents:SecretsBucket",
        "aws:s3/bucketObjectv2:BucketObjectv2",
        "ci-platform:agents:Fleet",
        "buildkite:Pipeline/pipeline:Pipeline",
    ],
    remediation:
        "Give each cluster's fleets their own secrets bucket per region (components/agents: one SecretsBucket per region and cluster), and keep a pipeline's secrets in the buckets of its own cluster's fleets; move a pipeline whose secrets other pipelines' jobs must not read into a cluster of its own.",
    check(resources): StackFinding[] {
        const platform = readPlatform(resources);
        const clusterOf = new Map(platform.pipelines.map((p) => [p.slug, p.cluster]));
        return platform.buckets.flatMap((bucket): StackFinding[] => {
            const where = `secrets bucket ${bucket.urn.slice(bucket.urn.lastIndexOf("::") + 2)} (${bucket.region ?? "unknown region"})`;
            const readers = readersOf(platform, bucket);
            const clusters = [...new Set(readers.map((f) => f.cluster ?? "an unknown cluster"))].sort();
            const findings: StackFinding[] = [];
            if (clusters.length > 1)
                findings.push({
                    urn: bucket.urn,
                    message: `The ${where} is read by fleets of ${clusters.length} clusters (${readers.map((f) => `"${f.name}" of ${f.cluster ?? "an unknown cluster"}`).join(", ")}): every job of each can read every secret in it, another cluster's included. Fix: one secrets bucket per region and cluster, each fleet reading its own cluster's.`,
                });
            const owner = bucket.cluster ?? (clusters.length === 1 ? clusters[0] : undefined);
            if (bucket.cluster !== undefined) {
                const strangers = readers.filter((f) => f.cluster !== bucket.cluster);
                if (strangers.length > 0 && clusters.length === 1)
                    findings.push({
                        urn: bucket.urn,
                        message: `The ${where} belongs to cluster "${bucket.cluster}" but is read by fleets ${quoted(strangers.map((f) => f.name))} of cluster "${strangers[0].cluster ?? "unknown"}". Fix: give those fleets their own cluster's bucket.`,
                    });
            }
            if (owner === undefined) return findings;
            const foreign = new Map<string, string[]>();
            for (const key of [...bucket.objects.keys()].sort()) {
                const slug = pipelineOfKey(key);
                if (slug === undefined || !clusterOf.has(slug)) continue;
                const cluster = clusterOf.get(slug);
                if (cluster !== owner) foreign.set(slug, [...(foreign.get(slug) ?? []), key]);
            }
            for (const [slug, keys] of foreign)
                findings.push({
                    urn: bucket.objects.get(keys[0])?.urn ?? bucket.urn,
                    message: `The ${where} of cluster "${owner}" holds ${keys.join(", ")} of pipeline "${slug}", which is in cluster "${clusterOf.get(slug) ?? "unknown"}": every job of cluster "${owner}"${readers.length > 0 ? ` (fleets ${quoted(readers.map((f) => f.name))})` : ""} can read ${keys.length === 1 ? "it" : "them"}. Fix: keep pipeline "${slug}"'s secrets in the buckets of its own cluster's fleets.`,
                });
            return findings;
        });
    },
};
