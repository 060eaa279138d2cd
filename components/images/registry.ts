import { type PlatformConfig, platformRegions } from "../config";

/*
 * The ECR documents the images need, as plain data: the lifecycle policy, the pull policy, and the regions each
 * image is pushed to, derived from the fleets. Pure; the components turn these into resources.
 */

/** How many versions of an image ECR keeps when `keepVersions` is not configured. */
export const DEFAULT_KEEP_VERSIONS = 10;

/**
 * The regions every image is pushed to: the home region and every region with an AWS fleet, sorted and without
 * duplicates. Static (on-premises) fleets pull from the home registry. Each region gets its own repositories and its
 * own push of every pinned tag (see AgentImage), so a region added later has every tag once `pulumi up` ends.
 * They are the platform's regions (config/regions.ts `platformRegions`); this name says why images need them.
 */
export function imageRegions(config: Pick<PlatformConfig, "fleets" | "homeRegion">): string[] {
    return platformRegions(config);
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
 * The repository policy that lets the fleets' instance roles pull: the roles are the only principals, each by ARN
 * (ECR checks a repository policy and the caller's IAM policy; our roles' IAM policies name these repositories).
 * Role ARNs are sorted and deduplicated so the policy does not change with fleet order. A region without AWS fleets
 * (the home region when no fleet runs there) names the account root instead: that delegates to the account's own
 * IAM policies, which is what ECR does without a repository policy, and is how an on-premises fleet's identity
 * pulls from the home registry.
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
