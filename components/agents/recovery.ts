import type { FleetConfig, PlatformConfig } from "../config/schema";
import { fleetSigning, uploadQueues } from "../signing/fleets";
import { generateSteps } from "../steps";
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

/** Which signing key sets an AWS fleet holds: as declareFleets decides it by default (the queues of the stored uploads). */
function fleetSigningChildren(config: PlatformConfig, fleet: FleetConfig): { verifies: boolean; signs: boolean } {
    const signing = config.clusters.find((c) => c.name === fleet.cluster)?.signing;
    if (signing?.mode !== "jwks") return { verifies: false, signs: false };
    // Image references do not decide which queues upload: any resolver gives the same stored steps' queues.
    const queues = uploadQueues(config, generateSteps(config, () => "").bySlug);
    return { verifies: true, signs: fleetSigning(signing, fleet, queues).signs };
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
            fleet.kind === "aws"
                ? awsFleetChildren(fleet.os, fleet.managedPolicyArns, fleetSigningChildren(config, fleet))
                : STATIC_FLEET_CHILDREN,
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
 * Evacuating a lost region (used by scripts/dr.ts `--lost`): its API is down, so no step may call it. Moving a fleet to
 * another region under the same name would keep its URNs and change their provider, which the engine plans as a
 * replacement that starts, for the stack and token parameter (deleteBeforeReplace, see agent-fleet.ts), with a delete
 * in the lost region: it fails. So the runbook declares NEW fleets (new names) in a healthy region, and first drops
 * every resource of the lost region from the state, and nothing else (the resources stay in the account). Then
 * `pulumi up` finds nothing of the lost region in the state: it creates the new fleets and deletes only what lives in
 * Buildkite (the old fleets' tokens and their queues if unused) or nowhere (components).
 *
 * Healthy resources depend on lost ones (a pipeline on the image pushes its steps pull, in every region that runs it;
 * the read role's policy on every token key). `pulumi state delete` refuses a resource others depend on unless
 * --target-dependents, which deletes the dependents too (pulumi/pulumi v3.259.0 pkg/resource/edit/operations.go
 * DeleteResource, OnlyDependsOn): a protected pipeline would leave the state and the next `pulumi up` would create a
 * duplicate. The CLI has no command that drops one edge, so the evacuation edits the exported state instead:
 * `pulumi stack export`, the jq filter below (removes the lost resources and every reference to them), then
 * `pulumi stack import`, which checks the result as a whole (pkg/cmd/pulumi/stack/io.go SaveSnapshot: VerifyIntegrity)
 * and calls no provider.
 *
 * The lost set is derived in the filter from the state itself (what the state holds is what matters): every resource
 * whose provider is one of the region's providers, and those providers. The providers come from the offline plan: the
 * region's AWS provider, and the docker provider whose pushes all go to the region's repositories.
 */

/** A resource of the offline plan (scripts/plan/model.ts PlanResource), as the evacuation reads it. */
export interface EvacuationResource {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    readonly parent: string | null;
    readonly provider: string | null;
    readonly protect: boolean;
    readonly dependsOn: readonly string[];
    readonly inputs: Readonly<Record<string, unknown>>;
}

/** What evacuating a lost region does to the state. */
export interface Evacuation {
    readonly region: string;
    /** The region's provider resources (AWS, and docker for its registry). */
    readonly providers: readonly string[];
    /** Every resource managed through those providers: in the lost region's account (IAM ones are global). */
    readonly lost: readonly string[];
    /**
     * Resources outside the region that refer to a lost one: they stay in the state, the filter drops only those
     * references (the read role's token-key policy, the pipelines that pull the region's image pushes).
     */
    readonly referrers: readonly string[];
    /** The protected lost ones: the filter refuses them until `pulumi state unprotect` (a deliberate act each). */
    readonly unprotect: readonly string[];
    /** The fleets (Fleet components) whose resources are lost. */
    readonly fleets: readonly string[];
}

const FLEET_TYPE = TYPES.fleet;

/**
 * The jq program that takes the lost region's resources out of an exported deployment (`pulumi stack export`,
 * apitype.UntypedDeployment version 3: `{version, deployment: {manifest, resources, pending_operations}}`), given
 * `$providers`, the URNs of the region's providers. It removes every resource whose provider is one of them, and the
 * providers; from every other resource it removes the references to those: `dependencies`, `propertyDependencies`,
 * `deletedWith`, `replaceWith` (pulumi/pulumi v3.259.0 pkg/resource/state.go GetAllDependencies lists them, with
 * `parent` and `provider`; deploy/snapshot.go VerifyIntegrity rejects a reference to a missing resource). It stops
 * (jq exits 5, no output) rather than drop anything else: a lost resource still protected, a healthy one parented to
 * a lost one, a pending operation on a healthy one (`pulumi stack import` would clear it: io.go SaveSnapshot).
 * Order and every other field are kept. Written for jq 1.6 (Debian's). Single quotes never appear in it.
 */
export const EVACUATION_JQ = [
    'def purl: if . then split("::") | .[:-1] | join("::") else null end;',
    "($providers | map({key: ., value: true}) | from_entries) as $p",
    "| .deployment.resources as $all",
    '| ([$all[] | select($p[.urn] or $p[.provider | purl // ""]) | .urn] | map({key: ., value: true}) | from_entries) as $gone',
    "| ([$all[] | select($gone[.urn] and .protect == true) | .urn]) as $prot",
    '| if ($prot | length) > 0 then error("still protected, run pulumi state unprotect first: \\($prot | join(", "))") else . end',
    '| ([$all[] | select(($gone[.urn] | not) and $gone[.parent // ""]) | .urn]) as $orph',
    '| if ($orph | length) > 0 then error("healthy children of lost resources, resolve by hand: \\($orph | join(", "))") else . end',
    '| ([(.deployment.pending_operations // [])[] | select(($gone[.resource.urn] or $p[.resource.provider | purl // ""]) | not) | .resource.urn]) as $pend',
    '| if ($pend | length) > 0 then error("pending operations on healthy resources, resolve them first: \\($pend | join(", "))") else . end',
    "| def keep: map(select($gone[.] | not));",
    "def clean: if .dependencies then .dependencies |= keep else . end",
    "| if .propertyDependencies then .propertyDependencies |= map_values(keep) else . end",
    '| if $gone[.deletedWith // ""] then del(.deletedWith) else . end',
    "| if .replaceWith then .replaceWith |= keep else . end;",
    ".deployment.resources |= [.[] | select($gone[.urn] | not) | clean]",
    "| if .deployment.pending_operations then .deployment.pending_operations |= [] else . end",
].join(" ");

/** The shell command that runs {@link EVACUATION_JQ} on `input` into `output`. */
export function evacuationFilterCommand(providers: readonly string[], input: string, output: string): string {
    return `jq --argjson providers ${shellArg(JSON.stringify(providers))} ${shellArg(EVACUATION_JQ)} ${shellArg(input)} > ${shellArg(output)}`;
}

/** The evacuation of `region` from the offline plan of the current config (the one that still declares it). Pure. */
export function evacuation(resources: readonly EvacuationResource[], region: string): Evacuation {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const awsProviders = new Set(
        resources.filter((r) => r.type === TYPES.awsProvider && r.inputs.region === region).map((r) => r.urn),
    );
    const inAws = new Set(resources.filter((r) => r.provider && awsProviders.has(r.provider)).map((r) => r.urn));
    // A registry's docker provider: every push it makes goes to a repository of the region.
    const users = new Map<string, EvacuationResource[]>();
    for (const r of resources) if (r.provider) users.set(r.provider, [...(users.get(r.provider) ?? []), r]);
    const dockerProviders = resources
        .filter((r) => r.type === IMAGE_TYPES.dockerProvider)
        .filter((p) => {
            const pushes = users.get(p.urn) ?? [];
            return pushes.length > 0 && pushes.every((u) => u.dependsOn.some((d) => inAws.has(d)));
        })
        .map((p) => p.urn);
    const providers = [...awsProviders, ...dockerProviders].sort();
    const providerSet = new Set(providers);
    const lost = resources.filter((r) => r.provider && providerSet.has(r.provider)).map((r) => r.urn);
    const gone = new Set([...lost, ...providers]);
    const referrers = resources
        .filter((r) => !gone.has(r.urn) && r.dependsOn.some((d) => gone.has(d)))
        .map((r) => r.urn)
        .sort();
    const orphans = resources.filter((r) => !gone.has(r.urn) && r.parent !== null && gone.has(r.parent));
    if (orphans.length > 0)
        throw new Error(
            `resources outside ${region} are children of its resources: ${orphans.map((r) => r.urn).join(", ")}`,
        );
    const fleets = [
        ...new Set(
            lost.flatMap((u) => {
                const parent = byUrn.get(u)?.parent;
                const component = parent ? byUrn.get(parent) : undefined;
                return component?.type === FLEET_TYPE ? [component.name] : [];
            }),
        ),
    ].sort();
    const all = [...gone].sort();
    return {
        region,
        providers,
        lost: [...lost].sort(),
        referrers,
        unprotect: all.filter((u) => byUrn.get(u)?.protect === true),
        fleets,
    };
}

/**
 * A fleet's name in another region: the region in its name replaced (`linux-eu-west-1` to `linux-eu-central-1`), or
 * the region appended. A new name, so that nothing of the new fleet shares a name with what the lost one left in the
 * account (its stack `buildkite-<fleet>`, its token parameter, and, global, its roles: the token key policy admits
 * the scaler role by the pattern `buildkite-<fleet>-Autoscal…`, naming.ts scalerRolePattern), and so that the old
 * fleet's agent token is deleted with it: if the region comes back, its instances cannot take jobs.
 */
export function evacuatedFleetName(fleet: string, from: string, to: string): string {
    return fleet.includes(from) ? fleet.split(from).join(to) : `${fleet}-${to}`;
}

/** The image pushes of a plan (docker.Image), which `pulumi up` cannot see missing (docker.Image neither reads nor deletes: scripts/dr.ts lists them apart). */
export function imagePushes(plan: RecoveryPlan): RecoveryResource[] {
    return plan.resources.filter((r) => r.type === IMAGE_TYPES.push);
}
