/*
 * The offline plan: evaluates the real program (index.ts) in this process under the Pulumi SDK's mocks, with no
 * Pulumi CLI, credentials or cloud, and prints what the stack declares. See README.md, "The offline plan".
 *
 *   npm run plan -- [--stack NAME | --config FILE] [--json OUT] [--diff BASE.json] [--markdown OUT]
 *
 * Exit codes: 0 done; 1 the program or a file could not be read; 2 bad usage or invalid stack config; 3 a mandatory policy of
 * the policy pack (policy/) is violated (the plan, diff and markdown are still written).
 */
// First: the command line turns source maps off before the modules below load (see the module).
import "./plan/command-line";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import {
    ConfigError,
    ConfigIssue,
    IssueContext,
    RawConfig,
    formatConfigError,
    rawConfigFromMap,
} from "../components/config";
import { parsePlatformConfig } from "../components/platform-config";
import { mermaidMarkdown } from "../components/graph/diagram";
import { fleetMapMarkdown } from "../components/graph/fleet-map";
import { fleetDiffDiagram, triggerDiffDiagram } from "../components/graph/plan-diagrams";
import { triggerGraphOf } from "../components/graph/trigger-graph";
import { Violation, formatViolation, hasMandatoryViolation, runPolicies } from "../policy/offline";
import {
    CliError,
    CliIo,
    CliOption,
    CliSpec,
    oneLine,
    parseCli,
    printCliAnswer,
    PROCESS_IO,
    stackAndConfigProblem,
    readUserFile,
    usageOf,
    writeUserFile,
} from "./cli";
import { captureProgram } from "./plan/capture";
import { runMain } from "./plan/exit";
import { diffPlans, secretNamesOf } from "./plan/diff";
import { PlanDocument } from "./plan/model";
import {
    MarkdownSection,
    renderDiffMarkdown,
    renderDiffText,
    renderPlanMarkdown,
    renderStepsBrief,
    renderTree,
} from "./plan/render";
import { StackConfig, readStackFile, stackFileIssueContext } from "./plan/stack-file";

const ROOT = path.resolve(__dirname, "..");

/** The plan document as bytes: stable key order comes from the capture; two-space JSON and a final newline. */
export function serializePlan(plan: PlanDocument): string {
    return JSON.stringify(plan, null, 2) + "\n";
}

/** Options of one plan run. */
export interface PlanOptions {
    readonly stack?: string;
    readonly config?: string;
    readonly json?: string;
    readonly diff?: string;
    readonly markdown?: string;
}

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

/**
 * The stack file a run reads: `--config FILE`, or `Pulumi.<--stack>.yaml` at the repository root. Throws a one-line
 * {@link CliError} when it does not exist, naming the stacks that do.
 */
export function configFileOf(options: Pick<PlanOptions, "stack" | "config">): string {
    const file = options.config ?? path.join(ROOT, `Pulumi.${options.stack ?? "prod"}.yaml`);
    if (!existsSync(file)) {
        const stacks = readdirSync(ROOT)
            .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
            .filter((s): s is string => s !== undefined);
        throw new CliError(
            options.config !== undefined
                ? `cannot read --config ${options.config}: no such file`
                : `no stack file ${path.relative(process.cwd(), file) || file} for --stack ${options.stack ?? "prod"}; stacks here: ${stacks.join(", ") || "none"} (or give --config FILE)`,
        );
    }
    return file;
}

/**
 * What CI writes as the base of `--diff` when the base branch cannot be planned (.buildkite/plan-diff.sh, ci.yml):
 * an empty plan with `baseFailed`, the reason. The diff then says first that it is not one.
 */
export interface FailedBase extends PlanDocument {
    readonly baseFailed: string;
}

/** Why the base could not be planned, when the base file says it could not ({@link FailedBase}); else undefined. */
export function baseFailureOf(base: PlanDocument): string | undefined {
    const why = (base as Partial<FailedBase>).baseFailed;
    return typeof why === "string" ? why || "no reason given" : undefined;
}

/**
 * The base plan of `--diff` (a plan, or a {@link FailedBase}), or a one-line {@link CliError} that says how to make
 * one.
 */
