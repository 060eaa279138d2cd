/*
 * Every pipeline's steps are valid Buildkite pipeline documents: the stored `steps` of each
 * `buildkite:Pipeline/pipeline:Pipeline`, and every document a stored command step uploads through
 * `buildkite-agent pipeline upload` from one of its env variables (as YAML, or base64 when the command decodes it).
 * The rules are Buildkite's pipeline schema, carried into components/steps/pipeline-schema.ts (a pure module with no
 * imports, which the program and this pack share). A step Buildkite refuses fails the build at creation (stored
 * steps) or the upload step at run time (uploaded documents); here it fails the plan, before merge.
 */
import { yamlStream } from "../../components/steps/parsed-yaml";
import { type SchemaIssue, validatePipelineDocument } from "../../components/steps/pipeline-schema";
import type { ResourceRule } from "../rules";
import { isOpaque, isRecord } from "../resource";

/** A document a stored command step hands to `buildkite-agent pipeline upload`, from its env. */
export interface UploadedText {
    /** Path of the env variable in the stored document, e.g. `steps[2].env.CI_PLATFORM_PIPELINE_YAML`. */
    readonly path: string;
    /** The document's text, as the agent reads it (base64 decoded when the command decodes it). */
    readonly text: string;
}

/** Buildkite halves `$$` when it interpolates stored steps at build creation (buildkite/docs
 * pages/pipelines/configure/environment_variables.md "Variable interpolation": escape `$` as `$$`). */
const halveDollars = (text: string): string => text.replace(/\$\$/g, "$");

const NAME = "[A-Za-z_][A-Za-z0-9_]*";
/** The first stage of a pipe that feeds a variable: `printenv NAME`, `printf '%s\n' "$NAME"`, `echo "${NAME}"`. */
const SOURCE = new RegExp(`^(?:printenv\\s+(${NAME})|(?:printf\\s+'%s\\\\n'|echo)\\s+"\\$\\{?(${NAME})\\}?")$`);
/** `base64 --decode` / `base64 -d` (GNU coreutils and BSD both take these). */
const DECODE = /^base64\s+(?:--decode|-d)$/;
/** `buildkite-agent pipeline upload` reading stdin (buildkite/agent v3.137.0 clicommand/pipeline_upload.go: with no
 * file argument it reads the pipeline from stdin when stdin is a pipe); flags such as `--dry-run` may follow. */
const UPLOAD = /^buildkite-agent\s+pipeline\s+upload(?:\s+--?[a-z][a-z-]*(?:[= ][^\s|<>]+)?)*\s*(?:>.*)?$/;

/**
 * The variables a command line pipes into `buildkite-agent pipeline upload`, and whether it base64-decodes them on
 * the way: `printenv NAME | base64 --decode | buildkite-agent pipeline upload` or
 * `printf '%s\n' "$NAME" | buildkite-agent pipeline upload`. `$$` (a stored step's escaped `$`) counts as `$`.
 */
export function uploadsOf(commandLine: string): { readonly name: string; readonly base64: boolean }[] {
    const stages = halveDollars(commandLine.trim())
        .split("|")
        .map((s) => s.trim());
    const out: { name: string; base64: boolean }[] = [];
    stages.forEach((stage, i) => {
        if (!UPLOAD.test(stage)) return;
        const middle = stages.slice(1, i);
        const source = SOURCE.exec(stages[0] ?? "");
        const name = source?.[1] ?? source?.[2];
        if (name === undefined || i === 0 || middle.some((m) => !DECODE.test(m))) return;
        out.push({ name, base64: middle.length > 0 });
    });
    return out;
}

function commandLines(step: Record<string, unknown>): string[] {
    const commands = step.commands ?? step.command;
    const list = Array.isArray(commands) ? commands : [commands];
    return list.flatMap((c) => (typeof c === "string" ? c.split("\n") : []));
}

