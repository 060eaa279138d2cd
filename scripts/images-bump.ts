/*
 * npm run images:bump -- NAME [--date YYYY-MM-DD] [--root DIR]
 *
 * Sets the next calendar version of image NAME in agent-images/versions.json and appends it to the image's history
 * with what it is built from: the content digest of agent-images/NAME/Dockerfile as it is now, the variants the
 * stack files declare, and the source URL from their `ci-platform:github.owner` (keys sorted, two-space JSON, a
 * trailing newline); prints `NAME: old -> new`. The new version is newer than every version in the history. The digest is what the config checks compare the Dockerfile with: an edit without a bump is
 * refused before any resource (components/images/check.ts). The plan diff then shows the new tags and every pipeline
 * whose steps name them. Exit codes: 0 done, 2 bad usage, an unknown image, no Dockerfile, or an unreadable
 * versions.json.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { dockerfilePath, imageContentDigest } from "../components/images/dockerfile";
import {
    type ImageVersionEntry,
    VERSIONS_FILE,
    bumpImage,
    formatVersions,
    imageSourceUrl,
    parseVersionRecordsText,
} from "../components/images/versions";
import { CliOption, CliSpec, fileProblem, parseCli } from "./cli";

/** What the command line asks for. */
export interface BumpOptions {
    readonly image: string;
    /** `YYYY-MM-DD`; today (UTC) when omitted. */
    readonly date: string;
    /** The repository root. */
    readonly root: string;
}

/** The command line of `npm run images:bump`. */
export const BUMP_CLI = {
    name: "images:bump",
    synopsis: ["NAME [--date YYYY-MM-DD] [--root DIR]"],
    summary: [
        `Sets the next calendar version of image NAME in ${VERSIONS_FILE} and prints NAME: old -> new. The plan diff`,
        "(npm run plan -- --diff) then shows the new image tags and every pipeline whose steps name them.",
    ].join("\n"),
    options: {
        date: { type: "string", value: "YYYY-MM-DD", help: "the version's date (default: today, UTC)" },
        root: { type: "string", value: "DIR", help: "the repository root (default: the current directory)" },
    },
    positionals: { name: "one image NAME (declared in ci-platform:images)", min: 1, max: 1 },
    examples: [
        ["npm run images:bump -- buildkite-test", "today's version of the buildkite-test image"],
        ["npm run images:bump -- deb-builder --date 2027-01-04", "a version for a given day"],
    ],
    exitCodes: [
        [0, "bumped"],
        [2, `bad usage, an unknown image, or an unreadable ${VERSIONS_FILE}`],
    ],
} as const satisfies CliSpec<Readonly<Record<string, CliOption>>>;

/** Parses the arguments after the script name; returns the help, or a usage message on bad input. */
export function parseArgs(
    argv: readonly string[],
    now: Date,
    cwd: string,
): BumpOptions | { usage: string } | { help: string } {
    const cli = parseCli(BUMP_CLI, argv);
    if (!cli.run) return cli.code === 0 ? { help: cli.stdout } : { usage: cli.stderr.trimEnd() };
    const date = cli.values.date ?? now.toISOString().slice(0, 10);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return { usage: `images:bump: --date ${date} is not a date YYYY-MM-DD` };
    return { image: cli.positionals[0], date, root: path.resolve(cwd, cli.values.root ?? ".") };
}

