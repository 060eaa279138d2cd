import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import fc from "fast-check";
import { parse, stringify } from "yaml";
import { ConfigError, ConfigIssue, formatIssue, rawConfigFromMap } from "../../components/config";
import { parsePlatformConfig } from "../../components/platform-config";
import { checkImages, parseVersionsText, readImageFiles, stepImageResolver } from "../../components/images";
import { generateSteps } from "../../components/steps";
import { readStackFile } from "../../scripts/plan/stack-file";
import { ROOT } from "../fixtures/cli";

/*
 * Issue 12, "Bad input": random mutations of the prod stack file go through the loader the plan uses (the stack file
 * reader, the schema and cross-checks, the image checks, step generation) and end either valid (exit 0) or refused
 * with config problems under `ci-platform:` (exit 2): never an exception of another kind (exit 1) or a stack trace.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = (string | number)[];

const PROD: { config: Record<string, Json> } = parse(readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8"));
const imageFiles = readImageFiles(ROOT);
const versions = parseVersionsText(imageFiles.versionsJson ?? "{}").value ?? {};

/** Every path inside the `ci-platform:` keys of the prod config (the keys themselves included). */
function pathsOf(value: Json, at: Path): Path[] {
    const here = [at];
    if (Array.isArray(value)) return [...here, ...value.flatMap((v, i) => pathsOf(v, [...at, i]))];
    if (value !== null && typeof value === "object")
        return [...here, ...Object.entries(value).flatMap(([k, v]) => pathsOf(v, [...at, k]))];
    return here;
}
const PATHS: Path[] = Object.entries(PROD.config)
    .filter(([key]) => key.startsWith("ci-platform:"))
    .flatMap(([key, value]) => pathsOf(value, [key]));

/** What a mutation does at its path. */
type Mutation =
    | { kind: "delete" }
    | { kind: "set"; value: Json }
    | { kind: "inject-dotdot" }
    | { kind: "secure" }
    | { kind: "swap" }
    | { kind: "bytes"; byte: number };

const oddStrings = fc.constantFrom(
    "",
    " ",
    "a\nb",
    "../..",
    "/etc/passwd",
    "C:\\Windows",
    "x".repeat(5000),
    "\u0000",
    "é日本",
    "aws:reserved",
    "-leading",
    "trailing-",
    "@daily",
    "* * * * *",
    "0 0 31 2 *",
    "$(reboot)",
    "secure",
    "true",
    "12",
);
const scalars: fc.Arbitrary<Json> = fc.oneof(
    fc.integer(),
    fc.constantFrom(-1, 0, 1, 1.5, 1e9, -1e9, 2 ** 53, Number.MAX_SAFE_INTEGER),
    fc.boolean(),
    fc.constant(null),
    oddStrings,
    fc.string({ maxLength: 20 }),
);
const values: fc.Arbitrary<Json> = fc.oneof(
    scalars,
    fc.constant<Json>([]),
    fc.constant<Json>({}),
    fc.array(scalars, { maxLength: 3 }),
    fc.dictionary(fc.constantFrom("name", "slug", "x", "env", "secure"), scalars, { maxKeys: 2 }),
);
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    { weight: 2, arbitrary: fc.constant<Mutation>({ kind: "delete" }) },
    { weight: 5, arbitrary: values.map<Mutation>((value) => ({ kind: "set", value })) },
    { weight: 2, arbitrary: fc.constant<Mutation>({ kind: "inject-dotdot" }) },
    { weight: 1, arbitrary: fc.constant<Mutation>({ kind: "secure" }) },
    { weight: 1, arbitrary: fc.constant<Mutation>({ kind: "swap" }) },
    {
        weight: 1,
        arbitrary: fc.constantFrom(0xff, 0xc3, 0xe9, 0x80).map<Mutation>((byte) => ({ kind: "bytes", byte })),
    },
);
/** Indices of PATHS matching `keep`: mutations are steered to where the holes were (top-level keys, names, paths). */
const indices = (keep: (p: Path) => boolean): number[] => PATHS.flatMap((p, i) => (keep(p) ? [i] : []));
const TOP_LEVEL = indices((p) => p.length === 1);
const NAMED = indices((p) =>
    ["path", "repository", "cronline", "name", "slug", "queue", "cluster", "variant", "owner", "version"].includes(
        String(p[p.length - 1]),
    ),
);
const where = fc.oneof(
    { weight: 3, arbitrary: fc.nat({ max: PATHS.length - 1 }) },
    { weight: 1, arbitrary: fc.constantFrom(...TOP_LEVEL) },
    { weight: 2, arbitrary: fc.constantFrom(...NAMED) },
);
const edit = fc.tuple(where, mutation);

