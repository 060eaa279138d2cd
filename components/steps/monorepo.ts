/**
 * Monorepo packages: dependency closures, a deterministic build order, and the `if_changed` patterns that select a
 * package's step exactly when a file under it, under one of its (transitive) dependencies, or under an
 * always-relevant path changed.
 *
 * Pure module: package descriptions in, plain data out. Patterns follow the glob semantics in `./glob`.
 *
 * @module
 */
import type { Result } from "../config/issues";
import { pathProblem } from "../config/repository-path";
import { dependencyOrder, findCycle } from "../graph/order";

/** One package of a monorepo, as the config describes it. */
export interface PackageSpec {
    /** Unique name, e.g. `dagster-shared`. */
    readonly name: string;
    /** Repository-relative directory, `/`-separated, no leading or trailing slash, e.g. `python_modules/dagster`. */
    readonly path: string;
    /** Names of the packages this one depends on directly. */
    readonly dependsOn: readonly string[];
}

/** What the step generator needs for one package. */
export interface PackagePlan {
    /** The package's name. */
    readonly name: string;
    /** The package's directory. */
    readonly path: string;
    /** Every package it depends on, directly or not, in {@link topologicalOrder} order; never itself. */
    readonly closure: readonly string[];
    /** Patterns for `if_changed`: the package, then its closure in order, then the always-relevant paths. */
    readonly ifChanged: readonly string[];
}

/** Kinds of problem {@link planMonorepo} reports. */
export const MONOREPO_ISSUE = {
    duplicatePackage: "duplicate_package",
    invalidPath: "invalid_path",
    unknownDependency: "unknown_dependency",
    dependencyCycle: "dependency_cycle",
} as const;
/** One of {@link MONOREPO_ISSUE}. */
export type MonorepoIssueCode = (typeof MONOREPO_ISSUE)[keyof typeof MONOREPO_ISSUE];

/** A problem with the package list; `path` is relative to it, e.g. `packages[2].dependsOn[0]`. */
export interface MonorepoIssue {
    readonly code: MonorepoIssueCode;
    readonly path: string;
    readonly message: string;
}

/** Characters zzglob treats specially; a backslash before each makes it literal. */
const GLOB_SPECIAL = /[\\*?[\]{},]/g;

