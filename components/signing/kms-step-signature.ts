/**
 * The signature of one stored step by a cluster's KMS key, made at deploy and kept in state (README, "Signed
 * pipelines", mode kms). ECDSA is randomised (kms.ts), so signing in the program would change every stored step on
 * every preview: this resource signs in its provider's `create` and shows a change only when what it signs (the
 * canonical payload) or the key changes. The logic is kms.ts's; the provider methods only call KMS.
 *
 * AWS facts: kms:Sign with MessageType DIGEST and SigningAlgorithm ECDSA_SHA_256 returns the DER signature of the
 * digest (AWS KMS API Reference, "Sign"); buildkite/agent v3.137.0 internal/cryptosigner/aws/kms.go signs the same way.
 * A KMS key ARN names its region, and KMS answers only in that region: the client uses the ARN's.
 */
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import type { KmsStepPayload } from "./kms";
// kms-jose.ts only: the provider captures what it uses by value, and that module imports nothing else.
import {
    kmsKeyRegion,
    kmsSignatureChanged,
    kmsSignatureValue,
    kmsSigningDigest,
    KMS_SIGNING_ALGORITHM_SPEC,
} from "./kms-jose";

/** The type token's module and type (`pulumi-nodejs:dynamic/ci-platform-signing:KmsStepSignature`). */
export const KMS_STEP_SIGNATURE_MODULE = "ci-platform-signing";
export const KMS_STEP_SIGNATURE_TYPE = "KmsStepSignature";

/** The state of a signature: what was signed, by which key, and the JWS. */
export interface KmsStepSignatureState {
    readonly keyArn: string;
    readonly payload: string;
    readonly signedFields: readonly string[];
    /** The detached compact JWS (`{"alg":"ES256"}` header, R || S). */
    readonly value: string;
}

/** What the KMS client is built with beyond the key's region (tests: a local endpoint and fixed credentials). */
export interface KmsClientOverrides {
    readonly endpoint?: string;
    readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/** The id of a signature: a digest of the key and payload (the same inputs keep it). */
function signatureId(keyArn: string, payload: string): string {
    return createHash("sha256").update(`${keyArn}\n${payload}`).digest("hex").slice(0, 32);
}

/**
 * The dynamic provider. `overrides` is captured in the serialized closure: leave it unset outside tests.
 */
export function kmsStepSignatureProvider(overrides: KmsClientOverrides = {}): pulumi.dynamic.ResourceProvider {
    return {
        async diff(_id, olds: Partial<KmsStepSignatureState>, news: Partial<KmsStepSignatureState>) {
            const changed = kmsSignatureChanged(olds, news);
            // A new payload needs a new signature: replace, create before delete (delete does nothing).
            return { changes: changed.length > 0, replaces: changed, deleteBeforeReplace: false };
        },
        async create(inputs: { keyArn: string; payload: string; signedFields: string[] }) {
            // Required here, not at the top: the serialized provider then carries only this module's name.
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const kms = require("@aws-sdk/client-kms") as typeof import("@aws-sdk/client-kms");
            const region = kmsKeyRegion(inputs.keyArn);
            if (region === undefined) throw new Error(`"${inputs.keyArn}" is not a KMS key ARN`);
            const client = new kms.KMSClient({ region, ...overrides });
            try {
                const out = await client.send(
                    new kms.SignCommand({
                        KeyId: inputs.keyArn,
                        Message: kmsSigningDigest(inputs.payload),
                        MessageType: "DIGEST",
                        SigningAlgorithm: KMS_SIGNING_ALGORITHM_SPEC,
                    }),
                );
                if (out.Signature === undefined) throw new Error(`kms:Sign by ${inputs.keyArn} returned no signature`);
                const state: KmsStepSignatureState = {
                    keyArn: inputs.keyArn,
                    payload: inputs.payload,
                    signedFields: inputs.signedFields,
                    value: kmsSignatureValue(out.Signature),
                };
                return { id: signatureId(inputs.keyArn, inputs.payload), outs: state };
            } finally {
                client.destroy();
            }
        },
        // Nothing to delete: a signature is a value in state.
        async delete() {},
    };
}

/** The inputs of {@link KmsStepSignature}. */
export interface KmsStepSignatureArgs {
    /** The ARN of the key (the home region's, or any replica: a multi-region key signs the same in each). */
    readonly keyArn: pulumi.Input<string>;
    /** What is signed (kms.ts `kmsStepPayload`). */
    readonly payload: KmsStepPayload;
}

/** One provider for every signature: the SDK serializes (and caches) a dynamic provider per object. */
let sharedProvider: pulumi.dynamic.ResourceProvider | undefined;

/** One stored step's signature by a KMS key, kept in state until its payload or key changes. */
export class KmsStepSignature extends pulumi.dynamic.Resource {
    /** The detached compact JWS; unknown in a preview that creates the resource. */
    public readonly value!: pulumi.Output<string>;

    constructor(name: string, args: KmsStepSignatureArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            (sharedProvider ??= kmsStepSignatureProvider()),
            name,
            {
                keyArn: args.keyArn,
                payload: args.payload.payload,
                signedFields: [...args.payload.signedFields],
                value: undefined,
            },
            opts,
            KMS_STEP_SIGNATURE_MODULE,
            KMS_STEP_SIGNATURE_TYPE,
        );
    }
}
