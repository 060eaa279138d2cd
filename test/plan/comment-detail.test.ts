import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { parse, stringify } from "yaml";
import { baseFailureOf, readBasePlan } from "../../scripts/plan";
import { consequencesOf } from "../../scripts/plan/consequences";
import { diffPlans, lineDiff, rotatedNames, secretNamesOf } from "../../scripts/plan/diff";
import { CREATED_STEPS_CAP, LINE_CAP, renderDiffMarkdown, renderDiffText } from "../../scripts/plan/render";
import { securePlaceholder } from "../../scripts/plan/stack-file";
import { planOf, planResource } from "../fixtures/plan";
import { planInProcess, ROOT } from "../fixtures/cli";

/*
 * What the plan diff and the PR comment show inside a change: policy documents line by line, a new pipeline's steps,
 * rotated secrets by config path, a real line diff, and a base that could not be planned (issue 13 review).
 */

const PIPELINE = "buildkite:Pipeline/pipeline:Pipeline";
const POLICY = "aws:iam/policy:Policy";
const OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2";

const resource = planResource;
const plan = planOf;

describe("lineDiff: a real line diff", () => {
    it("keeps indentation and order, with one line of context around each hunk", () => {
        const before = ["steps:", "  - label: a", "    command: x", "  - label: b", "    command: y", ""].join("\n");
        const after = ["steps:", "  - label: a", "    command: x", "  - label: c", "    command: y", ""].join("\n");
        assert.deepEqual(lineDiff(before, after), [
            {
                header: "@@ -3,3 +3,3 @@",
                lines: [
                    { op: " ", text: "    command: x" },
                    { op: "-", text: "  - label: b" },
                    { op: "+", text: "  - label: c" },
                    { op: " ", text: "    command: y" },
                ],
            },
        ]);
    });

    it("aligns by order: a moved line is a removal and an addition, not nothing", () => {
        // The old multiset difference found no change in a reordering.
        const hunks = lineDiff("a\nb\nc\n", "b\na\nc\n");
        const ops = hunks.flatMap((h) => h.lines.filter((l) => l.op !== " ").map((l) => `${l.op}${l.text}`));
        assert.deepEqual(ops, ["-a", "+a"]);
    });

    it("splits far-apart changes into hunks and joins near ones", () => {
        const lines = Array.from({ length: 20 }, (_, i) => `line ${i}`);
        const changed = [...lines];
        changed[2] = "two";
        changed[15] = "fifteen";
        const hunks = lineDiff(lines.join("\n"), changed.join("\n"));
        assert.deepEqual(
            hunks.map((h) => h.header),
            ["@@ -2,3 +2,3 @@", "@@ -15,3 +15,3 @@"],
        );
        changed[4] = "four";
        assert.equal(lineDiff(lines.join("\n"), changed.join("\n")).length, 2, "3 and 5 share their context line");
        assert.deepEqual(lineDiff("same\n", "same\n"), []);
        assert.deepEqual(lineDiff("", "a\nb\n"), [
            {
                header: "@@ -0,0 +1,2 @@",
                lines: [
                    { op: "+", text: "a" },
                    { op: "+", text: "b" },
                ],
            },
        ]);
    });

    it("renders a removed step with its indentation, readable as YAML, in text and markdown", () => {
        const steps = (extra: string) => `steps:\n  - label: build\n    command: make\n${extra}  - label: test\n`;
        const base = plan(resource("app-pipeline", PIPELINE, { steps: steps("  - label: lint\n    command: lint\n") }));
        const head = plan(resource("app-pipeline", PIPELINE, { steps: steps("") }));
        const diff = diffPlans(base, head);
        const text = renderDiffText(diff);
        assert.ok(
            text.includes(
                [
                    "      steps:",
                    "        @@ -3,4 +3,2 @@",
                    "             command: make",
                    "        -  - label: lint",
                    "        -    command: lint",
                    "           - label: test",
                ].join("\n"),
            ),
            text,
        );
        // The old rendering: `steps: - - label: lint` and `steps: - command: lint`, trimmed.
        assert.doesNotMatch(text, /- - label/);
        const md = renderDiffMarkdown(diff, "test");
        assert.ok(
            md.includes(
                [
                    "  ```diff",
                    "  @@ -3,4 +3,2 @@",
                    "       command: make",
                    "  -  - label: lint",
                    "  -    command: lint",
                    "     - label: test",
                    "  ```",
                ].join("\n"),
            ),
            md,
        );
    });

    it("caps the lines of one text and counts the rest", () => {
        const many = Array.from({ length: 50 }, (_, i) => `  - label: s${i}`).join("\n");
        const d = diffPlans(
            plan(resource("p", PIPELINE, { steps: "steps:\n" })),
            plan(resource("p", PIPELINE, { steps: `steps:\n${many}\n` })),
        );
        assert.match(renderDiffText(d), new RegExp(`… ${51 - LINE_CAP.text} more line\\(s\\)`));
        assert.match(renderDiffMarkdown(d, "test"), new RegExp(`… ${51 - LINE_CAP.markdown} more line\\(s\\)`));
    });
});

