import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { parse, stringify } from "yaml";
import { planInProcess, ROOT } from "../fixtures/cli";

/*
 * The two advisory warnings through the real program and `npm run plan`: the plan still succeeds (exit 0), and every
 * warning names where the problem is, never a value.
 */

// Token-shaped strings built at run time, so that none sits in the repository.
const NPM = "npm_" + "Zq7Wm2".repeat(6);
const GITHUB = "ghp_" + "Kd83Lm".repeat(6);

type Pipeline = { slug: string; cluster?: string; queue?: string; schedules?: { env?: Record<string, string> }[] };

let out: { code: number; stdout: string; stderr: string };
let markdown: string;

before(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "advisory-"));
    const doc = parse(readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, unknown> };
    const pipelines = doc.config["ci-platform:pipelines"] as Pipeline[];
    // A token pasted into a schedule's env and into a cost tag (plain config, not secrets).
    const kolibri = pipelines.find((p) => p.slug === "kolibri-python-package");
    assert.ok(kolibri?.schedules?.[0]);
    kolibri.schedules[0].env = { NPM_TOKEN: NPM };
    (doc.config["ci-platform:tags"] as Record<string, string>).Owner = GITHUB;
    // dagster-io's pipeline back in the default cluster, beside Learning Equality's.
    const dagster = pipelines.find((p) => p.slug === "dagster");
    assert.ok(dagster);
    dagster.cluster = "default";
    dagster.queue = "default-eu-west-1";
    const file = path.join(dir, "Pulumi.advisory.yaml");
    writeFileSync(file, stringify(doc));
    const md = path.join(dir, "plan.md");
    out = await planInProcess(...["--config", file, "--markdown", md]);
    markdown = readFileSync(md, "utf8");
});

describe("npm run plan: advisory warnings", () => {
    it("succeeds (advisory only) and lists each warning", () => {
        assert.equal(out.code, 0, out.stderr);
        assert.match(out.stdout, /Policy pack ci-platform: \d+ violation\(s\):/);
        assert.doesNotMatch(out.stdout, /\[mandatory\//);
    });

    it("warns about the token in the schedule's env and the one in the tags, by path and kind, never the value", () => {
        const warnings = out.stdout.split("\n").filter((l) => /no-secret-looking-values/.test(l));
        assert.ok(
            warnings.some((l) => l.includes("kolibri-python-package-schedule-nightly-develop-build")),
            warnings.join("\n"),
        );
        assert.match(
            out.stdout,
            /Schedule "kolibri-python-package-schedule-nightly-develop-build" has a value shaped like a npm token in env\.NPM_TOKEN/,
        );
        // The tag is on every AWS resource and in each AWS provider's default tags: one warning for each path.
        assert.match(out.stdout, /\d+ resources \([^)]*\) have a value shaped like a GitHub token in tags\.Owner,/);
        assert.match(
            out.stdout,
            /\d+ resources \(aws "ci-platform-aws-[^)]*\) have a value shaped like a GitHub token in defaultTags,/,
        );
        assert.equal(warnings.length, 3, warnings.join("\n"));
        for (const text of [out.stdout, out.stderr, markdown]) {
            assert.ok(!text.includes(NPM) && !text.includes(GITHUB), "a token is printed");
            assert.ok(
                !text.includes(NPM.slice(4, 16)) && !text.includes(GITHUB.slice(4, 16)),
                "part of a token is printed",
            );
        }
    });

    it("warns about the default cluster running pipelines of two owners", () => {
        assert.match(
            out.stdout,
            /\[advisory\/medium\] repository-owners-per-cluster urn:pulumi:advisory::ci-platform::[^\n]*buildkite:Cluster\/cluster:Cluster::learningequality-cluster-default[^\n]*\n\s+Cluster "default" runs pipelines of 2 repository owners: github\.com\/dagster-io \(dagster\); github\.com\/learningequality \(/,
        );
    });
});
