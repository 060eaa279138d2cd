import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import ts from "typescript";

/*
 * The test tree mirrors the source tree: every module with logic has a test file of its own at the mirrored path, so
 * a reader finds a module's promises beside its name, and a new module without tests shows up here.
 *   components/<p>.ts → test/<p>.test.ts   scripts/<p>.ts → test/<p>.test.ts
 *   policy/<p>.ts → test/policy/<p>.test.ts   index.ts → test/index.test.ts
 * Scenario files that cross modules (test/plan/renames.test.ts, ...) live beside them. A module has logic when it
 * declares anything that runs: a function, a method, a class, an arrow. Types, re-exports and literal constants
 * do not count, so no list of exemptions is kept by hand.
 */

const ROOT = path.resolve(__dirname, "..");
const SOURCE_DIRS = ["components", "scripts", "policy"];

/** Every `.ts` module under `dir`, relative to the root. */
function modulesUnder(dir: string): string[] {
    const full = path.join(ROOT, dir);
    if (!existsSync(full)) return [];
    return readdirSync(full, { recursive: true, encoding: "utf8" })
        .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
        .map((f) => path.join(dir, f))
        .sort();
}

/** The mirrored test file of a module (relative to the root). */
function mirroredTestOf(module: string): string {
    const withoutExt = module.replace(/\.ts$/, "");
    const rel = withoutExt.startsWith("components/")
        ? withoutExt.slice("components/".length)
        : withoutExt.startsWith("scripts/")
          ? withoutExt.slice("scripts/".length)
          : withoutExt;
    return path.join("test", `${rel}.test.ts`);
}

/** True when the module's text declares something that runs: a function, method, accessor, class or arrow. */
function hasLogic(fileName: string, text: string): boolean {
    const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
    let found = false;
    const visit = (node: ts.Node): void => {
        if (found) return;
        // Types describe; they never run (a function type or a method signature is not a function).
        if (ts.isTypeNode(node) || ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node)) return;
        if (
            ts.isFunctionDeclaration(node) ||
            ts.isFunctionExpression(node) ||
            ts.isArrowFunction(node) ||
            ts.isMethodDeclaration(node) ||
            ts.isGetAccessorDeclaration(node) ||
            ts.isSetAccessorDeclaration(node) ||
            ts.isClassDeclaration(node) ||
            ts.isClassExpression(node)
        ) {
            // An overload or `declare function` has no body: nothing runs.
            if (!(ts.isFunctionDeclaration(node) && node.body === undefined)) {
                found = true;
                return;
            }
        }
        ts.forEachChild(node, visit);
    };
    visit(source);
    return found;
}

