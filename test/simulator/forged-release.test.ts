import assert from "node:assert/strict";
import * as path from "node:path";
import { describe, it } from "node:test";
import { stringify } from "yaml";
import { Push, SimulatedBuild, Simulation, simulate } from "../../components/simulator";
import { PARENT_ENV } from "../../components/steps/pipeline-steps";
import { loadForSimulation } from "../../scripts/simulate/run";

/*
 * Issue 12, "The release gate can be forged": a pull request's own `.buildkite/pipeline.yml` in a parent pipeline
 * uploads a trigger step of a gated child with a release's env. The parent's stored steps are replaced here by such
 * a document (the simulator takes any stored YAML), so the child build is what Buildkite would create from it.
 */

const ROOT = path.resolve(__dirname, "../..");
const loaded = loadForSimulation(path.join(ROOT, "Pulumi.prod.yaml"));
if (Array.isArray(loaded)) throw new Error(`prod config is invalid: ${loaded.join("; ")}`);
const prod = loaded;

/** The parent's document: one trigger step of kolibri-installer-debian with the given build env. */
function forgedParent(env: Record<string, string>): string {
    return stringify({
        steps: [
            {
                trigger: "kolibri-installer-debian",
                key: "deb-build",
                build: { message: "not a release", env },
            },
        ],
    });
}

function run(env: Record<string, string>, push: Omit<Push, "pipeline">): SimulatedBuild {
    const stored = { ...prod.stored, "kolibri-python-package": forgedParent(env) };
    const sim: Simulation = simulate({
        config: prod.config,
        stored,
        push: { pipeline: "kolibri-python-package", ...push },
    });
    const child = sim.builds.find((b) => b.pipeline === "kolibri-installer-debian");
    assert.ok(child, "the forged trigger creates a build of the child");
    return child;
}
const job = (build: SimulatedBuild, key: string) => {
    const j = build.jobs.find((x) => x.key === key);
    assert.ok(j, `no job ${key} in ${build.pipeline}`);
    return j;
};

/** Everything the old gate read, and the parent-supplied claims, set as a release would set them. */
const CLAIMS = {
    CI_PLATFORM_RELEASE: "true",
    [PARENT_ENV.tag]: "v0.18.0",
    [PARENT_ENV.commit]: "HEAD",
    [PARENT_ENV.repository]: "learningequality/kolibri",
    [PARENT_ENV.pipeline]: "kolibri-python-package",
    // The parent's build id, as the agent would interpolate `$BUILDKITE_BUILD_ID` into an uploaded trigger step
    // (the stored document here is interpolated at build creation, which knows no build id): b1 is the first build.
    [PARENT_ENV.artifactsBuildId]: "b1",
};

describe("release gate: a trigger step's env cannot make a release", () => {
    it("blocks a child whose trigger claims CI_PLATFORM_RELEASE=true and a tag from a branch build", () => {
        const child = run(CLAIMS, { branch: "pr-branch" });
        assert.equal(child.blocked, true);
        assert.equal(job(child, "release-gate").runs, true);
        assert.equal(job(child, "upload").runs, false);
        assert.equal(job(child, "release-upload").runs, false);
    });

    it("blocks a forged claim of a tag that does exist, when the artifacts come from another build", () => {
        const child = run({ ...CLAIMS, [PARENT_ENV.artifactsBuildId]: "some-other-build" }, { tag: "v0.18.0" });
        assert.equal(child.blocked, true);
        assert.equal(job(child, "release-upload").runs, false);
    });

    it("blocks a claim of another repository's tag", () => {
        const child = run({ ...CLAIMS, [PARENT_ENV.repository]: "learningequality/ci-platform" }, { tag: "v0.18.0" });
        assert.equal(child.blocked, true);
    });

    it("blocks a pull request build of the parent that claims an existing tag at its commit", () => {
        // Every claim is true of the tag (v0.18.0 exists at the commit the PR build builds); only Buildkite's REST
        // API, asked for the triggering build, shows it is a pull request's build, not the tag's.
        const child = run(CLAIMS, { pr: 7, branch: "patch-1", existingTags: { "v0.18.0": "HEAD" } });
        assert.equal(child.blocked, true);
        assert.equal(job(child, "release-gate").runs, true);
        assert.equal(job(child, "release-upload").runs, false);
    });

    it("blocks a branch build at the tagged commit: the triggering build is not the tag's build", () => {
        const child = run(CLAIMS, { branch: "develop", existingTags: { "v0.18.0": "HEAD" } });
        assert.equal(child.blocked, true);
    });

    it("releases when the tag really exists at the commit and the triggering build is the parent's", () => {
        const child = run(CLAIMS, { tag: "v0.18.0" });
        assert.equal(child.blocked, false);
        assert.equal(job(child, "release-check").runs, true);
        assert.equal(job(child, "release-upload").runs, true);
        assert.ok(!child.jobs.some((j) => j.key === "release-gate"));
    });
});