export function readBasePlan(file: string): PlanDocument {
    const text = readUserFile(
        file,
        "--diff",
        "write the base first: plan the code before your change with --json (npm run plan -- --help shows how)",
    ).toString("utf8");
    let base: unknown;
    try {
        base = JSON.parse(text);
    } catch {
        throw new CliError(`--diff ${file} is not JSON; give a plan written by npm run plan -- --json`);
    }
    const resources = (base as { resources?: unknown } | null)?.resources;
    if (!Array.isArray(resources))
        throw new CliError(
            `--diff ${file} is not a plan (no resources list); give a plan written by npm run plan -- --json`,
        );
    return base as PlanDocument;
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

/** The stack a stack file belongs to: `Pulumi.<stack>.yaml`, or the file name without its extension. */
export function stackNameOf(file: string): string {
    const match = /^Pulumi\.(.+)\.ya?ml$/.exec(path.basename(file));
    return match ? match[1] : path.basename(file).replace(/\.ya?ml$/, "");
}

/** The command line of `npm run plan`. */
export const PLAN_CLI = {
    name: "plan",
    synopsis: ["[--stack NAME | --config FILE] [--json OUT] [--diff BASE.json] [--markdown OUT]"],
    summary: [
        "Evaluates the program (index.ts) offline, under the Pulumi SDK's mocks, for one stack file, and prints the",
        "resources it declares (or, with --diff, what changes against a base plan) and the policy pack's verdict.",
        "No Pulumi CLI, credentials or cloud. The stack file is Pulumi.<NAME>.yaml at the repository root (--stack,",
        "default prod) or any file (--config).",
    ].join("\n"),
    options: {
        stack: { type: "string", value: "NAME", help: "plan Pulumi.NAME.yaml at the repository root (default prod)" },
        config: {
            type: "string",
            value: "FILE",
            help: "plan this stack file instead; the stack's name is taken from the file's (Pulumi.dev.yaml: dev)",
        },
        json: { type: "string", value: "OUT", help: "write the plan document (JSON) here: the base of a later --diff" },
        diff: { type: "string", value: "BASE.json", help: "print the changes from a plan written earlier with --json" },
        markdown: { type: "string", value: "OUT", help: "write the plan (or the diff) as markdown, as the PR comment" },
    },
    examples: [
        ["npm run plan", "plan the prod stack"],
        ["npm run plan -- --config examples/Pulumi.example.yaml", "plan the small example stack"],
        [
            "git switch main && npm run plan -- --json /tmp/base.json; git switch -",
            "the base for --diff: the base branch's plan (commit your edits first)",
        ],
        ["npm run plan -- --diff /tmp/base.json --markdown /tmp/plan.md", "what your change does, and the PR comment"],
    ],
    exitCodes: [
        [0, "planned; no mandatory policy violated"],
        [1, "the program failed or a file could not be read or written"],
        [2, "bad usage, or an invalid stack file (every problem listed)"],
        [3, "a mandatory policy of the policy pack is violated (the plan, diff and markdown are still written)"],
    ],
} as const satisfies CliSpec<Readonly<Record<string, CliOption>>>;

/** The usage line (`--help` prints more: options, examples, exit codes). */
export const USAGE = usageOf(PLAN_CLI);

/**
 * `npm run plan` with `argv`: writes to `io` and returns the exit code. A test passes its own io, and may pass the
 * `runPlan` that builds the plan (one shared plan per stack file in its process); the command passes neither.
 */
export async function main(
    argv: readonly string[],
    io: CliIo & { readonly runPlan?: typeof runPlan } = PROCESS_IO,
): Promise<number> {
    const cli = parseCli(PLAN_CLI, argv);
    if (!cli.run) return printCliAnswer(cli, io);
    const { values } = cli;
    const both = stackAndConfigProblem("plan", values, USAGE);
    if (both !== undefined) {
        io.stderr(both);
        return 2;
    }
    // Read the base first: a missing base is answered before the (slower) plan.
    const base = values.diff === undefined ? undefined : readBasePlan(values.diff);
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

if (require.main === module) {
    // Source maps are off already, unless asked for (./plan/command-line.ts, imported first).
    runMain("plan", () => main(process.argv.slice(2)));
}
