/**
 * Prints the time each agent hook adds to a job: median and p90 over N runs (default 30),
 * with docker, buildkite-agent and df replaced by fakes, run the way the agent runs them.
 * The hooks are installed once by the real bootstrap.sh from a local s3rver. pre-bootstrap runs twice: with
 * credentials in its environment, and as on an instance, with the role's from a local fake IMDSv2 (three more
 * requests). "(aws s3 cp, before)" is the AWS CLI read of the same object that pre-bootstrap made before it used curl,
 * for comparison. Local servers: a real S3 and IMDS add their round trips (a few ms each in the region).
 *
 *   npx tsx scripts/bench-hooks.ts [runs]
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ImdsFixture, Machine, runBash, S3Fixture, uploadBundle } from "../test/hooks/harness";

const WRAPPER = 'source "$1"; env -0 >/dev/null';

/** The nearest-rank `p`th percentile (0 < p ≤ 100) of ascending `sorted`, which holds at least one value. */
export function percentile(sorted: readonly number[], p: number): number {
    return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main(): Promise<void> {
    const runs = Number(process.argv[2] ?? "30");
    const s3 = await S3Fixture.start();
    const machine = new Machine();
    const imds = await ImdsFixture.start();
    try {
        const { bootstrap, allowlist } = await uploadBundle(s3, "bench");
        const started = performance.now();
        const install = await machine.bootstrap(s3, "bench", bootstrap.key);
        const installMs = performance.now() - started;
        if (install.code !== 0) {
            throw new Error(`bootstrap failed: ${install.stderr}`);
        }
        // A job of a pipeline the fleet serves (the harness's allow-list), in both files the agent writes: the
        // `KEY="value"` env file and the JSON one pre-bootstrap reads.
        const job = {
            BUILDKITE_PIPELINE_SLUG: "kolibri",
            BUILDKITE_REPO: "https://github.com/learningequality/kolibri.git",
        };
        const envFile = path.join(machine.root, "job.env");
        fs.writeFileSync(
            envFile,
            Object.entries(job)
                .map(([k, v]) => `${k}=${JSON.stringify(v)}\n`)
                .join(""),
        );
        const envJsonFile = path.join(machine.root, "job-env.json");
        fs.writeFileSync(envJsonFile, JSON.stringify(job));
        machine.setDisk(50 * 1024 * 1024, 40);
        machine.setDocker({
            containers: [
                { id: "c1", labels: {}, status: "running" },
                { id: "c2", labels: {}, status: "running" },
            ],
        });
        const env = machine.env({
            // pre-bootstrap reads the fleet's allow-list object from S3 for every job: here, from the s3rver.
            AWS_ENDPOINT_URL: s3.endpoint,
            BUILDKITE_ENV_FILE: envFile,
            BUILDKITE_ENV_JSON_FILE: envJsonFile,
            BUILDKITE_JOB_ID: "job-1",
            // The job's plugin config, so the environment hook parses a step image as it would in a real job.
            BUILDKITE_PLUGINS: JSON.stringify([
                {
                    "github.com/buildkite-plugins/docker-buildkite-plugin#v5.12.0": {
                        image: "${CI_PLATFORM_ECR_REGISTRY}/ci-platform/buildkite-test:py3.12-2026.11.1",
                    },
                },
            ]),
        });
        const preBootstrap = path.join(machine.agentHooksPath, "pre-bootstrap");
        const cliRead = `aws --endpoint-url "$AWS_ENDPOINT_URL" --region us-east-1 --only-show-errors s3 cp s3://bench/${allowlist.key} - >/dev/null`;
        const hooks: [string, string[], NodeJS.ProcessEnv?][] = [
            ["(bash baseline)", ["-c", "true"]],
            ["(aws s3 cp, before)", ["-c", cliRead]],
            // Through the shim in the agent's hooks-path, the file the agent runs.
            ["pre-bootstrap", [preBootstrap]],
            ["pre-bootstrap IMDS", [preBootstrap], { ...env, ...imds.env() }],
            ["environment", ["-c", WRAPPER, "wrapper", path.join(machine.hooksDir, "environment")]],
            ["pre-command", ["-c", WRAPPER, "wrapper", path.join(machine.hooksDir, "pre-command")]],
            ["pre-exit", ["-c", WRAPPER, "wrapper", path.join(machine.hooksDir, "pre-exit")]],
        ];
        console.log(`bootstrap.sh (one install from s3rver, ${bootstrap.key}): ${installMs.toFixed(0)} ms`);
        console.log(`\n${"hook".padEnd(22)}${"median ms".padStart(11)}${"p90 ms".padStart(9)}   (${runs} runs each)`);
        for (const [name, args, hookEnv] of hooks) {
            const times: number[] = [];
            for (let i = 0; i < runs; i++) {
                const t = performance.now();
                const result = await runBash(args, hookEnv ?? env);
                times.push(performance.now() - t);
                if (result.code !== 0) {
                    throw new Error(`${name} failed: ${result.stderr}`);
                }
            }
            times.sort((a, b) => a - b);
            console.log(
                `${name.padEnd(22)}${percentile(times, 50).toFixed(1).padStart(11)}${percentile(times, 90).toFixed(1).padStart(9)}`,
            );
        }
    } finally {
        machine.remove();
        await imds.stop();
        await s3.stop();
    }
}

if (require.main === module)
    main().catch((err: unknown) => {
        console.error(err instanceof Error ? err.message : err);
        process.exit(1);
    });
