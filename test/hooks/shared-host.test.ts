/**
 * Two agents on one host (the Elastic CI Stack's `spawn=2`), one docker daemon: the real hooks, installed by the real
 * bootstrap.sh, run for two concurrent jobs against the fake docker daemon (test/hooks/harness.ts), which keeps every
 * container, network and volume with its labels. Neither job's pre-command nor pre-exit may remove what the other,
 * still running, created; what finished jobs left behind is still removed. Issue 11 defect 2.
 *
 * Run twice: with the fleet's agentsPerInstance rendered as 2 (right), and as 1 (the defect, or any other
 * misconfiguration): the agent config on the host says spawn=2 either way, and the hooks believe it.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { Machine, runBash, S3Fixture, uploadBundle, type DockerState, type RunResult } from "./harness";

/** Job ids are UUIDs; the compose plugin names its project `buildkite` + the id without dashes. */
const JOB = {
    killed: "01938f4e-0000-7000-8000-0000000000f0",
    a: "01938f4e-0000-7000-8000-00000000000a",
    b: "01938f4e-0000-7000-8000-00000000000b",
    c: "01938f4e-0000-7000-8000-00000000000c",
} as const;
const AGENT = { one: "01938f4e-aaaa-7000-8000-000000000001", two: "01938f4e-aaaa-7000-8000-000000000002" } as const;
const project = (job: string) => `buildkite${job.replace(/-/g, "")}`;

const ids = (state: DockerState) => ({
    containers: state.containers.map((c) => c.id).sort(),
    networks: state.networks.map((n) => n.id).sort(),
    volumes: state.volumes.map((v) => v.id).sort(),
});

