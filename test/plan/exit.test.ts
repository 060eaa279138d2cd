import assert from "node:assert/strict";
import { describe, it, mock } from "node:test";
import { CliError } from "../../scripts/cli";
import { exitWhenFlushed, flushed, runMain } from "../../scripts/plan/exit";

/** A stand-in for a process stream: its empty write completes only when `complete` is called. */
function pendingStream(state: { destroyed?: boolean; writable?: boolean } = {}) {
    const callbacks: (() => void)[] = [];
    const stream = {
        destroyed: state.destroyed ?? false,
        writable: state.writable ?? true,
        write: (_chunk: string, callback: () => void) => {
            callbacks.push(callback);
            return true;
        },
    };
    return { stream: stream as unknown as NodeJS.WriteStream, complete: () => callbacks.splice(0).forEach((c) => c()) };
}

/** Whether `promise` has settled by the time the queued microtasks and one macrotask have run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
    let done = false;
    void promise.then(() => (done = true));
    await new Promise((resolve) => setImmediate(resolve));
    return done;
}

/**
 * Replaces process.exit (so the test process stays) and the writes of stdout/stderr (kept, their callbacks run at
 * once); returns what was written to stderr and the code process.exit was called with.
 */
function interceptExit() {
    const stderr: string[] = [];
    const exitCode = process.exitCode;
    let exited: (code: number) => void = () => undefined;
    const code = new Promise<number>((resolve) => (exited = resolve));
    const complete = (chunk: unknown, callback?: unknown) => {
        if (typeof callback === "function") (callback as () => void)();
        return typeof chunk === "string";
    };
    const exitMock = mock.method(process, "exit", (c?: number) => exited(c ?? 0));
    const errMock = mock.method(process.stderr, "write", (chunk: unknown, callback?: unknown) => {
        if (typeof chunk === "string" && chunk !== "") stderr.push(chunk);
        return complete(chunk, callback);
    });
    const outMock = mock.method(process.stdout, "write", complete);
    return {
        stderr,
        code,
        restore: () => {
            exitMock.mock.restore();
            errMock.mock.restore();
            outMock.mock.restore();
            process.exitCode = exitCode;
        },
    };
}

describe("flushed", () => {
    it("waits until the stream has completed every earlier write", async () => {
        const { stream, complete } = pendingStream();
        const waiting = flushed(stream);
        assert.equal(await settled(waiting), false, "resolved before the stream's write completed");
        complete();
        assert.equal(await settled(waiting), true);
    });

    it("does not wait for a stream that is destroyed or no longer writable (nothing more can be delivered)", async () => {
        assert.equal(await settled(flushed(pendingStream({ destroyed: true }).stream)), true);
        assert.equal(await settled(flushed(pendingStream({ writable: false }).stream)), true);
    });
});

describe("exitWhenFlushed and runMain", () => {
    it("exitWhenFlushed sets the exit code and exits with it", async () => {
        const intercepted = interceptExit();
        try {
            void exitWhenFlushed(3);
            assert.equal(process.exitCode, 3);
            assert.equal(await intercepted.code, 3);
        } finally {
            intercepted.restore();
        }
    });

    it("runMain exits with the code main returns", async () => {
        const intercepted = interceptExit();
        try {
            runMain("plan", () => Promise.resolve(4));
            assert.equal(await intercepted.code, 4);
            assert.deepEqual(intercepted.stderr, []);
        } finally {
            intercepted.restore();
        }
    });

    it("runMain prints an error nobody handled as `name: <one line>` and exits 1", async () => {
        const intercepted = interceptExit();
        try {
            runMain("dr", () => Promise.reject(new CliError("--region is required")));
            assert.equal(await intercepted.code, 1);
            assert.deepEqual(intercepted.stderr, ["dr: --region is required\n"]);
        } finally {
            intercepted.restore();
        }
    });
});
