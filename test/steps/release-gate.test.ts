import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { triggerGraphOf } from "../../components/graph/trigger-graph";
import { parseVersionsText, readImageFiles, stepImageResolver } from "../../components/images";
import { interpolateAtBuildCreation } from "../../components/simulator";
import {
    BUILDKITE_API_URL,
    PARENT_ENV,
    RELEASE_READ_TOKEN_VAR,
    TRIGGERED_IF,
    stepsForPlatform,
} from "../../components/steps/pipeline-steps";
import { prodConfig } from "../fixtures/config";
import { FAKE_READ_TOKEN, FakeApi, FakeBuild, startFakeApi } from "./release-api";

/*
 * Issue 12, "The release gate can be forged". The release check of kolibri-installer-debian, exactly as its job
 * receives it from the prod config, run by bash against a local git repository standing for the parent's origin
 * (the script's github.com URL is replaced by a file:// URL), a local stand-in for Buildkite's REST API (its URL
 * replaces api.buildkite.com; nothing else changes) and a fake `buildkite-agent` that records the documents
 * uploaded to it.
 */

const ROOT = path.resolve(__dirname, "../..");
const config = prodConfig();
const versions = parseVersionsText(readImageFiles(ROOT).versionsJson ?? "{}").value ?? {};
const steps = stepsForPlatform(config, triggerGraphOf(config), stepImageResolver(config.images, versions));
type Built = { steps: { key?: string; if?: string; commands?: string[] }[] };
const builtOf = (slug: string) => parse(interpolateAtBuildCreation(steps[slug].document, {})) as Built;
const built = builtOf("kolibri-installer-debian");
const step = (key: string, doc = built) => {
    const s = doc.steps.find((x) => x.key === key);
    assert.ok(s, `no step ${key}`);
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

/** The tag's build of the parent (number 41), and the other builds the tests' triggering builds stand for. */
const PARENT_BUILD = "0190b1c2-parent-build";
const tagBuild = (over: Record<string, unknown> = {}) => ({
    id: PARENT_BUILD,
    number: 41,
    commit: repo.tagged,
    branch: "v1.0.0",
    source: "webhook",
    state: "running",
    pull_request: null,
    ...over,
});
const BUILDS: Record<string, FakeBuild> = {
    "kolibri-python-package/41": tagBuild(),
    // The lightweight tag's build; a build whose pull_request carries no id (the docs' example shows `{ }`).
    "kolibri-python-package/42": tagBuild({ id: "build-42", branch: "v1.0.1", pull_request: {} }),
    // A pull request's build, from a fork, at another commit: its code made the artifacts.
    "kolibri-python-package/43": tagBuild({
        id: "build-43",
        commit: repo.other,
        branch: "attacker:patch-1",
        pull_request: { id: "1234", base: "develop", repository: "https://github.com/attacker/kolibri.git" },
    }),
    // A pull request's build at the tagged commit itself, its branch named like the tag.
    "kolibri-python-package/44": tagBuild({ id: "build-44", pull_request: { id: "1235", base: "develop" } }),
    // A branch build at another commit.
    "kolibri-python-package/45": tagBuild({ id: "build-45", commit: repo.other, branch: "develop" }),
    // A branch build at the tagged commit: not the tag's build.
    "kolibri-python-package/46": tagBuild({ id: "build-46", branch: "develop" }),
    "kolibri-python-package/50": 500,
    "kolibri-python-package/51": { raw: "<html>maintenance</html>" },
    "kolibri-python-package/52": { raw: '{"id": "build-52", "pull_request": "yes"' },
    "kolibri-python-package/53": tagBuild({ id: "build-53", pull_request: "1236" }),
    // Chained (Raspberry Pi image): the Debian build the parent's tag build triggered, and a Debian PR build.
    "kolibri-installer-debian/7": {
        id: "deb-build-7",
        commit: "d".repeat(40),
        branch: "master",
        source: "trigger_job",
        pull_request: null,
        triggered_from: { build_id: PARENT_BUILD, build_number: 41, build_pipeline_slug: "kolibri-python-package" },
    },
    "kolibri-installer-debian/8": {
        id: "deb-build-8",
        commit: "e".repeat(40),
        branch: "attacker:patch-2",
        source: "webhook",
        pull_request: { id: "77", base: "master" },
    },
    "kolibri-installer-debian/9": {
        id: "deb-build-9",
        commit: "d".repeat(40),
        branch: "master",
        source: "trigger_job",
        pull_request: null,
        // Triggered by the PR build 43 of the parent.
        triggered_from: { build_id: "build-43", build_number: 43, build_pipeline_slug: "kolibri-python-package" },
    },
};
let api: FakeApi;
before(async () => {
    api = await startFakeApi(config.organization, BUILDS);
});
after(() => api.stop());

/** Runs a step's commands as the agent does (one script) with `env`; returns exit status, uploads and output. */
function run(
    commands: readonly string[],
    env: Record<string, string>,
    url = repo.url,
    apiUrl = api.url,
): { status: number; uploaded: string; output: string } {
    const dir = fs.mkdtempSync(path.join(tmp, "job-"));
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, "buildkite-agent"), FAKE_AGENT, { mode: 0o755 });
    const script = commands.join("\n").split(ORIGIN).join(url).split(BUILDKITE_API_URL).join(apiUrl);
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
const RELEASE: Record<string, string> = {
    BUILDKITE_TRIGGERED_FROM_BUILD_PIPELINE_SLUG: "kolibri-python-package",
    BUILDKITE_TRIGGERED_FROM_BUILD_ID: PARENT_BUILD,
    BUILDKITE_TRIGGERED_FROM_BUILD_NUMBER: "41",
    [PARENT_ENV.artifactsBuildId]: PARENT_BUILD,
    [PARENT_ENV.repository]: "learningequality/kolibri",
    [PARENT_ENV.tag]: "v1.0.0",
    [PARENT_ENV.commit]: repo.tagged,
    [RELEASE_READ_TOKEN_VAR]: FAKE_READ_TOKEN,
};
/** The env of a child triggered by build `number` of the parent, which Buildkite gives id `id`. */
const triggeredBy = (number: number, id: string): Record<string, string> => ({
    ...RELEASE,
    BUILDKITE_TRIGGERED_FROM_BUILD_NUMBER: String(number),
    BUILDKITE_TRIGGERED_FROM_BUILD_ID: id,
    [PARENT_ENV.artifactsBuildId]: id,
});

