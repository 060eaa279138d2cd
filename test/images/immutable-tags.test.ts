import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { changeLines, copyRepository, ROOT, runScript } from "../fixtures/cli";
import { planAsCliWrites } from "../fixtures/plans";
import { serializePlan } from "../../scripts/plan";
import { run as bumpRun } from "../../scripts/images-bump";

/*
 * Issue 17: a pinned tag is pushed once, to an IMMUTABLE repository, so nothing may change a push's inputs without a
 * new version. End to end on a copy of the repository, through the real plan: a Dockerfile edit without a bump is a
 * config error (before, the plan showed an update of every push of the tag, which `pulumi up` would fail on); a
 * CRLF-only change plans nothing; the bump that follows the edit plans new tags.
 */

const DOCKERFILE = "agent-images/buildkite-test/Dockerfile";
let copy = "";
const plan = (...args: string[]) => runScript("scripts/plan.ts", args, copy);

before(async () => {
    copy = copyRepository("immutable-tags");
    // The base of every --diff: the copy is the repository as it is, so its plan is the prod plan, which the CLI
    // would write with --json (planAsCliWrites: no mandatory violation) and this process may already have built.
    writeFileSync(path.join(copy, "base.json"), serializePlan(await planAsCliWrites()));
});

describe("image tags are immutable by construction", () => {
    const original = () => readFileSync(path.join(ROOT, DOCKERFILE), "utf8");

    it("plans nothing for a Dockerfile checked out with CRLF line endings", async () => {
        writeFileSync(path.join(copy, DOCKERFILE), original().replace(/\n/g, "\r\n"));
        const result = await plan("--diff", "base.json");
        assert.equal(result.code, 0, result.stderr);
        assert.deepEqual(changeLines(result.stdout), []);
    });

    it("refuses a Dockerfile edit without a bump, before any resource, naming the image and the fix", async () => {
        writeFileSync(path.join(copy, DOCKERFILE), `${original()}RUN true\n`);
        const result = await plan("--diff", "base.json");
        assert.equal(result.code, 2, result.stdout);
        assert.match(
            result.stderr,
            /ci-platform:images\[buildkite-test\]\.name: agent-images\/buildkite-test\/Dockerfile changed since version \S+ was pinned/,
        );
        assert.match(result.stderr, /npm run images:bump -- buildkite-test/);
        assert.doesNotMatch(result.stderr, /deb-builder/);
    });

    it("plans new tags once the edit is bumped", async () => {
        writeFileSync(path.join(copy, DOCKERFILE), `${original()}RUN true\n`);
        // The bump's `main` in this process, in the copy (its exit code through a process: test/cli.test.ts).
        const bump = bumpRun(["buildkite-test", "--date", "2026-11-21"], new Date(), copy);
        assert.equal(bump.code, 0, bump.stderr);
        const version = (
            JSON.parse(readFileSync(path.join(copy, "agent-images/versions.json"), "utf8")) as Record<
                string,
                { version: string }
            >
        )["buildkite-test"].version;
        const result = await plan("--diff", "base.json");
        assert.equal(result.code, 0, result.stderr);
        const pushes = changeLines(result.stdout).filter((l) => l.includes("docker:index/image:Image"));
        assert.equal(pushes.length, 12, result.stdout);
        for (const l of pushes) assert.ok(l.includes(`-${version}"`), `new tag in: ${l}`);
    });
});
