import assert from "node:assert/strict";
import { ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { PlatformConfig } from "../../components/config/schema";
import { triggerGraphOf } from "../../components/graph/trigger-graph";
import { interpolateAtBuildCreation } from "../../components/simulator";
import { ARTIFACT_PLAN_VAR, ARTIFACT_SOURCES_MARKER } from "../../components/steps/artifact-sources";
import {
    BUILDKITE_API_URL,
    RELEASE_READ_TOKEN_VAR,
    UPLOAD_ENV_VAR,
    stepsForPlatform,
} from "../../components/steps/pipeline-steps";
import { prodConfig } from "../fixtures/config";

/*
 * The package upload of a pipeline with producing packages (components/steps/artifact-sources.ts), as a job of the
 * prod dagster pipeline receives it, run by bash against a fake `buildkite-agent` (a stub on PATH that records every
 * call, answers `pipeline upload --dry-run` with the agent's output for the scenario, and keeps the uploaded file)
 * and a fake Buildkite REST API "List builds for a pipeline" on 127.0.0.1, in a git repository whose
 * origin/master is the merge base.
 */

const SELF = "this-build-uuid";
const BASE = "base-build-uuid";
const FAKE_TOKEN = "not-a-real-read-builds-token";

/** The dagster pipeline's stored `packages-changed` step, as the job gets it. */
function uploadStep(config: PlatformConfig): { script: string; env: Record<string, string> } {
    const steps = stepsForPlatform(config, triggerGraphOf(config), (r) => `img/${r.name}:${r.variant}`);
    const built = parse(interpolateAtBuildCreation(steps.dagster.stored, {})) as {
        steps: { key?: string; commands?: string[]; env?: Record<string, string> }[];
    };
    const step = built.steps.find((s) => s.key === "packages-changed");
    assert.ok(step?.commands && step.env);
    assert.equal(step.commands.length, 1);
    assert.ok(step.commands[0].startsWith(ARTIFACT_SOURCES_MARKER));
    assert.ok(ARTIFACT_PLAN_VAR in step.env, "the step carries its artifact plan");
    return { script: step.commands[0], env: step.env };
}

/** What the agent's dry run prints (buildkite/agent v3.137.0 clicommand/pipeline_upload.go): interpolated, if_changed applied. */
function dryRun(yaml: string, skipped: readonly string[]): string {
    const unescape = (v: unknown): unknown =>
        typeof v === "string"
            ? v.replace(/\$\$/g, "$")
            : Array.isArray(v)
              ? v.map(unescape)
              : v !== null && typeof v === "object"
                ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unescape(x)]))
                : v;
    const doc = parse(yaml) as { steps: Record<string, unknown>[] };
    const steps = doc.steps.map((s) => {
        const { if_changed: _ifChanged, ...rest } = unescape(s) as Record<string, unknown>;
        return skipped.includes(String(s.key))
            ? { ...rest, skip: "if_changed matched no unexcluded changed files in this build" }
            : rest;
    });
    return JSON.stringify({ steps }, null, 2);
}

const FAKE_AGENT = `#!/usr/bin/env bash
printf '%s\\n' "$*" >> "$STATE/calls"
case "$1 $2" in
  "pipeline upload")
    if [ "$3" = "--dry-run" ]; then cat > "$STATE/stdin"; cat "$STATE/dry-run.json"; else cp "$4" "$STATE/uploaded.json"; fi ;;
  "meta-data set") printf '%s=%s\\n' "$3" "$4" >> "$STATE/meta-data" ;;
  "artifact download"|"artifact upload") ;;
  *) exit 1 ;;
esac
`;

/** The builds list: passed builds of master at `commit`, each with the packages that ran in it (meta-data). */
const SERVER = `
const http = require("node:http");
const builds = JSON.parse(process.env.FAKE_BUILDS);
const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://x");
  if (req.headers.authorization !== "Bearer " + process.env.FAKE_TOKEN) { res.writeHead(401); res.end("{}"); return; }
  if (url.pathname !== "/v2/organizations/learningequality/pipelines/dagster/builds") { res.writeHead(404); res.end("{}"); return; }
  const q = url.searchParams;
  const ran = [...q.keys()].filter((k) => k.startsWith("meta_data[")).map((k) => [k.slice(10, -1), q.get(k)]);
  const found = builds.filter((b) => b.branch === q.get("branch") && b.commit === q.get("commit") && q.get("state") === "passed"
    && ran.every(([k, v]) => b.meta_data[k] === v));
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify(found.map((b) => ({ id: b.id, number: 1 }))));
});
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
setTimeout(() => process.exit(0), 60000).unref();
`;

