import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { before, beforeEach, describe, it } from "node:test";
import { changeLines, copyRepository, ROOT, runScript } from "../fixtures/cli";
import { planAsCliWrites } from "../fixtures/plans";
import { serializePlan } from "../../scripts/plan";

/*
 * Issue 17: no ordinary change may push a tag the IMMUTABLE repositories already hold (a docker.Image update builds
 * and pushes again, pulumi/pulumi-docker v5.1.0 provider/provider.go). End to end on a copy of the repository,
 * through the real plan: an owner change leaves every push's inputs alone (its source URL was recorded at bump
 * time); a revert of the pin, or a variant removed without a bump, is a config error naming the image and the bump.
 */

const STACK = "Pulumi.prod.yaml";
const VERSIONS = "agent-images/versions.json";
let copy = "";
const plan = (...args: string[]) => runScript("scripts/plan.ts", args, copy);

before(async () => {
    copy = copyRepository("push-inputs");
    // The base of every --diff: the copy is the repository as it is, so its plan is the prod plan, which the CLI
    // would write with --json (planAsCliWrites: no mandatory violation) and this process may already have built.
    writeFileSync(path.join(copy, "base.json"), serializePlan(await planAsCliWrites()));
});

beforeEach(() => {
    for (const file of [STACK, VERSIONS]) writeFileSync(path.join(copy, file), readFileSync(path.join(ROOT, file)));
});

describe("no change pushes a tag that already exists", () => {
    it("changing ci-platform:github.owner changes no push (the source URL is the one its version recorded)", async () => {
        const stack = readFileSync(path.join(ROOT, STACK), "utf8");
        assert.match(stack, /owner: learningequality\n/);
        writeFileSync(
            path.join(copy, STACK),
            stack.replace(/owner: learningequality\n/, "owner: learningequality-moved\n"),
        );
        const result = await plan("--diff", "base.json");
        assert.equal(result.code, 0, result.stderr);
        const pushes = changeLines(result.stdout).filter((l) => l.includes("docker:index/image:Image"));
        assert.deepEqual(pushes, [], "no docker.Image input changes");
    });

    it("refuses the pin reverted to an older version of the history, naming the image and the bump", async () => {
        const records = JSON.parse(readFileSync(path.join(ROOT, VERSIONS), "utf8")) as Record<
            string,
            { version: string; history: { version: string }[] }
        >;
        const image = records["buildkite-test"];
        const current = image.history[image.history.length - 1];
        // A newer version was released and pushed; the pin goes back to the one before it (a revert by hand).
        const newer = {
            ...current,
            version: current.version.replace(/\.(\d+)$/, (_, n: string) => `.${Number(n) + 1}`),
        };
        image.history = [...image.history, newer];
        writeFileSync(path.join(copy, VERSIONS), JSON.stringify(records, null, 2));
        const result = await plan("--diff", "base.json");
        assert.equal(result.code, 2, result.stdout);
        assert.match(
            result.stderr,
            new RegExp(
                `ci-platform:images\\[buildkite-test\\]\\.name: .*pins "buildkite-test" to ${current.version.replace(/\./g, "\\.")}, but its history's newest version is`,
            ),
        );
        assert.match(result.stderr, /npm run images:bump -- buildkite-test/);
    });

    it("refuses a variant removed without a bump (it could only come back under a version that has its tag)", async () => {
        const stack = readFileSync(path.join(ROOT, STACK), "utf8");
        writeFileSync(path.join(copy, STACK), stack.replace("variants: [bookworm, trixie]", "variants: [bookworm]"));
        const result = await plan("--diff", "base.json");
        assert.equal(result.code, 2, result.stdout);
        assert.match(
            result.stderr,
            /ci-platform:images\[deb-builder\]\.variants: .*removing trixie without a new version/,
        );
        assert.match(result.stderr, /npm run images:bump -- deb-builder/);
    });
});
