import { parse } from "yaml";

/*
 * Whether a pipeline's stored steps are what this project stores itself: one step running `buildkite-agent pipeline
 * upload`, which reads .buildkite/pipeline.yml (or the other default paths) from the checkout (buildkite/agent
 * v3.137.0 clicommand/pipeline_upload.go: with no file argument it looks for the default pipeline files). Anything
 * else is steps the organisation keeps in Buildkite, which the first `pulumi up` would replace: the importer reports it.
 */

const UPLOAD = /^buildkite-agent\s+pipeline\s+upload\s*$/;
/** Keys a stored upload step may carry besides its command, which change nothing about what it runs. */
const HARMLESS = new Set(["label", "name", "key", "type", "command", "commands"]);

const isEmpty = (v: unknown) =>
    v === null ||
    v === undefined ||
    v === "" ||
    (Array.isArray(v) && v.length === 0) ||
    (typeof v === "object" && Object.keys(v as object).length === 0);

/** Whether one step (an object) is a bare `buildkite-agent pipeline upload`. */
function isUploadStep(step: unknown): boolean {
    if (typeof step === "string") return UPLOAD.test(step.trim());
    if (step === null || typeof step !== "object" || Array.isArray(step)) return false;
    const entries = Object.entries(step as Record<string, unknown>).filter(([, v]) => !isEmpty(v));
    if (entries.some(([k]) => !HARMLESS.has(k))) return false;
    const fields = Object.fromEntries(entries);
    if (fields.type !== undefined && fields.type !== "script" && fields.type !== "command") return false;
    const command = fields.command ?? fields.commands;
    if (fields.command !== undefined && fields.commands !== undefined) return false;
    const lines = typeof command === "string" ? [command] : Array.isArray(command) ? command : [];
    return lines.length === 1 && typeof lines[0] === "string" && UPLOAD.test(lines[0].trim());
}

/** What a pipeline stores, in words for the report; `default` when it is our own single upload step. */
export type StoredSteps =
    | { readonly kind: "default" }
    | { readonly kind: "none" }
    | { readonly kind: "custom"; readonly steps: number; readonly lines: number; readonly why: string };

/**
 * Classifies a pipeline's stored steps: its YAML `configuration` (buildkite/docs pages/apis/rest_api/pipelines.md,
 * "Create a YAML pipeline"), else its legacy `steps` array. The YAML may be a document with `steps:` or a bare list
 * of steps, and a step may be written as a string, with `command` or with a one-line `commands`.
 */
export function classifyStoredSteps(
    configuration: string | null | undefined,
    legacySteps: readonly unknown[] | null | undefined,
): StoredSteps {
    let steps: unknown;
    let lines = 0;
    if (typeof configuration === "string" && configuration.trim() !== "") {
        lines = configuration.trim().split("\n").length;
        let doc: unknown;
        try {
            doc = parse(configuration);
        } catch (e) {
            return {
                kind: "custom",
                steps: 0,
                lines,
                why: `its YAML does not parse (${(e as Error).message.split("\n")[0]})`,
            };
        }
        if (Array.isArray(doc)) steps = doc;
        else if (doc !== null && typeof doc === "object") {
            const others = Object.keys(doc).filter((k) => k !== "steps");
            const list = (doc as Record<string, unknown>).steps;
            if (others.length > 0)
                return {
                    kind: "custom",
                    steps: Array.isArray(list) ? list.length : 0,
                    lines,
                    why: `it sets ${others.map((k) => `\`${k}\``).join(", ")} besides its steps`,
                };
            steps = list;
        } else return { kind: "custom", steps: 0, lines, why: "its YAML is not a list of steps" };
    } else if (legacySteps && legacySteps.length > 0) steps = legacySteps;
    else return { kind: "none" };
    if (!Array.isArray(steps)) return { kind: "custom", steps: 0, lines, why: "its `steps` is not a list" };
    if (steps.length === 1 && isUploadStep(steps[0])) return { kind: "default" };
    return {
        kind: "custom",
        steps: steps.length,
        lines,
        why:
            steps.length === 1
                ? "its one step is not a bare `buildkite-agent pipeline upload`"
                : `it stores ${steps.length} steps, not one \`buildkite-agent pipeline upload\``,
    };
}