describe("JSON documents held as strings diff line by line", () => {
    const doc = (prefixes: string[]) =>
        JSON.stringify({
            Version: "2012-10-17",
            Statement: [
                { Sid: "Discovery", Effect: "Allow", Action: ["ec2:DescribeTags"], Resource: "*" },
                {
                    Sid: "ReadSecrets",
                    Effect: "Allow",
                    Action: ["s3:GetObject"],
                    Resource: prefixes.map((p) => `arn:aws:s3:::secrets-bucket/${p}/*`),
                },
            ],
        });

    it("shows the grant an IAM policy gains, not only that `policy` changed", () => {
        const base = plan(resource("linux-policy", POLICY, { policy: doc(["app", "web"]) }));
        const head = plan(resource("linux-policy", POLICY, { policy: doc(["app", "docs", "web"]) }));
        assert.ok(doc(["app"]).length > 120 && !doc(["app"]).includes("\n"), "one long line, as the provider takes it");
        const diff = diffPlans(base, head);
        assert.deepEqual(
            diff.updated[0].lines.map((l) => l.path),
            ["policy"],
        );
        const text = renderDiffText(diff);
        assert.match(text, /\n {8}\+ {8}"arn:aws:s3:::secrets-bucket\/docs\/\*",\n/);
        assert.match(text, /\n {9} {8}"arn:aws:s3:::secrets-bucket\/app\/\*",\n/, "context, indented as printed");
        assert.match(renderDiffMarkdown(diff, "test"), /\n {2}\+ {8}"arn:aws:s3:::secrets-bucket\/docs\/\*",\n/);
    });

    it("leaves other strings as they are", () => {
        const d = diffPlans(
            plan(resource("o", OBJECT, { contentType: "[not json", content: "a" })),
            plan(resource("o", OBJECT, { contentType: "[not json either", content: "b" })),
        );
        assert.deepEqual(d.updated[0].lines, []);
        assert.equal(d.updated[0].values.length, 2);
    });
});

describe("a created pipeline shows its steps", () => {
    const steps = "steps:\n  - label: docs\n    command: make docs\n";

    it("as an all-added block under its create line, in text and markdown", () => {
        const diff = diffPlans(plan(), plan(resource("docs-pipeline", PIPELINE, { slug: "docs", steps })));
        const text = renderDiffText(diff);
        assert.ok(
            text.includes(
                [
                    "+ create   buildkite:Pipeline/pipeline:Pipeline  docs-pipeline",
                    "      steps:",
                    "        @@ -0,0 +1,3 @@",
                    "        +steps:",
                    "        +  - label: docs",
                    "        +    command: make docs",
                ].join("\n"),
            ),
            text,
        );
        const md = renderDiffMarkdown(diff, "test");
        assert.ok(
            md.includes(
                [
                    "- **create** `docs-pipeline` (buildkite Pipeline)",
                    "",
                    "  `steps`:",
                    "  ```diff",
                    "  @@ -0,0 +1,3 @@",
                    "  +steps:",
                    "  +  - label: docs",
                    "  +    command: make docs",
                    "  ```",
                ].join("\n"),
            ),
            md,
        );
    });

    it("for at most CREATED_STEPS_CAP pipelines; the rest are counted", () => {
        const many = Array.from({ length: CREATED_STEPS_CAP + 3 }, (_, i) =>
            resource(`p${String(i).padStart(2, "0")}-pipeline`, PIPELINE, { steps }),
        );
        const diff = diffPlans(plan(), plan(...many));
        assert.equal((renderDiffText(diff).match(/@@ -0,0 \+1,3 @@/g) ?? []).length, CREATED_STEPS_CAP);
        assert.match(renderDiffText(diff), /the steps of 3 more new pipeline\(s\) are not shown/);
        assert.match(renderDiffMarkdown(diff, "test"), /the steps of 3 more new pipeline\(s\) are not shown/);
    });
});

