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
    const built = parse(interpolateAtBuildCreation(steps.dagster.document, {})) as {
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
  "artifact search") grep -qxF "$5 $3" "$STATE/artifacts" ;;
  "artifact download") [ ! -e "$STATE/fail-download" ] ;;
  "artifact upload") ;;
  "annotate --style") printf '%s\\n' "$*" >> "$STATE/annotations" ;;
  *) exit 1 ;;
esac
`;

/**
 * "List builds for a pipeline" (buildkite/docs pages/apis/rest_api/builds.md): builds filtered by `branch`,
 * `commit` and, when given, `state`, newest first, each with `meta_data` and `jobs`; `per_page` and `page` with a
 * `Link` header (pages/apis/rest_api.md "Pagination"). The scenario file is read on every request: `replies` are
 * answered first, one per request (a 401, a 429 with `RateLimit-Reset`, a 500), then the builds; every request is
 * logged with its authorization header.
 */
const SERVER = `
const fs = require("node:fs");
const http = require("node:http");
const file = process.env.FAKE_SCENARIO;
const server = http.createServer((req, res) => {
  const scenario = JSON.parse(fs.readFileSync(file, "utf8"));
  const url = new URL(req.url, "http://x");
  fs.appendFileSync(file + ".log", JSON.stringify({ url: req.url, auth: req.headers.authorization }) + "\\n");
  const reply = scenario.replies.shift();
  if (reply) {
    fs.writeFileSync(file, JSON.stringify(scenario));
    res.writeHead(reply.status, reply.headers || {});
    res.end(JSON.stringify({ message: "fake " + reply.status }));
    return;
  }
  if (req.headers.authorization !== "Bearer " + process.env.FAKE_TOKEN) { res.writeHead(401); res.end("{}"); return; }
  if (url.pathname !== "/v2/organizations/learningequality/pipelines/dagster/builds") { res.writeHead(404); res.end("{}"); return; }
  const q = url.searchParams;
  const found = scenario.builds.filter((b) => b.branch === q.get("branch") && b.commit === q.get("commit")
    && (q.get("state") === null || b.state === q.get("state"))
    && [...q.keys()].filter((k) => k.startsWith("meta_data[")).every((k) => b.meta_data[k.slice(10, -1)] === q.get(k)));
  const size = Math.min(Number(q.get("per_page") || 30), scenario.pageSize || 100);
  const page = Number(q.get("page") || 1);
  const headers = { "content-type": "application/json" };
  if (page * size < found.length) {
    const next = new URL(url);
    next.searchParams.set("page", String(page + 1));
    headers.link = "<http://" + req.headers.host + next.pathname + next.search + '>; rel="next"';
  }
  res.writeHead(200, headers);
  res.end(JSON.stringify(found.slice((page - 1) * size, page * size)));
});
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
// Stops with the test process (its stdin closes), and in any case after 30 minutes: a bound on time, not on the
// file's pace (a 2-minute bound ended it under load while the file's last tests still ran, and they failed).
process.stdin.on("end", () => process.exit(0)).resume();
setTimeout(() => process.exit(0), 30 * 60 * 1000).unref();
`;

const PACKAGES = ["dagster-shared", "dagster-pipes", "dagster", "dagster-graphql", "dagster-webserver"];

let apiUrl = "";
let server: ChildProcess | undefined;
const scenarioDir = fs.mkdtempSync(path.join(os.tmpdir(), "artifact-sources-api-"));
const scenarioFile = path.join(scenarioDir, "scenario.json");
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
process.on("exit", () => {
    for (const d of [repo, scenarioDir]) fs.rmSync(d, { recursive: true, force: true });
});

before(async () => {
    fs.writeFileSync(scenarioFile, JSON.stringify({ builds: [], replies: [] }));
    const child = spawn(process.execPath, ["-e", SERVER], {
        env: { FAKE_SCENARIO: scenarioFile, FAKE_TOKEN },
        stdio: ["pipe", "pipe", "inherit"],
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

/** A build as the REST API lists it: its meta-data and jobs (step key and state). */
interface FakeBuild {
    id: string;
    branch: string;
    commit: string;
    state: string;
    meta_data: Record<string, string>;
    jobs: { step_key: string; state: string }[];
}

/** The prod config's upload step, generated once for this file (the generation is pure; callers do not change it). */
let prodUpload: ReturnType<typeof uploadStep> | undefined;
const prodUploadStep = () => (prodUpload ??= uploadStep(prodConfig()));

/** The `ran` meta-data key of each producer, as the plan the upload step carries says. */
function ranKeys(config?: PlatformConfig): Record<string, string> {
    const plan = JSON.parse((config ? uploadStep(config) : prodUploadStep()).env[ARTIFACT_PLAN_VAR]) as {
        producers: Record<string, { ran: string }>;
    };
    return Object.fromEntries(Object.entries(plan.producers).map(([p, v]) => [p, v.ran]));
}

/** A build of master at the merge base in which `ran` ran and passed (unless `failed` names some of them). */
function build(
    id: string,
    ran: readonly string[] = PACKAGES,
    opts: { failed?: readonly string[]; state?: string; commit?: string; keys?: Record<string, string> } = {},
): FakeBuild {
    const keys = opts.keys ?? ranKeys();
    return {
        id,
        branch: "master",
        commit: opts.commit ?? mergeBase,
        state: opts.state ?? "passed",
        meta_data: Object.fromEntries(ran.map((p) => [keys[p], "true"])),
        jobs: ran.map((p) => ({ step_key: `package-${p}`, state: opts.failed?.includes(p) ? "failed" : "passed" })),
    };
}

/** Every producer's artifact glob, held by `id`. */
const allArtifacts = (id: string) => PACKAGES.map((p) => `${id} ${p === "dagster-shared" ? SHARED_WHEEL : WHEEL(p)}`);

/** The default world: the base build ran every package, and another commit's build must not be taken. */
const DEFAULT_WORLD = {
    builds: () => [build(BASE), build("other-commit", ["dagster-graphql"], { commit: "0".repeat(40) })],
    artifacts: () => [...allArtifacts(BASE), ...allArtifacts("other-commit")],
};

interface RunOpts {
    config?: PlatformConfig;
    token?: boolean;
    pullRequestBase?: string;
    env?: Record<string, string>;
    builds?: FakeBuild[];
    /** `<build id> <glob>` lines: the artifacts that exist. */
    artifacts?: string[];
    replies?: { status: number; headers?: Record<string, string> }[];
    pageSize?: number;
    failDownload?: boolean;
}

/** Runs the upload with the agent skipping `skipped`; returns what it uploaded, the meta-data and the agent calls. */
function run(
    skipped: readonly string[],
    opts: RunOpts = {},
): {
    status: number;
    uploaded: Uploaded;
    metaData: Record<string, string>;
    calls: string[];
    stdin: string;
    stdout: string;
    stderr: string;
    annotations: string;
    requests: { url: string; auth?: string }[];
} {
    const { script, env } = opts.config ? uploadStep(opts.config) : prodUploadStep();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "artifact-sources-"));
    const bin = path.join(dir, "bin");
    const state = path.join(dir, "state");
    for (const d of [bin, state]) fs.mkdirSync(d);
    fs.writeFileSync(path.join(bin, "buildkite-agent"), FAKE_AGENT, { mode: 0o755 });
    fs.writeFileSync(path.join(state, "dry-run.json"), dryRun(env[UPLOAD_ENV_VAR], skipped));
    fs.writeFileSync(path.join(state, "artifacts"), (opts.artifacts ?? DEFAULT_WORLD.artifacts()).join("\n") + "\n");
    if (opts.failDownload) fs.writeFileSync(path.join(state, "fail-download"), "");
    fs.writeFileSync(
        scenarioFile,
        JSON.stringify({
            builds: opts.builds ?? DEFAULT_WORLD.builds(),
            replies: opts.replies ?? [],
            pageSize: opts.pageSize,
        }),
    );
    fs.rmSync(`${scenarioFile}.log`, { force: true });
    const result = spawnSync("bash", ["-c", script.split(BUILDKITE_API_URL).join(apiUrl)], {
        cwd: repo,
        encoding: "utf8",
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
    const read = (f: string) =>
        fs.existsSync(path.join(state, f)) ? fs.readFileSync(path.join(state, f), "utf8") : "";
    const log = fs.existsSync(`${scenarioFile}.log`) ? fs.readFileSync(`${scenarioFile}.log`, "utf8") : "";
    const out = {
        status: result.status ?? -1,
        uploaded: JSON.parse(read("uploaded.json") || '{"steps":[]}') as Uploaded,
        metaData: Object.fromEntries(
            read("meta-data")
                .split("\n")
                .filter(Boolean)
                .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
        ),
        calls: read("calls").split("\n").filter(Boolean),
        stdin: read("stdin"),
        stdout: result.stdout,
        stderr: result.stderr,
        annotations: read("annotations"),
        requests: log
            .split("\n")
            .filter(Boolean)
            .map((l) => JSON.parse(l) as { url: string; auth?: string }),
    };
    fs.rmSync(dir, { recursive: true, force: true });
    return out;
}

/**
 * Two runs of one scenario give the same result (each run writes its world afresh): the scenarios several tests
 * assert on are run once, when the first of them needs it (a run costs ~50 jq processes), and each test gets a copy.
 */
function once<T>(f: () => T): () => T {
    let value: { v: T } | undefined;
    return () => structuredClone((value ??= { v: f() }).v);
}
/** Nothing skipped by the agent. */
const nothingSkipped = once(() => run([]));
/** The upstream producers skipped, in the default world (a base build holds them all). */
const upstreamSkipped = once(() => run(UPSTREAM));
/** The upstream producers skipped, without the read token. */
const upstreamSkippedNoToken = once(() => run(UPSTREAM, { token: false }));

/** Every upstream producer runs after all, and its users wait for it and read this build. */
function assertAllRun(uploaded: Uploaded): void {
    for (const key of UPSTREAM) assert.equal(step(uploaded, key).skip, undefined, `${key} runs`);
    const graphql = step(uploaded, "package-dagster-graphql");
    assert.deepEqual(graphql.depends_on?.sort(), [...UPSTREAM].sort());
    assert.equal(graphql.env.CI_PLATFORM_DAGSTER_SHARED_BUILD_ID, SELF);
    assert.equal(graphql.env.BUILDKITE_PLUGIN_ARTIFACTS_BUILD, SELF);
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
        const { status, calls, stdin } = nothingSkipped();
        assert.equal(status, 0);
        assert.equal(calls[0], "pipeline upload --dry-run --format json");
        assert.match(calls.at(-1) ?? "", /^pipeline upload --no-interpolation \S+upload\.json$/);
        assert.equal(stdin.trim(), uploadStep(prodConfig()).env[UPLOAD_ENV_VAR].trim());
    });

    it("producer skipped with a base build: users download from the base build, and do not wait for it", () => {
        const { status, uploaded, metaData } = upstreamSkipped();
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
        // `ran`, under each producer's definition key, written every time: false for what this build skipped.
        const ran = ranKeys();
        assert.equal(metaData[ran["dagster-shared"]], "false");
        assert.equal(metaData[ran["dagster-graphql"]], "true");
        assert.equal(Object.keys(metaData).filter((k) => k.startsWith("ci-platform:ran:")).length, PACKAGES.length);
    });

    it("producer skipped with no base build (a first build): it runs, and its users wait for it", () => {
        // No token, so no build can be looked up; a pull request into develop, where no build ran at the merge base
        // (the build of master at the same commit is not taken: the base build is of the branch merged into).
        // An explicit diff base for the agent names no branch to search.
        for (const runIt of [
            upstreamSkippedNoToken,
            () => run(UPSTREAM, { pullRequestBase: "develop" }),
            () => run(UPSTREAM, { env: { BUILDKITE_GIT_DIFF_BASE: "origin/master" } }),
        ]) {
            const { status, uploaded, metaData } = runIt();
            assert.equal(status, 0);
            assertAllRun(uploaded);
            assert.equal(metaData[ranKeys()["dagster-shared"]], "true");
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
        const { uploaded } = run(["package-dagster-new", "package-dagster-shared"], {
            config,
            builds: [build(BASE, PACKAGES, { keys: ranKeys(config) })],
        });
        assert.equal(step(uploaded, "package-dagster-new").skip, undefined);
        assert.ok(step(uploaded, "package-dagster-shared").skip);
        assert.equal(step(uploaded, "package-dagster-new").env.CI_PLATFORM_DAGSTER_NEW_BUILD_ID, SELF);
    });

    it("producer runs: users wait for it and download from this build", () => {
        const { status, uploaded, metaData } = nothingSkipped();
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
        const { status, uploaded, metaData, calls } = run(UPSTREAM, {
            config,
            builds: [build(BASE, PACKAGES, { keys: ranKeys(config) })],
        });
        assert.equal(status, 0);
        assert.ok(calls.includes(`artifact download ${SHARED_WHEEL} . --build ${BASE}`), calls.join("\n"));
        assert.ok(calls.includes(`artifact upload ${SHARED_WHEEL}`), calls.join("\n"));
        assert.ok(step(uploaded, "package-dagster-shared").skip);
        const graphql = step(uploaded, "package-dagster-graphql");
        assert.equal(graphql.env.CI_PLATFORM_DAGSTER_SHARED_BUILD_ID, SELF);
        assert.equal(graphql.env.CI_PLATFORM_DAGSTER_PIPES_BUILD_ID, BASE);
        assert.equal(metaData[`ci-platform:artifact:${SHARED_WHEEL}`], SELF);
        assert.equal(metaData[ranKeys(config)["dagster-shared"]], "false");
        // Only the opted-out artifact is copied.
        assert.ok(!calls.some((c) => c.startsWith("artifact download python_modules/dagster-pipes")));
    });

    it("an opt-out copy that fails: the producer runs instead", () => {
        const config = prodConfig();
        const shared = config.pipelines.find((p) => p.slug === "dagster")?.packages[0];
        assert.ok(shared);
        shared.copyArtifacts = ["dist/*.whl"];
        const { status, uploaded, metaData, stderr } = run(UPSTREAM, {
            config,
            builds: [build(BASE, PACKAGES, { keys: ranKeys(config) })],
            failDownload: true,
        });
        assert.equal(status, 0, stderr);
        assert.equal(step(uploaded, "package-dagster-shared").skip, undefined);
        assert.ok(step(uploaded, "package-dagster-pipes").skip, "the others still come from the base build");
        assert.equal(step(uploaded, "package-dagster-graphql").env.CI_PLATFORM_DAGSTER_SHARED_BUILD_ID, SELF);
        assert.equal(metaData[ranKeys(config)["dagster-shared"]], "true");
        assert.match(stderr, /Copying .*dagster-shared.* failed/);
    });

    it("a base build whose artifacts are gone (expired, or never made) is not taken: the producer runs", () => {
        // artifact search finds nothing in BASE for dagster's wheel; the others are there.
        const artifacts = allArtifacts(BASE).filter((a) => a !== `${BASE} ${WHEEL("dagster")}`);
        const { status, uploaded } = run(UPSTREAM, { artifacts });
        assert.equal(status, 0);
        assert.equal(step(uploaded, "package-dagster").skip, undefined, "dagster runs");
        assert.ok(step(uploaded, "package-dagster-shared").skip);
        const graphql = step(uploaded, "package-dagster-graphql");
        assert.equal(graphql.env.CI_PLATFORM_DAGSTER_BUILD_ID, SELF);
        assert.equal(graphql.env.CI_PLATFORM_DAGSTER_SHARED_BUILD_ID, BASE);
        assert.deepEqual(graphql.depends_on, ["package-dagster"]);
        // A rebuild at the same commit that still holds them is taken instead.
        const rebuilt = run(UPSTREAM, {
            builds: [build(BASE), build("rebuild-uuid")],
            artifacts: [...artifacts, ...allArtifacts("rebuild-uuid")],
        });
        assert.equal(
            step(rebuilt.uploaded, "package-dagster-graphql").env.CI_PLATFORM_DAGSTER_BUILD_ID,
            "rebuild-uuid",
        );
    });

    it("the producer's own job decides, not the build: a build failed elsewhere counts, a failed producer does not", () => {
        // A flaky test of another package failed the build; the producers' jobs passed.
        const flaky = run(UPSTREAM, {
            builds: [build(BASE, PACKAGES, { state: "failed", failed: ["dagster-webserver"] })],
        });
        assert.equal(flaky.status, 0);
        for (const key of UPSTREAM) assert.ok(step(flaky.uploaded, key).skip, `${key} comes from the base build`);
        assert.equal(step(flaky.uploaded, "package-dagster-graphql").env.CI_PLATFORM_DAGSTER_BUILD_ID, BASE);
        // The producer's own job failed there: not a base build for it.
        const failed = run(UPSTREAM, { builds: [build(BASE, PACKAGES, { state: "failed", failed: ["dagster"] })] });
        assert.equal(step(failed.uploaded, "package-dagster").skip, undefined);
        assert.ok(step(failed.uploaded, "package-dagster-shared").skip);
    });

    it("a producer whose definition changed since (command, image, artifacts, path) does not reuse the old build", () => {
        const config = prodConfig();
        const dagster = config.pipelines.find((p) => p.slug === "dagster");
        assert.ok(dagster);
        const old = ranKeys(config);
        dagster.packageCommand = `${dagster.packageCommand}; echo changed`;
        assert.notEqual(ranKeys(config)["dagster"], old["dagster"]);
        // The base build ran every package under the old definition.
        const { status, uploaded } = run(UPSTREAM, { config, builds: [build(BASE, PACKAGES, { keys: old })] });
        assert.equal(status, 0);
        assertAllRun(uploaded);
    });

    it("one request per upload, however many producers are skipped, with the token on stdin, never in the URL", () => {
        const { requests, stdout } = upstreamSkipped();
        assert.equal(requests.length, 1, JSON.stringify(requests));
        assert.equal(requests[0].auth, `Bearer ${FAKE_TOKEN}`);
        assert.ok(!requests[0].url.includes(FAKE_TOKEN));
        const q = new URL(requests[0].url, "http://x").searchParams;
        assert.equal(q.get("branch"), "master");
        assert.equal(q.get("commit"), mergeBase);
        assert.equal(q.get("per_page"), "100");
        assert.equal(q.get("state"), null, "the build's state is not a filter (the producer's job is)");
        assert.match(stdout, /HTTP 200/);
        // Nothing skipped: no request at all.
        assert.equal(nothingSkipped().requests.length, 0);
        // The token never stands on a command line (/proc/<pid>/cmdline): curl reads its header from stdin.
        const { script } = uploadStep(prodConfig());
        const curls = script.split("\n").filter((l) => l.includes("curl "));
        assert.equal(curls.length, 1);
        for (const line of curls)
            assert.match(
                line,
                /printf 'Authorization: Bearer %s\\n' "\$BUILDKITE_READ_BUILDS_TOKEN" \| \/usr\/bin\/env -i .* curl -q .* -H @- /,
            );
    });

    it("follows the Link header's next page", () => {
        const builds = [
            ...Array.from({ length: 3 }, (_, i) => build(`unrelated-${i}`, ["dagster-webserver"])),
            build(BASE),
        ];
        const { uploaded, requests } = run(UPSTREAM, { builds, pageSize: 2 });
        assert.equal(requests.length, 2);
        assert.equal(new URL(requests[1].url, "http://x").searchParams.get("page"), "2");
        assert.equal(step(uploaded, "package-dagster-graphql").env.CI_PLATFORM_DAGSTER_BUILD_ID, BASE);
    });

    it("retries a 429 after RateLimit-Reset, then uses the answer", () => {
        const { status, uploaded, requests, stdout } = run(UPSTREAM, {
            replies: [{ status: 429, headers: { "RateLimit-Reset": "1" } }],
        });
        assert.equal(status, 0);
        assert.equal(requests.length, 2);
        assert.match(stdout, /HTTP 429[\s\S]*retrying in 1 s[\s\S]*HTTP 200/);
        assert.equal(step(uploaded, "package-dagster-graphql").env.CI_PLATFORM_DAGSTER_BUILD_ID, BASE);
    });

    for (const [status, what] of [
        [401, "a refused token"],
        [500, "a server error"],
    ] as const)
        it(`${what} (HTTP ${status}) is a warning, logged with its status, and every skipped producer runs`, () => {
            const result = run(UPSTREAM, { replies: [{ status }] });
            assert.equal(result.status, 0);
            assert.equal(result.requests.length, 1, "not retried");
            assert.match(result.stdout, new RegExp(`HTTP ${status}`));
            assert.match(result.stderr, new RegExp(`^Warning: Buildkite's REST API answered HTTP ${status}`, "m"));
            assert.match(result.annotations, /--style warning --context ci-platform-artifact-sources/);
            assertAllRun(result.uploaded);
        });

    it("a 429 that persists is given up after a bounded number of attempts", () => {
        const replies = Array.from({ length: 5 }, () => ({ status: 429, headers: { "Retry-After": "0" } }));
        const result = run(UPSTREAM, { replies });
        assert.equal(result.requests.length, 3);
        assert.match(result.stderr, /HTTP 429/);
        assertAllRun(result.uploaded);
    });

    it("without the read token: a warning, and every skipped producer runs", () => {
        const result = upstreamSkippedNoToken();
        assert.equal(result.requests.length, 0);
        assert.match(result.stderr, /^Warning: No BUILDKITE_READ_BUILDS_TOKEN in this job/m);
        assertAllRun(result.uploaded);
    });

    it("is shellcheck clean", () => {
        const { script } = uploadStep(prodConfig());
        const result = spawnSync("shellcheck", ["--shell=bash", "-"], { input: script, encoding: "utf8" });
        assert.equal(result.error, undefined, "shellcheck must be installed");
        assert.equal(result.stdout + result.stderr, "");
        assert.equal(result.status, 0);
    });
});
