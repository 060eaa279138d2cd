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
 */
import * as path from "node:path";
import { PlatformConfig, formatIssue, issueFormatter } from "../components/config";
import { parsePlatformConfig } from "../components/platform-config";
import { checkImages, parseVersionsText, readImageFiles, stepImageResolver } from "../components/images";
import { ConditionalError, Simulation, SimulationError, renderSimulation, simulate } from "../components/simulator";
import { generateSteps } from "../components/steps";
import {
    CliIo,
    CliOption,
    CliSpec,
    oneLine,
    parseCli,
    printCliAnswer,
    PROCESS_IO,
    usageOf,
    writeUserFile,
} from "./cli";
import { configFileOf, rawPlatformConfig } from "./plan";
import { readStackFileOrIssues } from "./plan/stack-file";

const ROOT = path.resolve(__dirname, "..");

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

/** The validated config of a stack file and the stored step documents the program generates for it. */
export function loadForSimulation(file: string): { config: PlatformConfig; stored: Record<string, string> } | string[] {
    const read = readStackFileOrIssues(file);
    const format = issueFormatter(read.context);
    if ("issues" in read) return read.issues.map(format);
    const parsed = parsePlatformConfig(rawPlatformConfig(read.stack));
    if (!parsed.ok) return parsed.error.map(format);
    const imageFiles = readImageFiles(ROOT);
    const imageIssues = checkImages(parsed.value, imageFiles);
    if (imageIssues.length > 0) return imageIssues.map(formatIssue);
    const versions = parseVersionsText(imageFiles.versionsJson ?? "{}").value ?? {};
    const steps = generateSteps(parsed.value, stepImageResolver(parsed.value.images, versions));
    return {
        config: parsed.value,
        stored: Object.fromEntries(Object.entries(steps.bySlug).map(([slug, s]) => [slug, s.stored])),
    };
}

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
    let loaded: ReturnType<typeof loadForSimulation>;
    try {
        loaded = loadForSimulation(configFileOf(values));
    } catch (e) {
        io.stderr(`simulate: ${oneLine(e)}\n`);
        return 1;
    }
    if (Array.isArray(loaded)) {
        io.stderr(`${loaded.join("\n")}\n`);
        return 2;
    }
    let sim: Simulation;
    try {
        sim = simulate({
            config: loaded.config,
            stored: loaded.stored,
            push: {
                pipeline: values.pipeline,
                branch: values.branch,
                tag: values.tag,
                pr,
                changed:
                    typeof values.changed === "string"
                        ? values.changed
                              .split(",")
                              .map((f) => f.trim())
                              .filter(Boolean)
                        : undefined,
                baseBuilds: values["no-base-builds"] === true ? false : undefined,
            },
        });
    } catch (e) {
        if (e instanceof SimulationError || e instanceof ConditionalError) return fail(e.message);
        throw e;
    }
    if (typeof values.json === "string") writeUserFile(values.json, JSON.stringify(sim, null, 2) + "\n", "--json");
    io.stdout(renderSimulation(sim) + "\n");
    return sim.problems.length > 0 ? 3 : 0;
}

if (require.main === module) {
    try {
        process.exitCode = main(process.argv.slice(2));
    } catch (e) {
        process.stderr.write(`simulate: ${oneLine(e)}\n`);
        process.exitCode = 1;
    }
}
