import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as buildkite from "@pulumiverse/buildkite";
import { pipelinesServed } from "../config/access-checks";
import type { FleetConfig, PlatformConfig, SecretsConfig } from "../config/schema";
import { fleetRegions } from "../config/regions";
import { fleetAllowlist } from "../hooks/allowlist";
import { repositoryName } from "../images/image-ref";
import type { SecretsScope } from "./iam-policy";
import { AgentFleet, RenderBootstrap } from "./agent-fleet";
import { fleetSigning, staticAgentConfigLines, uploadQueues } from "../signing/fleets";
import { FROM_STACK_TOP_LEVEL } from "../buildkite/renames";
import { ClusterSigningKey } from "../signing/kms-key";
import { kmsKeyPlans } from "../signing/kms-keys";
import { generateSteps } from "../steps";
import { templateUrl } from "./elastic-stack-template";
import { clusterQueueName, fleetPhysicalName, installsHooks, HOME_SECRETS_CLUSTER, secretsBucketName } from "./naming";
import { secretsBucketScopes, secretsForBucket } from "./secret-objects";
import { BucketReader, HooksBundleFiles, KeyPrincipals, SecretsBucket } from "./secrets-bucket";

export {
    AgentFleet,
    AgentFleetArgs,
    AwsFleetStack,
    BootstrapRequest,
    FleetRegionWiring,
    RenderBootstrap,
} from "./agent-fleet";
export { SecretsBucket, SecretsBucketArgs, HooksBundleFiles, KeyPrincipals } from "./secrets-bucket";
export { templateUrl, PINNED_ELASTIC_STACK_VERSION } from "./elastic-stack-template";
export { checkParameters, toStackParameters } from "./stack-parameters";
export { fleetPolicyDocument, instanceTrustPolicy, SecretsScope } from "./iam-policy";
export { secretsKeyPolicy, tokenKeyPolicy } from "./key-policy";
export { secretObjects, secretsBucketScopes, secretsForBucket, SecretsBucketScope } from "./secret-objects";

/** Days after which a replaced secrets object version expires, unless the config says otherwise. */
export const DEFAULT_SECRETS_VERSION_EXPIRATION_DAYS = 90;

/** Inputs of {@link declareFleets}. */
export interface DeclareFleetsArgs {
    /** The validated platform config; its `secrets` holds names only (config `loadStackConfig`). */
    readonly config: PlatformConfig;
    /** The values of `ci-platform:secrets`, a Pulumi secret since they were read (config `loadStackSecrets`). */
    readonly secretValues: pulumi.Output<SecretsConfig>;
    /** Buildkite cluster name to the cluster's GraphQL id (from the buildkite module). */
    readonly clusterIds: Readonly<Record<string, pulumi.Input<string>>>;
    /** The agent hooks: uploaded to every secrets bucket under a content-addressed prefix. */
    readonly hooksBundle: HooksBundleFiles;
    /** Renders each AWS fleet's bootstrap script. */
    readonly renderBootstrap: RenderBootstrap;
    /**
     * The AWS provider of each region with an AWS fleet, from the provider registry (components/providers.ts
     * `Providers`; tests may pass their own, e.g. `declareAwsProviders`).
     */
    readonly providers: Readonly<Record<string, aws.Provider>>;
    /** The AWS account id. Defaults to asking `aws:index/getCallerIdentity` once, through the home region's provider. */
    readonly accountId?: pulumi.Input<string>;
    /**
     * The Buildkite provider of `ci-platform:organization`, for the cluster queues and the fleets' agent tokens.
     * Required by the real stack (its default providers are disabled); tests of the AWS side may leave it out.
     */
    readonly buildkiteProvider?: buildkite.Provider;
    /**
     * The component the cluster queues are children of: the Buildkite organization's (`BuildkiteOrganization`), whose
     * clusters they belong to. Required by the real stack (every resource has a parent component); tests may leave it
     * out.
     */
    readonly queueParent?: pulumi.Resource;
    /**
     * `cluster/queue` of the queues that run stored steps that upload (components/signing `uploadQueues`): their
     * fleets get the signing key of a cluster that signs. Defaults to those of the config's generated steps.
     */
    readonly signingUploadQueues?: readonly string[];
}

/** Stack outputs of an AWS fleet. */
export interface AwsFleetOutputs {
    readonly kind: "aws";
    readonly stackName: pulumi.Output<string>;
    readonly region: string;
    readonly queue: string;
    readonly secretsBucket: pulumi.Output<string>;
    readonly tokenParameter: string;
}

