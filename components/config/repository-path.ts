/*
 * The rule for a path inside the repository that names a package or an always-relevant directory. It lives in the
 * config model, which refuses such a path when the config is loaded (schema.ts `repositoryPath`); the monorepo planner
 * (components/steps/monorepo.ts) applies the same rule to what it is given.
 */

/**
 * Why `path` cannot be used as a package or always-relevant directory, or undefined if it can.
 * A first segment `~` is refused because zzglob expands a leading `~/` to the agent's home directory even when
 * escaped, so no pattern could select it.
 */
export function pathProblem(path: string): string | undefined {
    if (path === "") return "is empty";
    if (path.startsWith("/")) return "must be relative to the repository root (no leading /)";
    if (path.endsWith("/")) return "must not end with /";
    const segments = path.split("/");
    if (segments.some((s) => s === "")) return "must not contain an empty segment (//)";
    if (segments.some((s) => s === "." || s === "..")) return "must not contain . or .. segments";
    if (segments[0] === "~") return "must not start with a ~ segment (zzglob expands ~/ to the home directory)";
    return undefined;
}
