/*
 * npm run bench: how much CPU time, wall time and memory the offline plan takes for the prod stack and for synthetic
 * organisations of growing size, against a baseline process that only loads the provider SDKs. Each measurement is a
 * fresh process; the runs are paired (rounds of baseline, prod, each size, in turn) and the table gives medians, the
 * ratio to the baseline taken within each round. Each plan has its SDK floor too, measured in the same rounds: a
 * process that registers the plan's own resources and does nothing else (scripts/bench/replay.ts), so the table
 * tells the SDK's per-resource cost from the program's. Then, unless --no-tests, the time of npm run test:unit.
 *
 *   npm run bench -- [--sizes 100,500,1000] [--runs 5] [--no-tests]
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { PROVIDER_SDKS } from "./bench/sdks";
import { syntheticOrganization } from "./bench/synthetic";
import { Round, Row, Sample, median, summarise } from "./bench/summary";
import { CliIo, CliOption, CliSpec, oneLine, parseCli, PROCESS_IO, printCliAnswer, readUserFile, usageOf } from "./cli";

const ROOT = path.resolve(__dirname, "..");
/** How `npm run plan` starts node (package.json): a larger young generation halves GC time on large plans. */
const TSX = ["--max-semi-space-size=32", "--import", "tsx"];

/** Runs node with `args` once: wall time, and the child's own CPU time and peak memory (scripts/bench/usage.cjs). */
function measure(args: string[]): Sample {
    const dir = mkdtempSync(path.join(tmpdir(), "bench-"));
    const usage = path.join(dir, "usage.json");
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, ["--require", path.join(__dirname, "bench", "usage.cjs"), ...args], {
        cwd: ROOT,
        env: { ...process.env, BENCH_USAGE_FILE: usage },
        encoding: "utf8",
        maxBuffer: 256 * 1024 * 1024,
    });
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    if (result.status !== 0) throw new Error(`node ${args.join(" ")} failed:\n${result.stderr}`);
    const { maxRSS, userCPUTime, systemCPUTime } = JSON.parse(readFileSync(usage, "utf8")) as Record<string, number>;
    return { wallMs, userMs: userCPUTime / 1000, systemMs: systemCPUTime / 1000, maxRssMb: maxRSS / 1024 };
}

/** The command line of `npm run bench`. */
export const BENCH_CLI = {
    name: "bench",
    synopsis: ["[--sizes 100,500,1000] [--runs 5] [--no-tests]"],
    summary: [
        "Measures the offline plan (CPU time, wall time and peak memory; medians of paired rounds of fresh processes) for",
        "the prod stack and synthetic organisations of growing size, against a baseline that only loads the SDKs, the",
        "ratio taken within each round; then npm run test:unit.",
        "Takes minutes: run it alone on a shared machine.",
    ].join("\n"),
    options: {
        sizes: {
            type: "string",
            value: "N,N,...",
            help: "synthetic organisation sizes, in pipelines (default 100,500,1000)",
        },
        runs: { type: "string", value: "N", help: "paired rounds, one fresh process per stack each (default 5)" },
        "no-tests": { type: "boolean", help: "skip timing npm run test:unit" },
    },
    examples: [
        ["npm run bench", "the README's table"],
        ["npm run bench -- --sizes 100 --runs 1 --no-tests", "a quick look"],
    ],
    exitCodes: [
        [0, "measured"],
        [1, "a run failed or a file could not be read"],
        [2, "bad usage"],
    ],
} as const satisfies CliSpec<Readonly<Record<string, CliOption>>>;