/** The documents the steps of a parsed stored document upload, with where each one sits. */
export function uploadedTexts(doc: unknown): UploadedText[] {
    const out: UploadedText[] = [];
    const visit = (steps: unknown, path: string): void => {
        if (!Array.isArray(steps)) return;
        steps.forEach((step: unknown, i) => {
            if (!isRecord(step)) return;
            const stepPath = `${path}[${i}]`;
            if (Array.isArray(step.steps)) visit(step.steps, `${stepPath}.steps`);
            if (!isRecord(step.env)) return;
            const env = step.env;
            for (const { name, base64 } of commandLines(step).flatMap(uploadsOf)) {
                const value = env[name];
                if (typeof value !== "string" || isOpaque(value)) continue;
                const text = halveDollars(value);
                out.push({
                    path: `${stepPath}.env.${name}`,
                    text: base64 ? Buffer.from(text, "base64").toString("utf8") : text,
                });
            }
        });
    };
    visit(Array.isArray(doc) ? doc : isRecord(doc) ? doc.steps : undefined, "steps");
    return out;
}

/**
 * Every schema issue of a YAML stream (the agent uploads every document of a stream: buildkite/agent v3.137.0
 * clicommand/pipeline_upload.go), each path prefixed with `where` (and the document's index when there are several).
 * `onParsed` receives each parsed document; a document that is not YAML is an issue when `reportYamlErrors`.
 */
function streamIssues(
    text: string,
    where: string,
    onParsed: (doc: unknown) => void,
    reportYamlErrors: boolean,
): SchemaIssue[] {
    const docs = yamlStream(text);
    return docs.flatMap((doc, n) => {
        const prefix = docs.length > 1 ? `${where} (document ${n + 1})` : where;
        if (doc.error !== undefined) {
            if (!reportYamlErrors) return [];
            return [{ path: prefix, message: `is not valid YAML: ${doc.error.split("\n")[0]}` }];
        }
        const value = doc.value;
        onParsed(value);
        return validatePipelineDocument(value).map((issue) => ({
            path: issue.path === "" ? prefix : `${prefix}: ${issue.path}`,
            message: issue.message,
        }));
    });
}

/** How deep uploads nest before the check stops following them (the platform's go two deep). */
export const MAX_UPLOAD_DEPTH = 4;

/**
 * The schema issues of a pipeline's stored steps and of every document they upload. Paths read
 * `stored: steps[3].retry` or `uploaded by steps[2].env.CI_PLATFORM_PIPELINE_YAML: steps[0].build`.
 */
export function storedStepsIssues(stepsYaml: string): SchemaIssue[] {
    let pending: UploadedText[] = [];
    // Stored steps that are not YAML are steps-plugins-pinned's finding (policy/rules.ts); uploaded ones are ours.
    const issues = streamIssues(stepsYaml, "stored", (doc) => pending.push(...uploadedTexts(doc)), false);
    // Uploaded documents upload documents in turn (a signing pipeline's one stored step uploads the document whose
    // trigger and package steps upload theirs): every level is checked, each path naming the chain.
    for (let depth = 0; depth < MAX_UPLOAD_DEPTH && pending.length > 0; depth++) {
        const level = pending;
        pending = [];
        for (const { path, text } of level) {
            const nested = (doc: unknown) =>
                pending.push(...uploadedTexts(doc).map((u) => ({ path: `${path} > ${u.path}`, text: u.text })));
            issues.push(...streamIssues(text, `uploaded by ${path}`, nested, true));
        }
    }
    return issues;
}

export const stepsMatchSchema: ResourceRule = {
    kind: "resource",
    name: "steps-match-pipeline-schema",
    description:
        "Every pipeline's stored steps, and every document they upload with buildkite-agent pipeline upload, are valid against Buildkite's pipeline schema.",
    enforcementLevel: "mandatory",
    severity: "high",
    types: ["buildkite:Pipeline/pipeline:Pipeline"],
    remediation:
        "Generate steps from the step model (components/steps/step-model.ts) and fix the attribute named: an unknown key, a wrong type or a value the schema does not accept.",
    check(resource) {
        const steps = resource.inputs.steps;
        if (typeof steps !== "string" || isOpaque(steps)) return [];
        return storedStepsIssues(steps).map(
            ({ path, message }) =>
                `Buildkite pipeline "${resource.name}" has a step Buildkite's pipeline schema refuses: ${path} ${message}. Fix: correct that attribute in the step model or the pipeline's config.`,
        );
    },
};