/** The module specifiers and string literals of a file: what it imports, requires or names. */
function specifiersAndStrings(fileName: string, text: string): { specifiers: string[]; strings: string[] } {
    const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
    const specifiers: string[] = [];
    const strings: string[] = [];
    const visit = (node: ts.Node): void => {
        if (
            (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
            node.moduleSpecifier !== undefined &&
            ts.isStringLiteral(node.moduleSpecifier)
        )
            specifiers.push(node.moduleSpecifier.text);
        else if (ts.isStringLiteralLike(node)) strings.push(node.text);
        ts.forEachChild(node, visit);
    };
    visit(source);
    return { specifiers, strings };
}

/** The project file a relative specifier in `from` names (`x.ts` or `x/index.ts`), or undefined. */
function resolveRelative(from: string, specifier: string): string | undefined {
    if (!specifier.startsWith(".")) return undefined;
    const base = path.join(path.dirname(from), specifier).replace(/\.ts$/, "");
    return [`${base}.ts`, path.join(base, "index.ts")].find((f) => existsSync(path.join(ROOT, f)));
}

/**
 * Modules whose test file reaches them another way, each with the reason. Only the program file: its test reads
 * what it declares through the offline plan, which runs it (test/fixtures/plans.ts, scripts/plan.ts).
 */
const REACHED_OTHERWISE: Readonly<Record<string, string>> = {
    "index.ts":
        "test/index.test.ts reads the program's declarations through the offline plan of test/fixtures/plans.ts",
};

/**
 * Whether the test file reaches `module`: it imports it, or imports it through the test fixtures or a folder's
 * index.ts that re-exports it, or names its path in a string (a script the test runs as a process, the program file).
 */
function reaches(testFile: string, module: string): boolean {
    const seen = new Set<string>();
    const queue = [testFile];
    while (queue.length > 0) {
        const file = queue.shift()!;
        if (seen.has(file)) continue;
        seen.add(file);
        if (file === module) return true;
        // Only the test itself, the fixtures and barrels are followed: following every import would reach the whole
        // program from any test of the plan.
        const follow = file === testFile || file.startsWith("test/fixtures/") || path.basename(file) === "index.ts";
        if (!follow) continue;
        const { specifiers, strings } = specifiersAndStrings(file, readFileSync(path.join(ROOT, file), "utf8"));
        if (file === testFile && strings.some((s) => s === module || s === path.basename(module))) return true;
        for (const s of specifiers) {
            const target = resolveRelative(file, s);
            if (target !== undefined) queue.push(target);
        }
    }
    return false;
}

describe("the test tree mirrors the source tree", () => {
    const modules = [...SOURCE_DIRS.flatMap(modulesUnder), "index.ts"];

    it("gives every module with logic a test file at the mirrored path", () => {
        const missing = modules
            .filter((m) => hasLogic(m, readFileSync(path.join(ROOT, m), "utf8")))
            .filter((m) => !existsSync(path.join(ROOT, mirroredTestOf(m))))
            .map((m) => `${m} → ${mirroredTestOf(m)}`);
        assert.deepEqual(missing, [], "write the missing test files (or move a scenario file that tests the module)");
    });

    it("has each mirrored test file reach its module (an import, through the fixtures or a barrel, or its path)", () => {
        const unreached = modules
            .map((m) => [m, mirroredTestOf(m)] as const)
            .filter(([, t]) => existsSync(path.join(ROOT, t)))
            .filter(([m, t]) => !Object.hasOwn(REACHED_OTHERWISE, m) && !reaches(t, m))
            .map(([m, t]) => `${t} does not import ${m}`);
        assert.deepEqual(unreached, [], "a mirrored test file tests its module: import it");
    });

    it("maps each source folder to its place under test/", () => {
        assert.equal(mirroredTestOf("components/agents/naming.ts"), "test/agents/naming.test.ts");
        assert.equal(mirroredTestOf("scripts/plan/diff.ts"), "test/plan/diff.test.ts");
        assert.equal(mirroredTestOf("scripts/plan.ts"), "test/plan.test.ts");
        assert.equal(mirroredTestOf("policy/invariants/hooks.ts"), "test/policy/invariants/hooks.test.ts");
        assert.equal(mirroredTestOf("index.ts"), "test/index.test.ts");
    });

    it("counts functions, methods, classes and arrows as logic, and types, re-exports and literals not", () => {
        const logic = [
            "export function f() { return 1; }",
            "export const f = (x: number) => x + 1;",
            "export class C {}",
            "export const o = { m() { return 1; } };",
            "export const xs = [1, 2].map(function (x) { return x; });",
        ];
        const none = [
            "export interface A { f(): void; g: (x: number) => string }",
            "export type F = (x: number) => string;",
            'export * from "./a";\nexport { b } from "./b";',
            'export const NAMES = ["a", "b"] as const;\nexport const SET = new Set(NAMES);',
            "export declare function f(x: number): string;",
        ];
        for (const text of logic) assert.equal(hasLogic("x.ts", text), true, text);
        for (const text of none) assert.equal(hasLogic("x.ts", text), false, text);
    });
});
