/**
 * The stored steps of a pipeline, signed by the program: every command step carries the signature
 * buildkite-agent verifies before it runs the job (README, "Signed pipelines").
 *
 * Pure module: the document, the repository URL and the private key set in, YAML out.
 */
import type { PipelineDocument } from "../steps/step-model";
import { renderStoredPipeline, visitStoredCommands } from "../steps/step-model";
import { parseJwks, signingKeyOf, SIGNING_ALGORITHM } from "./jws";
import { signStep, StepSignature } from "./step-signature";
import { ENV_FIELD_PREFIX, signedValues } from "./step-signature";

/**
 * What the offline plan hands the program for a `secure:` value it cannot decrypt (scripts/plan/stack-file.ts
 * `securePlaceholder`): `[secret:<version>]`, the version a digest of the ciphertext.
 */
const OFFLINE_SECRET = /^\[secret:([0-9a-f]{16})\]$/;

/** How a cluster's stored steps are signed. */
export interface StoredStepsSigning {
    /** The private JWKS (`ci-platform:secrets.signing.<cluster>`). */
    readonly privateJwks: string;
    /** The kid of the key that signs (`clusters[].signing.signingKeyId`); the set's only key when unset. */
    readonly signingKeyId?: string;
    /** The public keys agents verify with (`clusters[].signing.verificationKeys`): the signing key must be one. */
    readonly verificationKeys: readonly { readonly kid: string; readonly x: string }[];
    /** Where the private set is configured, for error messages (`ci-platform:secrets.signing.default`). */
    readonly configPath: string;
    /** The pipeline's slug, for error messages. */
    readonly pipeline: string;
}

/**
 * The stored document as YAML, each command step signed (its own group's members too), bound to the pipeline's
 * repository URL and the document's env. Deterministic: the same document and key give the same text.
 *
 * Offline (the plan's placeholder in place of the private set), no key can be read: each step carries the fields
 * it will sign and a value naming the secret's version, so the plan still shows what is signed and that a rotated
 * key re-signs every step.
 *
 * @throws {Error} naming `configPath` (never the key) when the set is invalid or its signing key is not among the
 *   verification keys; naming the pipeline when a command step's command, env or plugins, or the document's env,
 *   holds a `$`.
 */
export function signedStoredPipeline(
    doc: PipelineDocument,
    repositoryUrl: string,
    signing: StoredStepsSigning,
): string {
    const context = { repositoryUrl, outerEnv: doc.env };
    refuseInterpolation(doc, signing.pipeline);
    const offline = OFFLINE_SECRET.exec(signing.privateJwks);
    if (offline !== null) {
        return renderStoredPipeline(doc, (step): StepSignature => {
            const fields = Object.keys(signedValues(signable(step), context)).sort();
            return {
                algorithm: SIGNING_ALGORITHM,
                signed_fields: fields,
                value: `[signed at deploy: secret ${offline[1]}]`,
            };
        });
    }
    let key;
    try {
        parseJwks(signing.privateJwks, true);
        key = signingKeyOf(signing.privateJwks, signing.signingKeyId);
    } catch (e) {
        throw new Error(`${signing.configPath} ${(e as Error).message}`);
    }
    const published = signing.verificationKeys.find((k) => k.kid === key.kid);
    if (published === undefined || published.x !== key.jwk.x)
        throw new Error(
            `${signing.configPath}: the signing key "${key.kid}" is not among the cluster's verificationKeys (same kid and x); agents would refuse every step it signs. Add its public JWK to clusters[].signing.verificationKeys.`,
        );
    return renderStoredPipeline(doc, (step) => {
        return signStep(signable(step), context, key);
    });
}

/**
 * Refuses a document the program would sign with a `$` in a command step's command, env or plugins, or in the
 * document's env. buildkite/agent v3.137.0 clicommand/tool_sign.go `validateNoInterpolations`: Buildkite's own
 * signing refuses a pipeline with any interpolation directive, `$$` included; a `$` here would be signed as
 * Buildkite's interpolation at build creation leaves it, which nothing confirms. Signing pipelines store one upload
 * step with none (components/steps/stored-upload.ts). Both modes (JWKS here, KMS in kms-stored-steps.ts) call it.
 *
 * @throws {Error} naming the pipeline and the step's key.
 */
export function refuseInterpolation(doc: PipelineDocument, pipeline: string): void {
    if (JSON.stringify(doc.env ?? {}).includes("$"))
        throw new Error(
            `pipeline "${pipeline}": the stored document's env holds a "$"; it cannot be signed as stored. Store one step that uploads the document instead (components/steps/stored-upload.ts).`,
        );
    // The steps as signing sees them, without rendering the document (signing renders it once, after this check).
    visitStoredCommands(doc, (step) => {
        const wire = JSON.stringify([step.commands ?? null, step.env ?? null, step.plugins ?? null]);
        if (wire.includes("$"))
            throw new Error(
                `pipeline "${pipeline}": stored step ${JSON.stringify((step as { key?: unknown }).key ?? "(no key)")} holds a "$" in its command, env or plugins; it cannot be signed as stored (buildkite-agent tool sign refuses it). Store one step that uploads the document instead (components/steps/stored-upload.ts).`,
            );
    });
}

/** A wire command step as signing sees it: plugins in list form, a plugin given as a bare source without config. */
export function signable(step: {
    readonly commands?: string | readonly string[];
    readonly env?: Readonly<Record<string, string>>;
    readonly plugins?: unknown;
}) {
    const commands = step.commands ?? [];
    const entry = (p: unknown): Record<string, unknown> => {
        if (typeof p === "string") return { [p]: null };
        if (p !== null && typeof p === "object" && !Array.isArray(p)) return p as Record<string, unknown>;
        throw new Error("a plugin entry is a source or a one-key object {source: config}");
    };
    const plugins = Array.isArray(step.plugins)
        ? step.plugins.map(entry)
        : step.plugins !== null && typeof step.plugins === "object"
          ? Object.entries(step.plugins).map(([source, config]) => ({ [source]: config }))
          : undefined;
    return { commands: typeof commands === "string" ? [commands] : commands, env: step.env, plugins };
}

/** The pipeline variables a stored step's signature binds (its `env::` fields), for the plan and tests. */
export function boundVariables(signature: StepSignature): string[] {
    return signature.signed_fields
        .filter((f) => f.startsWith(ENV_FIELD_PREFIX))
        .map((f) => f.slice(ENV_FIELD_PREFIX.length));
}
