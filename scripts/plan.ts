/*
 * The offline plan: evaluates the real program (index.ts) in this process under the Pulumi SDK's mocks, with no
 * Pulumi CLI, credentials or cloud, and prints what the stack declares. See README.md, "The offline plan".
 *
 *   npm run plan -- [--stack NAME | --config FILE] [--json OUT] [--diff BASE.json] [--markdown OUT]
 *
 * Exit codes: 0 done; 1 the program or a file could not be read; 2 bad usage or invalid stack config; 3 a mandatory policy of
 * the policy pack (policy/) is violated (the plan, diff and markdown are still written).
 *
 * This module is the command line alone, and loads nothing heavy: the run (the program, the policy pack, the provider
 * SDKs) is scripts/plan/run.ts, which `main` requires only once the command line asks for one, so that --help and bad
 * usage are answered at once.
 */
// First: the command line turns source maps off before the modules below load (see the module).
import "./plan/command-line";
import { existsSync, readdirSync } from "node:fs";
import * as path from "node:path";
import {
    CliError,
    CliIo,
    CliOption,
    CliSpec,
    parseCli,
    printCliAnswer,
    PROCESS_IO,
    stackAndConfigProblem,
    readUserFile,
    usageOf,
} from "./cli";
import { runMain } from "./plan/exit";
import { PlanDocument } from "./plan/model";
import type { runPlan } from "./plan/run";

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
    // Required only now: the run loads the program, the policy pack and the provider SDKs (~2 CPU s), which the
    // answers above (--help, bad usage, a missing base) do without.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only for a run (see above)
    const { planCommand } = require("./plan/run") as typeof import("./plan/run");
    return planCommand(values, base, io);
}

if (require.main === module) {
    // Source maps are off already, unless asked for (./plan/command-line.ts, imported first).
    runMain("plan", () => main(process.argv.slice(2)));
}
