import { createHash } from "node:crypto";
import { buildContext } from "./dockerfile";

/*
 * What decides a rebuild on the docker provider's side, modelled without a Docker engine. Pure: text in, data out
 * (the walk of a real directory is in files.ts).
 *
 * pulumi/pulumi-docker provider/provider.go (Check -> hashContext; read at v5.1.0 and main 237b789, the same code
 * either side of the pinned @pulumi/docker 5.2.0): every
 * docker.Image with a build gets an implicit `build.contextDigest` input, a sha256 over (a) the Dockerfile's
 * content under the fixed name "Dockerfile" and mode 0, then (b) every file of the context that the ignore file
 * does not exclude, each as its relative path, its file mode (`fs.FileMode.String()`) and its content's sha256.
 * The ignore file is `<Dockerfile>.dockerignore`, else `<context>/.dockerignore` (getIgnorePatterns). So without
 * an ignore file a `chmod` of the Dockerfile (a different umask on the machine running `pulumi up`) or any stray
 * file in the directory changes the digest, and the provider rebuilds and pushes the pinned tag again: the
 * IMMUTABLE repository refuses it and `pulumi up` fails.
 *
 * Our images ignore their whole context (`*`), so (b) is empty and the digest follows the Dockerfile's bytes only.
 * The build still gets the Dockerfile: the provider un-ignores it before making the context tarball
 * (provider/image.go, TrimBuildFilesFromExcludes), and our Dockerfiles COPY nothing.
 */

/** The ignore file of an image, relative to the repository root: `agent-images/<image>/.dockerignore`. */
export function dockerignorePath(image: string): string {
    return `${buildContext(image)}/.dockerignore`;
}

/** The patterns of a `.dockerignore`: comments and blank lines dropped, each pattern trimmed, leading `/` gone. */
export function parseIgnoreFile(text: string): string[] {
    return text
        .replace(/\r\n?/g, "\n")
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l !== "" && !l.startsWith("#"))
        .map((l) => (l.startsWith("!") ? `!${stripSlashes(l.slice(1))}` : stripSlashes(l)));
}

function stripSlashes(p: string): string {
    return p.trim().replace(/^\/+/, "").replace(/\/+$/, "");
}

function patternRegex(pattern: string): RegExp {
    let re = "";
    for (let i = 0; i < pattern.length; i++) {
        const c = pattern[i];
        if (c === "*" && pattern[i + 1] === "*") {
            re += ".*";
            i++;
            if (pattern[i + 1] === "/") i++;
        } else if (c === "*") re += "[^/]*";
        else if (c === "?") re += "[^/]";
        else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
    }
    return new RegExp(`^${re}$`);
}

/**
 * Whether a context path (`sub/file`, `/`-separated) is excluded: the last pattern that matches it or one of its
 * parent directories decides, a `!` pattern re-including (Docker's `.dockerignore` rules, for the `*`, `**` and `?`
 * wildcards; character classes are not modelled).
 */
export function isIgnored(patterns: readonly string[], relPath: string): boolean {
    const parts = relPath.split("/");
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join("/"));
    let ignored = false;
    for (const raw of patterns) {
        const negate = raw.startsWith("!");
        const re = patternRegex(negate ? raw.slice(1) : raw);
        if (prefixes.some((p) => re.test(p))) ignored = !negate;
    }
    return ignored;
}

/** Whether the patterns exclude every file of a context: a `*` or `**` pattern and no `!` exception after it. */
export function ignoresWholeContext(patterns: readonly string[]): boolean {
    let all = -1;
    patterns.forEach((p, i) => {
        if (p === "*" || p === "**") all = i;
    });
    return all >= 0 && !patterns.slice(all + 1).some((p) => p.startsWith("!"));
}

/** One file of a build context as the provider sees it. */
export interface ContextFile {
    /** Relative to the context, `/`-separated. */
    readonly path: string;
    /** `fs.Stats.mode` (type and permission bits). */
    readonly mode: number;
    /** The file's bytes. */
    readonly content: Buffer | string;
}

/**
 * A model of the provider's `contextDigest` (see the header): it changes exactly when the provider's does, though
 * its bytes differ (Go's mode strings are not reproduced). `ignoreText` is the context's `.dockerignore`, if any.
 */
export function contextDigestModel(
    dockerfile: Buffer | string,
    files: readonly ContextFile[],
    ignoreText: string | undefined,
): string {
    const patterns = ignoreText === undefined ? [] : parseIgnoreFile(ignoreText);
    const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");
    const entries = [`Dockerfile\0${0}\0${sha(dockerfile)}`];
    for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)))
        if (!isIgnored(patterns, f.path)) entries.push(`${f.path}\0${f.mode.toString(8)}\0${sha(f.content)}`);
    return sha(entries.join("\n"));
}
