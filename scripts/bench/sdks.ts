/**
 * The SDKs index.ts loads: the bench's baseline process loads only these, and the replay of a plan loads them too
 * (scripts/bench/replay.ts). A module of its own, so that the bench's command line names them without loading them.
 */
export const PROVIDER_SDKS = [
    "@pulumi/pulumi",
    "@pulumi/aws",
    "@pulumiverse/buildkite",
    "@pulumi/github",
    "@pulumi/docker",
] as const;
