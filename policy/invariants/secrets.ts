/*
 * Every secret a pipeline declares reaches every fleet that can run its jobs, and no bucket holds a pipeline's
 * secrets where no fleet runs it. An AWS fleet gets secrets only from its region's secrets bucket, through the Elastic
 * CI Stack's secrets hooks; an on-premises (static) fleet reads no bucket, so its machines provide them.
 *
 * Names, never values: a secrets object's variable names are in its key (secret-files/NAME) or its metadata (an env
 * file); a pipeline's further needs are its component's `requiresSecrets`; a static fleet's are its component's
 * `providesSecrets`.
 */
import type { StackFinding, StackRule } from "../rules";
import {
    bucketOf,
    type DeployedBucket,
    type DeployedPipeline,
    fleetsOfPipeline,
    objectVariables,
    type Platform,
    readPlatform,
} from "../platform";

/**
 * Whether the secrets hooks load the object at `key` into a job of pipeline `slug`: the bucket's root `env`,
 * `environment` and `secret-files/*`, and the same under the pipeline's slug (elastic-ci-stack-s3-secrets-hooks v2.8.0
 * s3secrets-helper/secrets/secrets.go getEnvs, getSecrets; the prefix is the pipeline slug, main.go).
 */
export function loadedFor(slug: string, key: string): boolean {
    const rest = key.startsWith(`${slug}/`) ? key.slice(slug.length + 1) : key;
    return rest === "env" || rest === "environment" || /^secret-files\/[^/]+$/.test(rest);
}

/** The variable names a bucket hands to jobs of pipeline `slug`. */
export function variablesFor(bucket: DeployedBucket | undefined, slug: string): Set<string> {
    const names = new Set<string>();
    for (const [key, object] of bucket?.objects ?? [])
        if (loadedFor(slug, key)) for (const name of objectVariables(key, object)) names.add(name);
    return names;
}

/** The secret names a pipeline declares: its own objects' variables in any bucket, and its `requiresSecrets`. */
export function declaredSecrets(platform: Platform, pipeline: DeployedPipeline): string[] {
    const names = new Set(pipeline.requiresSecrets);
    for (const bucket of platform.buckets)
        for (const [key, object] of bucket.objects)
            if (key.startsWith(`${pipeline.slug}/`)) for (const name of objectVariables(key, object)) names.add(name);
    return [...names].sort();
}

const list = (names: readonly string[]) => names.join(", ");

export const secretsReachFleets: StackRule = {
    kind: "stack",
    name: "secrets-reach-fleets",
    description:
        "Every secret a pipeline declares reaches every fleet that can run its jobs: in the secrets bucket of each AWS fleet's region, provided by the machines of each static fleet.",
    enforcementLevel: "mandatory",
    severity: "high",
    types: ["buildkite:Pipeline/pipeline:Pipeline", "aws:s3/bucketObjectv2:BucketObjectv2", "ci-platform:agents:Fleet"],
    remediation:
        "Set the value with pulumi config set --secret --path 'ci-platform:secrets.pipelines.<slug>.env.NAME' for AWS fleets; for a static fleet, set the variable on its machines and list it in the fleet's providesSecrets.",
    check(resources): StackFinding[] {
        const platform = readPlatform(resources);
        return platform.pipelines.flatMap((pipeline) => {
            const declared = declaredSecrets(platform, pipeline);
            if (declared.length === 0) return [];
            return fleetsOfPipeline(platform, pipeline).flatMap((fleet): StackFinding[] => {
                if (fleet.kind === "static") {
                    const missing = declared.filter((n) => !fleet.providesSecrets.includes(n));
                    return missing.length === 0
                        ? []
                        : [
                              {
                                  urn: pipeline.urn,
                                  message: `Buildkite pipeline "${pipeline.slug}" needs ${list(missing)} on static fleet "${fleet.name}", which reads no secrets bucket and does not provide ${missing.length === 1 ? "it" : "them"}; its jobs run without ${missing.length === 1 ? "it" : "them"}. Fix: set ${list(missing)} on the fleet's machines and list ${missing.length === 1 ? "it" : "them"} in ci-platform:fleets[].providesSecrets, or run the pipeline on an AWS queue.`,
                              },
                          ];
                }
                const delivered = variablesFor(bucketOf(platform, fleet), pipeline.slug);
                const missing = declared.filter((n) => !delivered.has(n));
                return missing.length === 0
                    ? []
                    : [
                          {
                              urn: pipeline.urn,
                              message: `Buildkite pipeline "${pipeline.slug}" needs ${list(missing)}, but the secrets bucket that AWS fleet "${fleet.name}" reads in ${fleet.region ?? "its region"} does not hold ${missing.length === 1 ? "it" : "them"}; its jobs there run without ${missing.length === 1 ? "it" : "them"}. Fix: put the pipeline's secrets in the bucket of every fleet that runs it (pulumi config set --secret --path 'ci-platform:secrets.pipelines.${pipeline.slug}.env.NAME').`,
                          },
                      ];
            });
        });
    },
};

export const secretsOnlyWhereRun: StackRule = {
    kind: "stack",
    name: "secrets-only-where-run",
    description:
        "A pipeline's secrets are only in the secrets buckets that fleets running it read: nowhere else can a job use them, and every other fleet's agents could read them.",
    enforcementLevel: "advisory",
    severity: "high",
    types: ["buildkite:Pipeline/pipeline:Pipeline", "aws:s3/bucketObjectv2:BucketObjectv2"],
    remediation:
        "Keep a pipeline's secrets out of regions where no fleet serves its queue; for a pipeline only static fleets run, remove its values from ci-platform:secrets and have the machines provide them.",
    check(resources): StackFinding[] {
        const platform = readPlatform(resources);
        return platform.pipelines.flatMap((pipeline) => {
            const fleets = fleetsOfPipeline(platform, pipeline);
            const regions = new Set(fleets.flatMap((f) => (f.kind === "aws" && f.region ? [f.region] : [])));
            const read = new Set(fleets.flatMap((f) => (f.kind === "aws" ? [bucketOf(platform, f)?.urn] : [])));
            return platform.buckets.flatMap((bucket): StackFinding[] => {
                if (read.has(bucket.urn)) return [];
                const keys = [...bucket.objects.keys()].filter((k) => k.startsWith(`${pipeline.slug}/`)).sort();
                if (keys.length === 0) return [];
                const why =
                    regions.size === 0
                        ? fleets.length > 0
                            ? `only static fleets (${fleets.map((f) => f.name).join(", ")}) run it and they read no bucket`
                            : "no fleet runs it"
                        : `only AWS fleets ${fleets
                              .filter((f) => f.kind === "aws")
                              .map((f) => `"${f.name}"`)
                              .join(", ")} run it and none of them reads this bucket`;
                return keys.map((key) => ({
                    urn: bucket.objects.get(key)?.urn ?? bucket.urn,
                    message: `Secrets object ${key} of pipeline "${pipeline.slug}" is in the secrets bucket of ${bucket.cluster === undefined ? "" : `cluster ${bucket.cluster} in `}${bucket.region ?? "an unknown region"}, but ${why}: it is useless there and readable by agents that never run the pipeline. Fix: keep the pipeline's secrets to the buckets its fleets read${regions.size === 0 ? ", and have the static fleet's machines provide them (providesSecrets)" : ""}.`,
                }));
            });
        });
    },
};
