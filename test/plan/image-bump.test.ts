import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { parseVersionsText } from "../../components/images/versions";
import { serializePlan } from "../../scripts/plan";
import { run as bumpRun } from "../../scripts/images-bump";
import { changeLines, copyRepository, runScript } from "../fixtures/cli";
import { planAsCliWrites } from "../fixtures/plans";

/*
 * Issue 6's review loop, end to end on a copy of the repository: `npm run images:bump -- buildkite-test`, then the
 * plan diff lists the new image tags and the pipelines whose steps name them, and nothing else. The bump's `main` and
 * the base plan (the copy is the repository as it is: the prod plan, as --json writes it) are made in this process;
 * the plan of the edited copy is the command's. (Each command's exit code through a process: test/cli.test.ts.)
 */

describe("images:bump then plan --diff", () => {
    it("changes only the bumped image's builds and the steps of the pipelines that run in it", async () => {
        const copy = copyRepository("bump");
        const node = async (script: string, ...args: string[]) => {
            const result = await runScript(script, args, copy);
            assert.equal(result.code, 0, result.stderr);
            return result;
        };

        writeFileSync(path.join(copy, "base.json"), serializePlan(await planAsCliWrites()));
        const before =
            parseVersionsText(readFileSync(path.join(copy, "agent-images/versions.json"), "utf8")).value ?? {};
        const bump = bumpRun(["buildkite-test", "--date", "2026-11-21", "--root", copy], new Date(), copy);
        assert.equal(bump.code, 0, bump.stderr);
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
