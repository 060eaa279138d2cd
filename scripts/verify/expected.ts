import { createHash } from "node:crypto";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { captureProgram } from "../plan/capture";
import { PlanResource } from "../plan/model";
import { containsSecret } from "../plan/redact";
import { StackConfig, secretVersionsIn } from "../plan/stack-file";
import { StateMocks, StateResource } from "./state";

/*
 * What the program declares that `pulumi refresh` cannot check, computed by running the program itself (the same
 * capture as the offline plan) with the deployed stack's outputs fed back in (state.ts StateMocks).
 */

/** Resource types the verifier checks. */
export const VERIFIED_TYPES = {
    object: "aws:s3/bucketObjectv2:BucketObjectv2",
    token: "buildkite:Cluster/clusterAgentToken:ClusterAgentToken",
    image: "docker:index/image:Image",
} as const;

/** An S3 object the program writes, with the digest of the content it writes. */
export interface ExpectedObject {
    readonly urn: string;
    readonly key: string;
    /** The region of the object's provider (the bucket's region). */
    readonly region: string;
    /**
     * Hex sha256 of the content the program writes, or null when the content holds a stack file's `secure:` value
     * that could not be decrypted (the offline reader's stand-in, scripts/plan/stack-file.ts securePlaceholder).
     * Never printed for a secret object.
     */
    readonly sha256: string | null;
    /** Whether the content is a Pulumi secret. */
    readonly secret: boolean;
}

/** A cluster agent token the program declares. */
export interface ExpectedToken {
    readonly urn: string;
}

/** An image tag the program pushes. */
export interface ExpectedImage {
    readonly urn: string;
    /** `<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>`. */
    readonly imageName: string;
}

/** Everything the verifier checks, sorted by URN. */
export interface Expectations {
    readonly objects: ExpectedObject[];
    readonly tokens: ExpectedToken[];
    readonly images: ExpectedImage[];
}

/** The SDK's wire signatures, exported by its runtime (runtime/rpc.d.ts), as scripts/plan/redact.ts reads them. */
const { specialSigKey: SIG_KEY, specialSecretSig: SECRET_SIG, specialOutputValueSig: OUTPUT_SIG } = pulumi.runtime;

/** A serialized value with its secret and output wrappers taken off (the value itself, secret or not). */
export function wireValue(value: unknown): unknown {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
    const obj = value as Record<string, unknown>;
    if (obj[SIG_KEY] === SECRET_SIG || obj[SIG_KEY] === OUTPUT_SIG) return wireValue(obj.value);
    return value;
}

export const sha256Hex = (content: string | Uint8Array): string => createHash("sha256").update(content).digest("hex");

/** Reads the expectations out of the resources the program registered (pure, for tests and the CLI). */
export function expectationsOf(
    resources: readonly { resource: PlanResource; raw: unknown }[],
    options: { readonly decrypted: boolean },
): Expectations {
    const providerRegion = new Map<string, string>();
    for (const { resource } of resources)
        if (resource.type === "pulumi:providers:aws" && typeof resource.inputs.region === "string")
            providerRegion.set(resource.urn, resource.inputs.region);
    const objects: ExpectedObject[] = [];
    const tokens: ExpectedToken[] = [];
    const images: ExpectedImage[] = [];
    for (const { resource, raw } of resources) {
        const inputs = (raw ?? {}) as Record<string, unknown>;
        if (resource.type === VERIFIED_TYPES.object) {
            const content = wireValue(inputs.content);
            if (typeof content !== "string") continue; // only `content` objects: the program writes no other kind
            objects.push({
                urn: resource.urn,
                key: String(wireValue(inputs.key)),
                region: providerRegion.get(resource.provider ?? "") ?? "us-east-1",
                sha256: !options.decrypted && secretVersionsIn(content).length > 0 ? null : sha256Hex(content),
                secret: containsSecret(inputs.content),
            });
        } else if (resource.type === VERIFIED_TYPES.token) tokens.push({ urn: resource.urn });
        else if (resource.type === VERIFIED_TYPES.image) {
            const imageName = wireValue(inputs.imageName);
            if (typeof imageName === "string") images.push({ urn: resource.urn, imageName });
        }
    }
    const byUrn = <T extends { urn: string }>(a: T, b: T) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0);
    return { objects: objects.sort(byUrn), tokens: tokens.sort(byUrn), images: images.sort(byUrn) };
}

/**
 * Runs the program (index.ts under `root`) for a stack config, answering resources from the deployed state, and
 * returns what to verify. Call once per process (the capture installs the SDK's mocks globally).
 */
export async function expectedFromProgram(args: {
    readonly root: string;
    readonly project: string;
    readonly stack: string;
    readonly stackConfig: StackConfig;
    readonly state: ReadonlyMap<string, StateResource>;
    /** Whether the config's secret values are decrypted (`pulumi config --show-secrets`), not a stack file's. */
    readonly decrypted: boolean;
}): Promise<Expectations> {
    const seen: { resource: PlanResource; raw: unknown }[] = [];
    await captureProgram({
        project: args.project,
        stack: args.stack,
        config: args.stackConfig.config,
        secretKeys: args.stackConfig.secretKeys,
        programPath: path.join(args.root, "index.ts"),
        mocks: new StateMocks(args.state),
        observe: (resource, raw) => {
            if (
                Object.values(VERIFIED_TYPES).includes(resource.type as never) ||
                resource.type === "pulumi:providers:aws"
            )
                seen.push({ resource, raw });
        },
    });
    return expectationsOf(seen, { decrypted: args.decrypted });
}
