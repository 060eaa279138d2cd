import type { PlatformConfig } from "../config";
import { REPOSITORY_PREFIX } from "./image-ref";

/*
 * The ECR documents the images need, as plain data: the lifecycle policy, the pull policy, and the replication
 * destinations derived from the fleets. Pure; the components turn these into resources.
 */

/** How many versions of an image ECR keeps when `keepVersions` is not configured. */
export const DEFAULT_KEEP_VERSIONS = 10;

/** ECR replicates a registry to at most 25 destinations. */
export const MAX_REPLICATION_DESTINATIONS = 25;

/**
 * The regions images are replicated to: every region with an AWS fleet, except the home region (where the
 * repositories are), sorted and without duplicates. Static fleets pull from the home registry.
 */
export function replicationRegions(config: Pick<PlatformConfig, "fleets" | "homeRegion">): string[] {
    const regions = new Set<string>();
    for (const fleet of config.fleets)
        if (fleet.kind === "aws" && fleet.region !== config.homeRegion) regions.add(fleet.region);
    return [...regions].sort();
}

/** One rule of the registry's replication configuration, as ECR takes it. */
export interface ReplicationRule {
    readonly destinations: { readonly region: string; readonly registryId: string }[];
    readonly repositoryFilters: { readonly filter: string; readonly filterType: "PREFIX_MATCH" }[];
}

/**
 * The replication rule: every repository under {@link REPOSITORY_PREFIX} to every destination region, in the
 * same account. Throws past ECR's limit of 25 destinations (checkImages reports it first, at `ci-platform:fleets`).
 */
export function replicationRule(regions: readonly string[], accountId: string): ReplicationRule {
    if (regions.length > MAX_REPLICATION_DESTINATIONS)
        throw new Error(
            `ECR replicates to at most ${MAX_REPLICATION_DESTINATIONS} regions; the fleets need ${regions.length}`,
        );
    return {
        destinations: regions.map((region) => ({ region, registryId: accountId })),
        repositoryFilters: [{ filter: REPOSITORY_PREFIX, filterType: "PREFIX_MATCH" }],
    };
}

/**
 * The lifecycle policy that keeps the last `keepVersions` versions of an image. Each version pushes one image per
 * variant, so keeping the newest `keepVersions × variantCount` images keeps the last `keepVersions` versions.
 * Untagged images (layers of an interrupted push) expire after 7 days. ECR requires the `any` rule to come last.
 */
export function lifecyclePolicy(keepVersions: number, variantCount: number): object {
    if (!Number.isInteger(keepVersions) || keepVersions < 1) throw new Error(`keepVersions must be a positive integer`);
    return {
        rules: [
            {
                rulePriority: 1,
                description: "Expire untagged images (interrupted pushes) after 7 days",
                selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 7 },
                action: { type: "expire" },
            },
            {
                rulePriority: 2,
                description: `Keep the last ${keepVersions} versions (${keepVersions} x ${variantCount} variants)`,
                selection: {
                    tagStatus: "any",
                    countType: "imageCountMoreThan",
                    countNumber: keepVersions * variantCount,
                },
                action: { type: "expire" },
            },
        ],
    };
}

/** The actions a puller needs to pull an image. */
export const PULL_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"];

/**
 * The repository policy that lets the fleets' instance roles pull. Role ARNs are sorted and deduplicated so the
 * policy does not change with fleet order. With no role ARNs yet (no AWS fleet), it names the account root: that
 * delegates to the account's own IAM policies, which is what ECR does without a repository policy.
 */
export function pullPolicy(pullerRoleArns: readonly string[], accountId: string): object {
    const principals = [...new Set(pullerRoleArns)].sort();
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "FleetInstanceRolesPull",
                Effect: "Allow",
                Principal: { AWS: principals.length > 0 ? principals : [`arn:aws:iam::${accountId}:root`] },
                Action: PULL_ACTIONS,
            },
        ],
    };
}