let apiUrl = "";
let server: ChildProcess | undefined;
const repo = fs.mkdtempSync(path.join(os.tmpdir(), "artifact-sources-repo-"));
const git = (...args: string[]) =>
    execFileSync("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@t", ...args], {
        encoding: "utf8",
        env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", HOME: repo },
    }).trim();
git("init", "-q", "-b", "feature");
git("commit", "-q", "--allow-empty", "-m", "on master");
const mergeBase = git("rev-parse", "HEAD");
git("update-ref", "refs/remotes/origin/master", mergeBase);
git("update-ref", "refs/remotes/origin/develop", mergeBase);
git("commit", "-q", "--allow-empty", "-m", "on the branch");
process.on("exit", () => fs.rmSync(repo, { recursive: true, force: true }));

before(async () => {
    const ranIn = (pkgs: string[]) => Object.fromEntries(pkgs.map((p) => [`ci-platform:ran:${p}`, "true"]));
    const builds = [
        // The base build: every package ran (a default-branch build runs them all).
        {
            id: BASE,
            branch: "master",
            commit: mergeBase,
            meta_data: ranIn(["dagster-shared", "dagster-pipes", "dagster", "dagster-graphql", "dagster-webserver"]),
        },
        // A build of another commit must not be taken.
        { id: "other-commit", branch: "master", commit: "0".repeat(40), meta_data: ranIn(["dagster-graphql"]) },
    ];
    const child = spawn(process.execPath, ["-e", SERVER], {
        env: { FAKE_BUILDS: JSON.stringify(builds), FAKE_TOKEN },
        stdio: ["ignore", "pipe", "inherit"],
    });
    server = child;
    apiUrl = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("the fake API did not start within 10 s")), 10_000);
        child.stdout?.once("data", (d: Buffer) => {
            clearTimeout(timer);
            resolve(`http://127.0.0.1:${String(d).trim()}/v2`);
        });
    });
});
after(() => server?.kill());

interface Uploaded {
    steps: { key: string; skip?: string; env: Record<string, string>; depends_on?: string[]; commands: string[] }[];
}

/** Runs the upload with the agent skipping `skipped`; returns what it uploaded, the meta-data and the agent calls. */
function run(
    skipped: readonly string[],
    opts: { config?: PlatformConfig; token?: boolean; pullRequestBase?: string; env?: Record<string, string> } = {},
): { status: number; uploaded: Uploaded; metaData: Record<string, string>; calls: string[]; stdin: string } {
    const { script, env } = uploadStep(opts.config ?? prodConfig());
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "artifact-sources-"));
    const bin = path.join(dir, "bin");
    const state = path.join(dir, "state");
    for (const d of [bin, state]) fs.mkdirSync(d);
    fs.writeFileSync(path.join(bin, "buildkite-agent"), FAKE_AGENT, { mode: 0o755 });
    fs.writeFileSync(path.join(state, "dry-run.json"), dryRun(env[UPLOAD_ENV_VAR], skipped));
    let status = 0;
    try {
        execFileSync("bash", ["-c", script.split(BUILDKITE_API_URL).join(apiUrl)], {
            cwd: repo,
            stdio: "pipe",
            env: {
                PATH: `${bin}:${process.env.PATH ?? ""}`,
                HOME: dir,
                STATE: state,
                ...env,
                BUILDKITE_BUILD_ID: SELF,
                BUILDKITE_PIPELINE_DEFAULT_BRANCH: "master",
                BUILDKITE_PULL_REQUEST_BASE_BRANCH: opts.pullRequestBase ?? "",
                ...(opts.token === false ? {} : { [RELEASE_READ_TOKEN_VAR]: FAKE_TOKEN }),
                ...opts.env,
            },
        });
    } catch (e) {
        status = (e as { status: number }).status;
    }
    const read = (f: string) =>
        fs.existsSync(path.join(state, f)) ? fs.readFileSync(path.join(state, f), "utf8") : "";
    const result = {
        status,
        uploaded: JSON.parse(read("uploaded.json") || '{"steps":[]}') as Uploaded,
        metaData: Object.fromEntries(
            read("meta-data")
                .split("\n")
                .filter(Boolean)
                .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
        ),
        calls: read("calls").split("\n").filter(Boolean),
        stdin: read("stdin"),
    };
    fs.rmSync(dir, { recursive: true, force: true });
    return result;
}