/** Where a static fleet fetches the hooks bundle from. */
export interface HooksBundleLocation {
    readonly bucket: pulumi.Output<string>;
    readonly region: string;
    readonly prefix: string;
}

/** Stack outputs of a static (on-premises) fleet; `token` is secret. */
export interface StaticFleetOutputs {
    readonly kind: "static";
    readonly queue: string;
    readonly token: pulumi.Output<string>;
    /**
     * In a bucket of the fleet's own cluster (the home region's first), else in the home cluster's bucket of the home
     * region, else the first bucket; absent when no AWS fleet exists.
     */
    readonly hooksBundle?: HooksBundleLocation;
    /**
     * When its cluster signs: the public JWKS to write to the machines' verification file, and the lines their
     * buildkite-agent.cfg needs (`verification-jwks-file=...`, `verification-failure-behavior=block`, and the signing
     * lines for a fleet that runs uploads, whose machines hold the private set themselves).
     */
    readonly signing?:
        | { readonly verificationJwks: string; readonly agentConfig: readonly string[] }
        // mode kms: the key (its home-region ARN; a machine elsewhere uses its region's replica, same key id) and
        // the config lines; the machines' own AWS credentials need kms:GetPublicKey (and kms:Sign to upload).
        | { readonly kmsKeyArn: pulumi.Output<string>; readonly agentConfig: pulumi.Output<string[]> };
}

/** What {@link declareFleets} created. */
export interface DeclaredFleets {
    /** Stack outputs, by fleet name. */
    readonly fleets: Record<string, AwsFleetOutputs | StaticFleetOutputs>;
    /** Secrets buckets, by component name (`secrets-<region>`, `secrets-<cluster>-<region>`: {@link secretsBucketName}). */
    readonly buckets: Record<string, SecretsBucket>;
    /** The AWS provider of every region with an AWS fleet. */
    readonly providers: Record<string, aws.Provider>;
    /** Cluster queues, by `cluster/queue`. */
    readonly queues: Record<string, buildkite.cluster.ClusterQueue>;
    /** The fleet components, by fleet name. */
    readonly components: Record<string, AgentFleet>;
    /** The AWS fleets' instance role ARNs, by region: the principals of that region's ECR repository policies. */
    readonly roleArnsByRegion: Record<string, pulumi.Output<string>[]>;
    /** The signing key of each cluster whose signing is `mode: kms`, by cluster (components/signing/kms-key.ts). */
    readonly signingKeys: Record<string, ClusterSigningKey>;
}

/**
 * What an AWS fleet's role reads from its (region, cluster) secrets bucket: `<slug>/*` for every pipeline the fleet
 * serves (`pipelinesServed`, the platform's one definition of "can run"), and the organisation's root objects when
 * there are some and the fleet's cluster takes them (`clusters[].organizationSecrets`, as secretsForBucket decides
 * whether to copy them into the bucket).
 */
export function fleetSecretsScope(
    config: Pick<PlatformConfig, "clusters" | "fleets" | "pipelines" | "secrets">,
    fleet: Pick<FleetConfig, "cluster" | "queue">,
): SecretsScope {
    const cluster = config.clusters.find((c) => c.name === fleet.cluster);
    return {
        organization: config.secrets.organization !== undefined && cluster?.organizationSecrets !== false,
        pipelines: pipelinesServed(config, fleet).map((p) => p.slug),
    };
}

/**
 * Whether a fleet whose role reads `scope` ({@link fleetSecretsScope}) reads a secrets object of `pipeline`
 * (undefined: the organisation's root objects): the same grants its IAM policy gives (iam-policy.ts), so the
 * objects its stack waits for are exactly those its jobs can read.
 */
export function readsSecretObject(scope: SecretsScope, pipeline: string | undefined): boolean {
    return pipeline === undefined ? scope.organization : scope.pipelines.includes(pipeline);
}

const sorted = <T>(items: Iterable<T>): T[] => [...items].sort();

/**
 * Who besides the fleets may use the KMS keys: the `deploy` roles of `ci-platform:deployRoles` and the break-glass
 * `ci-platform:kmsAdministrators` write, the `read` roles read the agent tokens back; `preview` roles get nothing.
 */
