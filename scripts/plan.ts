/*
 * The offline plan: evaluates the real program (index.ts) in this process under the Pulumi SDK's mocks, with no
 * Pulumi CLI, credentials or cloud, and prints what the stack declares. See README.md, "The offline plan".
 *
 *   npm run plan -- [--stack NAME | --config FILE] [--json OUT] [--diff BASE.json] [--markdown OUT]
 *
 * Exit codes: 0 done; 1 the program or a file could not be read; 2 invalid stack config; 3 a mandatory policy of
 * the policy pack (policy/) is violated (the plan, diff and markdown are still written).
 */
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { parse } from "yaml";
import { RawConfig, parsePlatformConfig, rawConfigFromMap } from "../components/config";
import { mermaidMarkdown } from "../components/graph/diagram";
import { fleetMapMarkdown } from "../components/graph/fleet-map";
import { triggerGraphOf } from "../components/graph/trigger-graph";
import { formatViolation, hasMandatoryViolation, runPolicies } from "../policy/offline";
import { captureProgram } from "./plan/capture";
import { exitWhenFlushed } from "./plan/exit";
import { diffPlans } from "./plan/diff";
import { PlanDocument } from "./plan/model";
import {
    MarkdownSection,
    renderDiffMarkdown,
    renderDiffText,
    renderPlanMarkdown,
    renderStepsBrief,
    renderTree,
} from "./plan/render";
import { StackConfig, readStackFile } from "./plan/stack-file";

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
    const project = (parse(readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as { name: string }).name;
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

/** Runs the program for a stack file and returns its plan document. Throws the program's errors. */
export async function buildPlan(options: Pick<PlanOptions, "stack" | "config">): Promise<PlanDocument> {
    return (await runPlan(options)).plan;
}

function configFileOf(options: Pick<PlanOptions, "stack" | "config">): string {
    return options.config ?? path.join(ROOT, `Pulumi.${options.stack ?? "prod"}.yaml`);
}

/** The `ci-platform:*` keys of a stack file, parsed as the program parses them. */
export function rawPlatformConfig(stack: StackConfig): RawConfig {
    return rawConfigFromMap(stack.config);
}

/**
 * Each pipeline's steps in brief (the program exports them as `pipelineSteps`), and the trigger graph and the fleets
 * as Mermaid diagrams (from the config), or nothing when the config is invalid.
 */
export function stepsOverview(
    stack: StackConfig,
    outputs: Record<string, unknown>,
): { brief: string[]; sections: MarkdownSection[] } {
    const parsed = parsePlatformConfig(rawPlatformConfig(stack));
    if (!parsed.ok) return { brief: [], sections: [] };
    const brief = outputs.pipelineSteps;
    return {
        brief: brief !== null && typeof brief === "object" ? Object.values(brief).map(String) : [],
        sections: [
            { title: "Trigger graph", body: mermaidMarkdown(triggerGraphOf(parsed.value)) },
            { title: "Agent fleets by region", body: fleetMapMarkdown(parsed.value) },
        ],
    };
}

/** The stack a stack file belongs to: `Pulumi.<stack>.yaml`, or the file name without its extension. */
export function stackNameOf(file: string): string {
    const match = /^Pulumi\.(.+)\.ya?ml$/.exec(path.basename(file));
    return match ? match[1] : path.basename(file).replace(/\.ya?ml$/, "");
}

/** What `--help` prints. */
export const USAGE =
    "usage: npm run plan -- [--stack NAME | --config FILE] [--json OUT] [--diff BASE.json] [--markdown OUT]";

async function main(argv: string[]): Promise<number> {
    const { values } = parseArgs({
        args: argv,
        options: {
            stack: { type: "string" },
            config: { type: "string" },
            json: { type: "string" },
            diff: { type: "string" },
            markdown: { type: "string" },
            help: { type: "boolean" },
        },
        strict: true,
    });
    if (values.help) {
        process.stdout.write(`${USAGE}\n`);
        return 0;
    }
    if (values.stack && values.config) {
        process.stderr.write("plan: give --stack or --config, not both\n");
        return 1;
    }
    let run: PlanRun;
    try {
        run = await runPlan(values);
    } catch (e) {
        const error = e as Error & { issues?: unknown[] };
        if (error.name === "ConfigError") {
            process.stderr.write(`${error.message}\n`);
            return 2;
        }
        process.stderr.write(`plan: ${error.message ?? String(e)}\n`);
        return 1;
    }
    const { plan } = run;
    if (values.json) writeFileSync(values.json, serializePlan(plan));
    const violations = runPolicies(plan.resources);
    const overview = stepsOverview(run.stackConfig, run.outputs);
    const sections = [
        ...overview.sections,
        {
            title: "Policy pack",
            body:
                violations.length === 0
                    ? "No violations."
                    : violations
                          .map((v) => `- **${v.enforcementLevel}** ${v.policy}: ${v.message} (\`${v.urn}\`)`)
                          .join("\n"),
        },
    ];
    if (values.diff) {
        const base = JSON.parse(readFileSync(values.diff, "utf8")) as PlanDocument;
        const diff = diffPlans(base, plan);
        process.stdout.write(renderDiffText(diff) + "\n");
        if (values.markdown) writeFileSync(values.markdown, renderDiffMarkdown(diff, plan.stack, sections));
    } else {
        process.stdout.write(renderTree(plan) + "\n" + renderStepsBrief(overview.brief) + "\n");
        if (values.markdown) writeFileSync(values.markdown, renderPlanMarkdown(plan, sections));
    }
    process.stdout.write(
        violations.length === 0
            ? "\nPolicy pack ci-platform: no violations.\n"
            : `\nPolicy pack ci-platform: ${violations.length} violation(s):\n${violations.map((v) => `  ${formatViolation(v)}`).join("\n")}\n`,
    );
    return hasMandatoryViolation(violations) ? 3 : 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => exitWhenFlushed(code),
        (e: unknown) => {
            process.stderr.write(`plan: ${(e as Error).message ?? String(e)}\n`);
            return exitWhenFlushed(1);
        },
    );
}
