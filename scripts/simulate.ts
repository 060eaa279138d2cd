/*
 * npm run simulate -- --pipeline SLUG [--branch B | --tag T | --pr N [--branch HEAD]] [--changed FILE,...]
 *                     [--stack NAME | --config FILE] [--json OUT]
 *
 * Prints the tree of builds a push causes, the way Buildkite would run the steps this program generates: each
 * build, which job triggered it, whether it is blocked; each job, whether it runs and why not, its queue, fleets and
 * regions, image and registry, checkout, secret names and the builds it downloads artifacts from. See README.md,
 * "The build simulator".
 *
 * Exit codes: 0 done; 1 a file could not be read or written; 2 invalid arguments or stack config; 3 the simulation
 * found something Buildkite or the agent would fail on (printed under "Problems").
 */
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { PlatformConfig, formatIssue, parsePlatformConfig } from "../components/config";
import { checkImages, parseVersionsText, readImageFiles, stepImageResolver } from "../components/images";
import { ConditionalError, Simulation, SimulationError, renderSimulation, simulate } from "../components/simulator";
import { generateSteps } from "../components/steps";
import { rawPlatformConfig } from "./plan";
import { readStackFileOrIssues } from "./plan/stack-file";

const ROOT = path.resolve(__dirname, "..");

const USAGE =
    "usage: npm run simulate -- --pipeline SLUG [--branch B | --tag T | --pr N [--branch HEAD]] [--changed FILE,...] [--stack NAME | --config FILE] [--json OUT]";

/** The validated config of a stack file and the stored step documents the program generates for it. */
export function loadForSimulation(file: string): { config: PlatformConfig; stored: Record<string, string> } | string[] {
    const read = readStackFileOrIssues(file);
    if ("issues" in read) return read.issues.map(formatIssue);
    const parsed = parsePlatformConfig(rawPlatformConfig(read.stack));
    if (!parsed.ok) return parsed.error.map(formatIssue);
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

function main(argv: string[]): number {
    let values: Record<string, string | boolean | undefined>;
    try {
        values = parseArgs({
            args: argv,
            options: {
                pipeline: { type: "string" },
                branch: { type: "string" },
                tag: { type: "string" },
                pr: { type: "string" },
                changed: { type: "string" },
                stack: { type: "string" },
                config: { type: "string" },
                json: { type: "string" },
                help: { type: "boolean" },
            },
            strict: true,
        }).values;
    } catch (e) {
        process.stderr.write(`simulate: ${(e as Error).message}\n${USAGE}\n`);
        return 2;
    }
    if (values.help) {
        process.stdout.write(`${USAGE}\n`);
        return 0;
    }
    const fail = (message: string) => {
        process.stderr.write(`simulate: ${message}\n`);
        return 2;
    };
    if (typeof values.pipeline !== "string") return fail(`--pipeline SLUG is required\n${USAGE}`);
    if (values.stack && values.config) return fail("give --stack or --config, not both");
    if (values.tag !== undefined && (values.branch !== undefined || values.pr !== undefined))
        return fail("give at most one of --branch, --tag, --pr (a --pr may name its head --branch)");
    const pr = values.pr === undefined ? undefined : Number(values.pr);
    if (pr !== undefined && !(Number.isInteger(pr) && pr > 0)) return fail(`--pr must be a pull request number`);
    const file =
        (values.config as string | undefined) ??
        path.join(ROOT, `Pulumi.${(values.stack as string | undefined) ?? "prod"}.yaml`);
    let loaded: ReturnType<typeof loadForSimulation>;
    try {
        loaded = loadForSimulation(file);
    } catch (e) {
        process.stderr.write(`simulate: ${(e as Error).message}\n`);
        return 1;
    }
    if (Array.isArray(loaded)) {
        process.stderr.write(`${loaded.join("\n")}\n`);
        return 2;
    }
    let sim: Simulation;
    try {
        sim = simulate({
            config: loaded.config,
            stored: loaded.stored,
            push: {
                pipeline: values.pipeline,
                branch: values.branch as string | undefined,
                tag: values.tag as string | undefined,
                pr,
                changed:
                    typeof values.changed === "string"
                        ? values.changed
                              .split(",")
                              .map((f) => f.trim())
                              .filter(Boolean)
                        : undefined,
            },
        });
    } catch (e) {
        if (e instanceof SimulationError || e instanceof ConditionalError) return fail(e.message);
        throw e;
    }
    if (typeof values.json === "string") writeFileSync(values.json, JSON.stringify(sim, null, 2) + "\n");
    process.stdout.write(renderSimulation(sim) + "\n");
    return sim.problems.length > 0 ? 3 : 0;
}

if (require.main === module) {
    try {
        process.exitCode = main(process.argv.slice(2));
    } catch (e) {
        process.stderr.write(`simulate: ${(e as Error).message ?? String(e)}\n`);
        process.exitCode = 1;
    }
}
