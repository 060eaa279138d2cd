/*
 * npm run simulate -- --pipeline SLUG [--branch B | --tag T | --pr N [--branch HEAD]] [--changed FILE,...]
 *                     [--no-base-builds] [--stack NAME | --config FILE] [--json OUT]
 *
 * Prints the tree of builds a push causes, the way Buildkite would run the steps this program generates: each
 * build, which job triggered it, whether it is blocked; each job, whether it runs and why not, its queue, fleets and
 * regions, image and registry, checkout, secret names and the builds it downloads artifacts from. See README.md,
 * "The build simulator".
 *
 * Exit codes: 0 done; 1 a file could not be read or written; 2 invalid arguments or stack config; 3 the simulation
 * found something Buildkite or the agent would fail on (printed under "Problems").
 *
 * This module is the command line alone: the simulation is scripts/simulate/run.ts, which `main` requires only once
 * the command line asks for one, so that --help and bad usage are answered without loading the config model and SDKs.
 */
import { CliIo, CliOption, CliSpec, CliValues, oneLine, parseCli, printCliAnswer, PROCESS_IO, usageOf } from "./cli";

/** The command line of `npm run simulate`. */
export const SIMULATE_CLI = {
    name: "simulate",
    synopsis: [
        "--pipeline SLUG [--branch B | --tag T | --pr N [--branch HEAD]] [--changed FILE,...] [--no-base-builds] [--stack NAME | --config FILE] [--json OUT]",
    ],
    summary: [
        "Prints the tree of builds one push causes, the way Buildkite would run the steps this program generates:",
        "each build and job, whether it runs and why not, its queue, fleets, image, checkout and secret names.",
    ].join("\n"),
    options: {
        pipeline: { type: "string", value: "SLUG", help: "the pipeline pushed to (a slug in ci-platform:pipelines)" },
        branch: { type: "string", value: "B", help: "the branch pushed (default: the pipeline's default branch)" },
        tag: { type: "string", value: "T", help: "a tag pushed instead of a branch" },
        pr: { type: "string", value: "N", help: "a pull request build (its head branch with --branch)" },
        changed: { type: "string", value: "FILE,...", help: "the files the push changes (monorepo packages)" },
        "no-base-builds": {
            type: "boolean",
            help: "no earlier build holds a skipped package's artifacts (a first build, or expired artifacts)",
        },
        stack: { type: "string", value: "NAME", help: "read Pulumi.NAME.yaml at the repository root (default prod)" },
        config: { type: "string", value: "FILE", help: "read this stack file instead" },
        json: { type: "string", value: "OUT", help: "also write the simulation as JSON here" },
    },
    examples: [
        ["npm run simulate -- --pipeline kolibri-python-package --tag v0.17.0", "a release tag and what it triggers"],
        ["npm run simulate -- --pipeline dagster --pr 12 --changed python_modules/dagster/x.py", "a monorepo PR"],
        ["npm run simulate -- --pipeline hello --config examples/Pulumi.example.yaml", "the example stack"],
    ],
    exitCodes: [
        [0, "simulated; nothing would fail"],
        [1, "a file could not be read or written"],
        [2, "bad usage or an invalid stack file"],
        [3, "the simulation found something Buildkite or the agent would fail on (under Problems)"],
    ],
} as const satisfies CliSpec<Readonly<Record<string, CliOption>>>;

const USAGE = usageOf(SIMULATE_CLI);

/** The options of a simulation, as the command line gives them once checked. */
export type SimulateOptions = CliValues<typeof SIMULATE_CLI.options> & { readonly pipeline: string };

/** `npm run simulate` with `argv`: writes to `io` and returns the exit code (a test passes its own io). */
export function main(argv: readonly string[], io: CliIo = PROCESS_IO): number {
    const cli = parseCli(SIMULATE_CLI, argv);
    if (!cli.run) return printCliAnswer(cli, io);
    const { values } = cli;
    const fail = (message: string) => {
        io.stderr(`simulate: ${message}\n`);
        return 2;
    };
    if (typeof values.pipeline !== "string") return fail(`--pipeline SLUG is required\n${USAGE}`);
    if (values.stack && values.config) return fail("give --stack or --config, not both");
    if (values.tag !== undefined && (values.branch !== undefined || values.pr !== undefined))
        return fail("give at most one of --branch, --tag, --pr (a --pr may name its head --branch)");
    const pr = values.pr === undefined ? undefined : Number(values.pr);
    if (pr !== undefined && !(Number.isInteger(pr) && pr > 0)) return fail(`--pr must be a pull request number`);
    // Required only now: the simulation validates the config, which loads the config model and the SDKs it brings
    // (~2 CPU s) that the answers above do without.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only for a simulation (see above)
    const { simulateCommand } = require("./simulate/run") as typeof import("./simulate/run");
    return simulateCommand({ ...values, pipeline: values.pipeline }, pr, io);
}

if (require.main === module) {
    try {
        process.exitCode = main(process.argv.slice(2));
    } catch (e) {
        process.stderr.write(`simulate: ${oneLine(e)}\n`);
        process.exitCode = 1;
    }
}
