/*
 * One shard of `npm run test:unit` (scripts/test.ts runs this file with node --test, no isolation): loads each test
 * file named in CI_PLATFORM_TEST_FILES (a JSON array of paths) inside a suite named by its path. The test runner
 * loads every file before it runs any test, and runs a top-level before hook as soon as its file loads; inside its
 * file's suite, a file's hooks run just before, and after, that file's own tests, never beside another file's.
 *
 * With CI_PLATFORM_TEST_COSTS set to a path, the shard appends there one JSON line per file when the file's tests end:
 * the CPU seconds the file cost ({@link FileCost}), which `npm run test:unit -- --record-weights` turns into
 * scripts/test-weights.json.
 */
import { appendFileSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";

/** What one test file cost its shard: loading it, then running its tests and hooks. */
export interface FileCost {
    readonly file: string;
    /** CPU seconds (user + system) of the shard's own process. */
    readonly cpu: number;
    /** CPU seconds of the child processes the shard waited for meanwhile (the AWS CLI, bash, the spawned CLIs). */
    readonly children: number;
}

/**
 * CPU seconds of this process and of its waited-for children so far. Linux's /proc/self/stat (fields 14–17: utime,
 * stime, cutime, cstime, in clock ticks of 1/100 s: proc(5)); elsewhere this process's own, and no children.
 */
export function cpuSeconds(): { readonly cpu: number; readonly children: number } {
    try {
        // The fields after the command name, which ends with the last ")": field 3 (state) is index 0.
        const stat = readFileSync("/proc/self/stat", "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        const ticks = (i: number) => Number(fields[i - 3]) / 100;
        return { cpu: ticks(14) + ticks(15), children: ticks(16) + ticks(17) };
    } catch {
        const { user, system } = process.cpuUsage();
        return { cpu: (user + system) / 1e6, children: 0 };
    }
}

const files = JSON.parse(process.env.CI_PLATFORM_TEST_FILES ?? "[]") as string[];
const costs = process.env.CI_PLATFORM_TEST_COSTS;
for (const file of files)
    void describe(file, () => {
        const loading = cpuSeconds();
        let running = loading;
        // First of the file's before hooks: the file's own are declared when it loads, below.
        if (costs) before(() => void (running = cpuSeconds()));
        // Synchronous: the file's tests and hooks are declared while this suite is the current one.
        try {
            // eslint-disable-next-line @typescript-eslint/no-require-imports -- the test file is loaded inside its suite
            require(path.resolve(file));
        } catch (error: unknown) {
            // Node 22's runner reports an error thrown inside describe() but still exits 0 (nodejs/node#58687, fixed
            // in later majors): a file that cannot load fails the shard as a failing test of its own.
            process.exitCode = 1;
            it("loads", () => {
                throw error;
            });
        }
        if (!costs) return;
        const loaded = cpuSeconds();
        // Last of the file's after hooks: declared after the file's own.
        after(() => {
            const ended = cpuSeconds();
            const spent = (key: "cpu" | "children") => loaded[key] - loading[key] + ended[key] - running[key];
            const cost: FileCost = { file, cpu: spent("cpu"), children: spent("children") };
            appendFileSync(costs, JSON.stringify(cost) + "\n");
        });
    });
