import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { parse, stringify } from "yaml";
import { PlanDocument } from "../scripts/plan/model";
import { drInProcess, planInProcess, ROOT, runScript } from "./fixtures/cli";

/*
 * `npm run plan`'s output, from its `main` run in this process with the plans the process's tests share; two tests
 * spawn the command itself (exit 0 and the same bytes from a fresh process; exit 2 for a config error, which the
 * program throws: in a test runner's process that is reported as an unhandled rejection as well).
 */

const dir = mkdtempSync(path.join(tmpdir(), "plan-cli-"));
const plan = planInProcess;

/** The prod stack file, changed by `mutate`, written to a temp file. */
function variant(name: string, mutate: (config: Record<string, unknown>) => void): string {
    const doc = parse(readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, unknown> };
    mutate(doc.config);
    const file = path.join(dir, `Pulumi.${name}.yaml`);
    writeFileSync(file, stringify(doc));
    return file;
}

let prod: PlanDocument;
let prodBytes: string;
let prodOutput: string;

before(async () => {
    const out = await plan("--json", path.join(dir, "prod.json"), "--markdown", path.join(dir, "prod.md"));
    assert.equal(out.code, 0, out.stderr);
    prodOutput = out.stdout;
    prodBytes = readFileSync(path.join(dir, "prod.json"), "utf8");
    prod = JSON.parse(prodBytes) as PlanDocument;
});