export function keyPrincipals(config: Pick<PlatformConfig, "deployRoles" | "kmsAdministrators">): KeyPrincipals {
    const named = (access: string) => config.deployRoles.filter((r) => r.access === access).map((r) => r.name);
    return {
        deployRoleNames: named("deploy"),
        readRoleNames: named("read"),
        administratorArns: [...config.kmsAdministrators],
    };
}

/**
 * The aliases of a cluster queue: each earlier name (a renamed cluster's queue keeps its object: its key and cluster
 * id are unchanged) and, under a parent component (`queueParent`), its URN from before it had one, at the stack's
 * top level, under its name and each earlier one (issue 15: the move is no delete and create). An alias spec without
 * `parent` means the resource's current parent (@pulumi/pulumi 3.276.0 resource.d.ts Alias); `{ parent:
 * rootStackResource }` means none.
 */
export function queueAliases(earlierNames: readonly string[], parented: boolean): pulumi.Alias[] {
    const renamed = earlierNames.map((name): pulumi.Alias => ({ name }));
    if (!parented) return renamed;
    const top = (a: pulumi.Alias): pulumi.Alias => ({ ...a, ...FROM_STACK_TOP_LEVEL });
    return [...renamed, ...renamed.map(top), top({})];
}

/**
 * Declares every fleet of `ci-platform:fleets` with the AWS providers it is given: one {@link SecretsBucket}
 * (and KMS key) per (region, cluster) with AWS fleets, one cluster queue per (cluster, queue), one {@link AgentFleet}
 * per fleet, reading its own cluster's bucket of its region only. Names derive from fleet names, regions, clusters
 * and queue names only, so adding or removing one region's fleets touches that region's resources only.
 */
