/*
 * `npm run test:unit`: every test file under test/, in two shards run side by side, each shard one process
 * (node --test --experimental-test-isolation=none scripts/test-shard.ts): tsx, the provider SDKs and the program load
 * once per shard instead of once per file, and a plan built by one file is reused by the next. The files are dealt
 * longest first to the shard with less work so far, by the seconds scripts/test-weights.json records per file (a file
 * it does not name counts as DEFAULT_WEIGHT); each shard then runs its files in path order.
 *
 * `npm test` (`--checks`): the same shards, and beside them `npm run typecheck` (tsc --noEmit, incremental: its build
 * info under node_modules/.cache/tsc) and the two halves of `npm run lint` (eslint, prettier --check), five processes
 * at once: the checks fill the time a shard waits on a child process or a clock.
 *
 * Shard 1's output streams as it comes; each other part's is kept and printed whole after it, so no two interleave;
 * then one line per part with its exit and wall time. The command fails when any part fails. Arguments replace the
 * file list (`npm run test:unit -- test/plan/diff.test.ts test/dr.test.ts`).
 *
 * `--record-weights`: each shard records what each file cost (scripts/test-shard.ts, CPU seconds of the shard and of
 * the child processes it waited for), and a run of the whole suite that passes rewrites scripts/test-weights.json
 * with those figures: CPU rather than wall time, which two shards and the checks sharing two cores would inflate
 * unevenly.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { FileCost } from "./test-shard";

const ROOT = path.join(__dirname, "..");
const SHARDS = 2;

/** The seconds a file not in scripts/test-weights.json is taken to need: about a median file's. */
export const DEFAULT_WEIGHT = 1;

/** Every `*.test.ts` under test/, relative to the root, sorted. */
function testFiles(): string[] {
    return readdirSync(path.join(ROOT, "test"), { recursive: true, encoding: "utf8" })
        .filter((f) => f.endsWith(".test.ts"))
        .map((f) => path.join("test", f))
        .sort();
}

const WEIGHTS_FILE = path.join(__dirname, "test-weights.json");

/** The recorded seconds per test file (scripts/test-weights.json). */
function recordedWeights(): Record<string, number> {
    return JSON.parse(readFileSync(WEIGHTS_FILE, "utf8")) as Record<string, number>;
}

/**
 * The weights the shards' cost lines give (scripts/test-shard.ts, one JSON {@link FileCost} per line) for the suite's
 * `files`: per file, its CPU seconds and its children's, to a tenth (at least 0.1, so no file weighs nothing), the
 * files sorted. Lines of other files are left out: a test that runs a shard of its own (test/test-shard.test.ts)
 * passes the variable on to it. Pure.
 */
export function weightsFromCosts(lines: readonly string[], files: readonly string[]): Record<string, number> {
    const suite = new Set(files);
    const weights = new Map<string, number>();
    for (const line of lines) {
        if (line.trim() === "") continue;
        const { file, cpu, children } = JSON.parse(line) as FileCost;
        if (suite.has(file)) weights.set(file, Math.max(0.1, Math.round((cpu + children) * 10) / 10));
    }
    return Object.fromEntries([...weights].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * `files` dealt to `shards` shards: longest first (by `weights`, DEFAULT_WEIGHT for a file it does not name), each to
 * the shard with the least work so far (the lower number on a tie); each shard's files in path order. Pure.
 */
export function balanceShards(
    files: readonly string[],
    weights: Readonly<Record<string, number>>,
    shards: number,
): string[][] {
    const weightOf = (f: string) => (Object.hasOwn(weights, f) ? weights[f] : DEFAULT_WEIGHT);
    const dealt = Array.from({ length: shards }, () => ({ files: [] as string[], total: 0 }));
    const order = [...files].sort((a, b) => weightOf(b) - weightOf(a) || (a < b ? -1 : a > b ? 1 : 0));
    for (const file of order) {
        const lightest = dealt.reduce((best, s) => (s.total < best.total ? s : best));
        lightest.files.push(file);
        lightest.total += weightOf(file);
    }
    return dealt.map((s) => s.files.sort());
}

/** What a part printed, how it ended and how long it took. */
interface PartRun {
    readonly name: string;
    readonly output: string;
    readonly code: number | null;
    readonly signal: NodeJS.Signals | null;
    readonly seconds: number;
}

function runPart(
    name: string,
    command: string,
    args: readonly string[],
    env: NodeJS.ProcessEnv | undefined,
    live: boolean,
): Promise<PartRun> {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, ...env },
    });
    const chunks: Buffer[] = [];
    const keep = (c: Buffer) => (live ? process.stdout.write(c) : chunks.push(c));
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    return new Promise((resolve) => {
        const end = (code: number | null, signal: NodeJS.Signals | null) =>
            resolve({
                name,
                output: Buffer.concat(chunks).toString("utf8"),
                code,
                signal,
                seconds: Number(process.hrtime.bigint() - started) / 1e9,
            });
        // A part that cannot start fails as a part (exit null), so the others still finish and print whole.
        child.on("error", (error) => {
            keep(Buffer.from(`${name}: could not run ${command}: ${error.message}\n`));
            end(null, null);
        });
        child.on("close", end);
    });
}

