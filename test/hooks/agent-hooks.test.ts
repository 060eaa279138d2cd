/**
 * The agent hooks, installed by the real bootstrap.sh from a real S3 server, then run the way
 * the agent runs them: pre-bootstrap executed (through the shim in the agent's hooks-path) with BUILDKITE_ENV_FILE; environment, pre-command
 * and pre-exit sourced by a wrapper that then dumps the exported environment.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import {
    lastLine,
    Machine,
    runBash,
    S3Fixture,
    SENTINEL,
    uploadBundle,
    type FakeContainer,
    type RunResult,
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
    const jobEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv =>
        m.env({
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

    async function preBootstrap(repo: string): Promise<RunResult> {
        const envFile = path.join(m.root, "job.env");
        fs.writeFileSync(
            envFile,
            `BUILDKITE_JOB_ID="job-1"\nPYPI_TOKEN="${SENTINEL}"\nBUILDKITE_REPO="${repo}"\nBUILDKITE_BRANCH="main"\n`,
        );
        // Through the shim bootstrap.sh put in the agent's hooks-path: that is the file the agent runs.
        const result = await runBash(
            [path.join(m.agentHooksPath, "pre-bootstrap")],
            jobEnv({ BUILDKITE_ENV_FILE: envFile }),
        );
        assertNoSecret(result);
        return result;
    }

    before(async () => {
        s3 = await S3Fixture.start();
        m = new Machine();
        const { bootstrap } = await uploadBundle(s3, "secrets");
        const installed = await m.bootstrap(s3, "secrets", bootstrap.key);
        assert.equal(installed.code, 0, installed.stderr);
    });
    after(async () => {
        await s3.stop();
        m.remove();
    });

    describe("pre-bootstrap", () => {
        for (const repo of [
            "git@github.com:learningequality/kolibri.git",
            "https://github.com/learningequality/kolibri",
            "https://github.com/LearningEquality/Kolibri.git",
            "ssh://git@github.com/dagster-io/dagster.git",
        ]) {
            it(`accepts a declared repository given as ${repo}`, async () => {
                const result = await preBootstrap(repo);
                assert.equal(result.code, 0, result.stderr);
                assert.equal(result.stderr, "");
            });
        }

        it("refuses a repository the platform does not declare, saying where to declare it", async () => {
            const result = await preBootstrap("git@github.com:someone/unknown.git");
            assert.equal(result.code, 1);
            assert.equal(
                lastLine(result.stderr),
                "ci-platform: refusing job: repository github.com/someone/unknown is not declared on this platform; " +
                    "declare it as ci-platform:pipelines[].repository: someone/unknown in Pulumi.<stack>.yaml",
            );
        });

        it("refuses a non-GitHub URL without printing its credentials", async () => {
            const result = await preBootstrap(
                `https://x-access-token:${SENTINEL}@gitlab.example/learningequality/kolibri`,
            );
            assert.equal(result.code, 1);
            assert.equal(
                lastLine(result.stderr),
                "ci-platform: refusing job: repository https://***@gitlab.example/learningequality/kolibri " +
                    "is not a GitHub repository URL this platform declares",
            );
        });

        it("refuses a job whose environment has no repository", async () => {
            const envFile = path.join(m.root, "empty.env");
            fs.writeFileSync(envFile, `PYPI_TOKEN="${SENTINEL}"\n`);
            const result = await runBash(
                [path.join(m.agentHooksPath, "pre-bootstrap")],
                jobEnv({ BUILDKITE_ENV_FILE: envFile }),
            );
            assert.equal(result.code, 1);
            assert.equal(
                lastLine(result.stderr),
                "ci-platform: refusing job: the job environment has no BUILDKITE_REPO",
            );
            assertNoSecret(result);
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
