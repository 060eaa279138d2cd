/*
 * npm run dr -- --fleet NAME | --region REGION [--lost [--to REGION]] [--verbose] [--stack NAME | --config FILE]
 *
 * Prints the exact pulumi commands that rebuild one fleet or every fleet of one region, what is retained, and what
 * is recreated from config; with `--lost`, the evacuation of a region whose API is down, in which no step calls it.
 * Every set of resources is derived from the offline plan of the same config (scripts/dr/scope.ts), so a command never
 * targets a URN the program does not declare. See README.md, "Recovery runbook".
 *
 * This module is the command line alone: the runbooks are scripts/dr/runbook.ts, which `main` requires only once the
 * command line asks for one, so that --help and bad usage are answered without loading the program and the SDKs.
 */
import { AWS_REGION_NAMES } from "../components/config/regions";
import { didYouMean } from "../components/config/issues";
import {
    CliIo,
    CliOption,
    CliSpec,
    CliValues,
    parseCli,
    printCliAnswer,
    PROCESS_IO,
    stackAndConfigProblem,
    usageOf,
} from "./cli";
import { runMain } from "./plan/exit";
import type { buildPlan } from "./plan/run";

/** The command line of `npm run dr`. */
export const DR_CLI = {
    name: "dr",
    synopsis: ["--fleet NAME | --region REGION [--lost [--to REGION]] [--verbose] [--stack NAME | --config FILE]"],
    summary: [
        "Prints the pulumi commands that rebuild one agent fleet, or every fleet of one region, and what is retained,",
        "recreated and restored; with --lost, the evacuation of a region whose API is down, in which no step calls it.",
        "Every set of resources comes from the offline plan of the same stack file; commands select them by URN pattern.",
        "Prints commands; runs none.",
    ].join("\n"),
    options: {
        fleet: { type: "string", value: "NAME", help: "rebuild this fleet (a name in ci-platform:fleets)" },
        region: { type: "string", value: "REGION", help: "rebuild every fleet of this AWS region" },
        lost: { type: "boolean", help: "the region's API is down: evacuate it with state-only steps (with --region)" },
        to: { type: "string", value: "REGION", help: "the healthy region the evacuated fleets move to (with --lost)" },
        stack: { type: "string", value: "NAME", help: "read Pulumi.NAME.yaml at the repository root (default prod)" },
        config: { type: "string", value: "FILE", help: "read this stack file instead" },
        verbose: { type: "boolean", help: "list every resource's full URN rather than short names per type" },
    },
    examples: [
        ["npm run dr -- --fleet linux-us-east-1", "the runbook for one fleet of the prod stack"],
        ["npm run dr -- --region eu-west-1", "the runbook for a region"],
        ["npm run dr -- --region eu-west-1 --verbose", "the same, with every resource's full URN"],
        ["npm run dr -- --region eu-west-1 --lost --to eu-central-1", "evacuate a region whose API is down"],
        ["npm run dr -- --region us-east-1 --config examples/Pulumi.example.yaml", "the example stack's region"],
    ],
    exitCodes: [
        [0, "printed the runbook"],
        [1, "the program failed or a file could not be read"],
        [2, "bad usage, an unknown fleet or region, or an invalid stack file"],
    ],
} as const satisfies CliSpec<Readonly<Record<string, CliOption>>>;

/** The usage line (`--help` prints more). */
export const USAGE = usageOf(DR_CLI);

/** The options of a runbook, as the command line gives them. */
export type DrOptions = CliValues<typeof DR_CLI.options>;

/**
 * `npm run dr` with `argv`: writes to `io` and returns the exit code. A test passes its own io, and may pass the
 * `buildPlan` that builds the plan (one shared plan per stack file in its process); the command passes neither.
 */
export async function main(
    argv: readonly string[],
    io: CliIo & { readonly buildPlan?: typeof buildPlan } = PROCESS_IO,
): Promise<number> {
    const cli = parseCli(DR_CLI, argv);
    if (!cli.run) return printCliAnswer(cli, io);
    const { values } = cli;
    if (!values.fleet === !values.region) {
        io.stderr(`dr: give exactly one of --fleet NAME or --region REGION\n${USAGE}\n`);
        return 2;
    }
    const both = stackAndConfigProblem("dr", values, USAGE);
    if (both !== undefined) {
        io.stderr(both);
        return 2;
    }
    if ((values.lost || values.to) && !values.region) {
        io.stderr("dr: --lost and --to go with --region REGION (a lost region is evacuated whole)\n");
        return 2;
    }
    if (values.to && !values.lost) {
        io.stderr("dr: --to REGION goes with --lost\n");
        return 2;
    }
    if (values.to && (!(AWS_REGION_NAMES as readonly string[]).includes(values.to) || values.to === values.region)) {
        io.stderr(
            `dr: --to must be a healthy AWS region other than ${values.region ?? ""}; ${didYouMean(values.to, AWS_REGION_NAMES)}\n`,
        );
        return 2;
    }
    // Required only now: the runbook plans the stack, which loads the program and the provider SDKs (~2.5 CPU s)
    // that the answers above do without.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only for a runbook (see above)
    const { drCommand } = require("./dr/runbook") as typeof import("./dr/runbook");
    return drCommand(values, io);
}

if (require.main === module) runMain("dr", () => main(process.argv.slice(2)));
