import * as aws from "@pulumi/aws";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { buildContext, dockerfilePath, variantBuilds } from "./dockerfile";
import { registryHost, repositoryName } from "./image-ref";
import { DEFAULT_KEEP_VERSIONS, lifecyclePolicy, pullPolicy } from "./registry";

/**
 * How an image repository lives and dies: protected (removing a region or an image stops at it until `pulumi state
 * unprotect`) but not retained, and `forceDelete` set, so the deletion takes every pushed tag with it and a later
 * re-add starts from an empty repository whose pushes all succeed. The `ecr-repositories-whole` invariant holds it.
 */
export const ECR_REPOSITORY_STANCE = { protect: true, retainOnDelete: false } as const;

/** One region's registry, as an image pushes to it: the providers that reach it and the credentials of the push. */
export interface ImageRegistry {
    /** The region, e.g. `eu-west-1`. */
    readonly region: string;
    /** The region's AWS provider: the repository and its policies are created through it. */
    readonly awsProvider: aws.Provider;
    /** The region's docker provider: the pushes to this registry go through it. */
    readonly dockerProvider: docker.Provider;
    /** `<account>.dkr.ecr.<region>.amazonaws.com`. */
    readonly server: pulumi.Input<string>;
    /** From the region's `aws.ecr.getAuthorizationToken`. */
    readonly username: pulumi.Input<string>;
    /** From the region's `aws.ecr.getAuthorizationToken`; made secret here whatever the caller passes. */
    readonly password: pulumi.Input<string>;
}

/** The inputs of one image: a repository in every region that runs it, and one push per variant to each. */
export interface AgentImageArgs {
    /** The image name, one of `ci-platform:images`; the repository is `ci-platform/<name>`. */
    readonly image: string;
    /** The variants to build, one tag each (`<variant>-<version>`). */
    readonly variants: readonly string[];
    /** The pinned calendar version from `agent-images/versions.json`. */
    readonly version: string;
    /** The Dockerfile's text, read by the caller; its digest is a build argument, so a change to it rebuilds. */
    readonly dockerfile: string;
    /** URL of the image's source, for the `org.opencontainers.image.source` label. */
    readonly sourceUrl: string;
    /** The home region (`ci-platform:homeRegion`): its repository is {@link AgentImage.repositoryUrl}. */
    readonly homeRegion: string;
    /** The registry of every region the image is pushed to; it must include the home region. */
    readonly registries: readonly ImageRegistry[];
    /** The AWS account id of the registries. */
    readonly accountId: pulumi.Input<string>;
    /**
     * By region, the ARNs of the roles allowed to pull from that region's repository: the instance roles of the AWS
     * fleets there (each agent pulls from its own region's registry). A region with none gets the account root.
     */
    readonly pullerRoleArns: Readonly<Record<string, readonly pulumi.Input<string>[]>>;
    /** How many versions the lifecycle policy keeps. Defaults to 10. */
    readonly keepVersions?: number;
    /** KMS key ARN for the repositories; each region's `aws/ecr` key when omitted. */
    readonly kmsKeyArn?: pulumi.Input<string>;
    /** The platform to build for. Defaults to `linux/amd64`, what the fleets' instance types run. */
    readonly platform?: string;
    /** Tags for the repositories. */
    readonly tags?: Readonly<Record<string, string>>;
}

/**
 * The child names of one image in one region: `<image>-<region>-repository`, `-lifecycle`, `-pull`, and
 * `<image>-<region>-<variant>` per push. Stable keys only (image, region, variant), so adding a region adds
 * resources and renames none. Pure.
 */
export function imageChildNames(
    image: string,
    region: string,
    variants: readonly string[],
): { repository: string; lifecycle: string; pull: string; pushes: Record<string, string> } {
    const base = `${image}-${region}`;
    return {
        repository: `${base}-repository`,
        lifecycle: `${base}-lifecycle`,
        pull: `${base}-pull`,
        pushes: Object.fromEntries(variants.map((v) => [v, `${base}-${v}`])),
    };
}

/**
 * One agent image, in every region whose fleets run it: in each region an ECR repository (immutable tags, scan on
 * push, KMS encryption, protected, deleted with its images: {@link ECR_REPOSITORY_STANCE}), a lifecycle policy keeping the last N versions, a pull
 * policy for the fleets, and one `docker.Image` build and push per variant through that region's docker provider.
 *
 * Each region gets its own push, not an ECR replica: replication copies only images pushed after its rule exists
 * (AWS ECR User Guide, "Replication backfill": "by default, replication only applies to images pushed after the
 * replication configuration is applied"), so a region added later would get none of the pinned tags. A push
 * waits for its own repository, so the tag is there when `pulumi up` ends.
 *
 * A build reruns only when its inputs change: the image name (the tag holds the version), the platform, the build
 * arguments (which hold the Dockerfile's digest) or the provider's implicit context digest, which the
 * ignore-everything `.dockerignore` reduces to the Dockerfile's bytes (context.ts): a chmod or a stray file in
 * the directory rebuilds nothing. Tags are immutable, so a changed Dockerfile needs a new version
 * (`npm run images:bump -- NAME`): pushing an existing tag again fails.
 */
export class AgentImage extends pulumi.ComponentResource {
    /** The repositories, by region. */
    public readonly repositories: Record<string, aws.ecr.Repository>;
    /** `123456789012.dkr.ecr.<home region>.amazonaws.com/ci-platform/<name>`. */
    public readonly repositoryUrl: pulumi.Output<string>;
    /** The tags pushed, one per variant in declared order. */
    public readonly tags: string[];
    /** The regions pushed to, sorted. */
    public readonly regions: string[];
    /** The pushes, by region then variant. */
    public readonly builds: Record<string, Record<string, docker.Image>>;