export function declareFleets(args: DeclareFleetsArgs): DeclaredFleets {
    const { config } = args;
    const regions = fleetRegions(config);

    // Every input error at once, before any resource is declared.
    const errors: pulumi.InputPropertyErrorDetails[] = [
        ...regions
            .filter((region) => args.providers[region] === undefined)
            .map((region) => ({
                propertyPath: `providers.${region}`,
                reason: `an AWS fleet runs in ${region}: pass that region's provider (components/providers.ts declares one per region)`,
            })),
        ...sorted(new Set(config.fleets.map((f) => f.cluster)))
            .filter((cluster) => args.clusterIds[cluster] === undefined)
            .map((cluster) => ({
                propertyPath: `clusterIds.${cluster}`,
                reason: `a fleet serves cluster ${cluster}: pass its GraphQL id (BuildkiteOrganization clusterIds); known: ${Object.keys(args.clusterIds).sort().join(", ") || "none"}`,
            })),
    ];
    if (errors.length > 0)
        throw new pulumi.InputPropertiesError({
            message: `declareFleets: ${errors.map((e) => e.propertyPath).join(", ")} missing`,
            errors,
        });
    const providers: Record<string, aws.Provider> = {};
    for (const region of regions) providers[region] = args.providers[region];
    const clusterId = (cluster: string): pulumi.Input<string> => args.clusterIds[cluster];

    const buildkiteProviders = args.buildkiteProvider ? [args.buildkiteProvider] : [];
    const queues: Record<string, buildkite.cluster.ClusterQueue> = {};
    for (const key of sorted(new Set(config.fleets.map((f) => `${f.cluster}/${f.queue}`)))) {
        const [cluster, queue] = key.split("/");
        queues[key] = new buildkite.cluster.ClusterQueue(
            clusterQueueName(cluster, queue),
            {
                clusterId: clusterId(cluster),
                key: queue,
                // Nothing here may depend on which fleets serve the queue: removing a region must not touch it.
                description: `Queue ${queue} of cluster ${cluster}, managed by ci-platform`,
            },
            {
                provider: args.buildkiteProvider,
                parent: args.queueParent,
                aliases: queueAliases(
                    (config.clusters.find((c) => c.name === cluster)?.renamedFrom ?? []).map((old) =>
                        clusterQueueName(old, queue),
                    ),
                    args.queueParent !== undefined,
                ),
            },
        );
    }

    const buckets: Record<string, SecretsBucket> = {};
    for (const scope of secretsBucketScopes(config)) {
        const name = secretsBucketName(scope.region, scope.cluster);
        buckets[name] = new SecretsBucket(
            name,
            {
                region: scope.region,
                cluster: scope.cluster,
                secrets: secretsForBucket(config, scope),
                secretValues: args.secretValues.apply((values) =>
                    secretsForBucket({ ...config, secrets: values }, scope),
                ),
                hooksBundle: args.hooksBundle,
                noncurrentVersionExpirationDays:
                    config.elasticStack.secretsVersionExpirationDays ?? DEFAULT_SECRETS_VERSION_EXPIRATION_DAYS,
            },
            {
                providers: [providers[scope.region]],
                // Named by its cluster: a renamed cluster's bucket keeps its objects. Its children are named
                // `<component>-<role>`, so the engine carries the alias over to each of them (pulumi/pulumi
                // pkg/resource/deploy/step_generator.go inheritedChildAlias); the bucket, key and alias names are
                // generated and stay in the state.
                aliases: (config.clusters.find((c) => c.name === scope.cluster)?.renamedFrom ?? []).map((old) => ({
                    name: secretsBucketName(scope.region, old),
                })),
            },
        );
    }

    const homeProvider = providers[config.homeRegion] ?? (regions.length > 0 ? providers[regions[0]] : undefined);
    const accountId =
        args.accountId ??
        (homeProvider ? aws.getCallerIdentityOutput({}, { provider: homeProvider }).accountId : undefined);
    const url = templateUrl(config.elasticStack.version);

    const fleets: Record<string, AwsFleetOutputs | StaticFleetOutputs> = {};
    const components: Record<string, AgentFleet> = {};
    // Where a static fleet fetches the hooks bundle (not secret): a bucket its own cluster's fleets read, else the
    // home bucket, so that no cluster's machines need another cluster's bucket when theirs exists.
    const bundleBucket = (cluster: string): SecretsBucket | undefined => {
        const own = [config.homeRegion, ...regions].map((r) => buckets[secretsBucketName(r, cluster)]);
        const home = buckets[secretsBucketName(config.homeRegion, HOME_SECRETS_CLUSTER)];
        return own.find((b) => b !== undefined) ?? home ?? Object.values(buckets)[0];
    };
    // Image references do not decide which queues upload: any resolver gives the same stored steps' queues.
    const uploadingQueues = args.signingUploadQueues ?? uploadQueues(config, generateSteps(config, () => "").bySlug);
    const signingOf = (fleet: FleetConfig) =>
        fleetSigning(config.clusters.find((c) => c.name === fleet.cluster)?.signing, fleet, uploadingQueues);
    // A kms cluster's key, before its fleets: each fleet's stack names the key in its region (kms-key.ts).
    const signingKeys: Record<string, ClusterSigningKey> = {};
    for (const plan of kmsKeyPlans(config))
        signingKeys[plan.cluster] = new ClusterSigningKey(`signing-${plan.cluster}`, { plan, providers });
    const signingUsers: Record<string, { signers: pulumi.Output<string>[]; verifiers: pulumi.Output<string>[] }> = {};
    const readers: Record<string, BucketReader[]> = {};
    const roleArnsByRegion: Record<string, pulumi.Output<string>[]> = {};
    for (const fleet of config.fleets) {
        const queue = queues[`${fleet.cluster}/${fleet.queue}`];
        if (fleet.kind === "aws") {
            const bucket = buckets[secretsBucketName(fleet.region, fleet.cluster)];
            const scope = fleetSecretsScope(config, fleet);
            // What its instances read at boot (the hooks bundle, Linux only: a Windows fleet installs no hooks) and
            // what its jobs read (the secrets of the pipelines it serves): the stack waits for them (AgentFleet).
            const bootObjects = [
                ...(installsHooks(fleet.os) ? bucket.hookObjects : []),
                ...bucket.secretObjects.filter((o) => readsSecretObject(scope, o.pipeline)).map((o) => o.object),
            ];
            const component = new AgentFleet(
                fleet.name,
                {
                    fleet,
                    clusterId: clusterId(fleet.cluster),
                    queue,
                    templateUrl: url,
                    region: {
                        secretsBucketName: bucket.bucketName,
                        secretsBucketArn: bucket.bucketArn,
                        secretsKeyArn: bucket.keyArn,
                        tokenKeyArn: bucket.tokenKeyArn,
                        tokenKeyId: bucket.tokenKeyId,
                        hooksHash: args.hooksBundle.hash,
                        hooksPrefix: bucket.hooksPrefix,
                    },
                    renderBootstrap: args.renderBootstrap,
                    accountId,
                    secrets: scope,
                    bootObjects,
                    ecrRepositories: config.images.map((i) => repositoryName(i.name)),
                    tags: config.tags,
                    allowlist: fleetAllowlist(config, fleet),
                    signing: signingOf(fleet),
                    signingJwks: args.secretValues.apply((values) => values.signing?.[fleet.cluster] ?? ""),
                    ...(signingKeys[fleet.cluster] !== undefined
                        ? { signingKmsKeyArn: signingKeys[fleet.cluster].arnIn(fleet.region) }
                        : {}),
                },
                // The token is the fleet's Buildkite child; everything else is in the fleet's region.
                { providers: [providers[fleet.region], ...buildkiteProviders] },
            );
            components[fleet.name] = component;
            const stack = component.aws;
            if (!stack) throw new pulumi.ResourceError(`fleet ${fleet.name} has no AWS stack`, component);
            fleets[fleet.name] = {
                kind: "aws",
                stackName: stack.stackName,
                region: fleet.region,
                queue: fleet.queue,
                secretsBucket: stack.secretsBucket,
                tokenParameter: stack.tokenParameter,
            };
            (readers[secretsBucketName(fleet.region, fleet.cluster)] ??= []).push({
                // The first name: the key policy's scaler pattern derives from the stack name (naming.ts).
                fleet: fleetPhysicalName(fleet),
                roleArn: stack.roleArn,
                tokenParameterArn: stack.tokenParameterArn,
                // elastic-ci-stack-for-aws v6.71.1 templates/aws-stack.yml: the scaler exists when MinSize != MaxSize.
                scaled: fleet.minSize !== fleet.maxSize,
            });
            (roleArnsByRegion[fleet.region] ??= []).push(stack.roleArn);
            if (signingKeys[fleet.cluster] !== undefined) {
                const users = (signingUsers[fleet.cluster] ??= { signers: [], verifiers: [] });
                users.verifiers.push(stack.roleArn);
                if (signingOf(fleet).signs) users.signers.push(stack.roleArn);
            }
        } else {
            const signing = signingOf(fleet);
            const component = new AgentFleet(
                fleet.name,
                { fleet, clusterId: clusterId(fleet.cluster), queue, signing },
                { providers: buildkiteProviders },
            );
            components[fleet.name] = component;
            const bucket = bundleBucket(fleet.cluster);
            fleets[fleet.name] = {
                kind: "static",
                queue: fleet.queue,
                token: component.token,
                hooksBundle: bucket && { bucket: bucket.bucketName, region: bucket.region, prefix: bucket.hooksPrefix },
                // Its machines' signed-pipelines setup (README, "Signed pipelines"): the public set to write to the
                // verification file, and the agent config lines; a fleet that signs holds the private set itself.
                ...(signing.mode === "kms" && signingKeys[fleet.cluster] !== undefined
                    ? {
                          signing: {
                              kmsKeyArn: signingKeys[fleet.cluster].homeArn,
                              agentConfig: signingKeys[fleet.cluster].homeArn.apply((arn) =>
                                  staticAgentConfigLines(signing, arn),
                              ),
                          },
                      }
                    : {}),
                ...(signing.mode === "jwks"
                    ? {
                          signing: {
                              verificationJwks: signing.verificationJwks ?? "",
                              agentConfig: staticAgentConfigLines(signing),
                          },
                      }
                    : {}),
            };
        }
    }
    // The keys' policies name the roles, which exist only now (each role's policy names the keys), and who else may
    // use the keys: the deploy roles and administrators write, the read roles read the tokens back (key-policy.ts).
    const principals = keyPrincipals(config);
    for (const [name, bucket] of Object.entries(buckets)) {
        if (accountId === undefined) throw new pulumi.RunError(`no AWS account id for the key policies of ${name}`);
        bucket.grantFleets(readers[name] ?? [], accountId, principals);
    }
    // A created signing key's policy names the cluster's fleet roles: the upload fleets sign, all read the public key.
    for (const [cluster, key] of Object.entries(signingKeys)) {
        if (accountId === undefined) throw new pulumi.RunError(`no AWS account id for the signing key of ${cluster}`);
        const account = accountId;
        const roleArn = (name: string) => pulumi.interpolate`arn:aws:iam::${account}:role/${name}`;
        key.grant(
            {
                accountId: account,
                signerRoleArns: signingUsers[cluster]?.signers ?? [],
                verifierRoleArns: signingUsers[cluster]?.verifiers ?? [],
                writers: [...principals.deployRoleNames.map(roleArn), ...principals.administratorArns],
            },
            providers,
        );
    }
    return { fleets, buckets, providers, queues, components, roleArnsByRegion, signingKeys };
}
