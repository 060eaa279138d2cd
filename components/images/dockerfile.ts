import { createHash } from "node:crypto";
import { imageTag } from "./image-ref";

/*
 * What the stack knows about a Dockerfile without a Docker engine: its instructions, the build arguments a variant
 * gives it, and the content digest that decides when an image is rebuilt. Pure: text in, data out.
 */

/** Where an image's Dockerfile lives, relative to the repository root; its directory is the build context. */
export function dockerfilePath(image: string): string {
    return `${buildContext(image)}/Dockerfile`;
}

/**
 * The build context of an image: its directory under `agent-images/`. Relative to the repository root (where
 * Pulumi runs the program), so the plan is the same on every machine. The directory holds the Dockerfile and a
 * `.dockerignore` that excludes everything, so the docker provider's context digest follows the Dockerfile's bytes
 * alone, not file modes or stray files (context.ts).
 */
export function buildContext(image: string): string {
    return `agent-images/${image}`;
}

/** One Dockerfile instruction, continuation lines joined. */
export interface Instruction {
    /** Upper-case keyword: `FROM`, `ARG`, `LABEL`... */
    readonly keyword: string;
    /** Everything after the keyword, trimmed. */
    readonly args: string;
    /** 1-based line where the instruction starts. */
    readonly line: number;
}

/** Splits a Dockerfile into instructions: skips comments and blank lines, joins lines ending in `\`. */
export function parseDockerfile(text: string): Instruction[] {
    const out: Instruction[] = [];
    const lines = text.replace(/\r\n?/g, "\n").split("\n");
    let pending: { text: string; line: number } | undefined;
    lines.forEach((raw, i) => {
        const trimmed = raw.trim();
        if (trimmed.startsWith("#") || (trimmed === "" && !pending)) return;
        const continued = /\\\s*$/.test(raw);
        const body = continued ? raw.replace(/\\\s*$/, "") : raw;
        pending = pending
            ? { text: `${pending.text} ${body.trim()}`, line: pending.line }
            : { text: body.trim(), line: i + 1 };
        if (continued) return;
        const m = /^(\S+)\s*(.*)$/.exec(pending.text);
        if (m) out.push({ keyword: m[1].toUpperCase(), args: m[2].trim(), line: pending.line });
        pending = undefined;
    });
    if (pending) {
        const m = /^(\S+)\s*(.*)$/.exec(pending.text);
        if (m) out.push({ keyword: m[1].toUpperCase(), args: m[2].trim(), line: pending.line });
    }
    return out;
}

/** An `ARG` declaration. */
export interface ArgDeclaration {
    readonly name: string;
    /** The default value, if the declaration has one. */
    readonly default?: string;
    /** Declared before the first `FROM` (usable in `FROM` lines). */
    readonly global: boolean;
}

/** Every `ARG` declared, in order. */
export function argDeclarations(instructions: readonly Instruction[]): ArgDeclaration[] {
    let global = true;
    const out: ArgDeclaration[] = [];
    for (const ins of instructions) {
        if (ins.keyword === "FROM") global = false;
        if (ins.keyword !== "ARG") continue;
        const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/.exec(ins.args);
        if (!m) continue;
        out.push({ name: m[1], default: m[2] === undefined ? undefined : unquote(m[2]), global });
    }
    return out;
}

/** `LABEL` keys to their (unexpanded) values. */
export function labels(instructions: readonly Instruction[]): Record<string, string> {
    const out: Record<string, string> = {};
    const pair = /([A-Za-z0-9_.-]+)=("(?:[^"\\]|\\.)*"|\S+)/g;
    for (const ins of instructions) {
        if (ins.keyword !== "LABEL") continue;
        for (const m of ins.args.matchAll(pair)) out[m[1]] = unquote(m[2]);
    }
    return out;
}

/** Replaces `$NAME` and `${NAME}` from `values`; unknown names become empty, as in Docker. */
export function expandArgs(text: string, values: Readonly<Record<string, string>>): string {
    return text.replace(
        /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
        (_, a, b) => values[a ?? b] ?? "",
    );
}

/**
 * The base images the Dockerfile builds from, with the given build arguments (falling back to global `ARG`
 * defaults) substituted: `python:3.12-slim-bookworm`.
 */
export function baseImages(
    instructions: readonly Instruction[],
    buildArgs: Readonly<Record<string, string>>,
): string[] {
    const values: Record<string, string> = {};
    for (const a of argDeclarations(instructions).filter((d) => d.global))
        if (a.default !== undefined) values[a.name] = a.default;
    Object.assign(values, buildArgs);
    return instructions
        .filter((i) => i.keyword === "FROM")
        .map((i) => expandArgs(i.args.split(/\s+/).filter((w) => !w.startsWith("--"))[0] ?? "", values));
}

