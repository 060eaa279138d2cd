import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatIssue } from "../../components/config/issues";
import { generatedStepIssues } from "../../components/steps";
import { generateSteps } from "../../components/steps";
import { parseVersionsText, readImageFiles, stepImageResolver } from "../../components/images";
import { prodConfig } from "../fixtures/config";
import * as path from "node:path";

const GOOD = "steps:\n  - label: build\n    command: make\n    agents:\n      queue: default\n";

describe("generatedStepIssues", () => {
    it("finds nothing in the steps the prod config generates (stored and uploaded)", () => {
        const config = prodConfig();
        const files = readImageFiles(path.join(__dirname, "../.."));
        const versions = parseVersionsText(files.versionsJson ?? "{}").value ?? {};
        const { bySlug } = generateSteps(config, stepImageResolver(config.images, versions));
        assert.ok(
            Object.values(bySlug).some((s) => s.uploaded.length > 0),
            "prod uploads documents",
        );
        assert.deepEqual(generatedStepIssues(config.pipelines, bySlug), []);
    });

    it("reports a stored step with an unknown key at the pipeline's config path, with the step's path", () => {
        const issues = generatedStepIssues([{ slug: "a" }, { slug: "b" }], {
            a: { stored: GOOD, document: GOOD, uploaded: [] },
            b: {
                stored: GOOD.replace("    command: make\n", "    command: make\n    colour: red\n"),
                document: GOOD.replace("    command: make\n", "    command: make\n    colour: red\n"),
                uploaded: [],
            },
        });
        assert.equal(issues.length, 1);
        assert.deepEqual(issues[0].path, ["pipelines", 1]);
        assert.match(
            formatIssue(issues[0]),
            /^ci-platform:pipelines\[1\]: the steps generated for pipeline "b" break .*: stored steps steps\[0\]\.colour is not /,
        );
        assert.match(formatIssue(issues[0]), /Fix: /);
    });

    it("reports a wrong type in a document a stored step uploads, and the project's rules (a step with no queue)", () => {
        const uploaded = "steps:\n  - trigger: child\n    async: maybe\n  - command: make\n";
        const issues = generatedStepIssues([{ slug: "a" }], {
            a: { stored: GOOD, document: GOOD, uploaded: [{ stepKey: "triggers", yaml: uploaded, steps: [] }] },
        });
        const messages = issues.map((i) => i.message);
        assert.equal(messages.length, 2, messages.join("\n"));
        assert.match(messages[0], /the document uploaded by step "triggers" steps\[0\]\.async must be /);
        assert.match(messages[1], /the document uploaded by step "triggers" steps\[1\]\.agents\.queue is required/);
    });

    it("checks the document a signing cluster's one stored step uploads, not only the upload step", () => {
        const upload =
            "steps:\n  - key: ci-platform-pipeline\n    command: printenv X | base64 --decode | buildkite-agent pipeline upload\n    agents:\n      queue: default\n";
        const document = GOOD.replace("    command: make\n", "    command: make\n    soft_fail: sometimes\n");
        const issues = generatedStepIssues([{ slug: "a" }], { a: { stored: upload, document, uploaded: [] } });
        assert.equal(issues.length, 1, issues.map((i) => i.message).join("\n"));
        assert.match(issues[0].message, /the document the stored upload step uploads steps\[0\]\.soft_fail /);
    });
});