describe("npm run plan", () => {
    it("writes the contract's JSON: project, stack, resources sorted by urn with every field", () => {
        assert.equal(prod.project, "ci-platform");
        assert.equal(prod.stack, "prod");
        const urns = prod.resources.map((r) => r.urn);
        assert.deepEqual(urns, [...urns].sort());
        for (const r of prod.resources)
            assert.deepEqual(Object.keys(r), [
                "urn",
                "type",
                "name",
                "parent",
                "provider",
                "protect",
                "retainOnDelete",
                "importId",
                "dependsOn",
                "aliases",
                "inputs",
            ]);
        assert.ok(
            prod.resources.some((r) => r.type === "pulumi:providers:buildkite"),
            "providers are listed",
        );
    });

    it("declares a Pipeline for every configured pipeline and a webhook for each github one, its URL secret", () => {
        const doc = parse(readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8")) as {
            config: { "ci-platform:pipelines": { slug: string; webhook?: string }[] };
        };
        for (const p of doc.config["ci-platform:pipelines"]) {
            const pipeline = prod.resources.find(
                (r) => r.type === "buildkite:Pipeline/pipeline:Pipeline" && r.inputs.slug === p.slug,
            );
            assert.ok(pipeline, `no Pipeline for ${p.slug}`);
            const hook = prod.resources.find(
                (r) => r.type === "github:index/repositoryWebhook:RepositoryWebhook" && r.name === `${p.slug}-webhook`,
            );
            if ((p.webhook ?? "github") === "github") {
                assert.ok(hook, `no RepositoryWebhook for ${p.slug}`);
                assert.equal((hook.inputs.configuration as { url: string }).url, "[secret]");
            } else assert.equal(hook, undefined);
        }
    });

    it("gives the same bytes for the same config, from the command in a process of its own", async () => {
        const again = path.join(dir, "prod-again.json");
        const out = await runScript("scripts/plan.ts", ["--json", again]);
        assert.equal(out.code, 0, out.stderr);
        assert.equal(out.stdout, prodOutput);
        assert.equal(readFileSync(again, "utf8"), prodBytes);
    });

    it("prints a tree of components and a count per type", () => {
        const out = { stdout: prodOutput };
        assert.match(out.stdout, /ci-platform:buildkite:Pipeline {2}kolibri-python-package/);
        assert.match(out.stdout, /└─ buildkite:Pipeline\/pipeline:Pipeline {2}kolibri-python-package-pipeline/);
        const declared = (
            parse(readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8")) as {
                config: { "ci-platform:pipelines": unknown[] };
            }
        ).config["ci-platform:pipelines"].length;
        assert.match(out.stdout, new RegExp(`^\\s+${declared} {2}buildkite:Pipeline/pipeline:Pipeline$`, "m"));
    });

    it("diffs against a base plan, naming changed input paths, and writes markdown", async () => {
        const file = variant("changed", (config) => {
            const pipelines = config["ci-platform:pipelines"] as Record<string, unknown>[];
            pipelines.find((p) => p.slug === "dagster")!.defaultBranch = "main";
            pipelines.push({ slug: "docs", repository: "learningequality/docs", team: "kolibri" });
        });
        const md = path.join(dir, "diff.md");
        const out = await plan("--config", file, "--diff", path.join(dir, "prod.json"), "--markdown", md);
        assert.equal(out.code, 0, out.stderr);
        assert.match(
            out.stdout,
            /~ update {3}buildkite:Pipeline\/pipeline:Pipeline {2}dagster-pipeline: defaultBranch/,
        );
        assert.match(out.stdout, /\+ create {3}buildkite:Pipeline\/pipeline:Pipeline {2}docs-pipeline/);
        const markdown = readFileSync(md, "utf8");
        assert.match(markdown, /\| buildkite Pipeline \| 1 \| 1 \| 0 \| 0 \|/);
        assert.match(markdown, /\| ci-platform buildkite Pipeline \| 1 \| 0 \| 0 \| 0 \|/);
        assert.match(markdown, /- \*\*create\*\* `docs-pipeline` \(buildkite Pipeline\)/);
        assert.match(
            markdown,
            /- \*\*update\*\* `dagster-pipeline` \(buildkite Pipeline\): `defaultBranch` `"[^"]*"` → `"main"`/,
        );
    });

    it("prints its usage for --help, as dr does, and exits 0 without planning", async () => {
        const out = await plan("--help");
        assert.equal(out.code, 0, out.stderr);
        assert.match(
            out.stdout,
            /^usage: npm run plan -- \[--stack NAME \| --config FILE\] \[--json OUT\] \[--diff BASE\.json\] \[--markdown OUT\]\n/,
        );
        assert.doesNotMatch(out.stdout, /^(\+ create|Policy pack)/m, "the help plans nothing");
        const dr = await drInProcess("--help");
        assert.equal(dr.code, 0, dr.stderr);
        assert.match(dr.stdout, /^usage: npm run dr -- --fleet NAME \| --region REGION/);
    });

    it("rejects invalid config with exit code 2, every problem with its path, and no stack trace", async () => {
        const file = variant("invalid", (config) => {
            (config["ci-platform:elasticStack"] as Record<string, unknown>).version = "latest";
            const pipelines = config["ci-platform:pipelines"] as { triggers?: { pipeline: string }[] }[];
            pipelines[0].triggers![0].pipeline = "kolibri-installer-debain";
        });
        // Spawned: the program's error in a process of the test runner is also reported as an unhandled rejection.
        const out = await runScript("scripts/plan.ts", ["--config", file, "--json", path.join(dir, "invalid.json")]);
        assert.equal(out.code, 2);
        assert.match(out.stderr, /ci-platform:elasticStack\.version: "latest" is not a pinned release/);
        assert.match(
            out.stderr,
            /Pulumi\.invalid\.yaml:\d+:\d+: ci-platform:pipelines\[kolibri-python-package\]\.triggers\[kolibri-installer-debain\]\.pipeline: unknown pipeline "kolibri-installer-debain"; did you mean "kolibri-installer-debian"\?/,
        );
        assert.doesNotMatch(out.stderr, /\s+at .+\(.+:\d+:\d+\)/, "no stack trace");
        assert.throws(() => readFileSync(path.join(dir, "invalid.json")), "no plan is written");
    });

    it("prints each pipeline's steps in brief and draws the trigger graph and the fleets in the markdown", () => {
        const steps = prodOutput.slice(prodOutput.indexOf("\nSteps:\n"));
        assert.ok(steps.length > 0, "no Steps section");
        assert.match(
            steps,
            /\n {2}kolibri-python-package: upload → wait → triggers \{ trigger kolibri-installer-debian/,
        );
        assert.match(
            steps,
            /\n {2}kolibri-installer-macos: release-check \[triggered\] → wait → upload → wait → release-upload \[triggered\]\n/,
        );
        assert.match(steps, /\n {2}dagster: packages-all \[default branch or tag\] \{ package-dagster-shared/);

        const markdown = readFileSync(path.join(dir, "prod.md"), "utf8");
        const block = /### Trigger graph\n\n```mermaid\n([\s\S]*?)\n```/.exec(markdown);
        assert.ok(block, "no Mermaid trigger graph in the markdown");
        assert.match(block[1], /^flowchart LR\n/);
        assert.match(
            block[1],
            /p_kolibri_python_package -->\|"macos-build · cross-cluster rule"\| p_kolibri_installer_macos/,
        );
        assert.match(
            block[1],
            /p_kolibri_python_package -->\|"raspbian-image · after deb-build"\| p_kolibri_raspbian_image/,
        );
        assert.match(markdown, /### Agent fleets by region\n\n```mermaid\nflowchart LR/);
        assert.match(markdown, /^## ci-platform plan: stack `prod`\n\n\*\*Policy pack:\*\* no violations\./);
    });
});