const step = (u: Uploaded, key: string) => {
    const s = u.steps.find((x) => x.key === key);
    assert.ok(s, `no uploaded step ${key}`);
    return s;
};
const WHEEL = (p: string) => `python_modules/${p}/dist/*.whl`;
const SHARED_WHEEL = "python_modules/libraries/dagster-shared/dist/*.whl";
const UPSTREAM = ["package-dagster-shared", "package-dagster-pipes", "package-dagster"];

describe("artifact sources at upload time (fake buildkite-agent, fake REST API)", () => {
    it("dry-runs the document, then uploads the result without interpolating it again", () => {
        const { status, calls, stdin } = run([]);
        assert.equal(status, 0);
        assert.equal(calls[0], "pipeline upload --dry-run --format json");
        assert.match(calls.at(-1) ?? "", /^pipeline upload --no-interpolation \S+upload\.json$/);
        assert.equal(stdin.trim(), uploadStep(prodConfig()).env[UPLOAD_ENV_VAR].trim());
    });

    it("producer skipped with a base build: users download from the base build, and do not wait for it", () => {
        const { status, uploaded, metaData } = run(UPSTREAM);
        assert.equal(status, 0);
        for (const key of UPSTREAM) assert.ok(step(uploaded, key).skip, `${key} stays skipped`);
        const graphql = step(uploaded, "package-dagster-graphql");
        assert.equal(graphql.env.CI_PLATFORM_DAGSTER_SHARED_BUILD_ID, BASE);
        assert.equal(graphql.env.CI_PLATFORM_DAGSTER_BUILD_ID, BASE);
        assert.equal(graphql.env.CI_PLATFORM_DAGSTER_GRAPHQL_BUILD_ID, SELF);
        assert.equal(graphql.depends_on, undefined);
        // All its producers come from one build: the artifacts plugin is pointed at it.
        assert.equal(graphql.env.BUILDKITE_PLUGIN_ARTIFACTS_BUILD, BASE);
        assert.ok(
            graphql.commands.includes(
                `buildkite-agent artifact download "${WHEEL("dagster")}" . --build "$CI_PLATFORM_DAGSTER_BUILD_ID"`,
            ),
        );
        const webserver = step(uploaded, "package-dagster-webserver");
        assert.deepEqual(webserver.depends_on, ["package-dagster-graphql"]);
        // Its producers come from two builds: no single build for the plugin.
        assert.equal(webserver.env.BUILDKITE_PLUGIN_ARTIFACTS_BUILD, undefined);
        // Meta-data keyed by artifact: which build holds it; `ran` only for what ran here.
        assert.equal(metaData[`ci-platform:artifact:${SHARED_WHEEL}`], BASE);
        assert.equal(metaData[`ci-platform:artifact:${WHEEL("dagster-graphql")}`], SELF);
        assert.equal(metaData["ci-platform:ran:dagster-shared"], undefined);
        assert.equal(metaData["ci-platform:ran:dagster-graphql"], "true");
    });

    it("producer skipped with no base build (a first build): it runs, and its users wait for it", () => {
        // No token, so no build can be looked up; a pull request into develop, where no build ran at the merge base
        // (the build of master at the same commit is not taken: the base build is of the branch merged into).
        // An explicit diff base for the agent names no branch to search.
        for (const opts of [
            { token: false },
            { pullRequestBase: "develop" },
            { env: { BUILDKITE_GIT_DIFF_BASE: "origin/master" } },
        ]) {
            const { status, uploaded, metaData } = run(UPSTREAM, opts);
            assert.equal(status, 0);
            for (const key of UPSTREAM) assert.equal(step(uploaded, key).skip, undefined, `${key} runs`);
            const graphql = step(uploaded, "package-dagster-graphql");
            assert.deepEqual(graphql.depends_on?.sort(), [...UPSTREAM].sort());
            assert.equal(graphql.env.CI_PLATFORM_DAGSTER_SHARED_BUILD_ID, SELF);
            assert.equal(graphql.env.BUILDKITE_PLUGIN_ARTIFACTS_BUILD, SELF);
            assert.equal(metaData["ci-platform:ran:dagster-shared"], "true");
        }
    });

    it("producer skipped whose base build did not run it: it runs", () => {
        // A producer added since the base build: no build of master at the merge base ran it.
        const config = prodConfig();
        const dagster = config.pipelines.find((p) => p.slug === "dagster");
        assert.ok(dagster);
        dagster.packages.push({
            name: "dagster-new",
            path: "python_modules/dagster-new",
            dependsOn: [],
            artifacts: ["dist/*.whl"],
            copyArtifacts: [],
            uses: undefined,
        });
        const { uploaded } = run(["package-dagster-new", "package-dagster-shared"], { config });
        assert.equal(step(uploaded, "package-dagster-new").skip, undefined);
        assert.ok(step(uploaded, "package-dagster-shared").skip);
        assert.equal(step(uploaded, "package-dagster-new").env.CI_PLATFORM_DAGSTER_NEW_BUILD_ID, SELF);
    });

    it("producer runs: users wait for it and download from this build", () => {
        const { status, uploaded, metaData } = run([]);
        assert.equal(status, 0);
        const pipes = step(uploaded, "package-dagster-pipes");
        assert.deepEqual(pipes.depends_on, ["package-dagster-shared"]);
        assert.equal(pipes.env.CI_PLATFORM_DAGSTER_SHARED_BUILD_ID, SELF);
        assert.equal(pipes.env.BUILDKITE_PLUGIN_ARTIFACTS_BUILD, SELF);
        assert.deepEqual(
            step(uploaded, "package-dagster-webserver").depends_on?.sort(),
            [...UPSTREAM, "package-dagster-graphql"].sort(),
        );
        assert.equal(step(uploaded, "package-dagster-shared").depends_on, undefined);
        assert.equal(metaData[`ci-platform:artifact:${SHARED_WHEEL}`], SELF);
    });

    it("an opted-out artifact is copied from the base build into this build", () => {
        const config = prodConfig();
        const shared = config.pipelines.find((p) => p.slug === "dagster")?.packages[0];
        assert.ok(shared);
        shared.copyArtifacts = ["dist/*.whl"];
        const { status, uploaded, metaData, calls } = run(UPSTREAM, { config });
        assert.equal(status, 0);
        assert.ok(calls.includes(`artifact download ${SHARED_WHEEL} . --build ${BASE}`), calls.join("\n"));
        assert.ok(calls.includes(`artifact upload ${SHARED_WHEEL}`), calls.join("\n"));
        assert.ok(step(uploaded, "package-dagster-shared").skip);
        const graphql = step(uploaded, "package-dagster-graphql");
        assert.equal(graphql.env.CI_PLATFORM_DAGSTER_SHARED_BUILD_ID, SELF);
        assert.equal(graphql.env.CI_PLATFORM_DAGSTER_PIPES_BUILD_ID, BASE);
        assert.equal(metaData[`ci-platform:artifact:${SHARED_WHEEL}`], SELF);
        // Only the opted-out artifact is copied.
        assert.ok(!calls.some((c) => c.startsWith("artifact download python_modules/dagster-pipes")));
    });

    it("is shellcheck clean", () => {
        const { script } = uploadStep(prodConfig());
        const result = spawnSync("shellcheck", ["--shell=bash", "-"], { input: script, encoding: "utf8" });
        assert.equal(result.error, undefined, "shellcheck must be installed");
        assert.equal(result.stdout + result.stderr, "");
        assert.equal(result.status, 0);
    });
});