describe("a rotated secret is named by its config path", () => {
    const v = (ciphertext: string) => securePlaceholder(ciphertext).slice(8, -1);
    const config = {
        "ci-platform:secrets": JSON.stringify({
            organization: { gitCredentials: securePlaceholder("git-2") },
            pipelines: { app: { env: { PYPI_TOKEN: securePlaceholder("pypi-2"), OTHER: securePlaceholder("o") } } },
        }),
        "ci-platform:organization": "acme",
    };
    const names = secretNamesOf(config);

    it("maps each version of the stack file to the config path of its secure value", () => {
        assert.equal(names.get(v("pypi-2")), "ci-platform:secrets.pipelines.app.env.PYPI_TOKEN");
        assert.equal(names.get(v("git-2")), "ci-platform:secrets.organization.gitCredentials");
        assert.equal(names.size, 3);
    });

    it("names a version that replaced another; not one added, removed or unknown", () => {
        const joined = (...xs: string[]) => xs.map(v).sort().join(",");
        assert.deepEqual(rotatedNames(joined("pypi-1", "o"), joined("pypi-2", "o"), names), [
            "ci-platform:secrets.pipelines.app.env.PYPI_TOKEN",
        ]);
        assert.deepEqual(rotatedNames(joined("o"), joined("pypi-2", "o"), names), [], "added, not rotated");
        assert.deepEqual(rotatedNames(joined("pypi-1", "o"), joined("o"), names), [], "removed");
        assert.deepEqual(rotatedNames(joined("pypi-1"), joined("unknown"), names), [], "no name");
        assert.deepEqual(rotatedNames(undefined, joined("pypi-2"), names), []);
    });

    it("says which secret rotated, once, with the objects that carry it, and no version or value", () => {
        const env = (region: string) => resource(`secrets-${region}-secret-app/env`, OBJECT, { content: "[secret]" });
        const [east, west] = [env("us-east-1"), env("eu-west-1")];
        const versions = (token: string) => ({
            [east.urn]: { content: [v(token), v("o")].sort().join(",") },
            [west.urn]: { content: [v(token), v("o")].sort().join(",") },
        });
        const base = { ...plan(east, west), secretVersions: versions("pypi-1") };
        const head = { ...plan(east, west), secretVersions: versions("pypi-2") };
        const diff = diffPlans(base, head, undefined, names);
        assert.deepEqual(
            consequencesOf(diff).map((c) => c.text),
            [
                "ci-platform:secrets.pipelines.app.env.PYPI_TOKEN rotated (carried by aws s3 BucketObjectv2 secrets-eu-west-1-secret-app/env, aws s3 BucketObjectv2 secrets-us-east-1-secret-app/env)",
            ],
        );
        const md = renderDiffMarkdown(diff, "test");
        assert.match(md, /:key: ci-platform:secrets\.pipelines\.app\.env\.PYPI_TOKEN rotated/);
        for (const out of [md, renderDiffText(diff)])
            for (const leak of [v("pypi-1"), v("pypi-2"), "pypi-2"]) assert.ok(!out.includes(leak), leak);
        // Without the names (an older caller), the objects as before.
        assert.match(consequencesOf(diffPlans(base, head))[0].text, /secret set again \(content\)/);
    });
});

