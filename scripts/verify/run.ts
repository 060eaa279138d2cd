/*
 * The checks of `npm run verify` once its command line is parsed (scripts/verify.ts `main`): runs the program for what
 * the stack declares and compares the live objects with it. Kept out of scripts/verify.ts, which requires this module
 * only once the command line asks for a check, so that --help and bad usage are answered without loading the program
 * and the provider SDKs (about 2 CPU s).
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { CliIo, oneLine, readUserFile } from "../cli";
import { StackConfig, readStackFile } from "../plan/stack-file";
import { stackNameOf } from "../plan";
import { VerifyOptions, stackConfigFromPulumiJson } from "../verify";
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
} from "./checks";
import { expectedFromProgram } from "./expected";
import { Reach, listClusterTokens, observeImages, readBucket } from "./observe";
import { parseStackExport } from "./state";

const ROOT = path.resolve(__dirname, "..", "..");

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
 * The checks of `npm run verify` (scripts/verify.ts `main`, which has parsed and checked the command line): writes to
 * `io` and returns the exit code.
 */
export async function verifyCommand(
    values: VerifyOptions,
    io: CliIo & { readonly expectedFromProgram?: typeof expectedFromProgram },
): Promise<number> {
    const { mode, skip } = values;
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
