/**
 * The agent hooks, installed by the real bootstrap.sh from a real S3 server, then run the way
 * the agent runs them: pre-bootstrap executed (through the shim in the agent's hooks-path) with BUILDKITE_ENV_JSON_FILE
 * (and BUILDKITE_ENV_FILE beside it), crafted files included; environment, pre-command
 * and pre-exit sourced by a wrapper that then dumps the exported environment.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { REFUSED_JOB_EXIT_STATUS } from "../../components/hooks/allowlist";
import { RELEASE_STEP_KEYS } from "../../components/steps/pipeline-steps";
import { STORED_UPLOAD_COMMAND, STORED_UPLOAD_KEY } from "../../components/steps/stored-upload";
import {
    closedPort,
    HOOKS_DIR,
    IMDS_CREDENTIALS,
    ImdsFixture,
    lastLine,
    Machine,
    runBash,
    S3Fixture,
    SENTINEL,
    uploadBundle,
    type FakeContainer,
    type RunResult,
    type Upload,
} from "./harness";

/** A container with no labels: nobody's, as a plain `docker run` in a command leaves it. */
const unlabelled = (id: string, status: FakeContainer["status"]): FakeContainer => ({ id, labels: {}, status });

/** Sources HOOK like the agent's hook wrapper, then writes `env -0` to DUMP. */
const WRAPPER = 'source "$1"; env -0 >"$2"';

function assertNoSecret(result: RunResult): void {
    assert.ok(!result.stdout.includes(SENTINEL), "stdout leaks the secret");
    assert.ok(!result.stderr.includes(SENTINEL), "stderr leaks the secret");
}

