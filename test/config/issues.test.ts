import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    didYouMean,
    editDistance,
    entryName,
    formatConfigPath,
    issueFormatter,
    nearest,
    sortIssues,
} from "../../components/config/issues";

const RAW = {
    pipelines: [{ slug: "kolibri" }, { slug: "dagster" }, { slug: "dagster" }, { name: "Platform team" }],
    fleets: [{ name: "linux-us-east-1" }],
};

describe("formatConfigPath", () => {
    it("writes the namespace, keys and positions", () => {
        assert.equal(
            formatConfigPath(["pipelines", 2, "triggers", 0, "pipeline"]),
            "ci-platform:pipelines[2].triggers[0].pipeline",
        );
        assert.equal(formatConfigPath(["secrets", "pipelines", "my-app"]), 'ci-platform:secrets.pipelines["my-app"]');
        assert.equal(formatConfigPath([]), "ci-platform");
    });

    it("names a list entry by its unique slug or name, keeps the position when names repeat, quotes odd names", () => {
        assert.equal(formatConfigPath(["pipelines", 0, "queue"], RAW), "ci-platform:pipelines[kolibri].queue");
        assert.equal(formatConfigPath(["pipelines", 1], RAW), "ci-platform:pipelines[1]");
        assert.equal(formatConfigPath(["pipelines", 3], RAW), 'ci-platform:pipelines["Platform team"]');
        assert.equal(formatConfigPath(["fleets", 0, "region"], RAW), "ci-platform:fleets[linux-us-east-1].region");
    });
});

describe("entryName", () => {
    it("is the first naming field, only when no other entry shares it", () => {
        assert.equal(entryName(RAW.pipelines, 0), "kolibri");
        assert.equal(entryName(RAW.pipelines, 2), undefined);
        assert.equal(entryName([{ slug: "", name: "x" }], 0), "x");
        assert.equal(entryName(["plain"], 0), undefined);
    });
});

describe("issueFormatter", () => {
    it("places an issue in the file, names the entry, ends the sentence and adds the fix", () => {
        const format = issueFormatter({ raw: RAW, file: "Pulumi.prod.yaml", locate: () => ({ line: 12, column: 7 }) });
        assert.equal(
            format({ path: ["pipelines", 0, "queue"], message: "names no queue", fix: "set it" }),
            "Pulumi.prod.yaml:12:7: ci-platform:pipelines[kolibri].queue: names no queue. Fix: set it.",
        );
        // A problem of the whole file is placed by the file alone.
        assert.equal(format({ path: [], message: "is not YAML!" }), "Pulumi.prod.yaml:12:7: is not YAML!");
        assert.equal(issueFormatter({})({ path: ["teams"], message: "x" }), "ci-platform:teams: x.");
    });
});

describe("sortIssues", () => {
    it("orders by path, then message, whatever order the checks ran in", () => {
        const issues = [
            { path: ["pipelines", 1], message: "b" },
            { path: ["fleets", 0], message: "z" },
            { path: ["pipelines", 1], message: "a" },
        ];
        assert.deepEqual(
            sortIssues(issues).map((i) => `${i.path.join(".")} ${i.message}`),
            ["fleets.0 z", "pipelines.1 a", "pipelines.1 b"],
        );
    });
});

describe("did you mean", () => {
    it("measures edits, and suggests only a plausible typo", () => {
        assert.equal(editDistance("kitten", "sitting"), 3);
        assert.equal(editDistance("", "abc"), 3);
        assert.equal(nearest("kolibr", ["kolibri", "dagster"]), "kolibri");
        assert.equal(nearest("Dagster", ["kolibri", "dagster"]), "dagster");
        assert.equal(nearest("zzz", ["kolibri", "dagster"]), undefined);
        assert.equal(didYouMean("dagstr", ["dagster"]), 'did you mean "dagster"? ');
        assert.equal(didYouMean("zzz", ["dagster"]), "");
    });
});
