import type { PlatformConfig } from "./schema";

/**
 * AWS commercial regions a fleet may run in, with the continent each sits on. The continent is what the
 * recovery runbook uses to pick a fallback region and what the plan's fleet map groups by.
 */
export const AWS_REGIONS = {
    "us-east-1": "North America",
    "us-east-2": "North America",
    "us-west-1": "North America",
    "us-west-2": "North America",
    "ca-central-1": "North America",
    "ca-west-1": "North America",
    "mx-central-1": "North America",
    "sa-east-1": "South America",
    "eu-central-1": "Europe",
    "eu-central-2": "Europe",
    "eu-west-1": "Europe",
    "eu-west-2": "Europe",
    "eu-west-3": "Europe",
    "eu-south-1": "Europe",
    "eu-south-2": "Europe",
    "eu-north-1": "Europe",
    "af-south-1": "Africa",
    "me-south-1": "Middle East",
    "me-central-1": "Middle East",
    "il-central-1": "Middle East",
    "ap-east-1": "Asia Pacific",
    "ap-south-1": "Asia Pacific",
    "ap-south-2": "Asia Pacific",
    "ap-southeast-1": "Asia Pacific",
    "ap-southeast-2": "Asia Pacific",
    "ap-southeast-3": "Asia Pacific",
    "ap-southeast-4": "Asia Pacific",
    "ap-southeast-5": "Asia Pacific",
    "ap-southeast-7": "Asia Pacific",
    "ap-northeast-1": "Asia Pacific",
    "ap-northeast-2": "Asia Pacific",
    "ap-northeast-3": "Asia Pacific",
} as const;

/** An AWS region name, e.g. `us-east-1`. */
export type AwsRegion = keyof typeof AWS_REGIONS;

/** Every region name, sorted, for messages and schema enums. */
export const AWS_REGION_NAMES = Object.keys(AWS_REGIONS).sort() as [AwsRegion, ...AwsRegion[]];

/** The continent of a region. */
export function continentOf(region: AwsRegion): string {
    return AWS_REGIONS[region];
}

/**
 * The regions AWS fleets run in (of `cluster` only, when given), distinct and sorted: where the platform declares fleet
 * stacks, secrets buckets and signing key replicas. The one derivation of the config's fleet regions; with the home
 * region added it is {@link platformRegions}.
 */
export function fleetRegions(config: Pick<PlatformConfig, "fleets">, cluster?: string): string[] {
    const regions = new Set<string>();
    for (const fleet of config.fleets)
        if (fleet.kind === "aws" && (cluster === undefined || fleet.cluster === cluster)) regions.add(fleet.region);
    return [...regions].sort();
}

/**
 * Every region the platform declares resources in: the home region and the regions of its AWS fleets
 * ({@link fleetRegions}), distinct and sorted. One AWS provider and one image registry per region.
 */
export function platformRegions(config: Pick<PlatformConfig, "fleets" | "homeRegion">): string[] {
    return [...new Set([config.homeRegion, ...fleetRegions(config)])].sort();
}