/**
 * The user the final stage runs as: the argument of the last `USER` after the last `FROM`, or `root` when there is
 * none (Docker's default).
 */
export function finalUser(instructions: readonly Instruction[]): { user: string; line?: number } {
    let lastFrom = -1;
    instructions.forEach((ins, i) => {
        if (ins.keyword === "FROM") lastFrom = i;
    });
    const users = instructions.slice(lastFrom + 1).filter((ins) => ins.keyword === "USER");
    const last = users.at(-1);
    return last ? { user: last.args, line: last.line } : { user: "root" };
}

/** Whether a `USER` argument (`name`, `uid`, `name:group`) is the container's root: `root`, `0`, `root:x`, `0:x`. */
export function isRootUser(user: string): boolean {
    const name = user.split(":")[0].trim();
    return name === "root" || name === "0";
}

/**
 * Global `ARG`s without a default that a `FROM` line uses and `buildArgs` does not give: a build with these
 * arguments would start from a broken base image name.
 */
export function missingFromArgs(
    instructions: readonly Instruction[],
    buildArgs: Readonly<Record<string, string>>,
): string[] {
    const fromText = instructions
        .filter((i) => i.keyword === "FROM")
        .map((i) => i.args)
        .join(" ");
    return argDeclarations(instructions)
        .filter((a) => a.global && a.default === undefined && !(a.name in buildArgs))
        .filter((a) => new RegExp(`\\$\\{?${a.name}\\b`).test(fromText))
        .map((a) => a.name);
}

/**
 * The build arguments a variant name gives: always `VARIANT`; a Python variant `py3.12` also gives
 * `PYTHON_VERSION=3.12`. A Dockerfile picks what it needs (the Python image `FROM python:${PYTHON_VERSION}-...`,
 * the Debian one `FROM debian:${VARIANT}-slim`); {@link missingFromArgs} finds a variant that gives too little.
 */
export function variantBuildArgs(variant: string): Record<string, string> {
    const args: Record<string, string> = { VARIANT: variant };
    const python = /^py(\d+\.\d+)$/.exec(variant);
    if (python) args.PYTHON_VERSION = python[1];
    return args;
}

/**
 * The sha256 of a Dockerfile's content, line endings normalised (a Windows checkout must not rebuild). It is
 * the build's `REVISION` argument (and the image's `org.opencontainers.image.revision` label), so the build's
 * inputs change exactly when the recipe does.
 */
export function dockerfileDigest(text: string): string {
    return createHash("sha256").update(text.replace(/\r\n?/g, "\n")).digest("hex");
}

/**
 * The content digest `versions.json` records for an image's version: `sha256:` and {@link dockerfileDigest}. The
 * Dockerfile is the whole build context (its `.dockerignore` excludes everything else, context.ts), so this is the
 * content that matters; line endings are normalised and file modes never enter it, so a CRLF checkout or a chmod
 * changes nothing, while any other edit changes it and needs a new version (check.ts).
 */
export function imageContentDigest(dockerfile: string): string {
    return `sha256:${dockerfileDigest(dockerfile)}`;
}

/** One image build: a variant at the pinned version. */
export interface VariantBuild {
    readonly variant: string;
    /** `py3.12-2026.11.1`. */
    readonly tag: string;
    /** Every `--build-arg`. */
    readonly buildArgs: Readonly<Record<string, string>>;
}

/** What {@link variantBuilds} needs. */
export interface VariantBuildsArgs {
    readonly image: string;
    readonly variants: readonly string[];
    readonly version: string;
    /** The Dockerfile's text. */
    readonly dockerfile: string;
    /** URL of the source, for the `org.opencontainers.image.source` label. */
    readonly sourceUrl: string;
}

/** The builds of an image, one per variant in declared order, each with its tag and build arguments. */
export function variantBuilds(args: VariantBuildsArgs): VariantBuild[] {
    const revision = dockerfileDigest(args.dockerfile);
    return args.variants.map((variant) => ({
        variant,
        tag: imageTag(variant, args.version),
        buildArgs: {
            ...variantBuildArgs(variant),
            IMAGE_TITLE: args.image,
            SOURCE_URL: args.sourceUrl,
            REVISION: revision,
            VERSION: args.version,
        },
    }));
}

function unquote(value: string): string {
    const v = value.trim();
    return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1).replace(/\\(.)/g, "$1") : v;
}
