/*
 * How an image is named: its repository, its tags, its reference in a region's registry, and THE function steps
 * use to name the image they run in ({@link resolveStepImage}). Pure: no Pulumi, no files.
 */

/** Every repository of ours is `ci-platform/<image>`, in every region the image is pushed to. */
export const REPOSITORY_PREFIX = "ci-platform/";

/**
 * The variable the agents' `environment` hook exports: the registry host of the region the agent runs in,
 * `<account>.dkr.ecr.<region>.amazonaws.com`. See {@link resolveStepImage}.
 */
export const REGISTRY_ENV_VAR = "CI_PLATFORM_ECR_REGISTRY";

/** The ECR repository name of an image: `ci-platform/buildkite-test`. */
export function repositoryName(image: string): string {
    return `${REPOSITORY_PREFIX}${image}`;
}

/** The tag of one variant at one version: `py3.12-2026.11.1`. At most 128 characters, as Docker requires. */
export function imageTag(variant: string, version: string): string {
    const tag = `${variant}-${version}`;
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) throw new Error(`"${tag}" is not a valid image tag`);
    return tag;
}

/** The ECR registry host of an account in a region: `123456789012.dkr.ecr.us-east-1.amazonaws.com`. */
export function registryHost(accountId: string, region: string): string {
    if (!/^\d{12}$/.test(accountId)) throw new Error(`"${accountId}" is not an AWS account id (12 digits)`);
    if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) throw new Error(`"${region}" is not an AWS region name`);
    const domain = region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
    return `${accountId}.dkr.ecr.${region}.${domain}`;
}

/** What names one image variant at one version in one region's registry. */
export interface ImageCoordinates {
    /** The AWS account that owns the registry. */
    readonly accountId: string;
    /** The region of the registry. */
    readonly region: string;
    /** The image name, one of `ci-platform:images`. */
    readonly image: string;
    /** One of the image's variants. */
    readonly variant: string;
    /** The image's pinned version. */
    readonly version: string;
}

/** The concrete reference: `123456789012.dkr.ecr.us-east-1.amazonaws.com/ci-platform/buildkite-test:py3.12-2026.11.1`. */
export function imageReference(c: ImageCoordinates): string {
    return `${registryHost(c.accountId, c.region)}/${repositoryName(c.image)}:${imageTag(c.variant, c.version)}`;
}

/** An image a step runs in, as every form a step or a reader may need. */
export interface StepImage {
    /** The image name. */
    readonly name: string;
    /** The variant. */
    readonly variant: string;
    /** The pinned version. */
    readonly version: string;
    /** `py3.12-2026.11.1`. */
    readonly tag: string;
    /** `ci-platform/buildkite-test`. */
    readonly repository: string;
    /**
     * The region-neutral reference as the job must see it when it runs:
     * `${CI_PLATFORM_ECR_REGISTRY}/ci-platform/buildkite-test:py3.12-2026.11.1`. Give it to the docker plugin
     * with `expand-image-vars: true`, which expands it on the agent running the job.
     */
    readonly image: string;
    /** The concrete home-region reference, when an account id was given: the fallback for agents without the hook. */
    readonly homeReference?: string;
}

/** What {@link resolveStepImage} needs. */
export interface ResolveStepImageArgs {
    /** The declared images (`ci-platform:images`). */
    readonly images: readonly { readonly name: string; readonly variants: readonly string[] }[];
    /** The pins of `agent-images/versions.json`. */
    readonly versions: Readonly<Record<string, string>>;
    /** The image and variant the step names. */
    readonly ref: { readonly name: string; readonly variant: string };
    /** The home region (`ci-platform:homeRegion`), for {@link StepImage.homeReference}. */
    readonly homeRegion?: string;
    /** The account id, for {@link StepImage.homeReference}; leave it out where only an Output is at hand. */
    readonly accountId?: string;
}

/**
 * THE one function steps use to name the image they run in.
 *
 * Which registry: a queue may span regions (the prod `default` queue runs in us-east-1, eu-west-1 and
 * ap-southeast-1), and the YAML is generated once, before anyone knows which agent will pick the job up. So the
 * reference is region-neutral: the registry host is the shell variable `CI_PLATFORM_ECR_REGISTRY`, which the
 * agents' `environment` hook exports as `<account>.dkr.ecr.<agent's region>.amazonaws.com`; every tag is pushed to
 * every fleet region (AgentImage), so the job pulls from its own region. It must be expanded when the job runs,
 * not when the pipeline is uploaded: Buildkite interpolates `$VAR` in uploaded YAML from the *uploading* agent's
 * environment, which on a multi-region queue may be another region. Hence the step generator escapes it as `$$` in
 * uploaded YAML (components/steps, `escapeForUpload`), and the docker plugin's `expand-image-vars: true`, which expands
 * the variable on the agent that runs the job. Generating the reference needs no account id, so steps need no
 * Pulumi Output. Agents without the hook (on-premises fleets) must export the variable themselves, set to the
 * home registry; {@link StepImage.homeReference} is that concrete fallback.
 *
 * Throws when the image or variant is not declared or has no pin: the config checks (cross-checks.ts and
 * {@link checkImages}) report those first, with their config paths, so a throw here is a programming error.
 */
export function resolveStepImage(args: ResolveStepImageArgs): StepImage {
    const { name, variant } = args.ref;
    const declared = args.images.find((i) => i.name === name);
    if (!declared) throw new Error(`image "${name}" is not declared in ci-platform:images`);
    if (!declared.variants.includes(variant))
        throw new Error(`image "${name}" has no variant "${variant}" (its variants: ${declared.variants.join(", ")})`);
    const version = args.versions[name];
    if (version === undefined) throw new Error(`image "${name}" has no pinned version in agent-images/versions.json`);
    const tag = imageTag(variant, version);
    const repository = repositoryName(name);
    const image = `\${${REGISTRY_ENV_VAR}}/${repository}:${tag}`;
    return {
        name,
        variant,
        version,
        tag,
        repository,
        image,
        homeReference:
            args.accountId !== undefined && args.homeRegion !== undefined
                ? imageReference({ accountId: args.accountId, region: args.homeRegion, image: name, variant, version })
                : undefined,
    };
}

/**
 * What the agents' `environment` hook exports for images: the registry host of the agent's region (the hooks
 * module's fleet settings give it as `CI_PLATFORM_ECR_REGISTRY`, from {@link registryHost}). Image versions are
 * deliberately not part of it: steps carry their tags, so a version bump changes the steps and the builds, and
 * no file on the agents.
 */
export function registryEnvironment(accountId: string, region: string): Record<string, string> {
    return { [REGISTRY_ENV_VAR]: registryHost(accountId, region) };
}

/**
 * The image resolver the step generator uses: image name and variant to the region-neutral reference of the pinned
 * tag (see {@link resolveStepImage}). The one place steps get their image from.
 */
export function stepImageResolver(
    images: ResolveStepImageArgs["images"],
    versions: ResolveStepImageArgs["versions"],
): (ref: ResolveStepImageArgs["ref"]) => string {
    return (ref) => resolveStepImage({ images, versions, ref }).image;
}
