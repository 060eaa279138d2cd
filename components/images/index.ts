import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { PlatformConfig } from "../config";
import { AgentImage } from "./agent-image";
import { ImageFiles } from "./check";
import { dockerfilePath } from "./dockerfile";
import { readImageFiles } from "./files";
import { DEFAULT_KEEP_VERSIONS, replicationRegions } from "./registry";
import { ImageReplication } from "./replication";
import { ImageVersions } from "./versions";

export { AgentImage, AgentImageArgs } from "./agent-image";
export { ImageFiles, checkImages } from "./check";
export { dockerfileDigest, dockerfilePath, variantBuildArgs } from "./dockerfile";
export { readImageFiles } from "./files";
export {
    REGISTRY_ENV_VAR,
    REPOSITORY_PREFIX,
    StepImage,
    registryEnvironment,
    imageReference,
    imageTag,
    registryHost,
    repositoryName,
    resolveStepImage,
    stepImageResolver,
} from "./image-ref";
export { lifecyclePolicy, pullPolicy, replicationRegions } from "./registry";
export { ImageReplication, ImageReplicationArgs } from "./replication";
export {
    ImageVersions,
    VERSIONS_FILE,
    bumpVersion,
    formatVersions,
    parseVersions,
    parseVersionsText,
} from "./versions";

/** What {@link declareImages} needs. */
export interface DeclareImagesArgs {
    /** The validated config (`checkImages` has passed too). */
    readonly config: PlatformConfig;
    /** The pins of `agent-images/versions.json`. */
    readonly versions: ImageVersions;
    /** Provider for the home region; the default provider when omitted (it must be in `homeRegion`). */
    readonly homeProvider?: aws.Provider;
    /** ARNs of the fleets' instance roles, allowed to pull. */
    readonly pullerRoleArns: pulumi.Input<string>[];
    /** The AWS account id (from `aws.getCallerIdentity`). */
    readonly accountId: pulumi.Input<string>;
    /** The repository root: the Dockerfiles are read from `rootDir/agent-images/<name>/Dockerfile`. */
    readonly rootDir: string;
    /** The files, when already read (tests); read from `rootDir` otherwise. */
    readonly files?: ImageFiles;
    /** URL of this repository, for the images' source label. Defaults to `https://github.com/<owner>/ci-platform`. */
    readonly sourceRepository?: string;
}

/** What {@link declareImages} gives back. */
export interface DeclaredImages {
    /** By image name: its home repository URL and its tags, one per variant. */
    readonly images: Record<string, { repositoryUrl: pulumi.Output<string>; tags: string[] }>;
    /** The regions images are replicated to (every AWS fleet region except home), sorted. */
    readonly replicationRegions: string[];
}

/**
 * Declares every image of `ci-platform:images` (an {@link AgentImage} each, named after the image) and the
 * registry's replication to the fleet regions. Gets the registry credentials with one invoke of
 * `aws:ecr/getAuthorizationToken:getAuthorizationToken` (reads `userName` and `password`).
 */
export function declareImages(args: DeclareImagesArgs): DeclaredImages {
    const { config } = args;
    const files = args.files ?? readImageFiles(args.rootDir);
    const providerOpts: pulumi.ComponentResourceOptions = args.homeProvider ? { providers: [args.homeProvider] } : {};
    const sourceRepository = args.sourceRepository ?? `https://github.com/${config.github.owner}/ci-platform`;

    const images: Record<string, { repositoryUrl: pulumi.Output<string>; tags: string[] }> = {};
    if (config.images.length > 0) {
        const token = aws.ecr.getAuthorizationTokenOutput(
            { registryId: args.accountId },
            args.homeProvider ? { provider: args.homeProvider } : undefined,
        );
        const registryCredentials = { username: token.userName, password: pulumi.secret(token.password) };
        for (const image of config.images) {
            const version = args.versions[image.name];
            const dockerfile = files.dockerfile(image.name);
            if (version === undefined || dockerfile === undefined)
                throw new Error(
                    `image "${image.name}" needs a pin in agent-images/versions.json and ${dockerfilePath(image.name)}; checkImages reports this before any resource`,
                );
            const component = new AgentImage(
                image.name,
                {
                    image: image.name,
                    variants: image.variants,
                    version,
                    dockerfile,
                    sourceUrl: `${sourceRepository}/tree/main/agent-images/${image.name}`,
                    homeRegion: config.homeRegion,
                    accountId: args.accountId,
                    pullerRoleArns: args.pullerRoleArns,
                    registryCredentials,
                    keepVersions: image.keepVersions,
                    tags: config.tags,
                },
                providerOpts,
            );
            images[image.name] = { repositoryUrl: component.repositoryUrl, tags: component.tags };
        }
    }

    const regions = replicationRegions(config);
    if (config.images.length > 0 && regions.length > 0)
        new ImageReplication(
            "images-replication",
            {
                regions,
                accountId: args.accountId,
                pullerRoleArns: args.pullerRoleArns,
                keepVersions: Math.max(...config.images.map((i) => i.keepVersions ?? DEFAULT_KEEP_VERSIONS)),
                variantCount: Math.max(...config.images.map((i) => i.variants.length)),
                tags: config.tags,
            },
            providerOpts,
        );
    return { images, replicationRegions: regions };
}