describe("release gate: the release check, run against a git origin with and without the tag", () => {
    const gate = step("release-check");

    it("runs in every triggered build, whatever its env claims", () => {
        assert.equal(gate.if, TRIGGERED_IF);
        const keys = built.steps.map((s) => (s.key ?? ("wait" in s ? "wait" : "?")) as string);
        assert.deepEqual(keys.slice(0, 3), ["release-check", "wait", "upload"]);
    });

    it("lets a real tag build through: annotated and lightweight tags at the commit", () => {
        for (const [tag, env] of [
            ["v1.0.0", RELEASE],
            ["v1.0.1", triggeredBy(42, "build-42")],
        ] as const) {
            const r = run(gate.commands ?? [], { ...env, [PARENT_ENV.tag]: tag });
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
        const forgeries: Record<string, string>[] = [
            { [PARENT_ENV.commit]: repo.other },
            { [PARENT_ENV.artifactsBuildId]: "0190b1c2-pull-request-build" },
            { BUILDKITE_TRIGGERED_FROM_BUILD_PIPELINE_SLUG: "dagster" },
            { [PARENT_ENV.repository]: "learningequality/ci-platform" },
            { BUILDKITE_TRIGGERED_FROM_BUILD_ID: "" },
            { [PARENT_ENV.tag]: "--upload-pack=touch pwned" },
            { [PARENT_ENV.tag]: "v1.0.*" },
            { [PARENT_ENV.commit]: "HEAD" },
        ];
        for (const forged of forgeries) {
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

describe("release gate: the triggering build must be the tag's build, as Buildkite's REST API tells", () => {
    const gate = step("release-check");
    const blocked = (env: Record<string, string>, apiUrl?: string) => {
        const r = run(gate.commands ?? [], env, repo.url, apiUrl);
        assert.equal(r.status, 0, r.output);
        assert.match(r.uploaded, /key: "release-gate"/, r.output);
        return r.output;
    };

    it("blocks a pull request build that claims an existing tag and its commit", () => {
        // The forged trigger's claims are all true of the tag; only the triggering build (a fork's PR) is not it.
        assert.match(
            blocked(triggeredBy(43, "build-43")),
            /build 43 of kolibri-python-package is a build of pull request 1234/,
        );
        assert.match(blocked(triggeredBy(44, "build-44")), /is a build of pull request 1235/);
    });

    it("blocks a build at another commit, and a branch build of the tagged commit", () => {
        assert.match(
            blocked(triggeredBy(45, "build-45")),
            new RegExp(`built commit ${repo.other}, not ${repo.tagged}`),
        );
        assert.match(blocked(triggeredBy(46, "build-46")), /built branch develop, not the tag v1\.0\.0/);
    });

    it("blocks when the build of that number is not the triggering build (id mismatch)", () => {
        assert.match(
            blocked(triggeredBy(41, "0190b1c2-other-build")),
            /is build 0190b1c2-parent-build, not the triggering build/,
        );
    });

    it("fails closed: API unreachable, an HTTP error, a body that is not the build, no token, no number", () => {
        assert.match(blocked(RELEASE, "http://127.0.0.1:9/v2"), /cannot read build 41 of kolibri-python-package/);
        assert.match(blocked(triggeredBy(50, "build-50")), /cannot read build 50/);
        assert.match(blocked(triggeredBy(99, "build-99")), /cannot read build 99/);
        assert.match(blocked(triggeredBy(51, "build-51")), /is not a build the REST API describes/);
        assert.match(blocked(triggeredBy(52, "build-52")), /is not a build the REST API describes/);
        // A pull_request of an unexpected shape is no proof of "not a pull request".
        assert.match(blocked(triggeredBy(53, "build-53")), /is not a build the REST API describes/);
        assert.match(blocked({ ...RELEASE, [RELEASE_READ_TOKEN_VAR]: "" }), /cannot read build 41/);
        for (const number of ["", "41/../42", "0", "41 -o /tmp/x"])
            assert.match(
                blocked({ ...RELEASE, BUILDKITE_TRIGGERED_FROM_BUILD_NUMBER: number }),
                /no triggering build number/,
            );
    });

    it("chained (Raspberry Pi image): releases only when the Debian build was triggered by the tag's build", () => {
        const image = step("release-check", builtOf("kolibri-raspbian-image"));
        const chained = (number: number, id: string) => ({
            ...RELEASE,
            BUILDKITE_TRIGGERED_FROM_BUILD_PIPELINE_SLUG: "kolibri-installer-debian",
            BUILDKITE_TRIGGERED_FROM_BUILD_NUMBER: String(number),
            BUILDKITE_TRIGGERED_FROM_BUILD_ID: id,
            [PARENT_ENV.artifactsBuildId]: id,
        });
        const real = run(image.commands ?? [], chained(7, "deb-build-7"));
        assert.equal(real.uploaded, "", real.output);
        assert.match(real.output, /A release: .* build 41 of kolibri-python-package/);
        for (const [env, why] of [
            [chained(8, "deb-build-8"), /build 8 of kolibri-installer-debian is a build of pull request 77/],
            [chained(9, "deb-build-9"), /build 43 of kolibri-python-package is a build of pull request 1234/],
            [chained(7, "deb-build-9"), /is build deb-build-7, not the triggering build deb-build-9/],
        ] as const) {
            const r = run(image.commands ?? [], env);
            assert.match(r.uploaded, /key: "release-gate"/, r.output);
            assert.match(r.output, why);
        }
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