    /**
     * @param name The _unique_ name of the resource.
     * @param args The arguments to use to populate this resource's properties.
     * @param opts A bag of options that control this resource's behavior.
     */
    constructor(name: string, args: AgentImageArgs, opts?: pulumi.ComponentResourceOptions) {
        // Only the stable identity goes on the component itself: the version shows on the builds, where it
        // matters, and the Dockerfile text and credentials stay out of the plan.
        super("ci-platform:images:Image", name, { image: args.image, variants: [...args.variants] }, opts);
        if (args.variants.length === 0) throw new pulumi.ResourceError(`image "${args.image}" has no variants`, this);
        const regions = args.registries.map((r) => r.region);
        if (new Set(regions).size !== regions.length)
            throw new pulumi.ResourceError(`image "${args.image}" has a region twice: ${regions.join(", ")}`, this);
        if (!regions.includes(args.homeRegion))
            throw new pulumi.ResourceError(
                `image "${args.image}" is not pushed to its home region ${args.homeRegion} (regions: ${regions.join(", ")})`,
                this,
            );
        const keepVersions = args.keepVersions ?? DEFAULT_KEEP_VERSIONS;
        const repoName = repositoryName(args.image);
        const builds = variantBuilds({
            image: args.image,
            variants: args.variants,
            version: args.version,
            dockerfile: args.dockerfile,
            sourceUrl: args.sourceUrl,
        });
        const policyFor = (region: string) =>
            pulumi
                .all([pulumi.all([...(args.pullerRoleArns[region] ?? [])]), args.accountId])
                .apply(([arns, account]) => JSON.stringify(pullPolicy(arns, account)));

        this.repositories = {};
        this.builds = {};
        this.regions = [...regions].sort();
        this.tags = builds.map((b) => b.tag);
        for (const registry of [...args.registries].sort((a, b) => (a.region < b.region ? -1 : 1))) {
            const { region } = registry;
            const names = imageChildNames(name, region, args.variants);
            // The home region's children had these names when the home region was the only one: the aliases keep
            // the protected repository and its pushed tags in place instead of replacing them.
            const home = region === args.homeRegion;
            const alias = (old: string): pulumi.Alias[] => (home ? [{ name: old }] : []);
            const inRegion = { parent: this, provider: registry.awsProvider };

            const repository = new aws.ecr.Repository(
                names.repository,
                {
                    name: repoName,
                    imageTagMutability: "IMMUTABLE",
                    imageScanningConfiguration: { scanOnPush: true },
                    encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: args.kmsKeyArn }],
                    // Deleted with its images, never left behind: a retained repository keeps its tags, and a region
                    // or image added back would push them again into it (or import it, then push them again), which
                    // IMMUTABLE tags refuse. Protected, so removing one is deliberate (`pulumi state unprotect`).
                    // terraform-provider-aws internal/service/ecr/repository.go: force_delete is not ForceNew (an
                    // in-place update) and Delete passes the stored value as DeleteRepository's Force.
                    forceDelete: true,
                    tags: { ...args.tags, "ci-platform:image": args.image },
                },
                { ...inRegion, ...ECR_REPOSITORY_STANCE, aliases: alias(`${name}-repository`) },
            );
            this.repositories[region] = repository;

            new aws.ecr.LifecyclePolicy(
                names.lifecycle,
                {
                    repository: repository.name,
                    policy: JSON.stringify(lifecyclePolicy(keepVersions, args.variants.length)),
                },
                { ...inRegion, aliases: alias(`${name}-lifecycle`) },
            );

            new aws.ecr.RepositoryPolicy(
                names.pull,
                { repository: repository.name, policy: policyFor(region) },
                { ...inRegion, aliases: alias(`${name}-pull`) },
            );

            // Computed from the account and region rather than read from the repository, so the plan shows it.
            const url = pulumi.interpolate`${pulumi.output(args.accountId).apply((a) => registryHost(a, region))}/${repoName}`;
            this.builds[region] = {};
            for (const build of builds) {
                this.builds[region][build.variant] = new docker.Image(
                    names.pushes[build.variant],
                    {
                        imageName: pulumi.interpolate`${url}:${build.tag}`,
                        build: {
                            context: buildContext(args.image),
                            dockerfile: dockerfilePath(args.image),
                            platform: args.platform ?? "linux/amd64",
                            args: { ...build.buildArgs },
                        },
                        // pulumi/pulumi-docker v5.1.0 provider/image.go (getRegistryAuth): a docker.Image pushes with
                        // its own `registry` credentials, else the host's docker config; the provider's registryAuth
                        // is not consulted for it. So the push carries the region's token too.
                        registry: {
                            server: registry.server,
                            username: registry.username,
                            password: pulumi.secret(registry.password),
                        },
                        skipPush: false,
                        buildOnPreview: false,
                    },
                    {
                        parent: this,
                        provider: registry.dockerProvider,
                        dependsOn: [repository],
                        aliases: alias(`${name}-${build.variant}`),
                    },
                );
            }
        }

        const homeHost = pulumi.output(args.accountId).apply((account) => registryHost(account, args.homeRegion));
        this.repositoryUrl = pulumi.interpolate`${homeHost}/${repoName}`;
        this.registerOutputs({
            image: args.image,
            variants: [...args.variants],
            repositoryUrl: this.repositoryUrl,
            tags: this.tags,
            regions: this.regions,
        });
    }
}
