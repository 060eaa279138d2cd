import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    checkStackFile,
    HONOURED_SETTINGS,
    SECRET_CONFIG_KEY,
    stackFileContext,
    withSchemaIssues,
} from "../../components/config/stack-file";

/* The stack file as text, before Pulumi turns top-level values into text and decrypts `secure:` values. The settings a
 * stack file holds: Pulumi docs, "Pulumi stack settings file reference". Scenario cases (secure: values, UTF-8,
 * environment:, merge keys, places in reports): bad-config.test.ts and issue-places.test.ts. */

const bytes = (text: string) => new TextEncoder().encode(text);
const check = (text: string) => checkStackFile(bytes(text));

describe("constants", () => {
    it("secrets live under ci-platform:secrets; the four settings the offline plan honours", () => {
        assert.equal(SECRET_CONFIG_KEY, "ci-platform:secrets");
        assert.deepEqual([...HONOURED_SETTINGS], ["config", "encryptedkey", "encryptionsalt", "secretsprovider"]);
    });
});

describe("checkStackFile", () => {
    it("gives the config map of a valid file and no issue; an empty file or no config: is an empty config", () => {
        assert.deepEqual(check("config:\n  ci-platform:organization: acme\n  aws:region: us-east-1\n"), {
            config: { "ci-platform:organization": "acme", "aws:region": "us-east-1" },
            issues: [],
        });
        assert.deepEqual(check(""), { config: {}, issues: [] });
        assert.deepEqual(check("secretsprovider: passphrase\n"), { config: {}, issues: [] });
    });

    it("a config: that is not a map: no config, one issue with the fix", () => {
        const result = check("config:\n  - a\n");
        assert.equal(result.config, null);
        assert.equal(result.issues.length, 1);
        assert.match(result.issues[0].message, /config is not a map of keys to values/);
    });

    for (const [what, text, said] of [
        ["a key twice", "config:\n  a: 1\n  a: 2\n", /this key appears twice in the same map/],
        ["a tab indent", "config:\n\ta: 1\n", /a tab indents this line/],
        ["an unclosed quote", 'config:\n  a: "open\n', /quoted text is not closed/],
        ["two documents", "config: {}\n---\nconfig: {}\n", /more than one YAML document/],
    ] as const)
        it(`refuses YAML with ${what} in our words, with the line, and no config`, () => {
            const result = check(text);
            assert.equal(result.config, null);
            assert.equal(result.issues.length, 1, JSON.stringify(result.issues));
            assert.match(result.issues[0].message, /^the stack file is not valid YAML: /);
            assert.match(result.issues[0].message, said);
            assert.equal(typeof result.issues[0].at?.line, "number");
        });

    it("a top-level number where an enum is wanted (homeRegion) is refused as for text", () => {
        const [issue] = check("config:\n  ci-platform:homeRegion: 12\n").issues;
        assert.deepEqual(issue.path, ["homeRegion"]);
        assert.match(issue.message, /is a number \(12\); this key takes text/);
    });

    it("leaves unknown ci-platform keys to the schema and other namespaces' types alone", () => {
        assert.deepEqual(check("config:\n  ci-platform:nonsense: 1\n  aws:maxRetries: 3\n").issues, []);
    });

    it("finds secure: values deep in lists, at their exact path", () => {
        const [issue] = check(
            "config:\n  ci-platform:fleets:\n    - name: a\n      tags:\n        - secure: v1:x\n",
        ).issues;
        assert.deepEqual(issue.path, ["fleets", 0, "tags", 0]);
    });
});

describe("stackFileContext", () => {
    const text = [
        "config:",
        "  aws:region: us-east-1",
        "  ci-platform:pipelines:",
        "    - slug: app",
        "      repository: acme/app",
        "    - slug: web",
        "",
    ].join("\n");
    const context = stackFileContext(text, "Pulumi.test.yaml");

    it("gives the ci-platform values as written, without the namespace, and the file as given", () => {
        assert.deepEqual(context.raw, {
            pipelines: [{ slug: "app", repository: "acme/app" }, { slug: "web" }],
        });
        assert.equal(context.file, "Pulumi.test.yaml");
    });

    it("locates a key, a list entry, and a missing key at its nearest enclosing entry (1-based)", () => {
        assert.deepEqual(context.locate?.(["pipelines", 0, "repository"]), { line: 5, column: 7 });
        assert.deepEqual(context.locate?.(["pipelines", 1]), { line: 6, column: 7 });
        assert.deepEqual(context.locate?.(["pipelines", 1, "repository"]), { line: 6, column: 7 });
        assert.deepEqual(context.locate?.(["pipelines"]), { line: 3, column: 3 });
        assert.equal(context.locate?.(["fleets", 0]), undefined);
        assert.equal(context.locate?.([]), undefined);
    });
});

describe("withSchemaIssues", () => {
    it("drops the schema's problems at or under a path the file check reported, keeps the rest, sorted", () => {
        const file = [{ path: ["organization"], message: "is a number" }];
        const schema = [
            { path: ["organization"], message: "expected a slug" },
            { path: ["pipelines", 0, "slug"], message: "required" },
            { path: ["organizationRules"], message: "expected a boolean" },
        ];
        assert.deepEqual(
            withSchemaIssues(file, schema).map((i) => `${i.path.join(".")}: ${i.message}`),
            ["organization: is a number", "organizationRules: expected a boolean", "pipelines.0.slug: required"],
        );
    });

    it("a file problem without a path (bad YAML) covers nothing", () => {
        const merged = withSchemaIssues(
            [{ path: [], message: "not YAML" }],
            [{ path: ["teams"], message: "required" }],
        );
        assert.equal(merged.length, 2);
    });
});
