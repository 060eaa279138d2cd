/**
 * The generated steps, checked when the program runs: every pipeline's stored document and every document its
 * stored steps upload must pass Buildkite's pipeline schema ({@link validatePipelineDocument}) and the project's
 * rules ({@link checkOurRules}). A problem is reported as a config issue of the pipeline that generated it, so the
 * program stops before it registers a resource (the policy pack's `steps-match-pipeline-schema` judges the same
 * documents again, from the plan or a real preview).
 *
 * Pure module: generated steps in, issues out.
 *
 * @module
 */
import type { ConfigIssue } from "../config/issues";
import type { PipelineConfig } from "../config/schema";
import { yamlStream } from "./parsed-yaml";
import { checkOurRules, validatePipelineDocument } from "./pipeline-schema";
import type { PipelineSteps } from "./pipeline-steps";

/** Every problem of one YAML text, each path prefixed with `where`. */
function documentProblems(yamlText: string, where: string): string[] {
    // Parsed once per text (parsed-yaml.ts): the policy pack reads the same documents again.
    const docs = yamlStream(yamlText);
    return docs.flatMap((doc, n) => {
        const prefix = docs.length > 1 ? `${where} (document ${n + 1})` : where;
        if (doc.error !== undefined) return [`${prefix} is not valid YAML (${doc.error.split("\n")[0]})`];
        const value = doc.value;
        return [...validatePipelineDocument(value), ...checkOurRules(value)].map(
            (issue) => `${prefix}${issue.path === "" ? "" : ` ${issue.path}`} ${issue.message}`,
        );
    });
}

/**
 * The issues of every pipeline whose generated steps break the schema or the project's rules: one per problem, at
 * `ci-platform:pipelines[i]`, naming the document (`stored steps`, or `the document uploaded by step "triggers"`)
 * and the attribute's path in it.
 */
export function generatedStepIssues(
    pipelines: readonly Pick<PipelineConfig, "slug">[],
    bySlug: Readonly<Record<string, Pick<PipelineSteps, "stored" | "document" | "uploaded">>>,
): ConfigIssue[] {
    return pipelines.flatMap((pipeline, index) => {
        const steps = bySlug[pipeline.slug];
        if (steps === undefined) return [];
        const problems = [
            ...documentProblems(steps.stored, "stored steps"),
            // A signing cluster stores one upload step (stored-upload.ts); the generated document is what it uploads.
            ...(steps.document === steps.stored
                ? []
                : documentProblems(steps.document, "the document the stored upload step uploads")),
            ...steps.uploaded.flatMap((u) =>
                documentProblems(u.yaml, `the document uploaded by step ${JSON.stringify(u.stepKey)}`),
            ),
        ];
        return problems.map((problem): ConfigIssue => ({
            path: ["pipelines", index],
            message: `the steps generated for pipeline "${pipeline.slug}" break Buildkite's pipeline schema or the platform's step rules: ${problem}`,
            fix: "change the pipeline's settings that produce this attribute; if they are valid, the step generator (components/steps) has a bug to report",
        }));
    });
}
