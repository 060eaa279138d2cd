import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { parse } from "yaml";
import { triggerGraphOf } from "../../components/graph/trigger-graph";
import { parseVersionsText, readImageFiles, stepImageResolver } from "../../components/images";
import { interpolateAtBuildCreation } from "../../components/simulator";
import { PARENT_ENV, TRIGGERED_IF, stepsForPlatform } from "../../components/steps/pipeline-steps";
import { prodConfig } from "../fixtures/config";

/*
 * Issue 12, "The release gate can be forged". The release check of kolibri-installer-debian, exactly as its job
 * receives it from the prod config, run by bash against a local git repository standing for the parent's origin
 * (the script's github.com URL is replaced by a file:// URL; nothing else changes) and a fake `buildkite-agent`
 * that records the documents uploaded to it.
 */

const ROOT = path.resolve(__dirname, "../..");
const config = prodConfig();
const versions = parseVersionsText(readImageFiles(ROOT).versionsJson ?? "{}").value ?? {};
const steps = stepsForPlatform(config, triggerGraphOf(config), stepImageResolver(config.images, versions));
type Built = { steps: { key?: string; if?: string; commands?: string[] }[] };
const built = parse(interpolateAtBuildCreation(steps["kolibri-installer-debian"].stored, {})) as Built;
const step = (key: string) => {
    const s = built.steps.find((x) => x.key === key);
    assert.ok(s, `kolibri-installer-debian has no step ${key}`);
    return s;
};
const ORIGIN = "https://github.com/learningequality/kolibri.git";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "release-gate-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A git repository with two commits; `v1.0.0` (annotated) and `v1.0.1` (lightweight) tag the first. */
function origin(dir: string): { url: string; tagged: string; other: string } {
    const git = (...args: string[]) =>
        execFileSync("git", ["-C", dir, ...args], {
            encoding: "utf8",
            env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", HOME: tmp },
        }).trim();
    fs.mkdirSync(dir, { recursive: true });
    git("init", "-q", "-b", "main");
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "one");
    const tagged = git("rev-parse", "HEAD");
    git("-c", "user.name=t", "-c", "user.email=t@t", "tag", "-a", "v1.0.0", "-m", "release");
    git("tag", "v1.0.1");
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "two");
    return { url: `file://${dir}`, tagged, other: git("rev-parse", "HEAD") };
}
const repo = origin(path.join(tmp, "kolibri"));

const FAKE_AGENT = `#!/usr/bin/env bash
if [ "$1 $2" = "pipeline upload" ]; then cat >> "$STATE/uploaded"; fi
`;

/** Runs a step's commands as the agent does (one script) with `env`; returns exit status, uploads and output. */
function run(
    commands: readonly string[],
    env: Record<string, string>,
    url = repo.url,
): { status: number; uploaded: string; output: string } {
    const dir = fs.mkdtempSync(path.join(tmp, "job-"));
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, "buildkite-agent"), FAKE_AGENT, { mode: 0o755 });
    const script = commands.join("\n").split(ORIGIN).join(url);
    let status = 0;
    let output = "";
    try {
        output = execFileSync("bash", ["-c", `${script} 2>&1`], {
            cwd: dir,
            encoding: "utf8",
            env: { PATH: `${bin}:/usr/local/bin:/usr/bin:/bin`, STATE: dir, HOME: dir, ...env },
        });
    } catch (e) {
        status = (e as { status: number }).status;
        output = String((e as { stdout: string }).stdout);
    }
    const file = path.join(dir, "uploaded");
    return { status, uploaded: fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "", output };
}

/** What a real release's trigger step gives the child, and Buildkite's own variables for it. */
const RELEASE = {
    BUILDKITE_TRIGGERED_FROM_BUILD_PIPELINE_SLUG: "kolibri-python-package",
    BUILDKITE_TRIGGERED_FROM_BUILD_ID: "0190b1c2-parent-build",
    [PARENT_ENV.artifactsBuildId]: "0190b1c2-parent-build",
    [PARENT_ENV.repository]: "learningequality/kolibri",
    [PARENT_ENV.tag]: "v1.0.0",
    [PARENT_ENV.commit]: repo.tagged,
};

