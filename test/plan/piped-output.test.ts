import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { parse, stringify } from "yaml";
import { syntheticOrganization } from "../../scripts/bench/synthetic";
import { main as simulateMain } from "../../scripts/simulate";
import { drInProcess, planInProcess, ROOT, runInProcess } from "../fixtures/cli";

/*
 * A script's output read through a pipe by a slow reader arrives whole. The reader reads nothing until the pipe is
 * full (64 KiB on Linux), so the script has the rest queued when it is done; then it reads.
 * Before the fix, `process.exit` right after the last write dropped what was queued (scripts/plan/exit.ts
 * exitWhenFlushed, which plan, dr, verify and import end with).
 *
 * What the output should be is what the script's `main` writes when run in this process (test/fixtures/cli.ts), the
 * same code the command runs; only the command's plan config error, which the program throws (a test runner's process
 * would also report it as an unhandled rejection), is compared with the command writing to a file instead. The piped
 * runs of a suite go side by side: each waits for its script's output, not for the CPU.
 */

const dir = mkdtempSync(path.join(tmpdir(), "piped-output-"));
const prod = parse(readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, unknown> };
const argsOf = (script: string, args: readonly string[]) => ["--import", "tsx", script, ...args];

/** The script's stdout and stderr written to files: what the output is when nothing is cut. */
function toFiles(script: string, args: readonly string[]): { code: number | null; stdout: string; stderr: string } {
    const out = path.join(dir, "out.txt");
    const err = path.join(dir, "err.txt");
    const fds = [openSync(out, "w"), openSync(err, "w")];
    try {
        const run = spawnSync(process.execPath, argsOf(script, args), {
            cwd: ROOT,
            stdio: ["ignore", fds[0], fds[1]],
            timeout: 120_000,
        });
        return { code: run.status, stdout: readFileSync(out, "utf8"), stderr: readFileSync(err, "utf8") };
    } finally {
        fds.forEach(closeSync);
    }
}

/**
 * What the slow reader runs before it reads: nothing is read until the pipe is full (FIONREAD on its end, Linux
 * asm-generic/ioctls.h 0x541B, reports the pipe's whole capacity, F_GETPIPE_SZ 1032: the writer has the rest of its
 * output queued) or the writer has closed it (POLLHUP: an output smaller than the pipe). A fixed sleep was not
 * enough: a script that took longer than the sleep to start (tsx, the program, a busy machine) wrote to a reader
 * already draining the pipe, and an exit right after the last write then lost nothing. ARGV[0] seconds bound the wait.
 */
const UNTIL_PIPE_FULL = String.raw`
use IO::Poll qw(POLLIN POLLHUP);
my $size = fcntl(STDIN, 1032, 0) || 65536;
my $poll = IO::Poll->new;
$poll->mask(\*STDIN => POLLIN);
my $deadline = time + $ARGV[0];
while (time < $deadline) {
    $poll->poll(0);
    last if $poll->events(\*STDIN) & POLLHUP;
    my $n = pack("L", 0);
    ioctl(STDIN, 0x541B, $n) or last;
    last if unpack("L", $n) >= $size;
    select(undef, undef, undef, 0.02);
}`;

/**
 * One stream of the script (stdout, or stderr with stdout discarded) read through a pipe by `(wait; cat)`: a reader
 * that reads nothing until the pipe is full or closed ({@link UNTIL_PIPE_FULL}, at most `waitSeconds`), so the script has
 * the rest of its output queued when it has written everything and ends. The exit code is the script's (pipefail).
 */
async function throughSlowPipe(
    stream: "stdout" | "stderr",
    script: string,
    args: readonly string[],
    waitSeconds = 120,
): Promise<{ code: number | null; text: string }> {
    const redirect = stream === "stdout" ? "" : "2>&1 >/dev/null";
    const child = spawn(
        "bash",
        [
            "-c",
            `set -o pipefail; "$@" ${redirect} | (perl -e '${UNTIL_PIPE_FULL}' ${waitSeconds}; cat)`,
            "_",
            process.execPath,
            ...argsOf(script, args),
        ],
        { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] },
    );
    const chunks: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
    const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
    return { code, text: Buffer.concat(chunks).toString("utf8") };
}

function stackFile(name: string, config: Record<string, unknown>): string {
    const file = path.join(dir, `Pulumi.${name}.yaml`);
    writeFileSync(file, stringify({ config }));
    return file;
}

let large: string;
let fanOut: string;
let invalid: string;
const INVALID_PIPELINES = 600;