/** Escapes a literal path for use inside a zzglob pattern. */
export function escapeGlob(literal: string): string {
    return literal.replace(GLOB_SPECIAL, (c) => `\\${c}`);
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function dependencyMap(packages: readonly PackageSpec[]): Map<string, readonly string[]> {
    const map = new Map<string, readonly string[]>();
    for (const p of packages) map.set(p.name, [...new Set(p.dependsOn)].sort(byName));
    return map;
}

/**
 * A dependency cycle as its members in dependency order (`[a, b]` means a depends on b, b on a), starting at the
 * alphabetically first member; `[a]` for a package that depends on itself; null if there is none. Names that are
 * not packages are ignored. Deterministic: packages and their dependencies are visited in name order.
 */
export function findPackageCycle(packages: readonly PackageSpec[]): string[] | null {
    const deps = dependencyMap(packages);
    return findCycle([...deps.keys()], (name) => (deps.get(name) ?? []).filter((d) => deps.has(d))) ?? null;
}

/**
 * Package names with every dependency before its dependents; among packages that are ready at the same time, the
 * alphabetically first comes first.
 *
 * @throws {Error} naming the members of a cycle, or a dependency that is not a package.
 */
export function topologicalOrder(packages: readonly PackageSpec[]): string[] {
    const deps = dependencyMap(packages);
    for (const [name, ds] of deps) {
        const unknown = ds.find((d) => !deps.has(d));
        if (unknown !== undefined) throw new Error(`package "${name}" depends on "${unknown}", which is not a package`);
    }
    const cycle = findPackageCycle(packages);
    if (cycle !== null)
        throw new Error(`packages depend on each other in a cycle: ${[...cycle, cycle[0]].join(" -> ")}`);
    return dependencyOrder([...deps.keys()].sort(byName), (name) => deps.get(name) ?? []).order;
}

/** The `if_changed` patterns selecting a change under `path` (a directory): `path/**`, with the path escaped. */
function directoryPattern(path: string): string {
    return `${escapeGlob(path)}/**`;
}

/**
 * Patterns for an always-relevant path: `dir/` means everything under `dir`; a path without a trailing slash means
 * that file or everything under it (`Makefile`, `Makefile/**`).
 */
function alwaysRelevantPatterns(path: string): string[] {
    if (path.endsWith("/")) return [directoryPattern(path.replace(/\/+$/, ""))];
    return [escapeGlob(path), directoryPattern(path)];
}

/**
 * The `if_changed` list for a package: its own directory, each dependency's in the order given, then the
 * always-relevant paths; duplicates dropped, first occurrence kept.
 */
export function patternsFor(
    pkg: Pick<PackageSpec, "path">,
    closurePaths: readonly string[],
    alwaysRelevant: readonly string[],
): string[] {
    const patterns = [
        directoryPattern(pkg.path),
        ...closurePaths.map(directoryPattern),
        ...alwaysRelevant.flatMap(alwaysRelevantPatterns),
    ];
    return [...new Set(patterns)];
}

/**
 * Checks the packages and plans each one: its transitive dependency closure and its `if_changed` patterns.
 *
 * @param packages the monorepo's packages (names unique, paths as {@link pathProblem} accepts).
 * @param alwaysRelevant paths whose change selects every package, e.g. `.buildkite/` (a directory, by its trailing
 *   slash) or `pyproject.toml` (that file, or a directory of that name).
 * @returns the plans in {@link topologicalOrder} order, or every issue found.
 */
export function planMonorepo(
    packages: readonly PackageSpec[],
    alwaysRelevant: readonly string[] = [],
): Result<PackagePlan[], MonorepoIssue[]> {
    const issues: MonorepoIssue[] = [];
    const firstIndex = new Map<string, number>();
    packages.forEach((p, i) => {
        const seen = firstIndex.get(p.name);
        if (seen !== undefined) {
            issues.push({
                code: "duplicate_package",
                path: `packages[${i}].name`,
                message: `package name "${p.name}" is already used by packages[${seen}]`,
            });
        } else {
            firstIndex.set(p.name, i);
        }
        const problem = pathProblem(p.path);
        if (problem !== undefined) {
            issues.push({ code: "invalid_path", path: `packages[${i}].path`, message: `path "${p.path}" ${problem}` });
        }
    });
    packages.forEach((p, i) =>
        p.dependsOn.forEach((dep, j) => {
            if (!firstIndex.has(dep)) {
                issues.push({
                    code: "unknown_dependency",
                    path: `packages[${i}].dependsOn[${j}]`,
                    message: `package "${p.name}" depends on "${dep}", which is not a package`,
                });
            }
        }),
    );
    alwaysRelevant.forEach((path, i) => {
        const problem = pathProblem(path.replace(/\/+$/, ""));
        if (problem !== undefined) {
            issues.push({ code: "invalid_path", path: `alwaysRelevant[${i}]`, message: `path "${path}" ${problem}` });
        }
    });
    const cycle = findPackageCycle(packages);
    if (cycle !== null) {
        issues.push({
            code: "dependency_cycle",
            path: `packages[${firstIndex.get(cycle[0])}].dependsOn`,
            message: `packages depend on each other in a cycle: ${[...cycle, cycle[0]].join(" -> ")}`,
        });
    }
    if (issues.length > 0) return { ok: false, error: issues };

    const order = topologicalOrder(packages);
    const position = new Map(order.map((name, i) => [name, i]));
    const byPackage = new Map(packages.map((p) => [p.name, p]));
    const closures = new Map<string, ReadonlySet<string>>();
    for (const name of order) {
        // Dependencies come earlier in `order`, so their closures are already known.
        const closure = new Set<string>();
        for (const dep of byPackage.get(name)?.dependsOn ?? []) {
            closure.add(dep);
            for (const d of closures.get(dep) ?? []) closure.add(d);
        }
        closures.set(name, closure);
    }
    const plans = order.map((name): PackagePlan => {
        const pkg = byPackage.get(name) as PackageSpec;
        const closure = [...(closures.get(name) ?? [])].sort((a, b) => (position.get(a) ?? 0) - (position.get(b) ?? 0));
        const closurePaths = closure.map((d) => (byPackage.get(d) as PackageSpec).path);
        return { name, path: pkg.path, closure, ifChanged: patternsFor(pkg, closurePaths, alwaysRelevant) };
    });
    return { ok: true, value: plans };
}
