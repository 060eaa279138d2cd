import * as aws from "@pulumi/aws";
import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";
import * as buildkite from "@pulumiverse/buildkite";
import { splitRepository } from "./buildkite/pipeline-settings";
import { FROM_STACK_TOP_LEVEL } from "./buildkite/renames";
import type { PlatformConfig } from "./config/schema";
import type { ImageRegistry } from "./images/agent-image";
import { declareImageRegistries } from "./images/registries";
import { platformRegions } from "./config/regions";
import { imageRegions } from "./images/registry";

/*
 * The program's one provider registry. The stack disables default providers (`pulumi:disable-default-providers` in
 * Pulumi.<stack>.yaml), so every resource and invoke names a provider, and every provider is declared here, once,
 * as a child of one `ci-platform:providers:Providers` component; the other components take them as arguments.
 */

/** The component's type token. */
export const PROVIDERS_TYPE = "ci-platform:providers:Providers";

/** What the registry declares, from the config alone. */
export interface ProviderPlan {
    /** `ci-platform:organization`: the Buildkite provider's organization. */
    readonly organization: string;
    /** One GitHub provider per repository owner (`ci-platform:github.owner` and every pipeline's), sorted. */
    readonly githubOwners: readonly string[];
    /** One AWS provider per region: the home region and every AWS fleet's, sorted. */
    readonly awsRegions: readonly string[];
    /** One docker provider per region images are pushed to (`imageRegions`), sorted. */
    readonly imageRegions: readonly string[];
    /** The AWS providers' default tags (`ci-platform:tags`). */
    readonly tags: Readonly<Record<string, string>>;
    /** The region whose provider asks for the account id. */
    readonly homeRegion: string;
}

/** The providers the config needs. Pure. */
export function providerPlan(
    config: Pick<PlatformConfig, "organization" | "github" | "pipelines" | "homeRegion" | "fleets" | "tags">,
): ProviderPlan {
    const owners = new Set([config.github.owner, ...config.pipelines.map((p) => splitRepository(p.repository).owner)]);
    return {
        organization: config.organization,
        githubOwners: [...owners].sort(),
        // The regions images are pushed to are exactly the home region and the AWS fleets' (images/registry.ts).
        awsRegions: platformRegions(config),
        imageRegions: imageRegions(config),
        tags: { ...config.tags },
        homeRegion: config.homeRegion,
    };
}

/** The name of the GitHub provider of a repository owner. */
export const githubProviderName = (owner: string): string => `github-${owner.toLowerCase()}`;

/** The name of a region's AWS provider. */
export const awsProviderName = (region: string): string => `ci-platform-aws-${region}`;

/**
 * One AWS provider per region, with the config's default tags. Exported for tests that declare fleets without the
 * whole registry; the program gets them from {@link Providers}.
 */
export function declareAwsProviders(
    regions: readonly string[],
    tags: Readonly<Record<string, string>>,
    opts: () => pulumi.CustomResourceOptions = () => ({}),
): Record<string, aws.Provider> {
    return Object.fromEntries(
        [...new Set(regions)]
            .sort()
            .map((region) => [
                region,
                new aws.Provider(
                    awsProviderName(region),
                    { region: region as aws.Region, defaultTags: { tags: { ...tags } } },
                    opts(),
                ),
            ]),
    );
}

/**
 * Every provider of the stack. Provider names are the ones they had at the top level (the engine keeps a provider's
 * state by URN; with {@link FROM_STACK_TOP_LEVEL} the move under this component is an alias, and a new name would be
 * one more), so they do not start with the component's name.
 */
export class Providers extends pulumi.ComponentResource {
    /** The Buildkite provider of `ci-platform:organization`. */
    public readonly buildkite: buildkite.Provider;
    /** GitHub providers, by repository owner. */
    public readonly github: Readonly<Record<string, github.Provider>>;
    /** AWS providers, by region. */
    public readonly aws: Readonly<Record<string, aws.Provider>>;
    /** The AWS account id, asked once through the home region's provider. */
    public readonly accountId: pulumi.Output<string>;
    /** Each region's ECR registry with its docker provider, by region. */
    public readonly registries: Readonly<Record<string, ImageRegistry>>;

    /**
     * @param name The _unique_ name of the registry component.
     * @param args What to declare ({@link providerPlan}).
     * @param opts A bag of options.
     */
    constructor(name: string, args: ProviderPlan, opts?: pulumi.ComponentResourceOptions) {
        super(PROVIDERS_TYPE, name, {}, opts);
        const moved = (): pulumi.CustomResourceOptions => ({ parent: this, aliases: [FROM_STACK_TOP_LEVEL] });
        // Pipelines are archived, not deleted, when the engine deletes one (after `pulumi state unprotect`: they are
        // protected, components/buildkite/pipeline.ts): an archived pipeline keeps its builds and can be restored
        // (terraform-provider-buildkite v1.32.0 buildkite/resource_pipeline.go Delete: archivePipeline when the
        // provider's archive_pipeline_on_delete is set). README, "Protected Buildkite objects".
        this.buildkite = new buildkite.Provider(
            "buildkite",
            { organization: args.organization, archivePipelineOnDelete: true },
            moved(),
        );
        this.github = Object.fromEntries(
            [...args.githubOwners]
                .sort()
                .map((owner) => [owner, new github.Provider(githubProviderName(owner), { owner }, moved())]),
        );
        this.aws = declareAwsProviders(args.awsRegions, args.tags, moved);
        const home = this.aws[args.homeRegion];
        if (home === undefined)
            throw new pulumi.InputPropertiesError({
                message: `the provider registry ${name} has no AWS provider for its home region`,
                errors: [
                    {
                        propertyPath: "awsRegions",
                        reason: `${args.homeRegion} (homeRegion) is not among ${args.awsRegions.join(", ") || "none"}: list it`,
                    },
                ],
            });
        this.accountId = aws.getCallerIdentityOutput({}, { provider: home }).accountId;
        // Docker providers stay in images/registries.ts, declared from here: each one's credentials come from its
        // region's ECR token, which that module asks for (a token is valid for the registry that issued it).
        this.registries = declareImageRegistries({
            regions: args.imageRegions,
            awsProviders: this.aws,
            accountId: this.accountId,
            providerOptions: moved(),
        });
        this.registerOutputs({ accountId: this.accountId });
    }
}
