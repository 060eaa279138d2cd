import type { PlatformConfig } from "../config/schema";
import { didYouMean } from "../config/issues";
import {
    awsFleetChildren,
    awsProviderName,
    clusterQueueName,
    ChildSpec,
    childName,
    hookObjectName,
    SECRETS_BUCKET_CHILDREN,
    secretObjectName,
    secretsBucketName,
    shellArg,
    STATIC_FLEET_CHILDREN,
    TYPES,
    urnOf,
} from "./naming";
import { imageChildNames } from "../images/agent-image";
import { dockerProviderName } from "../images/registries";
import { secretObjects, secretsBucketScopes, secretsForBucket } from "./secret-objects";

/*
 * What rebuilding one fleet, or every fleet of one region, means for the stack: which resources belong to it, which
 * hold state and are kept, which are recreated, and the exact `pulumi` commands. Pure: it derives URNs from the
 * config with the same naming functions the components use (test/agents/recovery.test.ts holds them together).
 */

/** The Pulumi project name (Pulumi.yaml). */
export const PROJECT = "ci-platform";

/**
 * What a rebuild does to a resource:
 * - `retain`: holds state (bucket, KMS key); protected and retained on delete, never replaced; recreated (empty) only
 *   if it is gone, after which `restore` objects refill it from config;
 * - `replace`: recreated from scratch (agent token, its parameter, IAM policy, CloudFormation stack);
 * - `restore`: rewritten from the config if missing or drifted, never replaced (replacing an S3 object in place
 *   would create the new copy and then delete the same key).
 */
export type RecoveryAction = "retain" | "replace" | "restore";

/** One resource in a recovery plan. */
export interface RecoveryResource {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    readonly action: RecoveryAction;
}

/** Everything the runbook needs to rebuild one fleet or one region. */
export interface RecoveryPlan {
    /** The fleets rebuilt. */
    readonly fleets: readonly string[];
    /** The regions whose AWS resources are concerned (empty for a static fleet). */
    readonly regions: readonly string[];
    /** Every resource of the scope, sorted by URN. */
    readonly resources: readonly RecoveryResource[];
    /** URNs of resources kept through a rebuild (stateful). */
    readonly retained: readonly string[];
    /** URNs of resources recreated by a rebuild. */
    readonly recreated: readonly string[];
    /** The commands, in the order they run. */
    readonly commands: {
        /** Brings the state in line with what survived (run first). */
        readonly refresh: string;
        /** Recreates what is recreated and restores what is missing, touching nothing outside the scope. */
        readonly rebuild: string;
        /**
         * Lifts protection from the stateful resources, needed only before removing the scope from the config
         * (evacuating a region): they are then dropped from the stack but stay in the account.
         */
        readonly unprotect: readonly string[];
    };
}

/** Options of the recovery functions. */
export interface RecoveryOptions {
    /** The stack, e.g. `prod`. */
    readonly stack: string;
    /** Prefix of the AWS provider names. Defaults to "ci-platform" (as in declareFleets). */
    readonly providerPrefix?: string;
    /** Paths of the files in the hooks bundle, to list their objects too. Defaults to none. */
    readonly hookPaths?: readonly string[];
    /**
     * The images pushed to every fleet region (`ci-platform:images`), to list a region's repositories (retained) and
     * pushes and docker provider (restored) too. Defaults to none.
     */
    readonly images?: readonly { readonly name: string; readonly variants: readonly string[] }[];
}

/** Types of the images module's resources in a region (components/images/agent-image.ts, registries.ts). */
const IMAGE_TYPES = {
    image: "ci-platform:images:Image",
    repository: "aws:ecr/repository:Repository",
    lifecycle: "aws:ecr/lifecyclePolicy:LifecyclePolicy",
    pull: "aws:ecr/repositoryPolicy:RepositoryPolicy",
    push: "docker:index/image:Image",
    dockerProvider: "pulumi:providers:docker",
} as const;

/** A region's image resources: each image's repository (stateful), policies and pushes, and the docker provider. */
function imageScope(options: RecoveryOptions, region: string): RecoveryResource[] {
    const images = options.images ?? [];
    if (images.length === 0) return [];
    const child = (type: string, name: string, action: RecoveryAction): RecoveryResource => ({
        urn: urnOf(options.stack, PROJECT, [IMAGE_TYPES.image, type], name),
        type,
        name,
        action,
    });
    const provider = dockerProviderName(region);
    return [
        {
            urn: urnOf(options.stack, PROJECT, [IMAGE_TYPES.dockerProvider], provider),
            type: IMAGE_TYPES.dockerProvider,
            name: provider,
            action: "restore",
        },
        ...images.flatMap((image) => {
            const names = imageChildNames(image.name, region, image.variants);
            return [
                child(IMAGE_TYPES.repository, names.repository, "retain"),
                child(IMAGE_TYPES.lifecycle, names.lifecycle, "restore"),
                child(IMAGE_TYPES.pull, names.pull, "restore"),
                ...Object.values(names.pushes).map((n) => child(IMAGE_TYPES.push, n, "restore")),
            ];
        }),
    ];
}

