/*
 * How the command-line scripts end. `process.exit` right after a write loses what is still queued: a write to a pipe
 * whose reader is slower than the writer is accepted in part (the OS pipe buffer, 64 KiB on Linux) and the rest waits
 * in the stream, so an exit at once cut a large plan read through `| less` or a slow CI log reader.
 */
import { oneLine } from "../cli";

/** Waits until everything written to `stream` so far has been handed to the OS (or the stream has failed). */
export function flushed(stream: NodeJS.WriteStream): Promise<void> {
    return new Promise((resolve) => {
        if (stream.destroyed || !stream.writable) return resolve();
        // Writes complete in order, so the callback of an empty write runs after every earlier write has completed.
        // An error (the reader went away: EPIPE) ends the wait too; what was not read is not ours to deliver.
        stream.write("", () => resolve());
    });
}

/**
 * Sets the exit code and ends the process once stdout and stderr are flushed. `process.exit` is still called in the
 * end, so a handle a library left open (the Pulumi runtime's) cannot keep the process alive.
 */
export async function exitWhenFlushed(code: number): Promise<void> {
    process.exitCode = code;
    await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
    process.exit(code);
}

/**
 * Runs a script's `main` and ends the process with its exit code, once the output is flushed; an error nobody handled
 * is printed as `name: <one line>` ({@link oneLine}) and ends it with exit code 1.
 */
export function runMain(name: string, main: () => Promise<number>): void {
    main().then(
        (code) => exitWhenFlushed(code),
        (e: unknown) => {
            process.stderr.write(`${name}: ${oneLine(e)}\n`);
            return exitWhenFlushed(1);
        },
    );
}
