export { SENTINEL, mustParse, prodConfig, prodRawConfig } from "../fixtures/config";

/** A tiny hooks bundle. */
export const FAKE_BUNDLE = {
    hash: "abc123",
    files: [
        { path: "hooks/environment", content: "#!/bin/bash\necho env\n" },
        { path: "hooks/pre-exit", content: "#!/bin/bash\necho bye\n" },
    ],
} as const;

/**
 * The AWS providers `declareFleets` takes, one per region of the config's AWS fleets, named as the program's registry
 * names them (components/providers.ts). Imported late, after the test has installed its mocks.
 */
export async function fleetProviders(config: {
    readonly fleets: readonly { readonly kind: string; readonly region?: string }[];
    readonly tags: Readonly<Record<string, string>>;
}) {
    const { declareAwsProviders } = await import("../../components/providers");
    return declareAwsProviders(
        config.fleets.flatMap((f) => (f.kind === "aws" && f.region !== undefined ? [f.region] : [])),
        config.tags,
    );
}
