/*
 * Invariants of the platform as a whole, over what the plan deploys (policy/platform.ts): every resource is managed
 * by an explicit provider, every job's queue is served, a queue is sized by one scaler only, and every image a job
 * runs in is in the registry of each region that can run the job.
 */
import { fleetsServing, platformImagePath, ecrRegion, readPlatform } from "../platform";
import type { PlanResource } from "../resource";
import type { StackFinding, StackRule } from "../rules";

/** Whether a resource is one a provider manages (not a component, not the stack, not a provider). */
export function isCustomResource(resource: PlanResource): boolean {
    return !resource.type.startsWith("ci-platform:") && !resource.type.startsWith("pulumi:");
}

/**
 * A default provider's URN: the engine names the provider it creates for a package `default` or `default_<version>`
 * (pulumi/pulumi pkg/resource/deploy/providers/registry.go, `defaultProviderName`), e.g.
 * `urn:pulumi:prod::ci-platform::pulumi:providers:aws::default_7_48_0`.
 */
export function isDefaultProvider(reference: string): boolean {
    // A provider reference is its URN (four `::`-separated parts), or the engine's `<urn>::<id>`.
    const parts = reference.split("::");
    return parts[2]?.startsWith("pulumi:providers:") === true && /^default(_[0-9a-z_-]+)?$/.test(parts[3] ?? "");
}

export const explicitProviders: StackRule = {
    kind: "stack",
    name: "explicit-providers",
    description:
        "Every resource is managed by a provider the program declares, so no resource depends on ambient credentials or settings (e.g. the Buildkite organization).",
    enforcementLevel: "mandatory",
    severity: "high",
    types: [],
    remediation:
        "Pass the provider in `providers` (or `provider`) when creating the resource or its component; the stack sets pulumi:disable-default-providers.",
    check(resources) {
        return (
            resources
                .filter(isCustomResource)
                // A dynamic resource (signed pipelines' KmsStepSignature) is served by the SDK's own pulumi-nodejs
                // provider, which takes no configuration: its code carries what it needs (the key ARN names the region).
                .filter((r) => !r.type.startsWith("pulumi-nodejs:dynamic"))
                .filter((r) => !r.provider || isDefaultProvider(r.provider))
                .map((r) => ({
                    urn: r.urn,
                    message: `${r.type} "${r.name}" uses ${r.provider ? "a default provider" : "the default provider"}, configured from the environment rather than the stack. Fix: pass the program's ${r.type.split(":")[0]} provider to it (or to its component).`,
                }))
        );
    },
};

export const queuesServed: StackRule = {
    kind: "stack",
    name: "queues-served",
    description: "Every command step names a queue of its pipeline's cluster that a fleet serves.",
    enforcementLevel: "mandatory",
    severity: "high",
    types: [],
    remediation: "Name a queue in the step (agents: { queue }) that a fleet of the pipeline's cluster serves.",
    check(resources) {
        const platform = readPlatform(resources);
        const findings: StackFinding[] = [];
        for (const pipeline of platform.pipelines) {
            if (pipeline.cluster === undefined) continue; // pipeline-in-cluster judges a pipeline outside a cluster
            const declared = platform.queues.get(pipeline.cluster) ?? new Set<string>();
            for (const step of pipeline.steps) {
                if (step.kind !== "command") continue;
                if (step.queue === undefined) {
                    // A job with no queue tag goes to the cluster's default queue (Buildkite docs, "Manage queues":
                    // "jobs without a queue tag are routed to the cluster's default queue"); the platform sets none.
                    findings.push({
                        urn: pipeline.urn,
                        message: `step "${step.id}" of pipeline ${pipeline.slug} names no queue, and cluster ${pipeline.cluster} has no default queue: its job would never be picked up. Fix: add agents: { queue: ... } naming a served queue.`,
                    });
                    continue;
                }
                const fleets = fleetsServing(platform, pipeline.cluster, step.queue);
                if (!declared.has(step.queue) || fleets.length === 0)
                    findings.push({
                        urn: pipeline.urn,
                        message: `step "${step.id}" of pipeline ${pipeline.slug} runs on queue "${step.queue}", which ${declared.has(step.queue) ? "no fleet serves" : "is not declared"} in cluster ${pipeline.cluster}: its job would wait forever. Fix: serve the queue with a fleet of that cluster, or move the pipeline to a served queue.`,
                    });
            }
        }
        return findings;
    },
};

