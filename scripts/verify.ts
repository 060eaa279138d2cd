/*
 * The drift verifier: checks what `pulumi refresh` cannot see (README.md, "Drift detection"):
 * - every S3 object the program writes (hooks bundle, bootstrap scripts, agent env files, secret objects) still
 *   holds what the program writes: `--objects content` compares sha256 digests of the bucket's objects with the
 *   program's (needs kms:Decrypt on the secrets keys); `--objects etag` compares each object's ETag with the one the
 *   state recorded when Pulumi wrote it (S3 read access only);
 * - every fleet's agent token is still listed, unexpired, by its Buildkite cluster;
 * - every image tag the program pushes is still in its ECR repository.
 *
 *   npm run verify -- --state STATE.json [--stack NAME | --config FILE | --pulumi-config FILE]
 *       [--objects content|etag] [--skip objects,tokens,images]
 *       [--buildkite-api-url URL] [--s3-endpoint-url URL] [--ecr-endpoint-url URL]
 *
 * STATE.json is `pulumi stack export --stack NAME` (secrets stay encrypted; none is needed). The expected content
 * comes from running the program (as the offline plan does) on the stack file, or on `--pulumi-config`, the output of
 * `pulumi config --json --show-secrets --stack NAME` (the secret objects' true content). Secret contents and their
 * digests are never printed. BUILDKITE_API_TOKEN (read_clusters) lists the tokens; CI_PLATFORM_AWS_CLI names the AWS
 * CLI (default `aws`). Exit codes: 0 as declared; 1 drift; 2 invalid config or arguments; 4 no drift found but some
 * checks could not run; 5 the verifier failed.
 *
 * This module is the command line alone: the checks are scripts/verify/run.ts, which `main` requires only once the
 * command line asks for them, so that --help and bad usage are answered without loading the program and the SDKs.
 */
import { CliIo, CliOption, CliSpec, CliValues, parseCli, printCliAnswer, PROCESS_IO, usageOf } from "./cli";
import { exitWhenFlushed } from "./plan/exit";
import type { StackConfig } from "./plan/stack-file";
import type { ObjectMode } from "./verify/checks";
import type { expectedFromProgram } from "./verify/expected";

/** The command line of `npm run verify` (scripts/cli.ts). */
export const VERIFY_CLI = {
    name: "verify",
    synopsis: [
        "--state STATE.json [--stack NAME | --config FILE | --pulumi-config FILE] [--objects content|etag] [--skip LIST] [--buildkite-api-url URL] [--s3-endpoint-url URL] [--ecr-endpoint-url URL]",
    ],
    summary: [
        "Checks the live objects a stack's state says exist against what the program declares, for what `pulumi refresh`",
        "cannot see: the secrets and hook objects' content (or ETag), the cluster agent tokens, the pushed image tags.",
    ].join("\n"),
    options: {
        state: { type: "string", value: "STATE.json", help: "the stack's state: pulumi stack export > STATE.json" },
        stack: { type: "string", value: "NAME", help: "the stack whose Pulumi.<NAME>.yaml to read (default prod)" },
        config: { type: "string", value: "FILE", help: "a stack file to read instead (secrets stay encrypted)" },
        "pulumi-config": {
            type: "string",
            value: "FILE",
            help: "pulumi config --json --show-secrets output: compares secret objects' content too",
        },
        objects: { type: "string", value: "content|etag", help: "compare objects by content (default) or ETag" },
        skip: { type: "string", value: "LIST", help: "leave out checks: objects, tokens, images (comma-separated)" },
        "buildkite-api-url": { type: "string", value: "URL", help: "Buildkite's REST API (default api.buildkite.com)" },
        "s3-endpoint-url": { type: "string", value: "URL", help: "an S3 endpoint other than AWS's" },
        "ecr-endpoint-url": { type: "string", value: "URL", help: "an ECR endpoint other than AWS's" },
    },
    examples: [
        ["npm run verify -- --state state.json", "verify prod; state.json from pulumi stack export"],
        [
            "npm run verify -- --state state.json --pulumi-config <(pulumi config --json --show-secrets)",
            "secrets' content too",
        ],
        ["npm run verify -- --state state.json --skip images", "without the registry"],
    ],
    exitCodes: [
        [0, "every checked object matches"],
        [1, "drift: an object differs from what the program declares"],
        [2, "bad usage or an invalid stack file"],
        [4, "no drift found, but some checks could not run"],
        [5, "the verifier failed (a file could not be read, a service did not answer)"],
    ],
} as const satisfies CliSpec<Readonly<Record<string, CliOption>>>;

/** The usage lines (`--help` prints more). */
export const USAGE = usageOf(VERIFY_CLI);

/**
 * A stack's config from `pulumi config --json --show-secrets`: each full key to `{ value, secret }`, where `value`
 * is the text Pulumi hands the program (JSON for structured values).
 */
export function stackConfigFromPulumiJson(text: string): StackConfig {
    const doc = JSON.parse(text) as Record<string, { value?: unknown; objectValue?: unknown; secret?: boolean }>;
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [key, entry] of Object.entries(doc)) {
        const value = entry.objectValue !== undefined ? JSON.stringify(entry.objectValue) : entry.value;
        if (value === undefined) continue;
        config[key] = typeof value === "string" ? value : JSON.stringify(value);
        if (entry.secret) secretKeys.push(key);
    }
    return { config, secretKeys: secretKeys.sort() };
}

/** The options of a check, as the command line gives them once checked, with their defaults. */
export type VerifyOptions = Omit<
    CliValues<typeof VERIFY_CLI.options>,
    "state" | "objects" | "skip" | "buildkite-api-url"
> & {
    readonly state: string;
    readonly mode: ObjectMode;
    readonly skip: ReadonlySet<string>;
    readonly "buildkite-api-url": string;
};

/**
 * `npm run verify` with `argv`: writes to `io` and returns the exit code. A test passes its own io, and may pass the
 * `expectedFromProgram` that runs the program (one run per stack config and state in its process); the command
 * passes neither.
 */
export async function main(
    argv: readonly string[],
    io: CliIo & { readonly expectedFromProgram?: typeof expectedFromProgram } = PROCESS_IO,
): Promise<number> {
    const cli = parseCli(VERIFY_CLI, argv);
    if (!cli.run) return printCliAnswer(cli, io);
    const values = { objects: "content", skip: "", "buildkite-api-url": "https://api.buildkite.com", ...cli.values };
    const sources = [values.config, values["pulumi-config"]].filter((v) => v !== undefined);
    const mode = values.objects;
    const skip = new Set(values.skip.split(",").filter((s) => s !== ""));
    const unknownSkip = [...skip].filter((s) => !["objects", "tokens", "images"].includes(s));
    if (!values.state || sources.length > 1 || (mode !== "content" && mode !== "etag") || unknownSkip.length > 0) {
        io.stderr(
            `verify: ${!values.state ? "--state is required" : sources.length > 1 ? "give one of --config and --pulumi-config" : unknownSkip.length > 0 ? `unknown --skip ${unknownSkip.join(",")}` : "--objects is content or etag"}\n${USAGE}\n`,
        );
        return 2;
    }
    // Required only now: the checks run the program, which loads it and the provider SDKs (~2 CPU s) that the
    // answers above do without.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only for a check (see above)
    const { verifyCommand } = require("./verify/run") as typeof import("./verify/run");
    return verifyCommand({ ...values, state: values.state, mode, skip }, io);
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => exitWhenFlushed(code),
        (e: unknown) => {
            process.stderr.write(`verify: ${(e as Error).message ?? String(e)}\n`);
            return exitWhenFlushed(5);
        },
    );
}
