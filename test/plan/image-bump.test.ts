import assert from "node:assert/strict";
import { parseVersionsText } from "../../components/images/versions";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { changeLines, copyRepository, runScript } from "../fixtures/cli";

/*
 * Issue 6's review loop, end to end on a copy of the repository: `npm run images:bump -- buildkite-test`, then the
 * plan diff lists the new image tags and the pipelines whose steps name them, and nothing else.
 */

describe("images:bump then plan --diff", () => {
    it("changes only the bumped image's builds and the steps of the pipelines that run in it", async () => {
        const copy = copyRepository("bump");
        const node = async (script: string, ...args: string[]) => {
            const result = await runScript(script, args, copy);
            assert.equal(result.code, 0, result.stderr);
            return result;
        };

        await node("scripts/plan.ts", "--json", "base.json");
        const before =
            parseVersionsText(readFileSync(path.join(copy, "agent-images/versions.json"), "utf8")).value ?? {};
        await node("scripts/images-bump.ts", "buildkite-test", "--date", "2026-11-21", "--root", copy);
        const after =
            parseVersionsText(readFileSync(path.join(copy, "agent-images/versions.json"), "utf8")).value ?? {};
        assert.notEqual(after["buildkite-test"], before["buildkite-test"]);
        assert.equal(after["deb-builder"], before["deb-builder"]);

        const { stdout } = await node("scripts/plan.ts", "--diff", "base.json");
        const changes = changeLines(stdout);
        const builds = changes.filter((l) => l.includes("docker:index/image:Image"));
        // One push per variant in every region the image is pushed to (the home region and each AWS fleet region).
        const regions = ["ap-southeast-1", "eu-west-1", "us-east-1"];
        assert.deepEqual(
            builds.map((l) => /Image {2}(\S+):/.exec(l)?.[1]).sort(),
            regions.flatMap((r) => ["py3.10", "py3.11", "py3.12", "py3.13"].map((v) => `buildkite-test-${r}-${v}`)),
        );
        for (const l of builds) assert.ok(l.includes(`-${after["buildkite-test"]}"`), `new tag in: ${l}`);
        const others = changes.filter((l) => !l.includes("docker:index/image:Image"));
        // kolibri-python-package runs in buildkite-test:py3.11 and dagster's packages in py3.12; nothing else does.
        assert.deepEqual(others.map((l) => /Pipeline {2}(\S+):/.exec(l)?.[1]).sort(), [
            "dagster-pipeline",
            "kolibri-python-package-pipeline",
        ]);
        assert.match(
            stdout,
            new RegExp(`\\+ *image: .*buildkite-test:py3\\.11-${after["buildkite-test"].replace(/\./g, "\\.")}`),
        );
    });
});