describe("release gate: the release check, run against a git origin with and without the tag", () => {
    const gate = step("release-check");

    it("runs in every triggered build, whatever its env claims", () => {
        assert.equal(gate.if, TRIGGERED_IF);
        const keys = built.steps.map((s) => (s.key ?? ("wait" in s ? "wait" : "?")) as string);
        assert.deepEqual(keys.slice(0, 3), ["release-check", "wait", "upload"]);
    });

    it("lets a real tag build through: annotated and lightweight tags at the commit", () => {
        for (const tag of ["v1.0.0", "v1.0.1"]) {
            const r = run(gate.commands ?? [], { ...RELEASE, [PARENT_ENV.tag]: tag });
            assert.equal(r.status, 0, r.output);
            assert.equal(r.uploaded, "", `${tag}: ${r.output}`);
            assert.match(r.output, /A release: tag v1\.0\.[01] of file:\/\//);
        }
    });

    it("blocks a forged CI_PLATFORM_RELEASE=true: no such tag in the origin", () => {
        const r = run(gate.commands ?? [], { ...RELEASE, CI_PLATFORM_RELEASE: "true", [PARENT_ENV.tag]: "v9.9.9" });
        assert.equal(r.status, 0, r.output);
        assert.match(r.uploaded, /block: ":lock: Release gate"/);
        assert.match(r.output, /Not a release: tag v9\.9\.9 of .* is absent/);
    });

    it("blocks an existing tag claimed for another commit, another build's artifacts, or another source", () => {
        for (const forged of [
            { [PARENT_ENV.commit]: repo.other },
            { [PARENT_ENV.artifactsBuildId]: "0190b1c2-pull-request-build" },
            { BUILDKITE_TRIGGERED_FROM_BUILD_PIPELINE_SLUG: "dagster" },
            { [PARENT_ENV.repository]: "learningequality/ci-platform" },
            { BUILDKITE_TRIGGERED_FROM_BUILD_ID: "" },
            { [PARENT_ENV.tag]: "--upload-pack=touch pwned" },
            { [PARENT_ENV.tag]: "v1.0.*" },
            { [PARENT_ENV.commit]: "HEAD" },
        ]) {
            const r = run(gate.commands ?? [], { ...RELEASE, CI_PLATFORM_RELEASE: "true", ...forged });
            assert.match(r.uploaded, /key: "release-gate"/, `${JSON.stringify(forged)}: ${r.output}`);
        }
    });

    it("ignores git settings from the build env: an insteadOf to a repository holding the tag does not count", () => {
        // A fake origin with tag v6.6.6 at its HEAD; the env points github.com at it through every git config
        // route a build env can reach (GIT_CONFIG_PARAMETERS, GIT_CONFIG_COUNT/KEY/VALUE, a global config in HOME).
        const fake = origin(path.join(tmp, "fake"));
        execFileSync("git", ["-C", path.join(tmp, "fake"), "tag", "v6.6.6"]);
        const home = fs.mkdtempSync(path.join(tmp, "home-"));
        fs.writeFileSync(path.join(home, ".gitconfig"), `[url "${fake.url}"]\n\tinsteadOf = ${ORIGIN}\n`);
        const env = {
            ...RELEASE,
            [PARENT_ENV.tag]: "v6.6.6",
            [PARENT_ENV.commit]: fake.other,
            HOME: home,
            GIT_CONFIG_PARAMETERS: `'url.${fake.url}.insteadof'='${ORIGIN}'`,
            GIT_CONFIG_COUNT: "1",
            GIT_CONFIG_KEY_0: `url.${fake.url}.insteadOf`,
            GIT_CONFIG_VALUE_0: ORIGIN,
        };
        // Sanity: with these settings, a plain git would read the fake repository's tag.
        const plain = execFileSync("git", ["ls-remote", "--tags", ORIGIN, "refs/tags/v6.6.6"], {
            encoding: "utf8",
            env: { PATH: process.env.PATH ?? "", ...env },
        });
        assert.match(plain, new RegExp(fake.other));
        // The check keeps github.com (unreachable from the test, or holding no such tag): not a release.
        const r = run(gate.commands ?? [], env, ORIGIN);
        assert.match(r.uploaded, /key: "release-gate"/, r.output);
    });
});

describe("release gate: the release step checks again before it uploads", () => {
    const upload = step("release-upload");

    it("runs in triggered builds and uploads nothing when the check fails (a build unblocked by hand)", () => {
        assert.equal(upload.if, TRIGGERED_IF);
        const r = run(upload.commands ?? [], { ...RELEASE, CI_PLATFORM_RELEASE: "true", [PARENT_ENV.tag]: "v9.9.9" });
        assert.equal(r.status, 0, r.output);
        assert.match(r.output, /Not a release: nothing to upload\./);
    });
});
