import type * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { PlatformConfig } from "../config";
import { AgentImage, ImageRegistry } from "./agent-image";
import { ImageFiles } from "./check";
import { repositoryName } from "./image-ref";
import { ImageNeed } from "./step-images";
import { dockerfilePath } from "./dockerfile";
import { readImageFiles } from "./files";
import { imageRegions } from "./registry";
import { ImageVersions, imageSourceUrl, parseVersionRecordsText, pinnedEntry } from "./versions";

export { AgentImage, AgentImageArgs, ImageRegistry, imageChildNames } from "./agent-image";
export { DeclareImageRegistriesArgs, declareImageRegistries } from "./registries";
export { ImageFiles, checkImages } from "./check";
export { dockerfileDigest, dockerfilePath, imageContentDigest, variantBuildArgs } from "./dockerfile";
export { readImageFiles } from "./files";
export { ImageNeed, imagePath, imagePushesNeeded } from "./step-images";
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
export { imageRegions, lifecyclePolicy, pullPolicy } from "./registry";
export {
    ImageVersionEntry,
    ImageVersionRecord,
    ImageVersions,
    VERSIONS_FILE,
    imageSourceUrl,
    pinnedEntry,
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
    /**
     * The registry of every region in `imageRegions(config)` (from {@link declareImageRegistries}): its providers
     * and push credentials. Every image is pushed to each of them.
     */
    readonly registries: Readonly<Record<string, ImageRegistry>>;
    /** By region, the ARNs of the instance roles of the AWS fleets there: the only principals allowed to pull. */
    readonly pullerRoleArns: Readonly<Record<string, readonly pulumi.Input<string>[]>>;
    /** The AWS account id (from `aws.getCallerIdentity`). */
    readonly accountId: pulumi.Input<string>;
    /** The repository root: the Dockerfiles are read from `rootDir/agent-images/<name>/Dockerfile`. */
    readonly rootDir: string;
    /** The files, when already read (tests); read from `rootDir` otherwise. */
    readonly files?: ImageFiles;
    /**
     * URL of this repository, for the source label of an image whose pinned version records no source URL (the
     * older versions.json form). Defaults to `https://github.com/<owner>/ci-platform`.
     */
    readonly sourceRepository?: string;
}

/** One declared image, as the stack outputs show it. */
export interface DeclaredImage {
    /** The home region's repository URL. */
    readonly repositoryUrl: pulumi.Output<string>;
    /** The tags pushed, one per variant. */
    readonly tags: string[];
    /** The regions every tag is pushed to, sorted. */
    readonly regions: string[];
}

/** What {@link declareImages} gives back. */
export interface DeclaredImages {
    /** By image name. */
    readonly images: Record<string, DeclaredImage>;
    /** The regions every image is pushed to (the home region and every AWS fleet region), sorted. */
    readonly regions: string[];
    /** By region, then `ci-platform/<image>:<tag>`: the push of that tag to that region's registry. */
    readonly pushes: Record<string, Record<string, docker.Image>>;
}

/**
 * The pushes of `needs` (from {@link imagePushesNeeded}): what a pipeline waits for, so that no build it starts pulls
 * a tag before it is in the registry. A need with no push is left out here: the policy pack's
 * `images-in-every-region` reports it with its pipeline and steps.
 */
export function pushesOf(images: Pick<DeclaredImages, "pushes">, needs: readonly ImageNeed[]): docker.Image[] {
    return needs.flatMap((n) => {
        const push = images.pushes[n.region]?.[n.reference];
        return push === undefined ? [] : [push];
    });
}

/**
 * Declares every image of `ci-platform:images`: an {@link AgentImage} each, named after the image, with a
 * repository and one push per variant in every region of `imageRegions(config)`. There is no ECR replication rule
 * and no repository creation template: replication would copy our pushes into the repositories we push to
 * ourselves, and with immutable tags whichever write came second would fail (AWS ECR User Guide, "Preventing image
 * tags from being overwritten": pushing a tag already in the repository returns ImageTagAlreadyExistsException);
 * the templates only shaped the repositories replication created, and we now create every repository ourselves.
 */
export function declareImages(args: DeclareImagesArgs): DeclaredImages {
    const { config } = args;
    const files = args.files ?? readImageFiles(args.rootDir);
    const records = parseVersionRecordsText(files.versionsJson ?? "{}");
    const regions = imageRegions(config);
    const missing = regions.filter((r) => args.registries[r] === undefined);
    if (missing.length > 0)
        throw new pulumi.RunError(`no image registry for ${missing.join(", ")}; declareImageRegistries makes them`);
    const registries = regions.map((r) => args.registries[r]);

    const images: Record<string, DeclaredImage> = {};
    const pushes: Record<string, Record<string, docker.Image>> = {};
    for (const image of config.images) {
        const version = args.versions[image.name];
        const dockerfile = files.dockerfile(image.name);
        if (version === undefined || dockerfile === undefined)
            throw new Error(
                `image "${image.name}" needs a pin in agent-images/versions.json and ${dockerfilePath(image.name)}; checkImages reports this before any resource`,
            );
        const component = new AgentImage(image.name, {
            image: image.name,
            variants: image.variants,
            version,
            dockerfile,
            // The source URL its version recorded (images:bump), not today's owner: an owner change must not alter
            // the build arguments of a pushed version (checkImages refuses every other way its inputs could change).
            sourceUrl:
                (records.ok
                    ? pinnedEntry(records.value[image.name] ?? { version, digest: undefined, history: [] })
                    : undefined
                )?.sourceUrl ??
                (args.sourceRepository !== undefined
                    ? `${args.sourceRepository}/tree/main/agent-images/${image.name}`
                    : imageSourceUrl(config.github.owner, image.name)),
            homeRegion: config.homeRegion,
            registries,
            accountId: args.accountId,
            pullerRoleArns: args.pullerRoleArns,
            keepVersions: image.keepVersions,
            tags: config.tags,
        });
        for (const [region, byVariant] of Object.entries(component.builds))
            image.variants.forEach((variant, i) => {
                (pushes[region] ??= {})[`${repositoryName(image.name)}:${component.tags[i]}`] = byVariant[variant];
            });
        images[image.name] = {
            repositoryUrl: component.repositoryUrl,
            tags: component.tags,
            regions: component.regions,
        };
    }
    return { images, regions, pushes };
}