describe("agent hooks", { timeout: 120_000 }, () => {
    let s3: S3Fixture;
    let m: Machine;
    let upload: Upload;
    const jobEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv =>
        m.env({
            // The agent's own environment reaches its hooks; on an instance S3 is the region's default endpoint.
            AWS_ENDPOINT_URL: s3.endpoint,
            BUILDKITE_JOB_ID: "0190a3e4-5b6c-7d8e-9f00-112233445566",
            BUILDKITE_AGENT_ID: "0190a3e4-0000-7000-8000-00000000a001",
            BUILDKITE_CONFIG_PATH: m.agentConfig,
            BUILDKITE_BUILD_PATH: "/var/lib/buildkite-agent/builds",
            ...extra,
        });

    async function source(
        hook: string,
        env: NodeJS.ProcessEnv,
    ): Promise<RunResult & { exported: Map<string, string> }> {
        const dump = path.join(m.root, `env-${hook}`);
        fs.rmSync(dump, { force: true });
        const result = await runBash(["-c", WRAPPER, "agent-wrapper", path.join(m.hooksDir, hook), dump], env);
        const exported = new Map<string, string>();
        if (fs.existsSync(dump)) {
            for (const entry of fs
                .readFileSync(dump, "utf8")
                .split("\0")
                .filter((e) => e !== "")) {
                const i = entry.indexOf("=");
                exported.set(entry.slice(0, i), entry.slice(i + 1));
            }
        }
        assertNoSecret(result);
        return { ...result, exported };
    }

    /**
     * Runs pre-bootstrap the way the agent does (buildkite/agent v3.137.0 agent/job_runner.go executePreBootstrapHook):
     * through the shim bootstrap.sh put in the agent's hooks-path, with only the env file paths and a few agent
     * variables in its environment. JSON is the agent's JSON job env file verbatim (Go's encoding/json of the env map:
     * one object, keys sorted); SHELL, when given, the `KEY="value"` file beside it.
     */
    async function preBootstrapFiles(
        json: string | undefined,
        shell?: string,
        extra: NodeJS.ProcessEnv = {},
    ): Promise<RunResult> {
        const jsonFile = path.join(m.root, "job-env.json");
        const shellFile = path.join(m.root, "job.env");
        fs.rmSync(jsonFile, { force: true });
        if (json !== undefined) fs.writeFileSync(jsonFile, json);
        fs.writeFileSync(shellFile, shell ?? "");
        const result = await runBash(
            [path.join(m.agentHooksPath, "pre-bootstrap")],
            jobEnv({ BUILDKITE_ENV_FILE: shellFile, BUILDKITE_ENV_JSON_FILE: jsonFile, ...extra }),
        );
        assertNoSecret(result);
        return result;
    }

    /** A job of pipeline SLUG whose BUILDKITE_REPO is REPO, with a secret beside them, both files as the agent writes them. */
    function jobFiles(slug: unknown, repo: unknown, extra: Record<string, unknown> = {}): [string, string] {
        const env: Record<string, unknown> = {
            BUILDKITE_BRANCH: "main",
            BUILDKITE_JOB_ID: "job-1",
            BUILDKITE_PIPELINE_SLUG: slug,
            BUILDKITE_REPO: repo,
            PYPI_TOKEN: SENTINEL,
            ...extra,
        };
        for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
        const sorted = Object.fromEntries(Object.entries(env).sort(([a], [b]) => (a < b ? -1 : 1)));
        const shell = Object.entries(sorted)
            .map(([k, v]) => `${k}=${JSON.stringify(String(v))}\n`)
            .join("");
        return [`${JSON.stringify(sorted)}\n`, shell];
    }

    const preBootstrap = (slug: unknown, repo: unknown, extra?: Record<string, unknown>) =>
        preBootstrapFiles(...jobFiles(slug, repo, extra));

    /** The refusal: exit REFUSED_JOB_EXIT_STATUS, and MESSAGE as the last line on stderr. */
    function assertRefused(result: RunResult, message: string): void {
        assert.equal(result.code, REFUSED_JOB_EXIT_STATUS, result.stderr);
        assert.equal(lastLine(result.stderr), `ci-platform: refusing job: ${message}`);
    }

    before(async () => {
        s3 = await S3Fixture.start();
        m = new Machine();
        upload = await uploadBundle(s3, "secrets");
        const installed = await m.bootstrap(s3, "secrets", upload.bootstrap.key);
        assert.equal(installed.code, 0, installed.stderr);
    });
    after(async () => {
        await s3.stop();
        m.remove();
    });

    describe("pre-bootstrap", () => {
        const KOLIBRI = "https://github.com/learningequality/kolibri.git";
        const DAGSTER = "git@github.com:dagster-io/dagster.git";

        for (const [slug, repo] of [
            ["kolibri", KOLIBRI],
            ["kolibri-docs", KOLIBRI],
            ["dagster", DAGSTER],
        ]) {
            it(`admits pipeline ${slug} with its configured repository ${repo}`, async () => {
                const result = await preBootstrap(slug, repo);
                assert.equal(result.code, 0, result.stderr);
                assert.equal(result.stderr, "");
                assert.equal(
                    lastLine(result.stdout),
                    `ci-platform: pipeline "${slug}" with repository "${repo}" is served by this fleet`,
                );
            });
        }

        it("refuses another pipeline of a served repository: the list is per pipeline, not per repository", async () => {
            assertRefused(
                await preBootstrap("kolibri-release", KOLIBRI),
                'pipeline "kolibri-release" is not served by fleet "linux-us-east-1" (queue default); ' +
                    "its jobs go to the queue of the fleets of its cluster: check ci-platform:pipelines[].cluster and .queue",
            );
        });

        it("refuses a served pipeline carrying another served pipeline's repository", async () => {
            assertRefused(
                await preBootstrap("dagster", KOLIBRI),
                `pipeline "dagster" gave repository "${KOLIBRI}", but this fleet admits it only with ${DAGSTER}; ` +
                    "Buildkite hands a pipeline's jobs its configured repository URL: set it with pulumi up, not by hand",
            );
        });

        // Buildkite hands a job its pipeline's configured URL verbatim: any other spelling of the right repository
        // did not come from the pipeline the platform declares.
        for (const variant of [
            "https://github.com/learningequality/kolibri",
            "https://github.com/learningequality/kolibri.git/",
            "https://github.com/LearningEquality/Kolibri.git",
            "HTTPS://GITHUB.COM/learningequality/kolibri.git",
            "git@github.com:learningequality/kolibri.git",
            "ssh://git@github.com/learningequality/kolibri.git",
            "git://github.com/learningequality/kolibri.git",
            "http://github.com/learningequality/kolibri.git",
            "https://user@github.com/learningequality/kolibri.git",
            "https://github.com:443/learningequality/kolibri.git",
            "https://github.com:8443/learningequality/kolibri.git",
            "https://github.com/learningequality/evil/../kolibri.git",
            "https://github.com/learningequality/kolibri.git/../../evil/x.git",
            "https://github.com.evil.example/learningequality/kolibri.git",
            "https://github.com/learningequality/kolibri.gitx",
            " https://github.com/learningequality/kolibri.git",
            "https://github.com/learningequality/kolibri.git ",
            "https://github.com/learningequality/kolibri.git https://evil.example/x.git",
            "",
        ]) {
            it(`refuses pipeline kolibri with the variant ${JSON.stringify(variant)}`, async () => {
                const result = await preBootstrap("kolibri", variant);
                assert.equal(result.code, REFUSED_JOB_EXIT_STATUS, result.stderr);
                assert.match(
                    lastLine(result.stderr),
                    /^ci-platform: refusing job: pipeline "kolibri" gave repository /,
                );
            });
        }

        it("masks credentials in a refused URL and never prints the job's secrets", async () => {
            assertRefused(
                await preBootstrap(
                    "kolibri",
                    `https://x-access-token:${SENTINEL}@github.com/learningequality/kolibri.git`,
                ),
                'pipeline "kolibri" gave repository "https://***@github.com/learningequality/kolibri.git", ' +
                    `but this fleet admits it only with ${KOLIBRI}; ` +
                    "Buildkite hands a pipeline's jobs its configured repository URL: set it with pulumi up, not by hand",
            );
        });

        it("reads the JSON file only: a second BUILDKITE_REPO line in the shell env file changes nothing", async () => {
            const [json, shell] = jobFiles("kolibri", "https://evil.example/x.git");
            const crafted = `BUILDKITE_REPO="${KOLIBRI}"\nBUILDKITE_PIPELINE_SLUG="kolibri"\n${shell}`;
            assertRefused(
                await preBootstrapFiles(json, crafted),
                `pipeline "kolibri" gave repository "https://evil.example/x.git", but this fleet admits it only with ${KOLIBRI}; ` +
                    "Buildkite hands a pipeline's jobs its configured repository URL: set it with pulumi up, not by hand",
            );
        });

        for (const [what, value] of [
            ["an embedded newline and a second assignment", `${KOLIBRI}\nBUILDKITE_REPO=${KOLIBRI}`],
            ["an embedded quote", `${KOLIBRI}" "${KOLIBRI}`],
            ["an embedded =", `${KOLIBRI}=`],
            ["a NUL", `${KOLIBRI}\u0000`],
            ["a tab and a second pair", `${KOLIBRI}\tkolibri ${KOLIBRI}`],
        ]) {
            it(`refuses a repository value with ${what}`, async () => {
                const result = await preBootstrap("kolibri", value);
                assert.equal(result.code, REFUSED_JOB_EXIT_STATUS, result.stderr);
                assert.equal(lastLine(result.stderr).split("\n").length, 1);
            });
        }

        it("refuses a slug crafted to look like a list line", async () => {
            const result = await preBootstrap(`kolibri ${KOLIBRI}\nkolibri`, KOLIBRI);
            assert.equal(result.code, REFUSED_JOB_EXIT_STATUS, result.stderr);
            assert.match(lastLine(result.stderr), /is not served by fleet/);
        });

        it("refuses other variables that merely hold a served pair", async () => {
            const result = await preBootstrap("evil", "https://evil.example/x.git", {
                BUILDKITE_MESSAGE: `BUILDKITE_PIPELINE_SLUG=kolibri\nBUILDKITE_REPO=${KOLIBRI}`,
                BUILDKITE_REPO_MIRROR: KOLIBRI,
            });
            assert.equal(result.code, REFUSED_JOB_EXIT_STATUS, result.stderr);
        });

        for (const [what, json, message] of [
            ["no JSON env file", undefined, /^cannot read the job's JSON environment file/],
            ["an empty file", "", /^the job environment file is not one JSON object$/],
            [
                "the shell format instead of JSON",
                `BUILDKITE_PIPELINE_SLUG="kolibri"\nBUILDKITE_REPO="${KOLIBRI}"\n`,
                /^the job environment file is not one JSON object$/,
            ],
            [
                "two JSON objects",
                `{"BUILDKITE_PIPELINE_SLUG":"kolibri","BUILDKITE_REPO":"${KOLIBRI}"}\n{"BUILDKITE_REPO":"x"}\n`,
                /^the job environment file is not one JSON object$/,
            ],
            [
                "a JSON array",
                `[{"BUILDKITE_PIPELINE_SLUG":"kolibri","BUILDKITE_REPO":"${KOLIBRI}"}]`,
                /^the job environment file is not one JSON object$/,
            ],
            [
                "truncated JSON",
                `{"BUILDKITE_PIPELINE_SLUG":"kolibri","BUILDKITE_REPO":"${KOLIBRI}"`,
                /^the job environment file is not one JSON object$/,
            ],
            [
                "no BUILDKITE_REPO",
                `{"BUILDKITE_PIPELINE_SLUG":"kolibri","PYPI_TOKEN":"${SENTINEL}"}`,
                /^the job environment has no BUILDKITE_PIPELINE_SLUG or no BUILDKITE_REPO/,
            ],
            [
                "no BUILDKITE_PIPELINE_SLUG",
                `{"BUILDKITE_REPO":"${KOLIBRI}"}`,
                /^the job environment has no BUILDKITE_PIPELINE_SLUG or no BUILDKITE_REPO/,
            ],
            [
                "a repository that is not a string",
                `{"BUILDKITE_PIPELINE_SLUG":"kolibri","BUILDKITE_REPO":["${KOLIBRI}"]}`,
                /^the job environment has no BUILDKITE_PIPELINE_SLUG or no BUILDKITE_REPO/,
            ],
            [
                "a null repository",
                `{"BUILDKITE_PIPELINE_SLUG":"kolibri","BUILDKITE_REPO":null}`,
                /^the job environment has no BUILDKITE_PIPELINE_SLUG or no BUILDKITE_REPO/,
            ],
        ] as const) {
            it(`refuses a job with ${what}`, async () => {
                const result = await preBootstrapFiles(json, `PYPI_TOKEN="${SENTINEL}"\n`);
                assert.equal(result.code, REFUSED_JOB_EXIT_STATUS, result.stderr);
                assert.match(lastLine(result.stderr).replace(/^ci-platform: refusing job: /, ""), message);
            });
        }

        // elastic-ci-stack-s3-secrets-hooks v2.8.0 s3secrets-helper/main.go reads the key prefix from
        // BUILDKITE_PLUGIN_S3_SECRETS_BUCKET_PREFIX, which the stack's environment hook passes through from the job.
        for (const [what, extra, names] of [
            [
                "another served pipeline's secrets prefix",
                { BUILDKITE_PLUGIN_S3_SECRETS_BUCKET_PREFIX: "kolibri-docs" },
                '"BUILDKITE_PLUGIN_S3_SECRETS_BUCKET_PREFIX"',
            ],
            [
                "its own slug as the prefix, and another bucket",
                {
                    BUILDKITE_PLUGIN_S3_SECRETS_BUCKET: "other-bucket",
                    BUILDKITE_PLUGIN_S3_SECRETS_BUCKET_PREFIX: "kolibri",
                },
                '"BUILDKITE_PLUGIN_S3_SECRETS_BUCKET","BUILDKITE_PLUGIN_S3_SECRETS_BUCKET_PREFIX"',
            ],
            [
                "the secrets hook's dump of what it loaded",
                { BUILDKITE_PLUGIN_S3_SECRETS_DUMP_ENV: "true" },
                '"BUILDKITE_PLUGIN_S3_SECRETS_DUMP_ENV"',
            ],
            [
                "an empty prefix",
                { BUILDKITE_PLUGIN_S3_SECRETS_BUCKET_PREFIX: "" },
                '"BUILDKITE_PLUGIN_S3_SECRETS_BUCKET_PREFIX"',
            ],
            [
                "a lower-case variant",
                { buildkite_plugin_s3_secrets_region: "eu-west-1" },
                '"buildkite_plugin_s3_secrets_region"',
            ],
        ] as const) {
            it(`refuses a served pipeline's job that sets ${what}, never printing the value`, async () => {
                const result = await preBootstrap("kolibri", KOLIBRI, extra);
                assertRefused(
                    result,
                    `the job sets ${names}: the Elastic CI Stack's secrets hook would read the secrets bucket under the ` +
                        "prefix it names, with the instance role, and so another pipeline's secrets; remove it from the " +
                        "step's or the pipeline's env: each pipeline gets the secrets under its own slug",
                );
                assert.ok(!result.stderr.includes("kolibri-docs"), "the value is printed");
            });
        }

        it("is not steered by a ~/.jq an earlier job left in the agent user's home", async () => {
            const home = fs.mkdtempSync(path.join(m.root, "home-"));
            // Sourced by jq into every program it runs: with keys redefined, the steering check would see no names.
            fs.writeFileSync(path.join(home, ".jq"), "def keys: [];\n");
            const result = await preBootstrapFiles(
                ...jobFiles("kolibri", KOLIBRI, { BUILDKITE_PLUGIN_S3_SECRETS_DUMP_ENV: "true" }),
                { HOME: home },
            );
            assert.equal(result.code, REFUSED_JOB_EXIT_STATUS, result.stderr);
            assert.match(lastLine(result.stderr), /the job sets "BUILDKITE_PLUGIN_S3_SECRETS_DUMP_ENV"/);
        });

        it("admits a job whose other plugins' variables merely resemble the secrets hook's", async () => {
            const result = await preBootstrap("kolibri", KOLIBRI, {
                BUILDKITE_PLUGIN_S3_SECRET_BUCKET_PREFIX: "kolibri-docs",
                BUILDKITE_PLUGINS: '[{"github.com/buildkite-plugins/s3-secrets-buildkite-plugin#v1":{}}]',
                MY_S3_SECRETS_BUCKET_PREFIX: "x",
            });
            assert.equal(result.code, 0, result.stderr);
        });

        it("reads the fleet's list from its allow-list object at job time: an update in the bucket is the next job's list", async () => {
            const { key, content } = upload.allowlist;
            const where = `s3://secrets/${key}`;
            try {
                // A new pipeline, written by pulumi up into the same object: no boot, no bootstrap change.
                assertRefused(
                    await preBootstrap("kolibri-new", KOLIBRI),
                    'pipeline "kolibri-new" is not served by fleet "linux-us-east-1" (queue default);' +
                        " its jobs go to the queue of the fleets of its cluster: check ci-platform:pipelines[].cluster and .queue",
                );
                await s3.put("secrets", key, `${content}kolibri-new ${KOLIBRI}\n`);
                assert.equal((await preBootstrap("kolibri-new", KOLIBRI)).code, 0);
                // A pipeline removed: its next job is refused.
                await s3.put("secrets", key, content.replace(`dagster ${DAGSTER}\n`, ""));
                const removed = await preBootstrap("dagster", DAGSTER);
                assert.equal(removed.code, REFUSED_JOB_EXIT_STATUS, removed.stderr);
                assert.match(lastLine(removed.stderr), /pipeline "dagster" is not served by fleet/);
                // A fleet that serves nothing: the header alone admits nothing.
                await s3.put("secrets", key, "# ci-platform allow-list v1\n");
                const empty = await preBootstrap("kolibri", KOLIBRI);
                assert.equal(empty.code, REFUSED_JOB_EXIT_STATUS, empty.stderr);
                assert.match(lastLine(empty.stderr), /pipeline "kolibri" is not served by fleet/);
                // Fail closed: malformed (no header, a stray line, truncated, empty) or missing objects refuse every job.
                const line = `kolibri ${KOLIBRI}\n`;
                for (const bad of [line, `${content}kolibri\n`, `${content}kolibri ${KOLIBRI}`, ""]) {
                    await s3.put("secrets", key, bad);
                    assertRefused(
                        await preBootstrap("kolibri", KOLIBRI),
                        `this fleet's allow-list ${where} is malformed; run pulumi up to rewrite it`,
                    );
                }
                await s3.delete("secrets", key);
                const missing = await preBootstrap("kolibri", KOLIBRI);
                assertRefused(missing, `cannot read this fleet's allow-list ${where} (see the s3 error above)`);
                assert.ok(
                    missing.stderr.includes(`s3: GET ${s3.endpoint}/secrets/${key}: HTTP 404 NoSuchKey\n`),
                    missing.stderr,
                );
            } finally {
                await s3.put("secrets", key, content);
            }
            assert.equal((await preBootstrap("kolibri", KOLIBRI)).code, 0);
        });

        describe("on an instance: the instance role from IMDSv2, one curl GET, nothing written", () => {
            let imds: ImdsFixture;
            const realCurl = "/usr/bin/curl";
            before(async () => {
                imds = await ImdsFixture.start();
                // curl and aws as loggers of their argv (then the real tools), to see what runs and with what arguments.
                for (const [tool, real] of [
                    ["curl", realCurl],
                    ["aws", "/usr/bin/aws"],
                ]) {
                    const bin = path.join(m.bin, tool);
                    fs.rmSync(bin, { force: true });
                    fs.writeFileSync(bin, `#!/bin/bash\necho "${tool} $*" >>"$FAKE_LOG"\nexec ${real} "$@"\n`, {
                        mode: 0o755,
                    });
                }
            });
            after(async () => {
                await imds.stop();
                for (const tool of ["curl", "aws"]) fs.rmSync(path.join(m.bin, tool), { force: true });
                fs.symlinkSync("/usr/bin/aws", path.join(m.bin, "aws"));
            });

            it("admits a served job with the role's credentials, which no command line and no output carries", async () => {
                m.clearCalls();
                imds.requests.length = 0;
                const result = await preBootstrapFiles(...jobFiles("kolibri", KOLIBRI), imds.env());
                assert.equal(result.code, 0, result.stderr);
                assert.deepEqual(imds.requests, [
                    "PUT /latest/api/token",
                    "GET /latest/meta-data/iam/security-credentials/",
                    `GET /latest/meta-data/iam/security-credentials/${IMDS_CREDENTIALS.role}`,
                ]);
                const calls = m.calls();
                assert.deepEqual(
                    calls.filter((c) => !c.startsWith("curl ")),
                    [],
                    "pre-bootstrap runs no AWS CLI (its start is the ~2 s a job this avoids)",
                );
                const s3Gets = calls.filter((c) => c.includes("--aws-sigv4"));
                assert.equal(s3Gets.length, 1, calls.join("\n"));
                assert.match(s3Gets[0], /--aws-sigv4 aws:amz:us-east-1:s3 /);
                for (const text of [calls.join("\n"), result.stdout, result.stderr]) {
                    assert.ok(!text.includes(IMDS_CREDENTIALS.token), "the session token is visible");
                    assert.ok(!text.includes(`${IMDS_CREDENTIALS.accessKeyId}:`), "the key pair is visible");
                }
            });

            it("writes no file a concurrent job could rewrite: it runs with a TMPDIR nobody can write", async () => {
                // The agent runs hooks and jobs as one user, buildkite-agent, with TMPDIR=/var/tmp (elastic-ci-stack
                // v6.71.1 packer/linux/stack/conf/buildkite-agent/systemd/buildkite-agent.service): a temporary copy of
                // the list there could be swapped by another job of the same instance between download and check.
                const tmp = path.join(m.root, "no-tmp");
                fs.mkdirSync(tmp, { recursive: true });
                fs.chmodSync(tmp, 0o555);
                try {
                    const result = await preBootstrapFiles(...jobFiles("kolibri", KOLIBRI), {
                        ...imds.env(),
                        TMPDIR: tmp,
                    });
                    assert.equal(result.code, 0, result.stderr);
                    assert.deepEqual(fs.readdirSync(tmp), []);
                } finally {
                    fs.chmodSync(tmp, 0o755);
                }
            });

            it("refuses every job when the instance has no role, or IMDS does not answer", async () => {
                const roleless = await ImdsFixture.start(null);
                try {
                    const result = await preBootstrapFiles(...jobFiles("kolibri", KOLIBRI), roleless.env());
                    assertRefused(
                        result,
                        `cannot read this fleet's allow-list s3://secrets/${upload.allowlist.key} (see the s3 error above)`,
                    );
                    assert.match(result.stderr, /^s3: the instance has no role at http:\/\/127\.0\.0\.1:\d+$/m);
                } finally {
                    await roleless.stop();
                }
                const down = await preBootstrapFiles(...jobFiles("kolibri", KOLIBRI), {
                    ...imds.env(),
                    AWS_EC2_METADATA_SERVICE_ENDPOINT: `http://127.0.0.1:${await closedPort()}`,
                });
                assert.equal(down.code, REFUSED_JOB_EXIT_STATUS, down.stderr);
                assert.match(down.stderr, /^s3: no IMDSv2 session token from /m);
            });
        });

        it("refuses every job when S3 does not answer, or fleet.env does not say where the list is", async () => {
            const unreachable = await runBash(
                [path.join(m.agentHooksPath, "pre-bootstrap")],
                jobEnv({
                    AWS_ENDPOINT_URL: `http://127.0.0.1:${await closedPort()}`,
                    BUILDKITE_ENV_JSON_FILE: path.join(m.root, "job-env.json"),
                }),
            );
            assert.equal(unreachable.code, REFUSED_JOB_EXIT_STATUS, unreachable.stderr);
            assert.match(lastLine(unreachable.stderr), /cannot read this fleet's allow-list s3:\/\/secrets\//);
            const settings = path.join(m.hooksDir, "fleet.env");
            const saved = fs.readFileSync(settings, "utf8");
            try {
                fs.writeFileSync(settings, saved.replace(/^CI_PLATFORM_ALLOWLIST_KEY=.*\n/m, ""));
                assertRefused(
                    await preBootstrap("kolibri", KOLIBRI),
                    "fleet.env does not say where this fleet's allow-list is (CI_PLATFORM_BUCKET, _BUCKET_REGION, _ALLOWLIST_KEY)",
                );
            } finally {
                fs.writeFileSync(settings, saved);
            }
        });

        it("exits with the one refusal status the steps' retry rules are checked against", () => {
            const lib = fs.readFileSync(path.join(m.hooksDir, "lib/repository.bash"), "utf8");
            assert.match(lib, new RegExp(`^CI_REFUSED_EXIT_STATUS=${REFUSED_JOB_EXIT_STATUS}$`, "m"));
        });
    });

    describe("environment", () => {
        const OURS = "${CI_PLATFORM_ECR_REGISTRY}/ci-platform/buildkite-test:py3.12-2026.11.1";
        /** BUILDKITE_PLUGINS as the job gets it: the docker plugin's config, `/` escaped the way JSON may. */
        const plugins = (...images: string[]): string =>
            JSON.stringify([
                { "github.com/buildkite-plugins/ecr-buildkite-plugin#v2.9.0": { login: true } },
                ...images.map((image) => ({
                    "github.com/buildkite-plugins/docker-buildkite-plugin#v5.12.0": {
                        image,
                        "expand-image-vars": true,
                    },
                })),
            ]).replace(/\//g, "\\/");
        const imageVars = (e: Map<string, string>) =>
            Object.fromEntries([...e].filter(([k]) => k.startsWith("CI_IMAGE_")).sort(([a], [b]) => (a < b ? -1 : 1)));

        it("exports the fleet's region, queue and ECR registry, and the step image's version from BUILDKITE_PLUGINS", async () => {
            const result = await source("environment", jobEnv({ BUILDKITE_PLUGINS: plugins(OURS) }));
            assert.equal(result.code, 0, result.stderr);
            const e = result.exported;
            assert.equal(e.get("CI_PLATFORM_REGION"), "us-east-1");
            assert.equal(e.get("CI_PLATFORM_QUEUE"), "default");
            assert.equal(e.get("CI_PLATFORM_FLEET"), "linux-us-east-1");
            assert.equal(e.get("CI_PLATFORM_ECR_REGISTRY"), "123456789012.dkr.ecr.us-east-1.amazonaws.com");
            assert.deepEqual(imageVars(e), {
                CI_IMAGE_NAME: "buildkite-test",
                CI_IMAGE_VARIANT: "py3.12",
                CI_IMAGE_VERSION: "2026.11.1",
                CI_IMAGE_VERSION_BUILDKITE_TEST: "2026.11.1",
            });
            assert.equal(e.get("MY_SECRET_TOKEN"), SENTINEL, "the job's own env is kept");
        });

        it("prefers BUILDKITE_PLUGIN_DOCKER_IMAGE, expanded or not, when the job has it", async () => {
            for (const image of [
                "${CI_PLATFORM_ECR_REGISTRY}/ci-platform/deb-builder:bookworm-arm64-2026.01.3",
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/ci-platform/deb-builder:bookworm-arm64-2026.01.3",
            ]) {
                const env = jobEnv({ BUILDKITE_PLUGIN_DOCKER_IMAGE: image, BUILDKITE_PLUGINS: plugins(OURS) });
                const result = await source("environment", env);
                assert.equal(result.code, 0, result.stderr);
                assert.deepEqual(imageVars(result.exported), {
                    CI_IMAGE_NAME: "deb-builder",
                    CI_IMAGE_VARIANT: "bookworm-arm64",
                    CI_IMAGE_VERSION: "2026.01.3",
                    CI_IMAGE_VERSION_DEB_BUILDER: "2026.01.3",
                });
            }
        });

        for (const [what, env] of [
            ["no plugins", {}],
            ["an image that is not ours", { BUILDKITE_PLUGINS: plugins("ubuntu:24.04") }],
            [
                "an unpinned image of ours",
                { BUILDKITE_PLUGINS: plugins("${CI_PLATFORM_ECR_REGISTRY}/ci-platform/buildkite-test:latest") },
            ],
            ["two different images of ours", { BUILDKITE_PLUGINS: plugins(OURS, OURS.replace("py3.12", "py3.13")) }],
            [
                "a foreign registry",
                { BUILDKITE_PLUGIN_DOCKER_IMAGE: "evil.example/ci-platform/buildkite-test:py3.12-2026.11.1" },
            ],
        ] as const) {
            it(`exports no CI_IMAGE_* for ${what}, and still the fleet settings`, async () => {
                const result = await source("environment", jobEnv(env));
                assert.equal(result.code, 0, result.stderr);
                assert.deepEqual(imageVars(result.exported), {});
                assert.equal(result.exported.get("CI_PLATFORM_QUEUE"), "default");
            });
        }
    });

    describe("environment: the stored upload step and the release steps run apart", () => {
        const repo = "git@github.com:learningequality/kolibri-installer-debian.git";
        const STORED = { BUILDKITE_STEP_KEY: STORED_UPLOAD_KEY, BUILDKITE_COMMAND: STORED_UPLOAD_COMMAND };
        /** Runs environment, checks what it made, then pre-exit with the job's env, which removes it. */
        async function isolated(env: NodeJS.ProcessEnv): Promise<Map<string, string>> {
            const result = await source("environment", jobEnv({ BUILDKITE_REPO: repo, ...env }));
            assert.equal(result.code, 0, result.stderr);
            const dir = result.exported.get("BUILDKITE_BUILD_CHECKOUT_PATH") ?? "";
            assert.equal(result.exported.get("CI_PLATFORM_JOB_DIR"), dir);
            assert.match(dir, /^\/tmp\/ci-platform-job\.[A-Za-z0-9]{8}$/);
            assert.deepEqual(fs.readdirSync(dir), [], "new and empty: no .buildkite/hooks, no .git of an earlier job");
            assert.equal(result.exported.get("BUILDKITE_NO_LOCAL_HOOKS"), "true");
            assert.equal(result.exported.get("GIT_CONFIG_GLOBAL"), "/dev/null");
            assert.equal(result.exported.get("GIT_CEILING_DIRECTORIES"), "/tmp");
            assert.equal(result.exported.get("BUILDKITE_REPO"), repo, "kept: the upload signs with it");
            m.setDocker({});
            m.setDisk(50 * 1024 * 1024, 40);
            const exit = await source("pre-exit", jobEnv(Object.fromEntries(result.exported)));
            assert.equal(exit.code, 0, exit.stderr);
            assert.ok(!fs.existsSync(dir), "pre-exit removes the job's directory");
            return result.exported;
        }

        it(`gives step ${STORED_UPLOAD_KEY} no checkout, no repository hooks, no global git config and a directory of its own`, async () => {
            const exported = await isolated(STORED);
            assert.equal(exported.get("BUILDKITE_SKIP_CHECKOUT"), "true");
        });

        it("knows the stored step by its signed command when its key (not a signed field) was changed", async () => {
            const exported = await isolated({ ...STORED, BUILDKITE_STEP_KEY: "renamed" });
            assert.equal(exported.get("BUILDKITE_SKIP_CHECKOUT"), "true");
        });

        for (const key of RELEASE_STEP_KEYS)
            it(`gives release step ${key} a fresh checkout of its own, no repository hooks, no global git config`, async () => {
                const exported = await isolated({ BUILDKITE_STEP_KEY: key, BUILDKITE_COMMAND: "release" });
                assert.equal(exported.get("BUILDKITE_SKIP_CHECKOUT"), undefined, "it checks out, in its own directory");
            });

        for (const key of ["upload", "release-gate", "release-check-2", "", "Release-Check", "ci-platform-pipeline-2"])
            it(`leaves step key "${key}" with its pipeline's checkout and repository hooks`, async () => {
                const result = await source(
                    "environment",
                    jobEnv({ BUILDKITE_STEP_KEY: key, BUILDKITE_COMMAND: "make" }),
                );
                assert.equal(result.code, 0, result.stderr);
                for (const name of [
                    "BUILDKITE_NO_LOCAL_HOOKS",
                    "BUILDKITE_SKIP_CHECKOUT",
                    "BUILDKITE_BUILD_CHECKOUT_PATH",
                    "GIT_CONFIG_GLOBAL",
                ])
                    assert.equal(result.exported.get(name), undefined, `${key}: ${name}`);
            });

        it("pre-exit removes no directory environment did not make for this job", async () => {
            const other = fs.mkdtempSync("/tmp/ci-platform-job.");
            try {
                m.setDocker({});
                m.setDisk(50 * 1024 * 1024, 40);
                // An ordinary step whose pipeline env names another job's directory.
                const exit = await source(
                    "pre-exit",
                    jobEnv({ BUILDKITE_STEP_KEY: "tests", CI_PLATFORM_JOB_DIR: other }),
                );
                assert.equal(exit.code, 0, exit.stderr);
                assert.ok(fs.existsSync(other));
            } finally {
                fs.rmSync(other, { recursive: true, force: true });
            }
        });

        it("names in the hooks exactly the keys and the command the step builder gives these steps", () => {
            const text = fs.readFileSync(path.join(HOOKS_DIR, "lib", "isolation.bash"), "utf8");
            const line = /^\s*(release-[a-z|\s-]+)\)$/m.exec(text)?.[1];
            assert.ok(line, "the case line of the release step keys");
            assert.deepEqual(
                line
                    .split("|")
                    .map((k) => k.trim())
                    .sort(),
                [...RELEASE_STEP_KEYS].sort(),
            );
            assert.match(text, new RegExp(`^\\s*${STORED_UPLOAD_KEY}\\)$`, "m"));
            assert.ok(text.includes(`ISOLATION_UPLOAD_COMMAND="${STORED_UPLOAD_COMMAND}"`));
        });
    });

    describe("pre-command", () => {
        it("on a host of one agent (spawn=1), removes every container left over and passes with enough disk", async () => {
            m.clearCalls();
            m.setDocker({ containers: [unlabelled("old1", "exited"), unlabelled("old2", "running")] });
            m.setDisk(50 * 1024 * 1024, 40);
            const result = await source("pre-command", jobEnv());
            assert.equal(result.code, 0, result.stderr);
            assert.deepEqual(m.calls(), [
                "docker ps --all --quiet --no-trunc",
                "docker rm --force --volumes old1 old2",
                "df -Pk -- /var/lib/buildkite-agent/builds",
            ]);
            assert.deepEqual(m.docker().containers, []);
            assert.equal(lastLine(result.stdout), "51200 MiB free on /var/lib/buildkite-agent/builds");
        });

        it("fails the job early when free disk is below the threshold", async () => {
            m.clearCalls();
            m.setDocker({});
            m.setDisk(2 * 1024 * 1024, 98);
            const result = await source("pre-command", jobEnv());
            assert.equal(result.code, 1);
            assert.equal(
                lastLine(result.stderr),
                "ci-platform: not enough disk space: 2048 MiB free on /var/lib/buildkite-agent/builds, " +
                    "below this fleet's threshold of 10 GiB (CI_PLATFORM_MIN_FREE_DISK_GB)",
            );
        });
    });

    describe("pre-exit", () => {
        it("on a host of one agent (spawn=1), removes every container, unused network and volume", async () => {
            m.clearCalls();
            m.setDocker({
                containers: [unlabelled("c1", "running"), unlabelled("c2", "exited"), unlabelled("c3", "created")],
                networks: [{ id: "n1", labels: {} }],
                volumes: [{ id: "v1", labels: {} }],
            });
            m.setDisk(50 * 1024 * 1024, 40);
            const result = await source("pre-exit", jobEnv());
            assert.equal(result.code, 0, result.stderr);
            assert.deepEqual(m.calls(), [
                "docker ps --all --quiet --no-trunc",
                "docker rm --force --volumes c1 c2 c3",
                "docker network prune --force",
                "docker volume prune --all --force",
                "df -Pk -- /var/lib/buildkite-agent/builds",
            ]);
            assert.deepEqual(m.docker(), { containers: [], networks: [], volumes: [] });
        });

        it("prunes images when the disk is past the threshold", async () => {
            m.clearCalls();
            m.setDocker({});
            m.setDisk(5 * 1024 * 1024, 85);
            const result = await source("pre-exit", jobEnv());
            assert.equal(result.code, 0, result.stderr);
            assert.equal(m.calls().at(-1), "docker image prune --all --force");
            assert.match(result.stdout, /Disk 85% used on \/var\/lib\/buildkite-agent\/builds \(threshold 80%\)/);
        });
    });
});