/** Runs the benchmark; returns the exit code. Usage problems and help go to `io`; the figures to the console. */
export function main(argv: string[], io: CliIo = PROCESS_IO): number {
    const cli = parseCli(BENCH_CLI, argv);
    if (!cli.run) return printCliAnswer(cli, io);
    const sizes = (cli.values.sizes ?? "100,500,1000").split(",").map(Number);
    const runs = Number(cli.values.runs ?? "5");
    if (sizes.some((n) => !Number.isInteger(n) || n < 1) || !Number.isInteger(runs) || runs < 1) {
        io.stderr(
            `bench: --sizes takes whole numbers of pipelines and --runs a whole number, all at least 1\n${usageOf(BENCH_CLI)}\n`,
        );
        return 2;
    }
    const dir = mkdtempSync(path.join(tmpdir(), "bench-stacks-"));
    const prodFile = path.join(ROOT, "Pulumi.prod.yaml");
    const prod = parse(readUserFile(prodFile, "the prod stack file").toString("utf8")) as {
        config: Record<string, unknown>;
    };
    const stacks = [
        { label: "prod", file: prodFile },
        ...sizes.map((size) => {
            const file = path.join(dir, `Pulumi.bench-${size}.yaml`);
            writeFileSync(file, stringify({ config: syntheticOrganization(prod.config, size) }));
            return { label: `${size} pipelines`, file };
        }),
    ];
    const baselineArgs = [...TSX, "-e", PROVIDER_SDKS.map((s) => `require(${JSON.stringify(s)});`).join("")];
    const planJson = (file: string) => path.join(dir, `${path.basename(file)}.json`);
    const planArgs = (file: string) => [...TSX, "scripts/plan.ts", "--config", file, "--json", planJson(file)];
    // The SDK's own floor for the plan: its resources registered again with nothing of the program
    // (scripts/bench/replay.ts), from the plan document the warm-up run writes.
    const replayArgs = (file: string) => [...TSX, "scripts/bench/replay.ts", planJson(file)];
    // One unmeasured run of each warms tsx's transpile cache (in the OS temp dir) and the OS file cache: every
    // measured process, the baseline's too, starts warm.
    measure(baselineArgs);
    for (const { file } of stacks) {
        measure(planArgs(file));
        measure(replayArgs(file));
    }
    const loadBefore = loadavg();
    const rounds: Round[] = [];
    for (let i = 0; i < runs; i++) {
        const baseline = measure(baselineArgs);
        const plans: Record<string, Sample> = {};
        const floors: Record<string, Sample> = {};
        for (const { label, file } of stacks) {
            plans[label] = measure(planArgs(file));
            floors[label] = measure(replayArgs(file));
        }
        rounds.push({ baseline, plans, floors });
    }
    const loadAfter = loadavg();
    const resources = new Map(
        stacks.map(({ label, file }) => [
            label,
            (
                JSON.parse(readFileSync(path.join(dir, `${path.basename(file)}.json`), "utf8")) as {
                    resources: unknown[];
                }
            ).resources.length,
        ]),
    );
    const rows = summarise(
        rounds,
        stacks.map((s) => s.label),
    );
    console.log(
        formatTable(
            [
                "stack",
                "resources",
                "CPU s",
                "wall s",
                "peak RSS MiB",
                "(largest)",
                "CPU × baseline",
                "SDK floor CPU s",
                "floor RSS MiB",
                "CPU × floor",
            ],
            rows.map((r: Row) => [
                r.label,
                String(resources.get(r.label) ?? "-"),
                (r.cpuMs / 1000).toFixed(2),
                (r.wallMs / 1000).toFixed(2),
                fmt(r.maxRssMb),
                fmt(r.largestRssMb),
                r.cpuRatio.toFixed(2),
                r.floor === undefined ? "-" : (r.floor.cpuMs / 1000).toFixed(2),
                r.floor === undefined ? "-" : fmt(r.floor.maxRssMb),
                r.floor === undefined ? "-" : r.floor.cpuRatio.toFixed(2),
            ]),
        ),
    );
    console.log(
        `\nMedians of ${runs} paired round(s) (baseline, then each plan, in turn; warm tsx cache); CPU is user + system ` +
            `of the process; × baseline is the median of each round's ratio. The SDK floor registers the plan's own ` +
            `resources under the SDK's mocks after loading the SDKs, with nothing of the program ` +
            `(scripts/bench/replay.ts); × floor is the median of each round's plan / floor. Load average (1, 5, 15 min): ` +
            `${loadBefore.map((l) => l.toFixed(2)).join(" ")} before, ${loadAfter.map((l) => l.toFixed(2)).join(" ")} after.`,
    );
    const sized = rows.slice(2);
    if (sized.length >= 2) {
        const [first, last] = [sized[0], sized[sized.length - 1]];
        const floor = rows[0].cpuMs;
        console.log(
            `Growth from ${sizes[0]} to ${sizes[sizes.length - 1]} pipelines: ×${(last.cpuMs / first.cpuMs).toFixed(2)} CPU, ` +
                `×${((last.cpuMs - floor) / Math.max(1, first.cpuMs - floor)).toFixed(2)} above the baseline, ` +
                `for ×${(sizes[sizes.length - 1] / sizes[0]).toFixed(0)} pipelines.`,
        );
    }
    if (cli.values["no-tests"] !== true) {
        const times: number[] = [];
        for (let i = 0; i < Math.min(runs, 3); i++) {
            const started = Date.now();
            execFileSync("npm", ["run", "-s", "test:unit"], { cwd: ROOT, stdio: "ignore" });
            times.push(Date.now() - started);
        }
        console.log(`npm run test:unit: median ${fmt(median(times) / 1000)} s over ${times.length} runs`);
    }
    return 0;
}

const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));

/** A table: the first column left-aligned, the others right-aligned, each as wide as its widest cell. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: readonly string[]) =>
        cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
    return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

if (require.main === module) {
    try {
        process.exitCode = main(process.argv.slice(2));
    } catch (e) {
        process.stderr.write(`bench: ${oneLine(e)}\n`);
        process.exitCode = 1;
    }
}