/** The problems of the invalid organisation, one per pipeline. */
const queueProblems = (text: string) => text.match(/ci-platform:pipelines\[[a-z0-9-]+\]\.queue/g) ?? [];

before(() => {
    // A large organisation in one region: its plan prints more than a pipe holds. (dr's runbook no longer
    // does: it prints counts and patterns, not URN lists; its exit is the same exitWhenFlushed, which the errors below
    // cover.)
    large = stackFile("large", syntheticOrganization(prod.config, 160, ["us-east-1"]));
    // The same organisation with pipeline-0000 also triggering the head of every other chain of ten: a push to it
    // starts 80 builds (16 chains of five), whose simulation prints ~75 KiB, more than a pipe holds (one chain's,
    // ~4.7 KB, does not).
    const fan = syntheticOrganization(prod.config, 160, ["us-east-1"]);
    const pipelines = fan["ci-platform:pipelines"] as { slug: string; triggers?: unknown[] }[];
    const heads = pipelines.filter((_, i) => i > 0 && i % 10 === 0).map((p) => ({ pipeline: p.slug }));
    pipelines[0].triggers = [...(pipelines[0].triggers ?? []), ...heads];
    fanOut = stackFile("fan-out", fan);
    // A large invalid one: every pipeline names a queue no fleet serves, one problem each on stderr.
    const broken = syntheticOrganization(prod.config, INVALID_PIPELINES);
    for (const p of broken["ci-platform:pipelines"] as { queue: string }[]) p.queue = "no-such-queue";
    invalid = stackFile("invalid", broken);
});

describe("output written to a slow pipe is never cut", { concurrency: true }, () => {
    it("scripts/plan.ts: a large organisation's output arrives whole", async () => {
        const args = ["--config", large];
        const [expected, piped] = await Promise.all([
            planInProcess(...args),
            throughSlowPipe("stdout", "scripts/plan.ts", args),
        ]);
        assert.equal(expected.code, 0, expected.stderr);
        assert.ok(expected.stdout.length > 64 * 1024, `the output is only ${expected.stdout.length} bytes`);
        assert.equal(piped.code, 0);
        assert.equal(piped.text.length, expected.stdout.length);
        assert.equal(piped.text, expected.stdout);
    });

    it("scripts/plan.ts: a long list of config problems arrives whole, exit 2", async () => {
        const args = ["--config", invalid];
        const file = toFiles("scripts/plan.ts", args);
        assert.equal(file.code, 2, file.stderr.slice(0, 500));
        assert.ok(file.stderr.length > 64 * 1024, `the errors are only ${file.stderr.length} bytes`);
        const piped = await throughSlowPipe("stderr", "scripts/plan.ts", args);
        assert.equal(piped.code, 2);
        assert.equal(piped.text, file.stderr);
        assert.equal(queueProblems(piped.text).length, INVALID_PIPELINES);
    });

    for (const [script, expectedOf, extra] of [
        ["scripts/dr.ts", (args: string[]) => drInProcess(...args), ["--region", "us-east-1"]],
        [
            "scripts/simulate.ts",
            (args: string[]) => runInProcess("simulate", simulateMain, args),
            ["--pipeline", "pipeline-0000"],
        ],
    ] as const)
        it(`${script}: a long list of config problems arrives whole, exit 2`, async () => {
            const args = ["--config", invalid, ...extra];
            const [expected, piped] = await Promise.all([expectedOf(args), throughSlowPipe("stderr", script, args)]);
            assert.equal(expected.code, 2, expected.stderr.slice(0, 500));
            assert.ok(expected.stderr.length > 64 * 1024, `the errors are only ${expected.stderr.length} bytes`);
            assert.equal(piped.code, 2);
            assert.equal(piped.text, expected.stderr);
            assert.equal(queueProblems(piped.text).length, INVALID_PIPELINES);
        });

    it("npm run simulate: the simulation arrives whole", async () => {
        const args = ["--config", fanOut, "--pipeline", "pipeline-0000"];
        const [expected, piped] = await Promise.all([
            runInProcess("simulate", simulateMain, args),
            throughSlowPipe("stdout", "scripts/simulate.ts", args),
        ]);
        assert.equal(expected.code, 0, expected.stderr);
        assert.ok(expected.stdout.length > 64 * 1024, `the simulation is only ${expected.stdout.length} bytes`);
        assert.equal(piped.code, 0);
        assert.equal(piped.text.length, expected.stdout.length);
        assert.equal(piped.text, expected.stdout);
        assert.match(piped.text, /pipeline-0004/);
        // The last chain's last build: the end of the output.
        assert.match(piped.text, /^b80 pipeline-0154 /m);
    });
});