describe("a base that could not be planned", () => {
    const failed = {
        project: "ci-platform",
        stack: "prod",
        resources: [],
        baseFailed: "the offline plan of the base branch failed; see the job log",
    };
    const head = plan(resource("app-pipeline", PIPELINE, { steps: "steps: []\n" }));

    it("is read from the base file CI writes", () => {
        const file = path.join(mkdtempSync(path.join(tmpdir(), "base-failed-")), "base.json");
        writeFileSync(file, JSON.stringify(failed));
        const base = readBasePlan(file);
        assert.equal(baseFailureOf(base), failed.baseFailed);
        assert.equal(baseFailureOf(head), undefined);
    });

    it("opens the comment and the text diff, and leaves no green verdict", () => {
        const diff = diffPlans(failed, head);
        const md = renderDiffMarkdown(diff, "prod", { violations: [], baseFailed: failed.baseFailed });
        const [title, , first] = md.split("\n");
        assert.equal(title, "## ci-platform plan: stack `prod`");
        assert.match(first, /^:x: \*\*Not a diff:\*\* the base branch could not be planned \(the offline plan/);
        assert.match(first, /every resource shows as a create/);
        assert.ok(md.indexOf("Not a diff") < md.indexOf("**Policy pack:**"));
        assert.match(renderDiffText(diff, new Map(), { baseFailed: "x" }), /^! NOT A DIFF: the base branch could not/);
        // Without the marker, as before: no such line.
        assert.doesNotMatch(renderDiffMarkdown(diff, "prod"), /Not a diff/);
    });

    it("survives the budget: it is the verdict's first line", () => {
        const many = plan(...Array.from({ length: 3000 }, (_, i) => resource(`o-${i}`, OBJECT, {})));
        const md = renderDiffMarkdown(diffPlans(failed, many), "prod", { baseFailed: "why", budget: 5_000 });
        assert.ok(md.length <= 5_000);
        assert.match(md.split("\n")[2], /^:x: \*\*Not a diff:\*\*/);
    });
});

describe("npm run plan --diff: adding a pipeline to the prod stack", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "comment-detail-"));
    let out: { code: number; stdout: string; stderr: string };
    let md: string;

    before(async () => {
        const baseJson = path.join(dir, "base.json");
        const base = await planInProcess(...["--json", baseJson]);
        assert.equal(base.code, 0, base.stderr);
        const doc = parse(readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8")) as {
            config: Record<string, unknown>;
        };
        (doc.config["ci-platform:pipelines"] as Record<string, unknown>[]).push({
            slug: "kolibri-docs",
            name: "Kolibri Docs",
            repository: "learningequality/kolibri-docs",
            publicRepository: true,
            queue: "default",
            defaultBranch: "main",
            team: "kolibri",
        });
        const file = path.join(dir, "Pulumi.add.yaml");
        writeFileSync(file, stringify(doc));
        out = await planInProcess(...["--config", file, "--diff", baseJson, "--markdown", path.join(dir, "add.md")]);
        md = readFileSync(path.join(dir, "add.md"), "utf8");
    });

    it("lists the kolibri-docs grant lines the fleet's instance policy gains", () => {
        assert.equal(out.code, 0, out.stderr);
        const at = out.stdout.indexOf("~ update   aws:iam/policy:Policy  linux-us-east-1-policy: policy");
        assert.ok(at >= 0, out.stdout);
        const block = out.stdout.slice(at).split("\n").slice(1);
        const grants = block
            .slice(
                0,
                block.findIndex((l) => !l.startsWith("      ")),
            )
            .filter((l) => l.includes("kolibri-docs"));
        assert.deepEqual(
            grants.map((l) =>
                l
                    .trim()
                    .replace(/bucket-[0-9a-f]+/, "bucket-X")
                    .replace(/^\+ +/, "+"),
            ),
            ['+"kolibri-docs/secret-files",', '+"arn:aws:s3:::secrets-us-east-1-bucket-X/kolibri-docs/*",'],
        );
        assert.match(md, /\n {2}\+ +"arn:aws:s3:::secrets-us-east-1-bucket-[0-9a-f]+\/kolibri-docs\/\*",\n/);
    });

    it("shows the new pipeline's steps under its create line", () => {
        // Its cluster signs: the document its one stored step uploads, decoded (components/steps/stored-upload.ts).
        assert.match(
            out.stdout,
            /\+ create {3}buildkite:Pipeline\/pipeline:Pipeline {2}kolibri-docs-pipeline\n {6}steps:\n {8}@@ -0,0 \+1,\d+ @@\n {8}\+# The stored step ci-platform-pipeline uploads this document [^\n]*\n {8}\+steps:\n {8}\+ {2}- label: ":pipeline: Upload"\n/,
        );
        assert.match(
            md,
            /- \*\*create\*\* `kolibri-docs-pipeline` \(buildkite Pipeline\)\n\n {2}`steps`:\n {2}```diff\n/,
        );
    });
});