/** Runs the bump; returns the exit code and what to print. Writes versions.json only on success. */
export function run(argv: readonly string[], now: Date, cwd: string): { code: number; stdout: string; stderr: string } {
    const opts = parseArgs(argv, now, cwd);
    if ("help" in opts) return { code: 0, stdout: opts.help, stderr: "" };
    if ("usage" in opts) return { code: 2, stdout: "", stderr: `${opts.usage}\n` };
    const file = path.join(opts.root, VERSIONS_FILE);
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        return { code: 2, stdout: "", stderr: `images:bump: cannot read ${file}: ${fileProblem(e)}\n` };
    }
    const parsed = parseVersionRecordsText(text);
    if (!parsed.ok) return { code: 2, stdout: "", stderr: parsed.error.map((p) => `${p.message}\n`).join("") };
    const known = [...new Set([...Object.keys(parsed.value), ...declaredImages(opts.root)])].sort();
    if (!known.includes(opts.image))
        return {
            code: 2,
            stdout: "",
            stderr:
                `unknown image "${opts.image}"; known images (pinned in ${VERSIONS_FILE} or declared in ci-platform:images): ${known.join(", ") || "none"}\n` +
                `(to add an image, declare it in ci-platform:images of a Pulumi.<stack>.yaml, then bump it)\n`,
        };
    let dockerfile: string;
    try {
        dockerfile = fs.readFileSync(path.join(opts.root, dockerfilePath(opts.image)), "utf8");
    } catch (e) {
        return {
            code: 2,
            stdout: "",
            stderr: `cannot read ${dockerfilePath(opts.image)}: ${(e as Error).message}; a version is pinned with the digest of its Dockerfile\n`,
        };
    }
    const declared = declarations(opts.root).filter((d) => d.name === opts.image);
    const previous = pinnedOrNewest(parsed.value[opts.image]?.history ?? []);
    const variantSets = [...new Set(declared.map((d) => JSON.stringify(d.variants)))];
    if (variantSets.length > 1)
        return {
            code: 2,
            stdout: "",
            stderr: `image "${opts.image}" is declared with different variants in the stack files (${variantSets.join(" vs ")}); one version records one set of variants, so make them agree\n`,
        };
    const variants: readonly string[] | undefined = declared[0]?.variants ?? previous?.variants;
    const owners = [...new Set(declared.map((d) => d.owner).filter((o): o is string => o !== undefined))];
    if (owners.length > 1)
        return {
            code: 2,
            stdout: "",
            stderr: `the stack files declaring "${opts.image}" name different ci-platform:github.owner values (${owners.join(", ")}); a version records one source URL, so make them agree\n`,
        };
    const sourceUrl = owners.length === 1 ? imageSourceUrl(owners[0], opts.image) : previous?.sourceUrl;
    if (variants === undefined || variants.length === 0 || sourceUrl === undefined)
        return {
            code: 2,
            stdout: "",
            stderr: `image "${opts.image}" is not declared with its variants and ci-platform:github.owner in a Pulumi.<stack>.yaml, and has no earlier version to take them from; a version records both\n`,
        };
    const { records, from, to } = bumpImage(parsed.value, opts.image, opts.date, {
        digest: imageContentDigest(dockerfile),
        variants,
        sourceUrl,
    });
    fs.writeFileSync(file, formatVersions(records));
    return { code: 0, stdout: `${opts.image}: ${from ?? "(none)"} -> ${to}\n`, stderr: "" };
}

/** The newest history entry (the one a bump follows). */
function pinnedOrNewest(history: readonly ImageVersionEntry[]): ImageVersionEntry | undefined {
    return history.length > 0 ? history[history.length - 1] : undefined;
}

/** An image as one stack file declares it: its variants, and the stack's `ci-platform:github.owner`. */
export interface ImageDeclaration {
    readonly name: string;
    readonly variants: readonly string[];
    readonly owner: string | undefined;
}

/**
 * The images declared in `ci-platform:images` of every `Pulumi.<stack>.yaml` at the root, with their variants and
 * the stack's GitHub owner: what a new version records (a newly declared image gets its first pin this way).
 * Unreadable stack files are skipped: the plan reports their problems.
 */
export function declarations(root: string): ImageDeclaration[] {
    const out: ImageDeclaration[] = [];
    for (const file of fs.readdirSync(root).filter((f) => /^Pulumi\.[^.]+\.ya?ml$/.test(f))) {
        try {
            const doc: unknown = parseYaml(fs.readFileSync(path.join(root, file), "utf8"));
            const config = (doc as { config?: Record<string, unknown> } | null)?.config;
            const images = config?.["ci-platform:images"];
            const github = config?.["ci-platform:github"] as { owner?: unknown } | undefined;
            const owner = typeof github?.owner === "string" ? github.owner : undefined;
            if (Array.isArray(images))
                for (const image of images as { name?: unknown; variants?: unknown }[])
                    if (typeof image?.name === "string")
                        out.push({
                            name: image.name,
                            variants: Array.isArray(image.variants)
                                ? image.variants.filter((v): v is string => typeof v === "string")
                                : [],
                            owner,
                        });
        } catch {
            // skipped, see above
        }
    }
    return out;
}

/** Image names declared in `ci-platform:images` of any `Pulumi.<stack>.yaml` at the root. */
export function declaredImages(root: string): string[] {
    return declarations(root).map((d) => d.name);
}

if (require.main === module) {
    const result = run(process.argv.slice(2), new Date(), process.cwd());
    process.stdout.write(result.stdout);
    process.stderr.write(result.stderr);
    process.exitCode = result.code;
}
