/*
 * The one command-line skeleton of the project's scripts (plan, dr, simulate, images:bump, bench): options declared
 * once with their help text, parsed by node:util parseArgs; `--help` prints usage, options and examples and exits 0;
 * an unknown option, a missing value or a stray argument exits 2 with the usage; a file that cannot be read is one
 * line naming the file and the flag that gave it, never an ENOENT stack.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";

/** One option of a script. */
export interface CliOption {
    readonly type: "string" | "boolean";
    /** What the value is, in the usage (`FILE`, `NAME`); string options only. */
    readonly value?: string;
    /** One line for `--help`. */
    readonly help: string;
}

/** A script's command line, as `--help` describes it. */
export interface CliSpec<O extends Readonly<Record<string, CliOption>>> {
    /** The npm script (`plan`, `images:bump`). */
    readonly name: string;
    /** The synopsis after `npm run <name> --`, one line per form. */
    readonly synopsis: readonly string[];
    /** What the script does, a few lines. */
    readonly summary: string;
    readonly options: O;
    /** Positional arguments: their name in the usage, or none allowed. */
    readonly positionals?: { readonly name: string; readonly min: number; readonly max: number };
    /** Commands with a one-line comment each: `["npm run plan -- --json base.json", "write the base for --diff"]`. */
    readonly examples: readonly (readonly [string, string])[];
    /** Exit codes and their meaning. */
    readonly exitCodes: readonly (readonly [number, string])[];
}

/** The parsed values: a string option gives its text, a boolean one true; absent options are undefined. */
export type CliValues<O extends Readonly<Record<string, CliOption>>> = {
    -readonly [K in keyof O]?: O[K]["type"] extends "boolean" ? boolean : string;
};

/** What parsing gave: the values to run with, or an exit (help, or bad usage) with what to print. */
export type CliParse<O extends Readonly<Record<string, CliOption>>> =
    | { readonly run: true; readonly values: CliValues<O>; readonly positionals: string[] }
    | { readonly run: false; readonly code: 0 | 2; readonly stdout: string; readonly stderr: string };

/** The exit code of bad usage (an unknown flag, a missing value): as `simulate` and `images:bump` always answered. */
export const USAGE_EXIT = 2;

/** The usage lines: `usage: npm run plan -- ...`. */
export function usageOf(spec: CliSpec<Readonly<Record<string, CliOption>>>): string {
    return spec.synopsis
        .map((line, i) => `${i === 0 ? "usage:" : "      "} npm run ${spec.name} --${line ? ` ${line}` : ""}`)
        .join("\n");
}

/** The full `--help` text: usage, summary, options, examples, exit codes. */
export function helpOf(spec: CliSpec<Readonly<Record<string, CliOption>>>): string {
    const flags = Object.entries(spec.options).map(
        ([name, o]) => [`--${name}${o.type === "string" ? ` ${o.value ?? "VALUE"}` : ""}`, o.help] as const,
    );
    flags.push(["--help", "print this help and exit"]);
    const width = Math.max(...flags.map(([f]) => f.length));
    const exampleWidth = Math.max(...spec.examples.map(([c]) => c.length));
    return [
        usageOf(spec),
        "",
        spec.summary,
        "",
        "Options:",
        ...flags.map(([f, h]) => `  ${f.padEnd(width)}  ${h}`),
        "",
        "Examples:",
        ...spec.examples.map(([c, h]) => `  ${c.padEnd(exampleWidth)}  # ${h}`),
        "",
        "Exit codes:",
        ...spec.exitCodes.map(([code, meaning]) => `  ${code}  ${meaning}`),
        "",
    ].join("\n");
}

/** Bad usage: the problem, then the usage and where to read more. */
function usageProblem(spec: CliSpec<Readonly<Record<string, CliOption>>>, problem: string): string {
    return `${spec.name}: ${problem}\n${usageOf(spec)}\n(npm run ${spec.name} -- --help for options and examples)\n`;
}

