import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";

/*
 * components/config is the bottom layer: the config model every other concern (agents, steps, signing, access,
 * graph, images, ...) reads. Its modules import only each other and packages; a check that needs a higher concern's
 * knowledge lives beside that concern, and components/platform-config.ts composes them.
 */

const CONFIG_DIR = path.resolve(__dirname, "../../components/config");

/** Every module specifier a TypeScript text imports or re-exports, statically, dynamically or with require. */
function specifiersOf(text: string): string[] {
    const found: string[] = [];
    const patterns = [
        /\b(?:import|export)\s+(?:type\s+)?(?:[^;'"]*?\s+from\s+)?["']([^"']+)["']/g,
        /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
        /\brequire\s*\(\s*["']([^"']+)["']\s*\)/g,
    ];
    for (const pattern of patterns) for (const m of text.matchAll(pattern)) found.push(m[1]);
    return found;
}

/** The relative imports of a module in `dir` that resolve outside `dir`, as `file: specifier`. */
function importsLeaving(dir: string, file: string, text: string): string[] {
    return specifiersOf(text)
        .filter((s) => s.startsWith("."))
        .filter((s) => {
            const target = path.resolve(path.dirname(file), s);
            return path.relative(dir, target).startsWith("..");
        })
        .map((s) => `${path.relative(dir, file)}: ${s}`);
}

function modulesUnder(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) return modulesUnder(full);
        return entry.name.endsWith(".ts") ? [full] : [];
    });
}

describe("components/config is the bottom layer", () => {
    it("imports nothing from a module outside components/config", () => {
        const leaving = modulesUnder(CONFIG_DIR).flatMap((file) =>
            importsLeaving(CONFIG_DIR, file, readFileSync(file, "utf8")),
        );
        assert.deepEqual(
            leaving,
            [],
            "move the check beside its concern and compose it in components/platform-config.ts",
        );
    });

    it("sees every form of import that leaves the directory, and none that stays", () => {
        const file = path.join(CONFIG_DIR, "example.ts");
        const text = [
            'import { a } from "../agents/naming";',
            'import type { B } from "../steps/monorepo";',
            'export { c } from "../graph/order";',
            "import {\n    d,\n    e,\n} from '../signing/config-checks';",
            'const f = await import("../images");',
            'const g = require("../access/checks");',
            'import { ok } from "./issues";',
            'import { z } from "zod";',
        ].join("\n");
        assert.deepEqual(importsLeaving(CONFIG_DIR, file, text), [
            "example.ts: ../agents/naming",
            "example.ts: ../steps/monorepo",
            "example.ts: ../graph/order",
            "example.ts: ../signing/config-checks",
            "example.ts: ../images",
            "example.ts: ../access/checks",
        ]);
    });
});
