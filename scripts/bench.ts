/*
 * npm run bench: how fast and how big the offline plan is for organisations of growing size, and how long the
 * test suite takes. Each measurement runs in a fresh process; the table gives medians.
 *
 *   npm run bench -- [--sizes 100,500,1000] [--runs 5] [--no-tests]
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { syntheticOrganization } from "./bench/synthetic";
import { CliOption, CliSpec, oneLine, parseCli, printCliAnswer, readUserFile, usageOf } from "./cli";

const ROOT = path.resolve(__dirname, "..");
/** How `npm run plan` starts node (package.json): a larger young generation halves GC time on large plans. */
const TSX = ["--max-semi-space-size=32", "--import", "tsx"];

/** The SDKs index.ts loads: the baseline process loads only these. */
const SDKS = ["@pulumi/pulumi", "@pulumi/aws", "@pulumiverse/buildkite", "@pulumi/github", "@pulumi/docker"];

interface Sample {
    readonly ms: number;
    readonly maxRssMb: number;
}

/** Runs node with `args` once, returning wall time and the child's peak resident memory. */
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
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (result.status !== 0) throw new Error(`node ${args.join(" ")} failed:\n${result.stderr}`);
    const { maxRSS } = JSON.parse(readFileSync(usage, "utf8")) as { maxRSS: number };
    return { ms, maxRssMb: maxRSS / 1024 };
}

const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function repeat(runs: number, args: string[]): { ms: number; maxRssMb: number } {
    const samples = Array.from({ length: runs }, () => measure(args));
    return { ms: median(samples.map((s) => s.ms)), maxRssMb: Math.max(...samples.map((s) => s.maxRssMb)) };
}

/** The command line of `npm run bench`. */
export const BENCH_CLI = {
    name: "bench",
    synopsis: ["[--sizes 100,500,1000] [--runs 5] [--no-tests]"],
    summary: [
        "Measures the offline plan (wall time and peak memory, medians of fresh processes) for the prod stack and for",
        "synthetic organisations of growing size, against a baseline that only loads the SDKs; then npm run test:unit.",
        "Takes minutes: run it alone on a shared machine.",
    ].join("\n"),
    options: {
        sizes: {
            type: "string",
            value: "N,N,...",
            help: "synthetic organisation sizes, in pipelines (default 100,500,1000)",
        },
        runs: { type: "string", value: "N", help: "fresh processes per measurement (default 5)" },
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

/** Runs the benchmark; returns the exit code. */
function main(argv: string[]): number {
    const cli = parseCli(BENCH_CLI, argv);
    if (!cli.run) return printCliAnswer(cli);
    const sizes = (cli.values.sizes ?? "100,500,1000").split(",").map(Number);
    const runs = Number(cli.values.runs ?? "5");
    if (sizes.some((n) => !Number.isInteger(n) || n < 1) || !Number.isInteger(runs) || runs < 1) {
        process.stderr.write(
            `bench: --sizes takes whole numbers of pipelines and --runs a whole number, all at least 1\n${usageOf(BENCH_CLI)}\n`,
        );
        return 2;
    }
    const dir = mkdtempSync(path.join(tmpdir(), "bench-stacks-"));
    const prodFile = path.join(ROOT, "Pulumi.prod.yaml");
    const prod = parse(readUserFile(prodFile, "the prod stack file").toString("utf8")) as {
        config: Record<string, unknown>;
    };

    const rows: string[][] = [];
    const baseline = repeat(runs, [...TSX, "-e", SDKS.map((s) => `require(${JSON.stringify(s)});`).join("")]);
    rows.push(["SDK-loading baseline", "-", fmt(baseline.ms), fmt(baseline.maxRssMb), "1.00"]);
    const plan = (file: string) => {
        const out = path.join(dir, `${path.basename(file)}.json`);
        const stats = repeat(runs, [...TSX, "scripts/plan.ts", "--config", file, "--json", out]);
        const resources = (JSON.parse(readFileSync(out, "utf8")) as { resources: unknown[] }).resources.length;
        return { ...stats, resources };
    };
    const prodPlan = plan(prodFile);
    rows.push([
        "prod",
        String(prodPlan.resources),
        fmt(prodPlan.ms),
        fmt(prodPlan.maxRssMb),
        ratio(prodPlan.ms, baseline.ms),
    ]);
    const bySize: { size: number; ms: number }[] = [];
    for (const size of sizes) {
        const file = path.join(dir, `Pulumi.bench-${size}.yaml`);
        writeFileSync(file, stringify({ config: syntheticOrganization(prod.config, size) }));
        const p = plan(file);
        bySize.push({ size, ms: p.ms });
        rows.push([`${size} pipelines`, String(p.resources), fmt(p.ms), fmt(p.maxRssMb), ratio(p.ms, baseline.ms)]);
    }
    print(["stack", "resources", "median ms", "peak RSS MiB", "× baseline"], rows);
    if (bySize.length >= 2) {
        const first = bySize[0];
        const last = bySize[bySize.length - 1];
        const growth = (last.ms - baseline.ms) / Math.max(1, first.ms - baseline.ms);
        console.log(
            `\nGrowth from ${first.size} to ${last.size} pipelines: ×${(last.ms / first.ms).toFixed(2)} wall time, ` +
                `×${growth.toFixed(2)} above the baseline, for ×${(last.size / first.size).toFixed(0)} pipelines.`,
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
const ratio = (a: number, b: number) => (a / b).toFixed(2);

function print(header: string[], rows: string[][]) {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) =>
        cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
    console.log(line(header));
    console.log(widths.map((w) => "-".repeat(w)).join("  "));
    for (const r of rows) console.log(line(r));
}

if (require.main === module) {
    try {
        process.exitCode = main(process.argv.slice(2));
    } catch (e) {
        process.stderr.write(`bench: ${oneLine(e)}\n`);
        process.exitCode = 1;
    }
}
