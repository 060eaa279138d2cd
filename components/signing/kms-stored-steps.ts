/**
 * A pipeline's stored steps signed by its cluster's KMS key (mode kms). Pure: the document and repository URL in, the
 * payloads to sign out; then the signatures in (made at deploy by kms-step-signature.ts), YAML out.
 *
 * The interface to the stored document is the renderer's view of its command steps (components/steps/step-model.ts:
 * `visitStoredCommands` for the payloads, the signer callback of `renderStoredPipeline` for the YAML): each command
 * step is signed from its wire form `{commands, env, plugins}`, bound to the repository URL and the document's env,
 * exactly as the JWKS mode signs (stored-steps.ts), with alg ES256.
 */
import type { PipelineDocument } from "../steps/step-model";
import { renderStoredPipeline, visitStoredCommands } from "../steps/step-model";
import { KMS_SIGNING_ALGORITHM, kmsStepPayload, type KmsStepPayload } from "./kms";
import type { StepSignature } from "./step-signature";
import { refuseInterpolation, signable } from "./stored-steps";

/** What a step's signature reads before the deploy has signed it (a preview that creates it, the offline plan). */
export const KMS_UNSIGNED_PLACEHOLDER = "[signed at deploy: kms]";

/**
 * The payload of every command step of the document, in document order (groups' members too).
 *
 * @throws {Error} naming `pipeline` when a step holds a `$` (stored-steps.ts `refuseInterpolation`).
 */
export function kmsStoredStepPayloads(
    doc: PipelineDocument,
    repositoryUrl: string,
    pipeline: string,
): KmsStepPayload[] {
    refuseInterpolation(doc, pipeline);
    const payloads: KmsStepPayload[] = [];
    // The steps as signing sees them, without rendering a document nobody reads.
    visitStoredCommands(doc, (step) => {
        payloads.push(kmsStepPayload(signable(step), { repositoryUrl, outerEnv: doc.env }));
    });
    return payloads;
}

/**
 * The stored document as YAML, each command step carrying its KMS signature: `values` maps a payload to the JWS that
 * signs it (undefined while unknown: the step then carries {@link KMS_UNSIGNED_PLACEHOLDER}, its signed fields still
 * shown).
 */
export function kmsSignedStoredPipeline(
    doc: PipelineDocument,
    repositoryUrl: string,
    values: ReadonlyMap<string, string | undefined>,
): string {
    return renderStoredPipeline(doc, (step): StepSignature => {
        const payload = kmsStepPayload(signable(step), { repositoryUrl, outerEnv: doc.env });
        return {
            algorithm: KMS_SIGNING_ALGORITHM,
            signed_fields: payload.signedFields,
            value: values.get(payload.payload) ?? KMS_UNSIGNED_PLACEHOLDER,
        };
    });
}