function childResources(
    stack: string,
    parentType: string,
    parentName: string,
    children: readonly ChildSpec[],
    replace: boolean,
): RecoveryResource[] {
    return children.map((c) => ({
        urn: urnOf(stack, PROJECT, [parentType, c.type], childName(parentName, c.role)),
        type: c.type,
        name: childName(parentName, c.role),
        action: c.stateful ? "retain" : replace && c.type !== TYPES.bucketObject ? "replace" : "restore",
    }));
}

function fleetScope(config: PlatformConfig, stack: string, fleetName: string): RecoveryResource[] {
    const fleet = config.fleets.find((f) => f.name === fleetName);
    if (!fleet)
        throw new Error(
            `no fleet "${fleetName}" in ci-platform:fleets; ${didYouMean(
                fleetName,
                config.fleets.map((f) => f.name),
            )}fleets: ${config.fleets.map((f) => f.name).join(", ")}`,
        );
    return [
        {
            urn: urnOf(stack, PROJECT, [TYPES.fleet], fleet.name),
            type: TYPES.fleet,
            name: fleet.name,
            action: "restore",
        },
        ...childResources(
            stack,
            TYPES.fleet,
            fleet.name,
            fleet.kind === "aws" ? awsFleetChildren(fleet.os, fleet.managedPolicyArns) : STATIC_FLEET_CHILDREN,
            true,
        ),
    ];
}

function regionScope(config: PlatformConfig, options: RecoveryOptions, region: string): RecoveryResource[] {
    const stack = options.stack;
    const object = (objectName: string): RecoveryResource => ({
        urn: urnOf(stack, PROJECT, [TYPES.secretsBucket, TYPES.bucketObject], objectName),
        type: TYPES.bucketObject,
        name: objectName,
        action: "restore",
    });
    const provider = awsProviderName(options.providerPrefix ?? "ci-platform", region);
    return [
        {
            urn: urnOf(stack, PROJECT, [TYPES.awsProvider], provider),
            type: TYPES.awsProvider,
            name: provider,
            action: "restore",
        },
        // Every cluster's secrets bucket of the region (one per cluster with AWS fleets there).
        ...secretsBucketScopes(config)
            .filter((scope) => scope.region === region)
            .flatMap((scope) => {
                const name = secretsBucketName(scope.region, scope.cluster);
                return [
                    {
                        urn: urnOf(stack, PROJECT, [TYPES.secretsBucket], name),
                        type: TYPES.secretsBucket,
                        name,
                        action: "restore" as const,
                    },
                    ...childResources(stack, TYPES.secretsBucket, name, SECRETS_BUCKET_CHILDREN, false),
                    ...secretObjects(secretsForBucket(config, scope)).map((o) => object(secretObjectName(name, o.key))),
                    ...(options.hookPaths ?? []).map((p) => object(hookObjectName(name, p))),
                ];
            }),
    ];
}

function plan(
    resources: RecoveryResource[],
    fleets: string[],
    regions: string[],
    options: RecoveryOptions,
): RecoveryPlan {
    const all = [...resources].sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
    const retained = all.filter((r) => r.action === "retain").map((r) => r.urn);
    const recreated = all.filter((r) => r.action === "replace").map((r) => r.urn);
    const stackArg = `--stack ${shellArg(options.stack)}`;
    const targets = all.map((r) => `--target ${shellArg(r.urn)}`).join(" ");
    const replaces = recreated.map((u) => `--replace ${shellArg(u)}`).join(" ");
    return {
        fleets,
        regions,
        resources: all,
        retained,
        recreated,
        commands: {
            refresh: `pulumi refresh ${stackArg} ${targets}`,
            rebuild: `pulumi up ${stackArg} ${targets}${replaces ? ` ${replaces}` : ""}`,
            unprotect: retained.map((u) => `pulumi state unprotect ${stackArg} --yes ${shellArg(u)}`),
        },
    };
}