/**
 * The npm scripts `npm test` runs beside the shards (package.json: the typecheck, and the two halves of `npm run
 * lint`). ESLint and Prettier keep caches under node_modules/.cache, so a second run on one machine checks only
 * changed files.
 */
export const NPM_CHECKS = ["typecheck", "lint:eslint", "lint:prettier"] as const;

/** `npm run <script>`: through the npm that runs this command (npm sets npm_execpath), else the npm on PATH. */
function npmRun(script: string): readonly [string, readonly string[]] {
    const npm = process.env.npm_execpath;
    return npm ? [process.execPath, [npm, "run", "--silent", script]] : ["npm", ["run", "--silent", script]];
}

async function main(): Promise<void> {
    const argv = process.argv.slice(2);
    const checks = argv.includes("--checks");
    const record = argv.includes("--record-weights");
    const given = argv.filter((a) => a !== "--checks" && a !== "--record-weights");
    const files = given.length > 0 ? given : testFiles();
    const shards = balanceShards(files, recordedWeights(), SHARDS);
    const costsDir = record ? mkdtempSync(path.join(tmpdir(), "test-costs-")) : undefined;
    /** Where shard `i` records its files' costs (scripts/test-shard.ts), with --record-weights. */
    const costFile = (dir: string, i: number) => path.join(dir, `shard-${i}.jsonl`);
    process.stdout.write(`=== shard 1/${SHARDS}\n`);
    const runs = await Promise.all([
        ...shards.map((shardFiles, i) =>
            runPart(
                `shard ${i + 1}/${SHARDS}`,
                process.execPath,
                [
                    // As `npm run plan` runs (package.json): a larger young generation halves GC time on large plans.
                    "--max-semi-space-size=32",
                    "--import",
                    "tsx",
                    "--test",
                    "--experimental-test-isolation=none",
                    "--test-reporter=spec",
                    path.join(__dirname, "test-shard.ts"),
                ],
                {
                    CI_PLATFORM_TEST_FILES: JSON.stringify(shardFiles),
                    ...(costsDir === undefined ? {} : { CI_PLATFORM_TEST_COSTS: costFile(costsDir, i) }),
                },
                i === 0,
            ),
        ),
        ...(checks
            ? NPM_CHECKS.map((script) => runPart(`npm run ${script}`, ...npmRun(script), undefined, false))
            : []),
    ]);
    for (const run of runs.slice(1)) {
        process.stdout.write(`\n=== ${run.name}\n`);
        process.stdout.write(run.output);
    }
    process.stdout.write("\n");
    for (const run of runs) {
        const ended = run.signal !== null ? `killed by ${run.signal}` : `exit ${run.code}`;
        process.stdout.write(`${run.name}: ${ended}, ${run.seconds.toFixed(1)} s\n`);
    }
    process.exitCode = runs.every((r) => r.code === 0) ? 0 : 1;
    if (costsDir !== undefined) {
        if (process.exitCode === 0 && given.length === 0) {
            // A shard whose files declared no test wrote nothing.
            const written = shards.map((_, i) => costFile(costsDir, i)).filter((f) => existsSync(f));
            const lines = written.flatMap((f) => readFileSync(f, "utf8").split("\n"));
            const weights = weightsFromCosts(lines, files);
            writeFileSync(WEIGHTS_FILE, JSON.stringify(weights, null, 2) + "\n");
            process.stdout.write(
                `recorded the CPU seconds of ${Object.keys(weights).length} files in scripts/test-weights.json\n`,
            );
        } else process.stdout.write("--record-weights: only a passing run of the whole suite rewrites the weights\n");
        rmSync(costsDir, { recursive: true, force: true });
    }
}

if (require.main === module)
    void main().catch((error: unknown) => {
        console.error(error);
        process.exitCode = 1;
    });
