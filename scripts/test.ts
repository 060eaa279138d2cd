/*
 * `npm run test:unit`: every test file under test/, in two shards run side by side (every other file, sorted), each
 * shard one process (node --test --experimental-test-isolation=none scripts/test-shard.ts): tsx, the provider SDKs
 * and the program load once per shard instead of once per file, and a plan built by one file is reused by the next.
 * Shard 1's output streams as it comes; each other shard's is kept and printed whole after it, so no two interleave;
 * then one line per shard with its exit and wall time. The command fails when either shard fails. Arguments replace the file list
 * (`npm run test:unit -- test/plan/diff.test.ts test/plan/dr.test.ts`).
 */
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import * as path from "node:path";

const ROOT = path.join(__dirname, "..");
const SHARDS = 2;

/** Every `*.test.ts` under test/, relative to the root, sorted. */
function testFiles(): string[] {
    return readdirSync(path.join(ROOT, "test"), { recursive: true, encoding: "utf8" })
        .filter((f) => f.endsWith(".test.ts"))
        .map((f) => path.join("test", f))
        .sort();
}

/** What a shard printed, how it ended and how long it took. */
interface ShardRun {
    readonly shard: number;
    readonly output: string;
    readonly code: number | null;
    readonly signal: NodeJS.Signals | null;
    readonly seconds: number;
}

function runShard(shard: number, files: readonly string[], live: boolean): Promise<ShardRun> {
    const started = process.hrtime.bigint();
    const child = spawn(
        process.execPath,
        [
            "--import",
            "tsx",
            "--test",
            "--experimental-test-isolation=none",
            "--test-reporter=spec",
            path.join(__dirname, "test-shard.ts"),
        ],
        {
            cwd: ROOT,
            stdio: ["ignore", "pipe", "pipe"],
            env: {
                ...process.env,
                CI_PLATFORM_TEST_FILES: JSON.stringify(files.filter((_, i) => i % SHARDS === shard - 1)),
            },
        },
    );
    const chunks: Buffer[] = [];
    const keep = (c: Buffer) => (live ? process.stdout.write(c) : chunks.push(c));
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    return new Promise((resolve, reject) => {
        child.on("error", reject);
        child.on("close", (code, signal) =>
            resolve({
                shard,
                output: Buffer.concat(chunks).toString("utf8"),
                code,
                signal,
                seconds: Number(process.hrtime.bigint() - started) / 1e9,
            }),
        );
    });
}

async function main(): Promise<void> {
    const given = process.argv.slice(2);
    const files = given.length > 0 ? given : testFiles();
    process.stdout.write(`=== shard 1/${SHARDS}\n`);
    const runs = await Promise.all(Array.from({ length: SHARDS }, (_, i) => runShard(i + 1, files, i === 0)));
    for (const run of runs.slice(1)) {
        process.stdout.write(`\n=== shard ${run.shard}/${SHARDS}\n`);
        process.stdout.write(run.output);
    }
    process.stdout.write("\n");
    for (const run of runs) {
        const ended = run.signal !== null ? `killed by ${run.signal}` : `exit ${run.code}`;
        process.stdout.write(`shard ${run.shard}/${SHARDS}: ${ended}, ${run.seconds.toFixed(1)} s\n`);
    }
    process.exitCode = runs.every((r) => r.code === 0) ? 0 : 1;
}

void main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
});
