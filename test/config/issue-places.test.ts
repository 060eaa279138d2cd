import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { ConfigError, checkStackFile, issueFormatter, stackFileContext } from "../../components/config";
import { loadStackConfig, parsePlatformConfig } from "../../components/platform-config";
import { rawPlatformConfig } from "../../scripts/plan/run";
import { readStackFileOrIssues } from "../../scripts/plan/stack-file";
import { planInProcess, ROOT } from "../fixtures/cli";
import { Mutable, entry, validRawConfig } from "../fixtures/config";

/*
 * Issue 13, "Help and errors": a config problem names the item by its slug or name and its `file:line:column` in the
 * stack file, one message per problem, in our own words; a stack-file feature the offline plan cannot honour
 * (Pulumi ESC `environment:`) is refused, never ignored.
 */

const EXAMPLE = readFileSync(path.join(ROOT, "examples", "Pulumi.example.yaml"), "utf8");
const dir = mkdtempSync(path.join(tmpdir(), "ci-platform-places-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The example stack with `from` replaced by `to`, written to Pulumi.<name>.yaml; returns its path and text. */
function variant(name: string, from: string, to: string): { file: string; text: string } {
    assert.ok(EXAMPLE.includes(from), `"${from}" is not in the example stack`);
    const text = EXAMPLE.replace(from, to);
    const file = path.join(dir, `Pulumi.${name}.yaml`);
    writeFileSync(file, text);
    return { file, text };
}

/** The 1-based line and column where `needle` starts in `text`. */
function positionOf(text: string, needle: string): string {
    const before = text.slice(0, text.indexOf(needle));
    const lines = before.split("\n");
    return `${lines.length}:${lines[lines.length - 1].length + 1}`;
}

/** Every problem of a stack file, as the plan, dr and simulate print them: the file's own, or the schema's. */
function problems(file: string): string[] {
    const read = readStackFileOrIssues(file);
    const issues = "issues" in read ? read.issues : (parsePlatformConfig(rawPlatformConfig(read.stack)).error ?? []);
    assert.ok(issues.length > 0, "expected the stack file to be refused");
    return issues.map(issueFormatter(read.context));
}

describe("a config problem names the item and its place in the stack file", () => {
    it("names a pipeline by its slug and gives file:line:column of the key", () => {
        const { file, text } = variant(
            "queue",
            "      publicRepository: true",
            "      publicRepository: true\n      queue: 5",
        );
        const lines = problems(file);
        assert.deepEqual(lines.length, 1, lines.join("\n"));
        assert.equal(
            lines[0],
            `${file}:${positionOf(text, "queue: 5")}: ci-platform:pipelines[hello].queue: expected a queue key (a string). Fix: give a string here (quote numbers and booleans meant as text).`,
        );
    });

    it("reports a misspelt required key of a fleet once, at the typo, with the nearest key", () => {
        const { file, text } = variant("typo", "      maxSize: 2", "      maxSzie: 2");
        const lines = problems(file);
        assert.equal(lines.length, 1, lines.join("\n"));
        assert.equal(
            lines[0],
            `${file}:${positionOf(text, "maxSzie")}: ci-platform:fleets[linux-us-east-1].maxSzie: unknown key "maxSzie"; did you mean "maxSize"? Fix: rename it to "maxSize", or remove it.`,
        );
    });

    it("places a missing key at the entry that lacks it", () => {
        const { file, text } = variant("missing", "      maxSize: 2\n", "");
        const lines = problems(file);
        assert.equal(lines.length, 1, lines.join("\n"));
        assert.ok(
            lines[0].startsWith(
                `${file}:${positionOf(text, "name: linux-us-east-1")}: ci-platform:fleets[linux-us-east-1].maxSize: is required.`,
            ),
            lines[0],
        );
    });

    it("keeps the position of an entry whose name is not unique", () => {
        const raw = validRawConfig();
        const fleets = raw.fleets as Mutable[];
        fleets[1].name = fleets[0].name;
        fleets[1].minSize = -1;
        const result = parsePlatformConfig(raw);
        const lines = (result.error ?? []).map(issueFormatter({ raw }));
        assert.ok(
            lines.some((l) => l.startsWith("ci-platform:fleets[1].minSize: ")),
            lines.join("\n"),
        );
    });

    it("names entries in the report of a running stack (pulumi up), from the config alone", () => {
        const raw = validRawConfig();
        entry(raw, "pipelines", 0).queue = 5;
        const slug = String(entry(raw, "pipelines", 0).slug);
        assert.throws(
            () => loadStackConfig({ raw, secretKeys: [] }),
            (e: unknown) =>
                e instanceof ConfigError && e.message.includes(`  ci-platform:pipelines[${slug}].queue: expected`),
        );
    });
});

describe("problems in our own words", () => {
    const mutations: [string, (raw: Record<string, unknown>) => void][] = [
        ["a string as maxSize", (raw) => (entry(raw, "fleets", 0).maxSize = "10")],
        ["a fleet kind that is neither", (raw) => (entry(raw, "fleets", 0).kind = "gcp")],
        ["an os that does not exist", (raw) => (entry(raw, "fleets", 0).os = "linx")],
        ["a size out of bounds", (raw) => (entry(raw, "fleets", 0).maxSize = 5000)],
        ["a boolean as text", (raw) => (raw.organizationRules = "yes")],
        ["an empty instance type list", (raw) => (entry(raw, "fleets", 0).instanceTypes = [])],
        ["a number where a list belongs", (raw) => (entry(raw, "pipelines", 0).artifacts = 3)],
        ["a missing region", (raw) => delete entry(raw, "fleets", 0).region],
    ];
    for (const [name, mutate] of mutations)
        it(name, () => {
            const raw = validRawConfig();
            mutate(raw);
            const lines = (parsePlatformConfig(raw).error ?? []).map(issueFormatter({ raw }));
            assert.ok(lines.length > 0);
            for (const line of lines) {
                assert.doesNotMatch(
                    line,
                    /Invalid (input|option|element)|Too (big|small)|received |expected one of "|<=|>=/,
                );
                assert.doesNotMatch(line, /undefined/, line);
            }
        });

    it("says what a value is next to what was expected", () => {
        const raw = validRawConfig();
        entry(raw, "fleets", 0).maxSize = "10";
        const lines = (parsePlatformConfig(raw).error ?? []).map(issueFormatter({ raw }));
        assert.ok(
            lines.some((l) => /\.maxSize: expected a number, not the text "10"\./.test(l)),
            lines.join("\n"),
        );
    });

    it("reports YAML that does not parse with the file, line and column, not the parser's grammar", () => {
        const { file, text } = variant("yaml", "instanceTypes: [c7i.large]", "instanceTypes: [c7i.large");
        const lines = problems(file);
        assert.equal(lines.length, 1, lines.join("\n"));
        assert.match(
            lines[0],
            new RegExp(
                `^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\d+:\\d+: the stack file is not valid YAML: a \\[ list \\] or \\{ map \\} is not closed`,
            ),
        );
        assert.doesNotMatch(lines[0], /Flow sequence|implicit key/i);
        void text;
    });

    it("reports a key written twice in our words", () => {
        const lines = checkStackFile(new TextEncoder().encode("config:\n  aws:region: a\n  aws:region: b\n")).issues;
        assert.equal(lines.length, 1);
        assert.equal(lines[0].at?.line, 3);
        assert.match(lines[0].message, /this key appears twice in the same map/);
    });
});

describe("stack-file features the offline plan cannot honour are refused", () => {
    const bytes = (text: string) => new TextEncoder().encode(text);

    it("refuses environment: (Pulumi ESC imports), naming the key and what to do, at its line", () => {
        const text = `${EXAMPLE}environment:\n  - acme/ci-secrets\n`;
        const issues = checkStackFile(bytes(text)).issues;
        assert.equal(issues.length, 1);
        assert.equal(`${issues[0].at?.line}:${issues[0].at?.column}`, positionOf(text, "environment:"));
        assert.match(issues[0].message, /imports Pulumi ESC environments \(environment:\)/);
        assert.match(issues[0].fix ?? "", /pulumi preview/);
    });

    it("the plan exits 2 on a stack file with environment:, instead of planning without its values", async () => {
        const file = path.join(dir, "Pulumi.esc.yaml");
        writeFileSync(file, `${EXAMPLE}environment:\n  - acme/ci-secrets\n`);
        const out = await planInProcess(...["--config", file]);
        assert.equal(out.code, 2, out.stderr);
        assert.match(out.stderr, /Pulumi\.esc\.yaml:\d+:1: the stack file imports Pulumi ESC environments/);
        assert.equal(out.stdout, "");
    });

    it("honours YAML merge keys, as Pulumi does (gopkg.in/yaml.v3, pulumi sdk/go/common/encoding/marshal.go)", () => {
        const text = [
            "config:",
            "  ci-platform:fleets:",
            "    - &linux { name: a, kind: aws, os: linux, queue: default, region: us-east-1 }",
            "    - <<: *linux",
            "      name: b",
            "      region: eu-west-1",
            "",
        ].join("\n");
        const check = checkStackFile(bytes(text));
        assert.deepEqual(check.issues, []);
        assert.deepEqual((check.config?.["ci-platform:fleets"] as unknown[])[1], {
            name: "b",
            kind: "aws",
            os: "linux",
            queue: "default",
            region: "eu-west-1",
        });
    });

    it("refuses a top-level key Pulumi does not know, with the nearest one", () => {
        const issues = checkStackFile(bytes("confg:\n  aws:region: us-east-1\n")).issues;
        assert.equal(issues.length, 1);
        assert.match(issues[0].message, /top-level key "confg" that Pulumi does not know; did you mean "config"\?/);
    });

    it("accepts the settings Pulumi writes for a secrets provider", () => {
        const text = `secretsprovider: awskms://alias/ci\nencryptedkey: AbCd\nencryptionsalt: v1:Zm9v\n${EXAMPLE}`;
        assert.deepEqual(checkStackFile(bytes(text)).issues, []);
        assert.deepEqual(stackFileContext(text, "x").locate?.(["organization"]), {
            line: Number(positionOf(text, "ci-platform:organization").split(":")[0]),
            column: 3,
        });
    });
});

describe("project settings the offline plan cannot follow are refused", () => {
    it("refuses project-level config: and stackConfigDir in Pulumi.yaml", async () => {
        const { projectIssues } = await import("../../scripts/plan/run");
        assert.deepEqual(projectIssues({ name: "ci-platform", runtime: "nodejs" }), []);
        const issues = projectIssues({
            name: "x",
            config: { "ci-platform:organization": "acme" },
            stackConfigDir: "s",
        });
        assert.deepEqual(
            issues.map((i) => i.message.split(",")[0]),
            ["Pulumi.yaml sets config:", "Pulumi.yaml sets stackConfigDir:"],
        );
    });
});