/** Applies a mutation to a deep copy's value at `at`; returns a byte to splice into the text, if any. */
function apply(config: Record<string, Json>, at: Path, m: Mutation): number | undefined {
    let parent: Json = config;
    for (const part of at.slice(0, -1)) {
        if (parent === null || typeof parent !== "object") return undefined;
        parent = (parent as Record<string | number, Json>)[part];
    }
    if (parent === null || typeof parent !== "object") return undefined;
    const box = parent as Record<string | number, Json>;
    const key = at[at.length - 1];
    const current = box[key];
    switch (m.kind) {
        case "delete":
            if (Array.isArray(box) && typeof key === "number") box.splice(key, 1);
            else delete box[key];
            return undefined;
        case "set":
            box[key] = m.value;
            return undefined;
        case "inject-dotdot":
            box[key] = typeof current === "string" ? `${current}/../..` : "../..";
            return undefined;
        case "secure":
            box[key] = { secure: "v1:ZnV6eg:bm90LWEtcmVhbC1jaXBoZXJ0ZXh0" };
            return undefined;
        case "swap":
            box[key] = Array.isArray(current)
                ? Object.fromEntries(current.map((v, i) => [String(i), v]))
                : current !== null && typeof current === "object"
                  ? Object.values(current)
                  : [current];
            return undefined;
        case "bytes":
            return m.byte;
    }
}

const dir = mkdtempSync(path.join(tmpdir(), "ci-platform-fuzz-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The outcome of loading a stack file as the plan does: valid, or the problems; anything else throws. */
function load(file: string): { ok: true } | { ok: false; issues: readonly ConfigIssue[] } {
    let stack;
    try {
        stack = readStackFile(file);
    } catch (e) {
        if (e instanceof ConfigError) return { ok: false, issues: e.issues };
        throw e;
    }
    const parsed = parsePlatformConfig(rawConfigFromMap(stack.config));
    if (!parsed.ok) return { ok: false, issues: parsed.error };
    const imageIssues = checkImages(parsed.value, imageFiles);
    if (imageIssues.length > 0) return { ok: false, issues: imageIssues };
    generateSteps(parsed.value, stepImageResolver(parsed.value.images, versions));
    return { ok: true };
}

describe("random mutations of the prod config", () => {
    it("the unmutated prod stack file loads", () => {
        const file = path.join(dir, "Pulumi.same.yaml");
        writeFileSync(file, stringify(PROD));
        assert.deepEqual(load(file), { ok: true });
    });

    it("are valid or refused with ci-platform: paths, never a crash (property)", () => {
        // A fixed seed so a failure reproduces; CI_PLATFORM_FUZZ_SEED and CI_PLATFORM_FUZZ_RUNS explore further.
        const seed = Number(process.env.CI_PLATFORM_FUZZ_SEED ?? 20261130);
        const numRuns = Number(process.env.CI_PLATFORM_FUZZ_RUNS ?? 250);
        let run = 0;
        fc.assert(
            fc.property(fc.array(edit, { minLength: 1, maxLength: 3 }), (edits) => {
                const doc = structuredClone(PROD);
                const bytes: number[] = [];
                for (const [index, m] of edits) {
                    const byte = apply(doc.config, PATHS[index], m);
                    if (byte !== undefined) bytes.push(byte);
                }
                let text = Buffer.from(stringify(doc), "utf8");
                // A stray byte goes into the middle of a value line of a ci-platform key.
                for (const byte of bytes) {
                    const at = text.indexOf("ci-platform:", Math.floor(text.length / 2)) + 4;
                    text = Buffer.concat([text.subarray(0, at), Buffer.from([byte]), text.subarray(at)]);
                }
                const file = path.join(dir, `Pulumi.fuzz-${run++}.yaml`);
                writeFileSync(file, text);
                let outcome;
                try {
                    outcome = load(file);
                } catch (e) {
                    throw new Error(
                        `crash (would exit 1) on ${JSON.stringify(edits)}: ${(e as Error).stack ?? String(e)}`,
                    );
                } finally {
                    rmSync(file, { force: true });
                }
                if (!outcome.ok) {
                    assert.ok(outcome.issues.length > 0);
                    for (const issue of outcome.issues) {
                        const line = formatIssue(issue);
                        assert.match(line, /^ci-platform(:|: )/, line);
                        assert.ok(issue.message.length > 0, line);
                    }
                }
            }),
            // fast-check prints the seed and the shrunk counterexample on failure; rerun with them to reproduce.
            { seed, numRuns, verbose: 1 },
        );
    });
});
