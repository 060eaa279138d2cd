import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { parse, stringify } from "yaml";
import { syntheticOrganization } from "../../scripts/bench/synthetic";
import { diffDiagrams, runPlan, violationLines } from "../../scripts/plan/run";
import { diffPlans } from "../../scripts/plan/diff";
import { COMMENT_BUDGET, renderDiffMarkdown } from "../../scripts/plan/render";
import { ROOT } from "../fixtures/cli";

describe("the PR comment of a 500-pipeline first plan", () => {
    it("fits the comment workflow's cut and keeps the verdict whole", { timeout: 600_000 }, async () => {
        const prod = parse(readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8")) as {
            config: Record<string, unknown>;
        };
        const file = path.join(mkdtempSync(path.join(tmpdir(), "comment-500-")), "Pulumi.big.yaml");
        writeFileSync(file, stringify({ config: syntheticOrganization(prod.config, 500) }));
        const { plan } = await runPlan({ config: file });
        // A first plan: CI diffs against an empty stack when the base has none (.buildkite/plan-diff.sh, ci.yml).
        const empty = { project: plan.project, stack: plan.stack, resources: [] };
        const diff = diffPlans(empty, plan);
        assert.ok(diff.added.length > 2000, `only ${diff.added.length} resources`);
        const violations = violationLines([
            {
                policy: "example-advisory",
                enforcementLevel: "advisory",
                severity: "low",
                message: "advice",
                urn: "urn:a",
            },
            {
                policy: "example-mandatory",
                enforcementLevel: "mandatory",
                severity: "high",
                message: "stop",
                urn: "urn:m",
            },
        ]);
        const md = renderDiffMarkdown(diff, plan.stack, { violations, sections: diffDiagrams(empty, plan) });
        assert.ok(md.length <= COMMENT_BUDGET, `${md.length} characters`);
        assert.ok(
            md.startsWith(
                "## ci-platform plan: stack `big`\n\n**Policy pack:** 2 violation(s):\n- **mandatory** example-mandatory: stop (`urn:m`)\n- **advisory** example-advisory",
            ),
            md.slice(0, 300),
        );
        assert.match(md, new RegExp(`\\*\\*${diff.added.length}\\*\\* to create`));
        assert.match(md, /_… \d+ more line\(s\) cut to fit the comment/);
    });
});
