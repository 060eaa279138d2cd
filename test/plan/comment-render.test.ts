import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { diffDiagrams } from "../../scripts/plan/run";
import { diffPlans } from "../../scripts/plan/diff";
import { PlanDocument, PlanResource } from "../../scripts/plan/model";
import { renderDiffMarkdown } from "../../scripts/plan/render";
import { ROOT } from "../fixtures/cli";

/*
 * The PR comment as a reader sees it: markdown through a real renderer (npm `marked`), its Mermaid blocks through
 * Mermaid (npm `mermaid`) in headless Chromium (Debian package `chromium`, or $CHROMIUM), and a screenshot kept at
 * .plan/comment.png for CI to upload. Skipped, with the reason, where a piece is not installed.
 */

/** The module's path, or undefined when it is not installed. */
function resolved(specifier: string): string | undefined {
    try {
        return require.resolve(specifier, { paths: [ROOT] });
    } catch {
        return undefined;
    }
}

function chromium(): string | undefined {
    for (const candidate of [process.env.CHROMIUM, "chromium", "chromium-browser", "google-chrome"]) {
        if (!candidate) continue;
        if (spawnSync(candidate, ["--version"], { stdio: "ignore" }).status === 0) return candidate;
    }
    return undefined;
}

const markedPath = resolved("marked");
const mermaidPath = resolved("mermaid/dist/mermaid.min.js");
const browser = chromium();
const missing = [
    markedPath ? "" : "npm package marked (npm i -D marked)",
    mermaidPath ? "" : "npm package mermaid (npm i -D mermaid)",
    browser ? "" : "chromium (apt-get install chromium, or set CHROMIUM)",
].filter(Boolean);

const resource = (name: string, type: string, inputs: Record<string, unknown>): PlanResource => ({
    urn: `urn:pulumi:test::ci-platform::${type}::${name}`,
    type,
    name,
    parent: null,
    provider: null,
    protect: type === "aws:s3/bucket:Bucket",
    retainOnDelete: false,
    importId: null,
    dependsOn: [],
    aliases: [],
    inputs,
});
const plan = (...resources: PlanResource[]): PlanDocument => ({ project: "ci-platform", stack: "test", resources });
const PIPELINE = "buildkite:Pipeline/pipeline:Pipeline";

describe("the PR comment in a browser", () => {
    it(
        "renders: markdown to HTML, every Mermaid diagram to SVG, and a screenshot",
        { skip: missing.length > 0 ? `not installed: ${missing.join("; ")}` : false, timeout: 120_000 },
        async () => {
            const steps = (extra: string) => `steps:\n  - label: build\n    command: make\n${extra}`;
            const base = plan(
                resource("app-pipeline", PIPELINE, { slug: "app", steps: steps("  - trigger: old\n") }),
                resource("old-pipeline", PIPELINE, { slug: "old", steps: steps("") }),
                resource("secrets", "aws:s3/bucket:Bucket", { bucket: "s" }),
            );
            const head = plan(
                resource("app-pipeline", PIPELINE, { slug: "app", steps: steps("  - trigger: new\n") }),
                resource("new-pipeline", PIPELINE, { slug: "new", steps: steps("") }),
            );
            const md = renderDiffMarkdown(diffPlans(base, head), "test", {
                violations: [],
                sections: diffDiagrams(base, head),
            });
            const { marked } = (await import(markedPath!)) as { marked: { parse(s: string): string } };
            const html = marked
                .parse(md)
                .replace(
                    /<pre><code class="language-mermaid">([\s\S]*?)<\/code><\/pre>/g,
                    (_, src: string) => `<pre class="mermaid">${src}</pre>`,
                );
            assert.match(html, /<h2>ci-platform plan: stack <code>test<\/code><\/h2>/);
            assert.equal((html.match(/class="mermaid"/g) ?? []).length, 1, "one diagram: the trigger graph changed");
            const dir = path.join(ROOT, ".plan");
            mkdirSync(dir, { recursive: true });
            const page = path.join(dir, "comment.html");
            writeFileSync(
                page,
                `<!doctype html><html><head><meta charset="utf-8"><title>pending</title></head><body style="font-family:sans-serif;max-width:1000px">${html}` +
                    `<script src="file://${mermaidPath}"></script><script>mermaid.initialize({startOnLoad:false});` +
                    `mermaid.run().then(()=>{document.title="rendered"},e=>{document.title="mermaid-error: "+e})</script></body></html>`,
            );
            // As root (CI) Chromium needs --no-sandbox; with no network, the background fetches it starts would fail
            // at every start, so they are off; a fresh profile per run.
            const profile = mkdtempSync(path.join(tmpdir(), "chromium-"));
            const flags = [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                `--user-data-dir=${profile}`,
                "--virtual-time-budget=20000",
            ];
            const shot = path.join(dir, "comment.png");
            try {
                const dom = execFileSync(browser!, [...flags, "--dump-dom", `file://${page}`], {
                    encoding: "utf8",
                    // Chromium logs D-Bus and GPU noise to stderr on a machine without a desktop session.
                    stdio: ["ignore", "pipe", "ignore"],
                    timeout: 90_000,
                });
                assert.match(dom, /<title>rendered<\/title>/, "Mermaid did not render every diagram");
                assert.match(dom, /<pre class="mermaid"[^>]*data-processed="true"[^>]*>\s*<svg/);
                assert.match(dom, /added/);
                execFileSync(
                    browser!,
                    [...flags, "--window-size=1100,1800", `--screenshot=${shot}`, `file://${page}`],
                    { stdio: "ignore", timeout: 90_000 },
                );
                assert.ok(statSync(shot).size > 10_000, "the screenshot has content");
            } finally {
                rmSync(profile, { recursive: true, force: true });
            }
        },
    );
});
