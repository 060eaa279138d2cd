/*
 * The run of `npm run plan` once its command line is parsed (scripts/plan.ts `main`): evaluates the program under the
 * mocks, applies the policy pack and prints the plan or the diff. Kept out of scripts/plan.ts, which requires this
 * module only once the command line asks for a run, so that --help and a wrong flag are answered without loading the
 * program, the policy pack and the provider SDKs (about 2 CPU s).
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import {
    ConfigError,
    ConfigIssue,
    IssueContext,
    RawConfig,
    formatConfigError,
    rawConfigFromMap,
} from "../../components/config";
import { parsePlatformConfig } from "../../components/platform-config";
import { mermaidMarkdown } from "../../components/graph/diagram";
import { fleetMapMarkdown } from "../../components/graph/fleet-map";
import { fleetDiffDiagram, triggerDiffDiagram } from "../../components/graph/plan-diagrams";
import { triggerGraphOf } from "../../components/graph/trigger-graph";
import { Violation, formatViolation, hasMandatoryViolation, runPolicies } from "../../policy/offline";
import { CliIo, oneLine, writeUserFile } from "../cli";
import { PlanOptions, baseFailureOf, configFileOf, serializePlan, stackNameOf } from "../plan";
import { captureProgram } from "./capture";
import { diffPlans, secretNamesOf } from "./diff";
import { PlanDocument } from "./model";
import {
    MarkdownSection,
    renderDiffMarkdown,
    renderDiffText,
    renderPlanMarkdown,
    renderStepsBrief,
    renderTree,
} from "./render";
import { StackConfig, readStackFile, stackFileIssueContext } from "./stack-file";

const ROOT = path.resolve(__dirname, "..", "..");

/** A plan run: the document, the stack's exported outputs (secrets redacted) and the stack file it read. */
export interface PlanRun {
    readonly plan: PlanDocument;
    readonly outputs: Record<string, unknown>;
    readonly stackConfig: StackConfig;
}