/** The recovery plan of one fleet: its own resources only (the region's bucket and key stay as they are). */
export function fleetResources(config: PlatformConfig, fleetName: string, options: RecoveryOptions): RecoveryPlan {
    const fleet = config.fleets.find((f) => f.name === fleetName);
    const resources = fleetScope(config, options.stack, fleetName);
    return plan(resources, [fleetName], fleet?.kind === "aws" ? [fleet.region] : [], options);
}

/**
 * The recovery plan of a region: every AWS fleet there, the region's provider, its secrets bucket with its key and
 * every object (secrets from config, and the hooks when `hookPaths` is given).
 */
export function regionResources(config: PlatformConfig, region: string, options: RecoveryOptions): RecoveryPlan {
    const fleets = config.fleets.filter((f) => f.kind === "aws" && f.region === region).map((f) => f.name);
    if (fleets.length === 0) {
        const regions = [...new Set(config.fleets.flatMap((f) => (f.kind === "aws" ? [f.region] : [])))].sort();
        throw new Error(
            `no AWS fleet runs in region "${region}"; ${didYouMean(region, regions)}regions with fleets: ${regions.join(", ") || "none"}`,
        );
    }
    // A queue that only this region's fleets serve goes with them (each queue has one AWS fleet: cross-checks.ts).
    const servedElsewhere = new Set(
        config.fleets.filter((f) => f.kind !== "aws" || f.region !== region).map((f) => `${f.cluster}/${f.queue}`),
    );
    const queues = [
        ...new Set(
            config.fleets
                .filter((f) => f.kind === "aws" && f.region === region)
                .map((f) => `${f.cluster}/${f.queue}`)
                .filter((q) => !servedElsewhere.has(q)),
        ),
    ].map((q): RecoveryResource => {
        const [cluster, queue] = q.split("/");
        const name = clusterQueueName(cluster, queue);
        return {
            urn: urnOf(options.stack, PROJECT, [TYPES.clusterQueue], name),
            type: TYPES.clusterQueue,
            name,
            action: "restore",
        };
    });
    const resources = [
        ...fleets.flatMap((f) => fleetScope(config, options.stack, f)),
        ...regionScope(config, options, region),
        ...imageScope(options, region),
        ...queues,
    ];
    return plan(resources, fleets.sort(), [region], options);
}

/*
 * Evacuating a lost region (used by scripts/dr.ts). Moving a fleet to another region keeps its URNs but changes their
 * explicit provider, which the engine plans as a replacement; with the old region unreachable every delete there
 * fails, and the stack and token parameter (deleteBeforeReplace, see agent-fleet.ts) would never be recreated. So
 * the runbook first drops the lost region's resources from the state (they stay in the account), then edits the
 * config: `pulumi up` then only creates.
 */

/** Whether a resource lives in a region's AWS account or registry (as opposed to Buildkite, or a component). */
function regionBound(type: string): boolean {
    return type.startsWith("aws:") || type.startsWith("docker:");
}

/**
 * The order in which `pulumi state delete` accepts the lost region's resources: dependents first, since the CLI
 * refuses to delete a resource that others depend on or are parented to (pulumi docs, "pulumi state delete"). The
 * CloudFormation stacks depend on the token parameter, IAM policy and bootstrap object (agent-fleet.ts); pushes,
 * policies and objects depend on their repository, bucket or key, which are retained and not deleted here.
 */
function deleteRank(type: string): number {
    if (type === TYPES.cloudFormationStack) return 0;
    if (type === IMAGE_TYPES.push) return 1;
    if (type === TYPES.kmsAlias) return 1;
    return 2;
}

/**
 * The `pulumi state delete` commands of every non-retained AWS or docker resource of a region plan, in an order
 * the CLI accepts. Buildkite resources (tokens, queues), components and the providers stay: the fleets keep their
 * tokens and queues, and the engine drops the unused providers itself. Retained resources are not deleted here:
 * once unprotected, `pulumi up` drops them from the stack and leaves them in the account (retainOnDelete).
 */
export function evacuationStateDeletes(plan: RecoveryPlan, stack: string): string[] {
    return plan.resources
        .filter((r) => r.action !== "retain" && regionBound(r.type))
        .map((r, i) => ({ r, i }))
        .sort((a, b) => deleteRank(a.r.type) - deleteRank(b.r.type) || a.i - b.i)
        .map(({ r }) => `pulumi state delete --stack ${shellArg(stack)} --yes ${shellArg(r.urn)}`);
}

/** The image pushes of a plan (docker.Image), which `pulumi up` cannot see missing (docker.Image neither reads nor deletes: scripts/dr.ts lists them apart). */
export function imagePushes(plan: RecoveryPlan): RecoveryResource[] {
    return plan.resources.filter((r) => r.type === IMAGE_TYPES.push);
}
