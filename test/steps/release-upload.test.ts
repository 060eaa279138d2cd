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
    RELEASE_TOKEN_VAR,
    stepsForPlatform,
} from "../../components/steps/pipeline-steps";
import { prodConfig } from "../fixtures/config";
import { FAKE_READ_TOKEN, FakeApi, startFakeApi } from "./release-api";

/*
 * The release-upload step's script, as a job of the Debian installer receives it, run by bash against a fake GitHub
 * (a `curl` on PATH that keeps releases and assets as files) and a fake `buildkite-agent` (artifact download).
 */

const ROOT = path.resolve(__dirname, "../..");
const config = prodConfig();
const versions = parseVersionsText(readImageFiles(ROOT).versionsJson ?? "{}").value ?? {};
const steps = stepsForPlatform(config, triggerGraphOf(config), stepImageResolver(config.images, versions));
const built = parse(interpolateAtBuildCreation(steps["kolibri-installer-debian"].document, {})) as {
    steps: { key?: string; commands?: string[] }[];
};
/*
 * The release check comes first: it reads the parent's tags from a local repository standing for the origin (the
 * script's github.com URL replaced by its file:// URL), where v1.0.0 tags the commit the trigger claims.
 */
const originDir = fs.mkdtempSync(path.join(os.tmpdir(), "release-upload-origin-"));
const git = (...args: string[]) =>
    execFileSync("git", ["-C", originDir, "-c", "user.name=t", "-c", "user.email=t@t", ...args], {
        encoding: "utf8",
        env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", HOME: originDir },
    }).trim();
git("init", "-q");
git("commit", "-q", "--allow-empty", "-m", "release");
git("tag", "v1.0.0");
const taggedCommit = git("rev-parse", "HEAD");
process.on("exit", () => fs.rmSync(originDir, { recursive: true, force: true }));
// Buildkite's REST API (a local stand-in): build 41 of the parent is the tag's build.
let api: FakeApi;
before(async () => {
    api = await startFakeApi(config.organization, {
        "kolibri-python-package/41": {
            id: "parent-build",
            commit: taggedCommit,
            branch: "v1.0.0",
            source: "webhook",
            pull_request: null,
        },
    });
});
after(() => api.stop());
const script = () =>
    (built.steps.find((s) => s.key === "release-upload")?.commands ?? [])
        .join("\n")
        .split("https://github.com/learningequality/kolibri.git")
        .join(`file://${originDir}`)
        .split(BUILDKITE_API_URL)
        .join(api.url);

const FAKE_CURL = `#!/usr/bin/env bash
# A fake GitHub: release 7 exists when $STATE/release does, asset 99 (kolibri.deb) when $STATE/asset does.
method=GET; url=""
while [ $# -gt 0 ]; do
  case "$1" in
    -X) method="$2"; shift ;;
    -H|--data|--data-binary|-d) shift ;;
    https://*) url="$1" ;;
  esac
  shift
done
echo "$method $url" >> "$STATE/log"
case "$method $url" in
  "GET https://api.github.com/repos/learningequality/kolibri/releases?per_page=100")
    [ -e "$STATE/broken" ] && exit 22
    if [ -e "$STATE/release" ]; then echo '[{"id":3,"tag_name":"v0.1"},{"id":7,"tag_name":"v1.0.0","draft":true}]'; else echo '[]'; fi ;;
  "POST https://api.github.com/repos/learningequality/kolibri/releases") touch "$STATE/release"; echo '{"id":7}' ;;
  "GET https://api.github.com/repos/learningequality/kolibri/releases/7/assets?per_page=100")
    if [ -e "$STATE/asset" ]; then echo '[{"id":99,"name":"kolibri.deb"}]'; else echo '[]'; fi ;;
  "DELETE https://api.github.com/repos/learningequality/kolibri/releases/assets/99") rm "$STATE/asset" ;;
  "POST https://uploads.github.com/repos/learningequality/kolibri/releases/7/assets?name=kolibri.deb")
    [ -e "$STATE/asset" ] && exit 22
    touch "$STATE/asset"; echo '{}' ;;
  *) exit 22 ;;
esac
`;
const FAKE_AGENT = `#!/usr/bin/env bash
[ "$1 $2" = "artifact download" ] && mkdir -p dist && echo deb > dist/kolibri.deb
`;

/** Runs the script with the given starting state; returns its exit status and the fake GitHub's request log. */
function run(state: { release?: boolean; asset?: boolean; broken?: boolean }): { status: number; log: string[] } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "release-upload-"));
    const bin = path.join(dir, "bin");
    const stateDir = path.join(dir, "state");
    const work = path.join(dir, "work");
    for (const d of [bin, stateDir, work]) fs.mkdirSync(d);
    fs.writeFileSync(path.join(bin, "curl"), FAKE_CURL, { mode: 0o755 });
    fs.writeFileSync(path.join(bin, "buildkite-agent"), FAKE_AGENT, { mode: 0o755 });
    for (const [name, on] of Object.entries(state)) if (on) fs.writeFileSync(path.join(stateDir, name), "");
    let status = 0;
    try {
        execFileSync("bash", ["-c", script()], {
            cwd: work,
            stdio: "pipe",
            env: {
                PATH: `${bin}:${process.env.PATH ?? ""}`,
                STATE: stateDir,
                [PARENT_ENV.tag]: "v1.0.0",
                [PARENT_ENV.commit]: taggedCommit,
                [PARENT_ENV.repository]: "learningequality/kolibri",
                [PARENT_ENV.artifactsBuildId]: "parent-build",
                BUILDKITE_TRIGGERED_FROM_BUILD_ID: "parent-build",
                BUILDKITE_TRIGGERED_FROM_BUILD_PIPELINE_SLUG: "kolibri-python-package",
                BUILDKITE_TRIGGERED_FROM_BUILD_NUMBER: "41",
                [RELEASE_TOKEN_VAR]: "not-a-real-token",
                [RELEASE_READ_TOKEN_VAR]: FAKE_READ_TOKEN,
            },
        });
    } catch (e) {
        status = (e as { status: number }).status;
    }
    const logFile = path.join(stateDir, "log");
    const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8").trim().split("\n") : [];
    fs.rmSync(dir, { recursive: true, force: true });
    return { status, log };
}

const UPLOAD = "POST https://uploads.github.com/repos/learningequality/kolibri/releases/7/assets?name=kolibri.deb";

describe("release-upload script (GitHub REST API, against a fake curl)", () => {
    it("creates the tag's release when there is none, then uploads to it", () => {
        const { status, log } = run({});
        assert.equal(status, 0);
        assert.ok(log.includes("POST https://api.github.com/repos/learningequality/kolibri/releases"), log.join("\n"));
        assert.equal(log.at(-1), UPLOAD);
    });

    it("finds an existing (even draft) release, and on a rerun replaces the asset of the same name", () => {
        const { status, log } = run({ release: true, asset: true });
        assert.equal(status, 0, log.join("\n"));
        assert.ok(!log.includes("POST https://api.github.com/repos/learningequality/kolibri/releases"));
        assert.deepEqual(log.slice(-2), [
            "DELETE https://api.github.com/repos/learningequality/kolibri/releases/assets/99",
            UPLOAD,
        ]);
    });

    it("stops when the release lookup fails, uploading nothing", () => {
        const { status, log } = run({ broken: true });
        assert.notEqual(status, 0);
        assert.ok(
            log.every((l) => !l.includes("uploads.github.com")),
            log.join("\n"),
        );
    });
});
