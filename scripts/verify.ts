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
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { CliIo, CliOption, CliSpec, oneLine, parseCli, printCliAnswer, PROCESS_IO, readUserFile, usageOf } from "./cli";
import { exitWhenFlushed } from "./plan/exit";
import { StackConfig, readStackFile } from "./plan/stack-file";
import { stackNameOf } from "./plan";
import {
    Finding,
    ObjectMode,
    ObjectObservation,
    TokenListing,
    checkAll,
    exitCodeOf,
    objectLocation,
    renderReport,
    tokenLocation,
} from "./verify/checks";
import { expectedFromProgram } from "./verify/expected";
import { Reach, listClusterTokens, observeImages, readBucket } from "./verify/observe";
import { parseStackExport } from "./verify/state";

const ROOT = path.resolve(__dirname, "..");

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

/** Runs every check and returns the findings. */
export async function verify(options: {
    readonly stackConfig: StackConfig;
    /** Whether `stackConfig` holds decrypted secret values (`--pulumi-config`), not a stack file's stand-ins. */
    readonly decrypted: boolean;
    readonly stack: string;
    readonly state: string;
    readonly mode: ObjectMode;
    readonly skip: ReadonlySet<string>;
    readonly reach: Reach;
    readonly now?: Date;
    /** Runs the program for what to verify: {@link expectedFromProgram}, unless a test shares its runs. */
    readonly expected?: typeof expectedFromProgram;
}): Promise<Finding[]> {
    const project = (parse(readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as { name: string }).name;
    const state = parseStackExport(options.state);
    const all = await (options.expected ?? expectedFromProgram)({
        root: ROOT,
        project,
        stack: options.stack,
        stackConfig: options.stackConfig,
        state,
        decrypted: options.decrypted,
    });
    const expected = {
        objects: options.skip.has("objects") ? [] : all.objects,
        tokens: options.skip.has("tokens") ? [] : all.tokens,
        images: options.skip.has("images") ? [] : all.images,
    };

    // Objects: one read per bucket.
    const buckets = new Map<string, { name: string; region: string; keys: string[]; urns: [string, string][] }>();
    for (const object of expected.objects) {
        const location = objectLocation(state, object);
        if (location === undefined) continue;
        const id = `${object.region}/${location.bucket}`;
        const entry = buckets.get(id) ?? { name: location.bucket, region: object.region, keys: [], urns: [] };
        entry.keys.push(location.key);
        entry.urns.push([object.urn, location.key]);
        buckets.set(id, entry);
    }
    const objects = new Map<string, ObjectObservation>();
    await Promise.all(
        [...buckets.values()].map(async (b) => {
            const read = await readBucket(options.reach, b, b.keys, options.mode);
            for (const [urn, key] of b.urns) objects.set(urn, read.get(key) ?? { error: "not read" });
        }),
    );

    // Tokens: one listing per cluster.
    const organization = options.stackConfig.config["ci-platform:organization"] ?? "";
    const clusters = [...new Set(expected.tokens.flatMap((t) => tokenLocation(state, t)?.cluster ?? []))];
    const tokens = new Map<string, TokenListing>(
        await Promise.all(
            clusters.map(async (c) => [c, await listClusterTokens(options.reach, organization, c)] as const),
        ),
    );

    const images = await observeImages(options.reach, expected.images);
    return checkAll(
        expected,
        state,
        { objects, tokens, images },
        { mode: options.mode, now: options.now ?? new Date() },
    );
}

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
    const stackFile = values.config ?? path.join(ROOT, `Pulumi.${values.stack ?? "prod"}.yaml`);
    const stack = values.stack ?? stackNameOf(values.config ?? stackFile);
    let findings: Finding[];
    try {
        const stackConfig = values["pulumi-config"]
            ? stackConfigFromPulumiJson(readUserFile(values["pulumi-config"], "--pulumi-config").toString("utf8"))
            : readStackFile(stackFile);
        findings = await verify({
            stackConfig,
            decrypted: values["pulumi-config"] !== undefined,
            stack,
            state: readUserFile(values.state, "--state", "write it with pulumi stack export").toString("utf8"),
            mode,
            skip,
            expected: io.expectedFromProgram,
            reach: {
                awsCli: process.env.CI_PLATFORM_AWS_CLI || "aws",
                s3EndpointUrl: values["s3-endpoint-url"],
                ecrEndpointUrl: values["ecr-endpoint-url"],
                buildkiteApiUrl: values["buildkite-api-url"],
                buildkiteToken: process.env.BUILDKITE_API_TOKEN,
            },
        });
    } catch (e) {
        const error = e as Error;
        if (error.name === "ConfigError") {
            io.stderr(`${error.message}\n`);
            return 2;
        }
        io.stderr(`verify: ${oneLine(error)}\n`);
        return 5;
    }
    io.stdout(renderReport(findings));
    return exitCodeOf(findings);
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
