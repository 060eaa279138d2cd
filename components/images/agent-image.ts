import * as aws from "@pulumi/aws";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { buildContext, dockerfilePath, variantBuilds } from "./dockerfile";
import { registryHost, repositoryName } from "./image-ref";
import { DEFAULT_KEEP_VERSIONS, lifecyclePolicy, pullPolicy } from "./registry";

/** The inputs of one image: its repository in the home region and one build per variant. */
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
    /** The home region (`ci-platform:homeRegion`), where the repository lives. */
    readonly homeRegion: string;
    /** The AWS account id of the registry. */
    readonly accountId: pulumi.Input<string>;
    /** ARNs of the roles allowed to pull (the fleets' instance roles); the account root when empty. */
    readonly pullerRoleArns: pulumi.Input<string>[];
    /** Registry credentials for the push, from `aws.ecr.getAuthorizationToken`; the password is made secret here. */
    readonly registryCredentials: { readonly username: pulumi.Input<string>; readonly password: pulumi.Input<string> };
    /** How many versions the lifecycle policy keeps. Defaults to 10. */
    readonly keepVersions?: number;
    /** KMS key ARN for the repository; the account's `aws/ecr` key when omitted. */
    readonly kmsKeyArn?: pulumi.Input<string>;
    /** The platform to build for. Defaults to `linux/amd64`, what the fleets' instance types run. */
    readonly platform?: string;
    /** Tags for the repository. */
    readonly tags?: Readonly<Record<string, string>>;
}

/**
 * One agent image: its ECR repository in the home region (immutable tags, scan on push, KMS encryption,
 * protected and retained on delete), a lifecycle policy keeping the last N versions, a pull policy for the
 * fleets, and one `docker.Image` build and push per variant.
 *
 * A build reruns only when its inputs change: the image name (the tag holds the version) or the build arguments
 * (which hold the Dockerfile's digest). Tags are immutable, so a changed Dockerfile needs a new version
 * (`npm run images:bump -- NAME`): pushing an existing tag again fails.
 */
export class AgentImage extends pulumi.ComponentResource {
    /** The repository. */
    public readonly repository: aws.ecr.Repository;
    /** `123456789012.dkr.ecr.us-east-1.amazonaws.com/ci-platform/<name>`. */
    public readonly repositoryUrl: pulumi.Output<string>;
    /** The tags pushed, one per variant in declared order. */
    public readonly tags: string[];
    /** The builds, by variant. */
    public readonly builds: Record<string, docker.Image>;

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
        const keepVersions = args.keepVersions ?? DEFAULT_KEEP_VERSIONS;
        const repoName = repositoryName(args.image);

        this.repository = new aws.ecr.Repository(
            `${name}-repository`,
            {
                name: repoName,
                imageTagMutability: "IMMUTABLE",
                imageScanningConfiguration: { scanOnPush: true },
                encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: args.kmsKeyArn }],
                forceDelete: false,
                tags: { ...args.tags, "ci-platform:image": args.image },
            },
            { parent: this, protect: true, retainOnDelete: true },
        );

        new aws.ecr.LifecyclePolicy(
            `${name}-lifecycle`,
            {
                repository: this.repository.name,
                policy: JSON.stringify(lifecyclePolicy(keepVersions, args.variants.length)),
            },
            { parent: this },
        );

        new aws.ecr.RepositoryPolicy(
            `${name}-pull`,
            {
                repository: this.repository.name,
                policy: pulumi
                    .all([pulumi.output(args.pullerRoleArns), args.accountId])
                    .apply(([arns, account]) => JSON.stringify(pullPolicy(arns, account))),
            },
            { parent: this },
        );

        // Computed from the account and region rather than read from the repository, so the plan shows it.
        const host = pulumi.output(args.accountId).apply((account) => registryHost(account, args.homeRegion));
        this.repositoryUrl = pulumi.interpolate`${host}/${repoName}`;

        const builds = variantBuilds({
            image: args.image,
            variants: args.variants,
            version: args.version,
            dockerfile: args.dockerfile,
            sourceUrl: args.sourceUrl,
        });
        this.tags = builds.map((b) => b.tag);
        this.builds = {};
        for (const build of builds) {
            this.builds[build.variant] = new docker.Image(
                `${name}-${build.variant}`,
                {
                    imageName: pulumi.interpolate`${this.repositoryUrl}:${build.tag}`,
                    build: {
                        context: buildContext(args.image),
                        dockerfile: dockerfilePath(args.image),
                        platform: args.platform ?? "linux/amd64",
                        args: { ...build.buildArgs },
                    },
                    registry: {
                        server: host,
                        username: args.registryCredentials.username,
                        password: pulumi.secret(args.registryCredentials.password),
                    },
                    skipPush: false,
                    buildOnPreview: false,
                },
                { parent: this, dependsOn: [this.repository] },
            );
        }

        this.registerOutputs({ repository: this.repository, repositoryUrl: this.repositoryUrl, tags: this.tags });
    }
}