/** Runs the program for a stack file. Throws the program's errors. */
export async function runPlan(options: Pick<PlanOptions, "stack" | "config">): Promise<PlanRun> {
    const configFile = configFileOf(options);
    const stack = options.stack ?? stackNameOf(configFile);
    const projectFile = parse(readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as Record<string, unknown>;
    const unhonoured = projectIssues(projectFile);
    if (unhonoured.length > 0) throw new ConfigError(unhonoured, { file: "Pulumi.yaml" });
    const project = String(projectFile.name);
    const stackConfig = readStackFile(configFile);
    const captured = await captureProgram({
        project,
        stack,
        config: stackConfig.config,
        secretKeys: stackConfig.secretKeys,
        programPath: path.join(ROOT, "index.ts"),
    });
    return {
        plan: { project, stack, resources: captured.resources, secretVersions: captured.secretVersions },
        outputs: captured.outputs,
        stackConfig,
    };
}

/**
 * Project settings (Pulumi project file reference, pulumi.com/docs/iac/concepts/projects/project-file) that change
 * which config a stack gets, which the offline plan (it reads one stack file) would not follow: project-level
 * `config:` (values and defaults for every stack) and `stackConfigDir` (stack files elsewhere than the root).
 */
export function projectIssues(project: Readonly<Record<string, unknown>>): ConfigIssue[] {
    return (["config", "stackConfigDir"] as const)
        .filter((key) => project[key] !== undefined)
        .map((key) => ({
            path: [],
            message: `Pulumi.yaml sets ${key}:, which the offline plan does not follow (it reads the stack file alone)`,
            fix:
                key === "config"
                    ? "move the values into each Pulumi.<stack>.yaml (pulumi config set), or preview with pulumi preview"
                    : "keep the stack files at the repository root, or pass the stack file with --config",
        }));
}

/** Runs the program for a stack file and returns its plan document. Throws the program's errors. */
export async function buildPlan(options: Pick<PlanOptions, "stack" | "config">): Promise<PlanDocument> {
    return (await runPlan(options)).plan;
}

/** The `ci-platform:*` keys of a stack file, parsed as the program parses them. */
export function rawPlatformConfig(stack: StackConfig): RawConfig {
    return rawConfigFromMap(stack.config);
}

/**
 * Each pipeline's steps in brief (the program exports them as `pipelineSteps`), and the trigger graph and the fleets
 * as Mermaid diagrams (from the config; none when it is invalid). The diagrams are drawn only when asked for (only the
 * markdown shows them): drawing them parses the config again, a second or more at a thousand pipelines.
 */
export function stepsOverview(
    stack: StackConfig,
    outputs: Record<string, unknown>,
): { brief: string[]; sections: () => MarkdownSection[] } {
    const brief = outputs.pipelineSteps;
    return {
        brief: brief !== null && typeof brief === "object" ? Object.values(brief).map(String) : [],
        sections: () => {
            const parsed = parsePlatformConfig(rawPlatformConfig(stack));
            if (!parsed.ok) return [];
            return [
                { title: "Trigger graph", body: mermaidMarkdown(triggerGraphOf(parsed.value)) },
                { title: "Agent fleets by region", body: fleetMapMarkdown(parsed.value) },
            ];
        },
    };
}

/** The policy violations as markdown lines, mandatory ones first (the verdict of the PR comment). */
export function violationLines(violations: readonly Violation[]): string[] {
    const rank = (v: Violation) => (v.enforcementLevel === "mandatory" ? 0 : 1);
    return [...violations]
        .sort((a, b) => rank(a) - rank(b))
        .map((v) => `- **${v.enforcementLevel}** ${v.policy}: ${v.message} (\`${v.urn}\`)`);
}

/** The diagrams of a diff: the trigger graph and the fleets, each only when it changed, additions and removals marked. */
export function diffDiagrams(base: PlanDocument, head: PlanDocument): MarkdownSection[] {
    const fence = (d: string) => ["```mermaid", d, "```"].join("\n");
    const triggers = triggerDiffDiagram(base, head);
    const fleets = fleetDiffDiagram(base, head);
    return [
        ...(triggers === null ? [] : [{ title: "Trigger graph: what changes", body: fence(triggers) }]),
        ...(fleets === null ? [] : [{ title: "Agent fleets: what changes", body: fence(fleets) }]),
    ];
}

/**
 * The plan run of `npm run plan` (scripts/plan.ts `main`, which has parsed the command line and read the base of
 * `--diff`): writes to `io` and returns the exit code.
 */
export async function planCommand(
    values: PlanOptions,
    base: PlanDocument | undefined,
    io: CliIo & { readonly runPlan?: typeof runPlan },
): Promise<number> {
    let run: PlanRun;
    try {
        run = await (io.runPlan ?? runPlan)(values);
    } catch (e) {
        const error = e as Error & { issues?: readonly ConfigIssue[]; context?: IssueContext };
        if (error.name === "ConfigError") {
            // A problem of the project file is placed there; any other, found by the program under the mocks (which
            // knows no file) or in the stack file, is reported in the stack file's terms.
            const file = configFileOf(values);
            if (error.context?.file === "Pulumi.yaml") {
                io.stderr(`${error.message}\n`);
                return 2;
            }
            io.stderr(
                `${Array.isArray(error.issues) ? formatConfigError(error.issues, stackFileIssueContext(file)) : error.message}\n`,
            );
            return 2;
        }
        io.stderr(`plan: ${oneLine(e)}\n`);
        return 1;
    }
    const { plan } = run;
    if (values.json) writeUserFile(values.json, serializePlan(plan), "--json");
    const violations = runPolicies(plan.resources);
    if (base !== undefined) {
        // The head stack file names the secrets whose versions changed (names only).
        const diff = diffPlans(base, plan, undefined, secretNamesOf(run.stackConfig.config));
        const parents = new Map([...base.resources, ...plan.resources].map((r) => [r.urn, r.parent]));
        const baseFailed = baseFailureOf(base);
        io.stdout(renderDiffText(diff, parents, { baseFailed }) + "\n");
        if (values.markdown)
            writeUserFile(
                values.markdown,
                renderDiffMarkdown(diff, plan.stack, {
                    violations: violationLines(violations),
                    sections: diffDiagrams(base, plan),
                    parents,
                    baseFailed,
                }),
                "--markdown",
            );
    } else {
        const overview = stepsOverview(run.stackConfig, run.outputs);
        io.stdout(renderTree(plan) + "\n" + renderStepsBrief(overview.brief) + "\n");
        if (values.markdown)
            writeUserFile(
                values.markdown,
                renderPlanMarkdown(plan, { violations: violationLines(violations), sections: overview.sections() }),
                "--markdown",
            );
    }
    io.stdout(
        violations.length === 0
            ? "\nPolicy pack ci-platform: no violations.\n"
            : `\nPolicy pack ci-platform: ${violations.length} violation(s):\n${violations.map((v) => `  ${formatViolation(v)}`).join("\n")}\n`,
    );
    return hasMandatoryViolation(violations) ? 3 : 0;
}