export const oneScalerPerQueue: StackRule = {
    kind: "stack",
    name: "one-scaler-per-queue",
    description:
        "A queue is served by at most one Elastic CI Stack, because each stack's scaler sizes itself to the whole queue's backlog.",
    enforcementLevel: "mandatory",
    severity: "medium",
    types: [],
    remediation: "Give each region's fleet a queue of its own and point pipelines at the queue they should run in.",
    check(resources) {
        const platform = readPlatform(resources);
        const byQueue = new Map<string, string[]>();
        for (const fleet of platform.fleets) {
            if (fleet.kind !== "aws" || fleet.cluster === undefined || fleet.queue === undefined) continue;
            const key = `${fleet.cluster}/${fleet.queue}`;
            byQueue.set(key, [...(byQueue.get(key) ?? []), fleet.name]);
        }
        const findings: StackFinding[] = [];
        // buildkite/buildkite-agent-scaler v1.12.0 (deployed by Elastic CI Stack v6.71.1): each stack polls
        // `/metrics/queue?name=<queue>` (buildkite/buildkite.go) and wants ScheduledJobs + RunningJobs of the whole
        // queue (scaler/scaler.go), so N stacks on one queue start up to N times the instances the jobs need.
        for (const [key, names] of byQueue) {
            if (names.length < 2) continue;
            for (const name of names.slice(1)) {
                const fleet = platform.fleets.find((f) => f.name === name);
                findings.push({
                    urn: fleet?.stack?.urn ?? fleet?.urn ?? "",
                    message: `queue ${key} is served by ${names.length} Elastic CI Stacks (${names.join(", ")}); each scales to the whole queue's backlog, so together they start up to ${names.length}x the instances needed. Fix: give fleet ${name} a queue of its own and point the pipelines that should run there at it.`,
                });
            }
        }
        return findings;
    },
};

export const imagesInEveryRegion: StackRule = {
    kind: "stack",
    name: "images-in-every-region",
    description:
        "Every image a step runs in is pushed, at its pinned tag, to the registry of each region whose fleets can run the step.",
    enforcementLevel: "mandatory",
    severity: "high",
    types: [],
    remediation:
        "Push each image to every region that hosts a fleet running it (ECR replication does not copy images pushed before the rule existed).",
    check(resources) {
        const platform = readPlatform(resources);
        const pushed = new Set(platform.images.map((i) => `${i.region}|${i.reference}`));
        // pipeline URN -> "region|reference" -> the steps that need it there
        const missing = new Map<string, Map<string, Set<string>>>();
        for (const pipeline of platform.pipelines) {
            for (const step of pipeline.steps) {
                if (step.kind !== "command" || step.image === undefined) continue;
                const reference = platformImagePath(step.image);
                if (reference === undefined) continue; // not one of the platform's images
                // A reference through ${CI_PLATFORM_ECR_REGISTRY} resolves on the agent to its own region's registry
                // (hooks/environment); an explicit ECR host names its region.
                const explicit = ecrRegion(step.image.replace(/^\$+\{?[A-Z_]+\}?\//, ""));
                for (const fleet of fleetsServing(platform, pipeline.cluster, step.queue)) {
                    if (fleet.kind !== "aws" || fleet.region === undefined) continue;
                    const region = explicit ?? fleet.region;
                    if (pushed.has(`${region}|${reference}`)) continue;
                    const byPipeline = missing.get(pipeline.urn) ?? new Map<string, Set<string>>();
                    missing.set(pipeline.urn, byPipeline);
                    const key = `${region}|${reference}`;
                    byPipeline.set(key, (byPipeline.get(key) ?? new Set()).add(step.id));
                }
            }
        }
        const findings: StackFinding[] = [];
        for (const [urn, byKey] of missing) {
            const slug = platform.pipelines.find((p) => p.urn === urn)?.slug ?? urn;
            for (const [key, steps] of [...byKey].sort(([a], [b]) => (a < b ? -1 : 1))) {
                const [region, reference] = key.split("|");
                findings.push({
                    urn,
                    message: `pipeline ${slug} runs ${reference} in ${region} (steps ${[...steps].join(", ")}), but nothing pushes that tag to ${region}'s registry: the jobs would fail to pull. Fix: push the image to ${region} (replication does not copy tags pushed before it existed).`,
                });
            }
        }
        return findings;
    },
};

/** The platform invariants of this file, in the order they are reported. */
export const PLATFORM_INVARIANTS: readonly StackRule[] = [
    explicitProviders,
    queuesServed,
    oneScalerPerQueue,
    imagesInEveryRegion,
];