for (const fleetSetting of [2, 1]) {
    describe(
        `two concurrent jobs on a spawn=2 host, the fleet's agentsPerInstance rendered as ${fleetSetting}`,
        {
            timeout: 120_000,
        },
        () => {
            let s3: S3Fixture;
            let m: Machine;

            /** Sources HOOK for JOB on AGENT, as the agent does. */
            async function hook(name: "pre-command" | "pre-exit", job: string, agent: string): Promise<RunResult> {
                const result = await runBash(
                    ["-c", 'source "$1"', "agent-wrapper", path.join(m.hooksDir, name)],
                    m.env({
                        BUILDKITE_JOB_ID: job,
                        BUILDKITE_AGENT_ID: agent,
                        BUILDKITE_CONFIG_PATH: m.agentConfig,
                        BUILDKITE_BUILD_PATH: "/var/lib/buildkite-agent/builds",
                    }),
                );
                assert.equal(result.code, 0, `${name} of ${job}: ${result.stderr}`);
                assert.ok(!result.stderr.includes("could not remove"), result.stderr);
                return result;
            }

            /**
             * What a job's command creates: a container of the docker plugin (label com.buildkite.job-id), and a compose
             * project of the docker-compose plugin (its run container labelled com.buildkite.job_id, a service container,
             * network and volume labelled with the project only).
             */
            async function startJob(job: string, name: string): Promise<void> {
                const p = project(job);
                await m.dockerCli(["network", "create", "--label", `com.docker.compose.project=${p}`, `${name}-net`]);
                await m.dockerCli(["volume", "create", "--label", `com.docker.compose.project=${p}`, `${name}-data`]);
                await m.dockerCli([
                    "run",
                    "-d",
                    "--name",
                    `${name}-db`,
                    "--label",
                    `com.docker.compose.project=${p}`,
                    "--network",
                    `${name}-net`,
                    "--volume",
                    `${name}-data:/var/lib/db`,
                    "postgres:16",
                ]);
                await m.dockerCli([
                    "run",
                    "-d",
                    "--name",
                    `${name}-run`,
                    "--label",
                    `com.docker.compose.project=${p}`,
                    "--label",
                    `com.buildkite.job_id=${job}`,
                    "--network",
                    `${name}-net`,
                    "app",
                ]);
                await m.dockerCli([
                    "run",
                    "-d",
                    "--name",
                    `${name}-step`,
                    "--label",
                    `com.buildkite.job-id=${job}`,
                    "img",
                ]);
            }
            const objectsOf = (name: string) => ({
                containers: [`${name}-db`, `${name}-run`, `${name}-step`],
                networks: [`${name}-net`],
                volumes: [`${name}-data`],
            });

            before(async () => {
                s3 = await S3Fixture.start();
                m = new Machine({ spawn: 2 });
                const { bootstrap } = await uploadBundle(s3, "secrets", { agentsPerInstance: fleetSetting });
                assert.match(
                    bootstrap.content,
                    new RegExp(`^readonly CI_PLATFORM_AGENTS_PER_INSTANCE='${fleetSetting}'$`, "m"),
                );
                const installed = await m.bootstrap(s3, "secrets", bootstrap.key);
                assert.equal(installed.code, 0, installed.stderr);
                m.setDisk(50 * 1024 * 1024, 40);
                // Something a plain `docker run` left, labelled with no job: nobody's, so never ours to remove.
                m.setDocker({ containers: [{ id: "stray", labels: {}, status: "running" }] });
            });
            after(async () => {
                await s3.stop();
                m.remove();
            });

            it("a job killed before its pre-exit leaves objects behind (the setting up)", async () => {
                await hook("pre-command", JOB.killed, AGENT.one);
                await startJob(JOB.killed, "killed");
                assert.deepEqual(ids(m.docker()), {
                    containers: ["killed-db", "killed-run", "killed-step", "stray"],
                    networks: ["killed-net"],
                    volumes: ["killed-data"],
                });
            });

            it("job A's pre-command, on the agent that ran the killed job, removes the killed job's objects only", async () => {
                const result = await hook("pre-command", JOB.a, AGENT.one);
                assert.deepEqual(ids(m.docker()), { containers: ["stray"], networks: [], volumes: [] });
                if (fleetSetting === 1) {
                    assert.match(
                        result.stderr,
                        /agents per instance disagree \(agent config spawn=2 CI_PLATFORM_AGENTS_PER_INSTANCE=1\); cleaning docker as on a shared host/,
                    );
                } else {
                    assert.equal(result.stderr, "");
                    assert.match(result.stdout, /2 agents share this host/);
                }
                await startJob(JOB.a, "a");
            });

            it("job B's pre-command, while A runs and creates more, leaves every object of A alone", async () => {
                await Promise.all([
                    hook("pre-command", JOB.b, AGENT.two),
                    m.dockerCli(["run", "-d", "--name", "a-late", "--label", `com.buildkite.job-id=${JOB.a}`, "img"]),
                ]);
                const a = objectsOf("a");
                assert.deepEqual(ids(m.docker()), {
                    containers: [...a.containers, "a-late", "stray"].sort(),
                    networks: a.networks,
                    volumes: a.volumes,
                });
                assert.ok(m.docker().containers.every((c) => c.status === "running"));
                await startJob(JOB.b, "b");
            });

            it("job A's pre-exit, while B runs and creates more, removes A's objects and none of B's", async () => {
                await Promise.all([
                    hook("pre-exit", JOB.a, AGENT.one),
                    m.dockerCli(["run", "-d", "--name", "b-late", "--label", `com.buildkite.job-id=${JOB.b}`, "img"]),
                ]);
                const b = objectsOf("b");
                assert.deepEqual(ids(m.docker()), {
                    containers: [...b.containers, "b-late", "stray"].sort(),
                    networks: b.networks,
                    volumes: b.volumes,
                });
            });

            it("job C's pre-command on A's agent leaves the running B alone; B's pre-exit then removes B's objects", async () => {
                await hook("pre-command", JOB.c, AGENT.one);
                assert.equal(ids(m.docker()).containers.filter((c) => c.startsWith("b-")).length, 4);
                await hook("pre-exit", JOB.b, AGENT.two);
                assert.deepEqual(ids(m.docker()), { containers: ["stray"], networks: [], volumes: [] });
            });

            it("a finished job's stopped leftover is removed by the next pre-command; a running neighbour's is not", async () => {
                // B is over (its pre-exit ran) but a container of it reappears, stopped: e.g. its pre-exit failed to
                // remove it. C still runs on agent one.
                m.setDocker({
                    ...m.docker(),
                    containers: [
                        ...m.docker().containers,
                        { id: "b-leftover", labels: { "com.buildkite.job-id": JOB.b }, status: "exited" },
                        { id: "c-stopped", labels: { "com.buildkite.job-id": JOB.c }, status: "exited" },
                    ],
                });
                await hook("pre-command", "01938f4e-0000-7000-8000-00000000000d", AGENT.two);
                assert.deepEqual(ids(m.docker()).containers, ["c-stopped", "stray"]);
            });
        },
    );
}