/** Parses `argv` against `spec`. Pure: never prints or exits; the caller writes what it returns. */
export function parseCli<O extends Readonly<Record<string, CliOption>>>(
    spec: CliSpec<O>,
    argv: readonly string[],
): CliParse<O> {
    const options = Object.fromEntries(
        [...Object.entries(spec.options), ["help", { type: "boolean" }] as const].map(([name, o]) => [
            name,
            { type: o.type },
        ]),
    );
    let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
    try {
        parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true }) as typeof parsed;
    } catch (e) {
        // node:util parseArgs words its errors for programmers ("Unknown option '--x'. To specify a positional
        // argument starting with a '-', place it at the end of the command after '--', as in '-- \"--x\"'"): ours.
        const code = (e as { code?: string }).code;
        const flag = /'(-[^']*)'/.exec((e as Error).message)?.[1] ?? "";
        const known = Object.keys(spec.options).map((n) => `--${n}`);
        const problem =
            code === "ERR_PARSE_ARGS_UNKNOWN_OPTION"
                ? `unknown option ${flag}${nearestFlag(flag, known)}`
                : code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE"
                  ? `option ${flag.split(" ")[0]} ${/argument missing/.test((e as Error).message) ? "needs a value" : "takes no value"}`
                  : (e as Error).message;
        return { run: false, code: USAGE_EXIT, stdout: "", stderr: usageProblem(spec, problem) };
    }
    if (parsed.values.help === true) return { run: false, code: 0, stdout: helpOf(spec), stderr: "" };
    const allowed = spec.positionals ?? { name: "", min: 0, max: 0 };
    if (parsed.positionals.length > allowed.max)
        return {
            run: false,
            code: USAGE_EXIT,
            stdout: "",
            stderr: usageProblem(
                spec,
                allowed.max === 0
                    ? `unexpected argument "${parsed.positionals[0]}" (every argument is an --option)`
                    : `too many arguments (${parsed.positionals.join(" ")}); give at most ${allowed.max} ${allowed.name}`,
            ),
        };
    if (parsed.positionals.length < allowed.min)
        return { run: false, code: USAGE_EXIT, stdout: "", stderr: usageProblem(spec, `give ${allowed.name}`) };
    const { help: _help, ...values } = parsed.values;
    void _help;
    return { run: true, values: values as CliValues<O>, positionals: parsed.positionals };
}

/** "; did you mean --json?" or nothing. */
function nearestFlag(flag: string, known: readonly string[]): string {
    const close = known
        .map((k) => ({ k, d: distance(flag, k) }))
        .filter(({ d }) => d <= 2)
        .sort((a, b) => a.d - b.d || (a.k < b.k ? -1 : 1))[0];
    return close ? `; did you mean ${close.k}?` : `; options: ${known.join(" ")}`;
}

function distance(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        let diag = row[0];
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const up = row[j];
            row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
            diag = up;
        }
    }
    return row[b.length];
}

/** A problem the script reports on one line (a file it cannot read): no stack trace. */
export class CliError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "CliError";
    }
}

/**
 * Why a file could not be read, in words: "no such file", "is a directory", "permission denied", or the system's
 * own message for anything rarer.
 */
export function fileProblem(e: unknown): string {
    const code = (e as { code?: string }).code;
    if (code === "ENOENT") return "no such file";
    if (code === "EISDIR") return "is a directory, not a file";
    if (code === "EACCES" || code === "EPERM") return "permission denied";
    if (code === "ENOTDIR") return "a part of the path is not a directory";
    return (e as Error).message ?? String(e);
}

/**
 * Reads a file the user named, or throws a {@link CliError} of one line: `cannot read <what> FILE: no such file`,
 * and `hint` (how to make the file) when it is missing.
 */
export function readUserFile(file: string, what: string, hint?: string): Buffer {
    try {
        return readFileSync(file);
    } catch (e) {
        const missing = (e as { code?: string }).code === "ENOENT";
        throw new CliError(`cannot read ${what} ${file}: ${fileProblem(e)}${missing && hint ? `; ${hint}` : ""}`);
    }
}

/** Writes a file the user named, or throws a {@link CliError} of one line: `cannot write <what> FILE: ...`. */
export function writeUserFile(file: string, text: string, what: string): void {
    try {
        writeFileSync(file, text);
    } catch (e) {
        const code = (e as { code?: string }).code;
        throw new CliError(
            `cannot write ${what} ${file}: ${code === "ENOENT" ? "its directory does not exist" : fileProblem(e)}`,
        );
    }
}

/**
 * The message to print for an error a script did not expect to handle: a {@link CliError} or a file error as one
 * line, anything else as its message (never a stack).
 */
export function oneLine(e: unknown): string {
    if (e instanceof CliError) return e.message;
    const error = e as NodeJS.ErrnoException;
    if (typeof error?.code === "string" && typeof error.path === "string")
        return `${error.path}: ${fileProblem(error)}`;
    return error?.message ?? String(e);
}

/**
 * Where a script's `main` writes: the process's stdout and stderr when run as a command, a test's buffers when a test
 * calls `main(argv, io)` in its own process (the command's contract, exit codes and pipes, is tested by spawning it).
 */
export interface CliIo {
    readonly stdout: (text: string) => void;
    readonly stderr: (text: string) => void;
}

/** The process's own streams. */
export const PROCESS_IO: CliIo = {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
};

/** Prints what parsing answered instead of running (help, or bad usage) and returns its exit code. */
export function printCliAnswer(
    answer: { readonly code: number; readonly stdout: string; readonly stderr: string },
    io: CliIo = PROCESS_IO,
) {
    io.stdout(answer.stdout);
    io.stderr(answer.stderr);
    return answer.code;
}

/** The usage problem of a script that reads one stack (`--stack NAME` or `--config FILE`) given both, or undefined. */
export function stackAndConfigProblem(
    name: string,
    values: { readonly stack?: string; readonly config?: string },
    usage: string,
): string | undefined {
    return values.stack && values.config ? `${name}: give --stack or --config, not both\n${usage}\n` : undefined;
}
