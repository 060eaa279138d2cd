import * as aws from "@pulumi/aws";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { ImageRegistry } from "./agent-image";
import { registryHost } from "./image-ref";

/** What {@link declareImageRegistries} needs. */
export interface DeclareImageRegistriesArgs {
    /** The regions images are pushed to (`imageRegions(config)`). */
    readonly regions: readonly string[];
    /** The AWS provider of each region; every region of {@link regions} must have one. */
    readonly awsProviders: Readonly<Record<string, aws.Provider>>;
    /** The AWS account id that owns the registries. */
    readonly accountId: pulumi.Input<string>;
    /** Prefix of the docker provider names, `<prefix>-<region>`. Defaults to "docker". */
    readonly providerPrefix?: string;
    /**
     * Options of each docker provider: the provider registry (components/providers.ts) passes its parent and the
     * alias of their old top-level URN. Tests may leave it out.
     */
    readonly providerOptions?: pulumi.CustomResourceOptions;
}

/**
 * One docker provider per region, authenticated to that region's ECR registry: the credentials come from
 * `aws:ecr/getAuthorizationToken` invoked through the region's own AWS provider (an ECR token is valid only for the
 * registry of the region that issued it), and the password stays a Pulumi secret. Providers are named after the
 * region only, so adding a region adds one provider and changes none.
 */
/** The name of a region's docker provider. */
export const dockerProviderName = (region: string, prefix = "docker"): string => `${prefix}-${region}`;

export function declareImageRegistries(args: DeclareImageRegistriesArgs): Record<string, ImageRegistry> {
    const prefix = args.providerPrefix ?? "docker";
    const out: Record<string, ImageRegistry> = {};
    for (const region of [...new Set(args.regions)].sort()) {
        const awsProvider = args.awsProviders[region];
        if (awsProvider === undefined)
            throw new pulumi.RunError(
                `no AWS provider for region ${region}, where images are pushed; known: ${Object.keys(args.awsProviders).sort().join(", ") || "none"}`,
            );
        const token = aws.ecr.getAuthorizationTokenOutput({ registryId: args.accountId }, { provider: awsProvider });
        const server = pulumi.output(args.accountId).apply((account) => registryHost(account, region));
        const password = pulumi.secret(token.password);
        const dockerProvider = new docker.Provider(
            dockerProviderName(region, prefix),
            { registryAuth: [{ address: server, username: token.userName, password }] },
            { ...args.providerOptions },
        );
        out[region] = { region, awsProvider, dockerProvider, server, username: token.userName, password };
    }
    return out;
}
