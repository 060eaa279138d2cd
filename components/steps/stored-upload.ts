/**
 * The stored steps of a pipeline whose cluster signs: ONE command step that hands the agent the pipeline's whole
 * generated document, so that the signed stored step holds no `$` at all (README, "Signed pipelines").
 *
 * Why: the document as it is stored for an unsigned pipeline doubles every `$` (step-model.ts `renderStoredPipeline`) and
 * relies on Buildkite's build-creation interpolation to halve it. A signature over such a step is a signature over
 * text no tool of Buildkite's would sign: buildkite/agent v3.137.0 clicommand/tool_sign.go `validateNoInterpolations`
 * refuses any pipeline with an interpolation directive, escaped ones included ("only supported when dynamically
 * uploading"). Buildkite's own guide stores "a single step ... to upload a pipeline definition" (buildkite/docs
 * pages/agent/self_hosted/security/signed_pipelines.md, Step 3). So the stored step carries the document base64
 * encoded (the alphabet has no `$`) and pipes it to `buildkite-agent pipeline upload`, which:
 * - reads the document from stdin (buildkite/agent v3.137.0 clicommand/pipeline_upload.go: with no file argument and
 *   a readable stdin, "Reading pipeline config from STDIN");
 * - interpolates it, `$$` becoming `$` exactly as build creation did (buildkite/interpolate v0.1.5 parser.go:
 *   `EscapedDollar = ( "\$" | "$$" )`, interpolate.go `EscapedExpansion.Expand` returns "$"; agent v3.137.0 go.mod
 *   pins interpolate v0.1.5): every `$` of the document is doubled, so no variable is ever expanded there;
 * - signs every step it uploads with the fleet's key (clicommand/pipeline_upload.go `jwks-file`), so the jobs run
 *   what they ran before, signed by the fleet rather than by the program.
 *
 * Pure module.
 *
 * @module
 */
import { yamlValue } from "./parsed-yaml";
import type { CommandSpec } from "./step-model";

/** The key of the one stored step (no generated step takes it: theirs are `upload`, `triggers`, `release-*`...). */
export const STORED_UPLOAD_KEY = "ci-platform-pipeline";

/** The variable the stored step carries the document in, base64 encoded. */
export const STORED_UPLOAD_ENV_VAR = "CI_PLATFORM_PIPELINE";

/**
 * The stored step's one command. No `$`: the variable is read by `printenv` (GNU coreutils and macOS both have it),
 * `base64 --decode` is the spelling GNU coreutils and macOS's base64 share, and `buildkite-agent pipeline upload`
 * reads its stdin. A POSIX shell is needed: never a Windows queue (components/signing/config-checks.ts).
 */
export const STORED_UPLOAD_COMMAND = `printenv ${STORED_UPLOAD_ENV_VAR} | base64 --decode | buildkite-agent pipeline upload`;

/** Timeout of the stored upload step: it decodes and uploads one document. */
export const STORED_UPLOAD_TIMEOUT_MINUTES = 10;

/**
 * The one stored step that uploads `documentYaml` (the document exactly as an unsigned pipeline stores it, `$$`
 * included) on `queue` (a queue of the pipeline's cluster served by POSIX agents, holding the signing key).
 */
export function storedUploadStep(documentYaml: string, queue: string): CommandSpec {
    return {
        kind: "command",
        key: STORED_UPLOAD_KEY,
        label: ":pipeline: Upload the platform's steps",
        queue,
        commands: [STORED_UPLOAD_COMMAND],
        env: { [STORED_UPLOAD_ENV_VAR]: Buffer.from(documentYaml, "utf8").toString("base64") },
        timeoutInMinutes: STORED_UPLOAD_TIMEOUT_MINUTES,
    };
}

/**
 * The document a pipeline's stored steps upload, decoded, when they are the one stored upload step
 * ({@link storedUploadStep}, signed or not); undefined for any other text (an unsigned pipeline's own document,
 * YAML that does not parse). For reviewers: the plan shows this rather than a base64 blob.
 */
export function uploadedDocument(storedYaml: string): string | undefined {
    let doc: unknown;
    try {
        doc = yamlValue(storedYaml);
    } catch {
        return undefined;
    }
    if (doc === null || typeof doc !== "object" || Array.isArray(doc)) return undefined;
    const { steps, ...rest } = doc as Record<string, unknown>;
    if (Object.keys(rest).length !== 0 || !Array.isArray(steps) || steps.length !== 1) return undefined;
    const step = steps[0] as Record<string, unknown> | null;
    if (step === null || typeof step !== "object" || step.key !== STORED_UPLOAD_KEY) return undefined;
    const commands = step.commands;
    if (!Array.isArray(commands) || commands.length !== 1 || commands[0] !== STORED_UPLOAD_COMMAND) return undefined;
    const encoded = (step.env as Record<string, unknown> | undefined)?.[STORED_UPLOAD_ENV_VAR];
    if (typeof encoded !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(encoded)) return undefined;
    return Buffer.from(encoded, "base64").toString("utf8");
}

/** The heading the plan puts above a decoded document ({@link reviewableSteps}). */
export const UPLOADED_DOCUMENT_HEADING = `# The stored step ${STORED_UPLOAD_KEY} uploads this document (base64 in ${STORED_UPLOAD_ENV_VAR}; the upload turns $$ into $):`;

/** A pipeline's stored steps as a reviewer reads them: the decoded document under a heading, else the text itself. */
export function reviewableSteps(storedYaml: string): string {
    const doc = uploadedDocument(storedYaml);
    return doc === undefined ? storedYaml : `${UPLOADED_DOCUMENT_HEADING}\n${doc}`;
}
