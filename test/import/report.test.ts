import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "yaml";
import type { Mapped } from "../../scripts/import/map";
import { reportText, stackFileText } from "../../scripts/import/report";

const LONG = Array.from({ length: 20 }, (_, i) => `word${i}`).join(" ");
const counts = { pipelines: 2, clusters: 1, queues: 1, teams: 0, schedules: 0, webhooks: 1 };
const mapped = (report: Mapped["report"]): Mapped => ({
    config: {
        "ci-platform:organization": "acme",
        "ci-platform:pipelines": [{ slug: "api", description: LONG }],
    },
    adopt: [],
    report,
    counts,
});

describe("stackFileText", () => {
    it("is a commented header then the config map, read back as YAML unchanged (long lines not folded)", () => {
        const m = mapped([]);
        const text = stackFileText(m, "acme", "adopted");
        const header = text.split("\n").filter((l) => l.startsWith("#"));
        assert.ok(header.length >= 2);
        assert.ok(header.some((l) => l.includes("Buildkite organisation acme")));
        assert.ok(header.some((l) => l.includes("npm run plan -- --config Pulumi.adopted.yaml")));
        assert.deepEqual(parse(text), { config: m.config });
        assert.ok(text.includes(`description: ${LONG}\n`), "folded");
    });
});

describe("reportText", () => {
    it("gives the counts and the number of objects to adopt, then each subject's items in the order read", () => {
        const text = reportText(
            mapped([
                { subject: "pipeline api", message: "first" },
                { subject: "cluster default", message: "other" },
                { subject: "pipeline api", message: "second" },
            ]),
            "acme",
        );
        assert.ok(text.startsWith("# Import of acme\n"));
        assert.ok(
            text.includes(
                "Declared: 2 pipelines, 1 clusters, 1 queues, 0 teams, 0 schedules, 1 webhooks; 0 existing objects to import (ci-platform:adopt).",
            ),
            text,
        );
        assert.ok(text.includes("## pipeline api\n\n- first\n- second\n\n## cluster default\n\n- other\n"), text);
        assert.ok(text.indexOf("## pipeline api") < text.indexOf("## cluster default"));
    });

    it("says so when the stack file carries everything", () => {
        const text = reportText(mapped([]), "acme");
        assert.ok(text.includes("Nothing: the stack file says all of it."));
        assert.ok(!text.includes("## "));
    });
});
