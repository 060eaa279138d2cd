/*
 * The simulation of `npm run simulate` once its command line is parsed (scripts/simulate.ts `main`): validates the
 * stack file, generates the steps and simulates the push. Kept out of scripts/simulate.ts, which requires this module
 * only once the command line asks for a simulation, so that --help and bad usage are answered without loading the
 * config model and the SDKs it brings (about 2 CPU s).
 */
import * as path from "node:path";
import { PlatformConfig, formatIssue, issueFormatter } from "../../components/config";
import { parsePlatformConfig } from "../../components/platform-config";
import { checkImages, parseVersionsText, readImageFiles, stepImageResolver } from "../../components/images";
import { ConditionalError, Simulation, SimulationError, renderSimulation, simulate } from "../../components/simulator";
import { generateSteps } from "../../components/steps";
import { CliIo, oneLine, writeUserFile } from "../cli";
import { configFileOf } from "../plan";
import { rawPlatformConfig } from "../plan/run";
import { readStackFileOrIssues } from "../plan/stack-file";
import type { SimulateOptions } from "../simulate";

const ROOT = path.resolve(__dirname, "..", "..");

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

/**
 * The simulation of `npm run simulate` (scripts/simulate.ts `main`, which has parsed and checked the command line;
 * `pr` is its `--pr` as a number): writes to `io` and returns the exit code.
 */
export function simulateCommand(values: SimulateOptions, pr: number | undefined, io: CliIo): number {
    const fail = (message: string) => {
        io.stderr(`simulate: ${message}\n`);
        return 2;
    };
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
