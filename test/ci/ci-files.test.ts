import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parse, parseDocument } from "yaml";
import { BUILD_SOURCES, SESSION_TAGS } from "../../components/access";
import { isPinnedPlugin, pluginReferences } from "../../policy/rules";

/*
 * The CI definitions: both parse, every `npm run X` they use exists, the GitHub workflows are valid against GitHub's
 * workflow schema (@actions/workflow-parser, the parser behind GitHub's own Actions language service), and the
 * Buildkite pipeline gates `pulumi up` behind a block step with its plugins pinned.
 */

const ROOT = path.resolve(__dirname, "../..");
const read = (file: string) => readFileSync(path.join(ROOT, file), "utf8");
const WORKFLOWS_DIR = ".github/workflows";
const WORKFLOWS = readdirSync(path.join(ROOT, WORKFLOWS_DIR))
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => `${WORKFLOWS_DIR}/${f}`);
const BUILDKITE = ".buildkite/pipeline.yml";
/** The steps of pipeline ci-platform-deploy, which its one step of pipeline.yml uploads. */
const BUILDKITE_DEPLOY = ".buildkite/deploy.yml";
const BUILDKITE_SCRIPTS = readdirSync(path.join(ROOT, ".buildkite"))
    .filter((f) => f.endsWith(".sh"))
    .map((f) => `.buildkite/${f}`);

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

function parseYaml(file: string): Json {
    const document = parseDocument(read(file));
    assert.deepEqual(
        document.errors.map((e) => e.message),
        [],
        `${file} is valid YAML`,
    );
    const value: unknown = document.toJS();
    assert.ok(isRecord(value), `${file} is a mapping`);
    return value;
}

/** The script names of every `npm run X` / `npm test` in a text. */
export function npmScriptsIn(text: string): string[] {
    const names = [...text.matchAll(/\bnpm run(?:-script)? ([A-Za-z0-9:_-]+)/g)].map((m) => m[1] as string);
    if (/\bnpm (?:test|t)\b/.test(text)) names.push("test");
    return [...new Set(names)];
}

/** A workflow's jobs, each with its steps. */
const jobsOf = (workflow: Json): [string, Json][] =>
    Object.entries(isRecord(workflow.jobs) ? workflow.jobs : {}).filter((e): e is [string, Json] => isRecord(e[1]));
const stepsOf = (job: Json): Json[] => (Array.isArray(job.steps) ? job.steps.filter(isRecord) : []);
const withOf = (step: Json): Json => (isRecord(step.with) ? step.with : {});

describe("CI files", () => {
    const scripts = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts;

    it("exist: GitHub CI and plan comment workflows, the Buildkite pipeline and its scripts", () => {
        for (const file of [
            `${WORKFLOWS_DIR}/ci.yml`,
            `${WORKFLOWS_DIR}/plan-comment.yml`,
            BUILDKITE,
            BUILDKITE_DEPLOY,
        ]) {
            assert.ok(existsSync(path.join(ROOT, file)), file);
        }
        for (const script of BUILDKITE_SCRIPTS) {
            accessSync(path.join(ROOT, script), constants.X_OK);
            assert.match(read(script), /^#!\/bin\/bash\n/, `${script} is a bash script`);
            assert.match(read(script), /^set -euo pipefail$/m, `${script} runs strict`);
        }
    });

    it("parse as YAML", () => {
        for (const file of [...WORKFLOWS, BUILDKITE, BUILDKITE_DEPLOY]) parseYaml(file);
    });

    it("run only npm scripts that package.json defines", () => {
        const used = new Map<string, string>();
        for (const file of [...WORKFLOWS, BUILDKITE, BUILDKITE_DEPLOY, ...BUILDKITE_SCRIPTS]) {
            for (const name of npmScriptsIn(read(file))) used.set(name, file);
        }
        assert.ok(used.has("test") && used.has("plan"), "CI runs the tests and the offline plan");
        for (const [name, file] of used) {
            assert.ok(name in scripts, `${file} runs "npm run ${name}", which package.json does not define`);
        }
    });

    it("finds npm scripts in text, so the check above can fail", () => {
        assert.deepEqual(npmScriptsIn("npm ci && npm test\nnpm run plan -- --json x\nnpm run images:bump"), [
            "plan",
            "images:bump",
            "test",
        ]);
    });
});

describe("GitHub workflows", () => {
    type Parser = typeof import("@actions/workflow-parser");
    let parser: Parser;
    before(async () => {
        parser = await import("@actions/workflow-parser");
    });

    /** Every error GitHub's workflow parser and converter report for a workflow's text. */
    async function schemaErrors(name: string, content: string): Promise<string[]> {
        const parsed = parser.parseWorkflow({ name, content }, new parser.NoOperationTraceWriter());
        const errors = parsed.context.errors.getErrors().map((e) => e.message);
        if (parsed.value === undefined) return errors.length > 0 ? errors : [`${name}: nothing parsed`];
        const template = await parser.convertWorkflowTemplate(parsed.context, parsed.value);
        return [...errors, ...(template.errors ?? []).map((e) => e.Message)];
    }

    it("validate against GitHub's workflow schema", async () => {
        for (const file of WORKFLOWS) assert.deepEqual(await schemaErrors(file, read(file)), [], file);
    });

    it("and the validator rejects a broken workflow", async () => {
        const broken = read(`${WORKFLOWS_DIR}/ci.yml`).replace("runs-on: ubuntu-24.04", "runs-onn: ubuntu-24.04");
        assert.ok((await schemaErrors("broken.yml", broken)).length > 0);
        assert.ok((await schemaErrors("broken.yml", "on: push\njobs:\n  a:\n    steps: 3\n")).length > 0);
    });

    it("pin every action to a commit SHA", () => {
        for (const file of WORKFLOWS) {
            for (const [job, definition] of jobsOf(parseYaml(file))) {
                for (const step of stepsOf(definition)) {
                    if (typeof step.uses !== "string") continue;
                    assert.match(step.uses, /^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/, `${file} ${job}: ${step.uses}`);
                }
            }
        }
    });

    it("on a pull request: test, post the offline plan diff, and preview with the policy pack where credentials exist", () => {
        const ci = parseYaml(`${WORKFLOWS_DIR}/ci.yml`);
        assert.ok(isRecord(ci.on) && "pull_request" in ci.on);
        const jobs = new Map(jobsOf(ci));
        const runs = (job: string) =>
            stepsOf(jobs.get(job) ?? {})
                .map((s) => s.run)
                .filter((r): r is string => typeof r === "string")
                .join("\n");
        assert.match(runs("test"), /npm ci[\s\S]*npm test/);
        assert.match(runs("test"), /apt-get install[^\n]*shellcheck bats/);
        assert.match(runs("plan"), /npm run plan -- --json/);
        assert.match(runs("plan"), /npm run plan -- --diff [^\n]* --markdown/);
        assert.ok(
            stepsOf(jobs.get("plan") ?? {}).some((s) => String(s.uses).startsWith("actions/upload-artifact@")),
            "the plan job hands plan.md to the comment workflow",
        );

        const preview = jobs.get("preview");
        assert.ok(preview);
        assert.match(String(preview.if), /head\.repo\.full_name == github\.repository/, "forks skip the preview");
        const pulumi = stepsOf(preview).find((s) => String(s.uses).startsWith("pulumi/actions@"));
        assert.ok(pulumi, "the preview uses Pulumi's GitHub Action");
        assert.deepEqual(
            {
                command: withOf(pulumi).command,
                stack: withOf(pulumi)["stack-name"],
                diff: withOf(pulumi).diff,
                comment: withOf(pulumi)["comment-on-pr"],
                packs: withOf(pulumi).policyPacks,
            },
            // One comment per PR: the plan-comment workflow owns it; the preview goes to the run summary.
            { command: "preview", stack: "prod", diff: true, comment: false, packs: "policy" },
        );
        assert.match(String(pulumi.if), /steps\.creds\.outputs\.available == 'true'/);
    });

    it("comment the plan from a workflow_run that never runs the pull request's code", () => {
        const comment = parseYaml(`${WORKFLOWS_DIR}/plan-comment.yml`);
        assert.ok(isRecord(comment.on) && "workflow_run" in comment.on);
        assert.ok(!("pull_request_target" in comment.on));
        for (const [, job] of jobsOf(comment)) {
            for (const step of stepsOf(job)) {
                assert.ok(!String(step.uses).startsWith("actions/checkout@"), "no checkout of untrusted code");
                assert.equal(step.run, undefined, "no shell steps over untrusted files");
            }
        }
    });

    it("never deploy: the only pulumi up is the Buildkite deploy pipeline's (issue 12, deploy credentials apart)", () => {
        for (const file of WORKFLOWS) {
            for (const [name, job] of jobsOf(parseYaml(file))) {
                for (const step of stepsOf(job)) {
                    assert.ok(
                        !(String(step.uses).startsWith("pulumi/actions@") && withOf(step).command !== "preview"),
                        `${file} ${name} runs pulumi ${String(withOf(step).command)}`,
                    );
                    assert.doesNotMatch(String(step.run ?? ""), /pulumi (up|destroy|refresh)\b/, `${file} ${name}`);
                }
            }
            // No workflow reads a write token: repository secrets reach every same-repository pull request's run.
            assert.doesNotMatch(
                read(file),
                /secrets\.(PULUMI_ACCESS_TOKEN|BUILDKITE_API_TOKEN|PLATFORM_GITHUB_TOKEN)\b/,
                file,
            );
            assert.doesNotMatch(read(file), /AWS_DEPLOY_ROLE_ARN/, file);
        }
    });

    it("preview pull requests with the declared read-only preview role and read-only tokens, never for a fork", () => {
        const preview = new Map(jobsOf(parseYaml(`${WORKFLOWS_DIR}/ci.yml`))).get("preview");
        assert.ok(preview);
        const aws = stepsOf(preview).find((s) => String(s.uses).startsWith("aws-actions/configure-aws-credentials@"));
        assert.equal(aws && withOf(aws)["role-to-assume"], "${{ vars.AWS_PREVIEW_ROLE_ARN }}");
        assert.deepEqual(preview.env, {
            PULUMI_ACCESS_TOKEN: "${{ secrets.PREVIEW_PULUMI_ACCESS_TOKEN }}",
            BUILDKITE_API_TOKEN: "${{ secrets.PREVIEW_BUILDKITE_API_TOKEN }}",
            GITHUB_TOKEN: "${{ secrets.PREVIEW_GITHUB_TOKEN }}",
        });
        assert.match(String(preview.if), /github\.event\.pull_request\.head\.repo\.full_name == github\.repository/);
        // The role the variable names: declared in the stack, trusted by this repository's pull requests, preview only.
        const role = prodDeployRoles().find((r) => r.githubActions !== undefined);
        assert.ok(role, "a deploy role trusts GitHub Actions pull requests");
        assert.equal(role.access, "preview");
        assert.equal(role.githubActions?.repository, "learningequality/ci-platform");
    });
});

const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/** The prod stack file's `ci-platform:*` keys this file checks, as written (secret values stay `{ secure }`). */
interface ProdConfig {
    clusters: { name: string }[];
    fleets: { name: string; kind: string; cluster: string; queue: string }[];
    pipelines: {
        slug: string;
        repository: string;
        cluster?: string;
        queue?: string;
        defaultBranch?: string;
        branches?: string;
        team?: string;
        teams?: { team: string; access: string }[];
        provider?: { buildPullRequests?: boolean; buildPullRequestForks?: boolean; buildTags?: boolean };
        schedules?: { label: string; cronline: string; branch?: string }[];
    }[];
    secrets: { organization?: { env?: Json }; pipelines: Record<string, { env?: Json } | undefined> };
}

/** The prod stack file's `ci-platform:deployRoles`, as written. */
interface DeployRole {
    name: string;
    access: string;
    buildkite?: { pipeline: string; branch: string; steps: string[] };
    githubActions?: { repository: string };
}
function prodDeployRoles(): DeployRole[] {
    const raw = (parse(read("Pulumi.prod.yaml")) as { config: Json }).config;
    return (raw["ci-platform:deployRoles"] ?? []) as DeployRole[];
}
function prodConfig(): ProdConfig {
    const raw = (parse(read("Pulumi.prod.yaml")) as { config: Json }).config;
    const key = (k: string) => raw[`ci-platform:${k}`];
    return {
        clusters: key("clusters"),
        fleets: key("fleets"),
        pipelines: key("pipelines"),
        secrets: key("secrets") ?? { pipelines: {} },
    } as ProdConfig;
}

/** A pipeline of the prod config by slug, with the schema's defaults for cluster and queue. */
function pipelineOf(config: ProdConfig, slug: string) {
    const found = config.pipelines.find((p) => p.slug === slug);
    assert.ok(found, `pipeline ${slug} is declared`);
    return { ...found, cluster: found.cluster ?? "default", queue: found.queue ?? "default" };
}
/** This repository's pipeline that builds every branch and pull request: tests and offline plans. */
const OWN = "ci-platform";
/** This repository's pipeline that deploys main and holds the deploy credentials. */
const DEPLOY = "ci-platform-deploy";
const ownPipeline = (config: ProdConfig) => pipelineOf(config, OWN);
const deployPipeline = (config: ProdConfig) => pipelineOf(config, DEPLOY);

/** The credentials the preview, deploy and drift steps need: the tokens of the three providers. */
const PROVIDER_TOKENS = ["PULUMI_ACCESS_TOKEN", "BUILDKITE_API_TOKEN", "GITHUB_TOKEN"];
/** AWS role ARNs the scripts assume through Buildkite OIDC: read-only for preview and drift, deploy for `pulumi up`. */
const READ_ROLE = "CI_PLATFORM_AWS_READ_ROLE_ARN";
const DEPLOY_ROLE = "CI_PLATFORM_AWS_DEPLOY_ROLE_ARN";
/** The steps that may hold credentials. */
const CREDENTIAL_STEPS = ["preview", "deploy", "drift"];

/**
 * The options docker-buildkite-plugin v5.13.0 accepts (its plugin.yml `configuration.properties`). An option it does
 * not know is not an error there: the plugin ignores it, so a made-up `mount-docker-socket: true` would silently
 * leave the container without a daemon.
 */
const DOCKER_PLUGIN_V5_13_0_OPTIONS = new Set(
    (
        "add-host additional-groups always-pull chown chown-image command cpus debug device-read-bps device-read-iops " +
        "device-write-bps device-write-iops entrypoint environment env-file env-propagation-list expand-image-vars " +
        "image ipc leave-container load log-driver log-opt memory memory-swap memory-swappiness mount-buildkite-agent " +
        "mount-ssh-agent mount-checkout network pid gpus runtime run-labels shell shm-size skip-checkout tty user " +
        "userns volumes expand-volume-vars devices tmpfs workdir platform propagate-environment " +
        "propagate-aws-auth-tokens propagate-gcp-auth-tokens propagate-uid-gid privileged publish init sysctls " +
        "storage-opt add-caps drop-caps security-opts ulimits"
    ).split(" "),
);
const DOCKER_SOCKET_VOLUME = "/var/run/docker.sock:/var/run/docker.sock";

/** A command step's docker plugin options, or undefined when it runs on the host. */
function dockerOptions(step: Json): Json | undefined {
    for (const plugin of asList(step.plugins)) {
        if (!isRecord(plugin)) continue;
        for (const [name, options] of Object.entries(plugin)) {
            if (/^docker#/.test(name)) return isRecord(options) ? options : {};
        }
    }
    return undefined;
}

/** Every name a step makes visible to its command: the docker plugin's `environment` names and the step's `env`. */
function namesPassed(step: Json): string[] {
    const docker = dockerOptions(step);
    const fromPlugin = asList(docker?.environment).map((e) => String(e).split("=")[0] as string);
    const fromEnv = isRecord(step.env) ? Object.keys(step.env) : [];
    return [...fromPlugin, ...fromEnv];
}

/** Whether a step hands the job's whole environment, or the host's AWS credentials, to its command. */
function passesEverything(step: Json): string[] {
    const docker = dockerOptions(step);
    const reasons: string[] = [];
    if (docker === undefined) reasons.push("runs on the host, with the job's whole environment");
    else {
        if (docker["propagate-environment"] === true) reasons.push("propagate-environment");
        if (docker["env-propagation-list"] !== undefined) reasons.push("env-propagation-list");
        if (docker["propagate-aws-auth-tokens"] === true) reasons.push("propagate-aws-auth-tokens");
    }
    return reasons;
}

/** The step documents of this repository's two pipelines: pipeline.yml (both upload it) and deploy.yml. */
const DOCUMENTS = [BUILDKITE, BUILDKITE_DEPLOY];

/** The slug a step of pipeline.yml is for: its `if` must start with `pipeline.slug == "<slug>"`. */
function slugOfStep(step: Json): string | undefined {
    return /^pipeline\.slug == "([a-z0-9-]+)"(?: && |$)/.exec(String(step.if ?? ""))?.[1];
}

describe("Buildkite pipelines", () => {
    const stepsIn = (file: string) => {
        const s = parseYaml(file).steps;
        assert.ok(Array.isArray(s) && s.length > 0, `${file}: steps is a non-empty array`);
        return s as unknown[];
    };
    const steps = () => DOCUMENTS.flatMap(stepsIn);
    const isCommand = (s: unknown): s is Json => isRecord(s) && ("command" in s || "commands" in s || "plugins" in s);
    const commandSteps = () => steps().filter(isCommand);
    const byKey = (key: string) => {
        const step = steps().find((s) => isRecord(s) && s.key === key);
        assert.ok(isRecord(step), `a step with key ${key}`);
        return step;
    };
    const commandsOf = (step: unknown) => (isRecord(step) ? asList(step.command ?? step.commands).map(String) : []);
    /** A step's commands, with the text of every .buildkite script it runs. */
    const scriptOf = (step: unknown) =>
        commandsOf(step)
            .map((c) => {
                const script = /^(\.buildkite\/[\w.-]+\.sh)\b/.exec(c)?.[1];
                return script && existsSync(path.join(ROOT, script)) ? read(script) : c;
            })
            .join("\n");
    const queueOf = (step: Json) => String(isRecord(step.agents) ? step.agents.queue : "");
    /** The pipeline whose builds run a step: pipeline.yml's by its `if`, every step of deploy.yml the deploy one's. */
    const pipelineRunning = (file: string, step: Json) => (file === BUILDKITE_DEPLOY ? DEPLOY : slugOfStep(step));

    it("have only known step types", () => {
        for (const step of steps()) {
            const kinds = isRecord(step)
                ? ["command", "commands", "block", "wait", "trigger", "group", "input"].filter((k) => k in step)
                : [];
            assert.ok(step === "wait" || kinds.length >= 1, `unknown step ${JSON.stringify(step)}`);
        }
    });

    it("select pipeline.yml's steps by pipeline slug: the deploy pipeline's one step uploads deploy.yml", () => {
        const own = stepsIn(BUILDKITE).filter(isRecord);
        for (const step of own)
            assert.ok(
                [OWN, DEPLOY].includes(slugOfStep(step) ?? ""),
                `${String(step.key)}: its if starts with pipeline.slug == "${OWN}" or "${DEPLOY}"`,
            );
        const forDeploy = own.filter((s) => slugOfStep(s) === DEPLOY);
        assert.deepEqual(
            forDeploy.map((s) => [s.key, commandsOf(s)]),
            [["deploy-pipeline", [`buildkite-agent pipeline upload ${BUILDKITE_DEPLOY}`]]],
        );
        assert.doesNotMatch(read(BUILDKITE_DEPLOY), /pipeline\.slug/, "deploy.yml is only ever the deploy pipeline's");
        assert.equal(slugOfStep({ if: 'pipeline.slug == "ci-platform" || true' }), undefined, "one slug, no escape");
    });

    it("run the tests, the offline plan diff as an annotation, and a preview with the policy pack", () => {
        const all = [...steps().map(scriptOf), ...BUILDKITE_SCRIPTS.map(read)].join("\n");
        assert.match(all, /npm test/);
        assert.match(all, /npm run plan -- --diff [^\n]* --markdown/);
        assert.match(all, /buildkite-agent annotate --style \S+ --context plan/);
        assert.match(scriptOf(byKey("preview")), /pulumi preview --diff [^\n]*--policy-pack policy/);
    });

    it("put a preview, then a block step, before pulumi up, all only on main, in the deploy pipeline", () => {
        const deploy = stepsIn(BUILDKITE_DEPLOY);
        const block = deploy.findIndex((s) => isRecord(s) && "block" in s);
        const up = deploy.findIndex((s) => /pulumi up --yes --stack prod/.test(scriptOf(s)));
        assert.ok(block >= 0 && up >= 0, "both steps exist");
        assert.ok(block < up, "the block step comes first");
        assert.ok(!stepsIn(BUILDKITE).some((s) => /pulumi (up|preview)\b/.test(scriptOf(s))), "none in pipeline.yml");
        const [blockStep, upStep] = [deploy[block], deploy[up]] as Json[];
        assert.equal(upStep?.key, "deploy");
        assert.match(String(blockStep?.if), /build\.branch == "main"/);
        assert.match(String(upStep?.if), /build\.branch == "main"/);
        assert.equal(upStep?.depends_on, blockStep?.key, "pulumi up waits for the block step");
        assert.equal(blockStep?.depends_on, "preview", "the block step waits for the preview it asks about");
    });

    it("pin every plugin to a release", () => {
        const references = DOCUMENTS.flatMap((f) => pluginReferences(parseYaml(f)));
        assert.ok(references.length > 0);
        for (const { step, plugin } of references) assert.ok(isPinnedPlugin(plugin), `${step}: ${plugin}`);
        assert.equal(isPinnedPlugin("docker"), false);
        assert.equal(isPinnedPlugin("docker#main"), false);
    });

    it("reference scripts that exist", () => {
        for (const command of steps().flatMap(commandsOf)) {
            const script = /^(\.buildkite\/[\w.-]+\.sh)\b/.exec(command)?.[1];
            if (script) assert.ok(BUILDKITE_SCRIPTS.includes(script), `${script} exists`);
        }
    });

    it("name, on every command step, a queue that a fleet of the running pipeline's cluster serves", () => {
        const config = prodConfig();
        for (const file of DOCUMENTS)
            for (const step of stepsIn(file).filter(isCommand)) {
                const slug = pipelineRunning(file, step);
                assert.ok(slug, `${file} ${String(step.key)} belongs to a pipeline`);
                const pipeline = pipelineOf(config, slug);
                const served = new Set(config.fleets.filter((f) => f.cluster === pipeline.cluster).map((f) => f.queue));
                // The pipeline's own queue runs the stored upload step that reads pipeline.yml.
                assert.ok(served.has(pipeline.queue), `${slug}'s queue is served in cluster ${pipeline.cluster}`);
                assert.equal(typeof (isRecord(step.agents) ? step.agents.queue : undefined), "string");
                assert.ok(
                    served.has(queueOf(step)),
                    `${file} ${String(step.key)}: queue "${queueOf(step)}" is served by a fleet of cluster ${pipeline.cluster} (served: ${[...served].join(", ")})`,
                );
            }
    });

    it("keep the deploy credentials in a cluster of their own: only the deploy pipeline and its one fleet", () => {
        const config = prodConfig();
        const own = ownPipeline(config);
        const deploy = deployPipeline(config);
        assert.notEqual(own.cluster, deploy.cluster, "pull request code and deploy credentials never share a cluster");
        assert.deepEqual(
            config.pipelines.filter((p) => (p.cluster ?? "default") === deploy.cluster).map((p) => p.slug),
            [DEPLOY],
            `no other pipeline runs in cluster ${deploy.cluster}, where the deploy credentials are`,
        );
        const fleets = config.fleets.filter((f) => f.cluster === deploy.cluster);
        assert.deepEqual(
            fleets.map((f) => [f.kind, f.queue]),
            [["aws", deploy.queue]],
            "one AWS fleet, serving the deploy queue only",
        );
        const credentialQueues = new Set(
            commandSteps()
                .filter((s) => CREDENTIAL_STEPS.includes(String(s.key)))
                .map(queueOf),
        );
        assert.deepEqual([...credentialQueues], [deploy.queue], "preview, deploy and drift share the deploy queue");
    });

    it("give the pipeline that builds pull requests only its checkout credential: the tokens are the deploy pipeline's alone", () => {
        const config = prodConfig();
        // A token that reads this one repository, for the HTTPS checkout; no env, no files, no key.
        assert.deepEqual(Object.keys(config.secrets.pipelines[OWN] ?? {}), ["gitCredentials"]);
        const platform = config.clusters.find((c) => c.name === "platform") as { organizationSecrets?: boolean };
        assert.equal(platform.organizationSecrets, false);
        const deploySecrets = Object.keys(config.secrets.pipelines[DEPLOY]?.env ?? {});
        for (const name of [...PROVIDER_TOKENS, READ_ROLE, DEPLOY_ROLE])
            assert.ok(deploySecrets.includes(name), `ci-platform:secrets.pipelines.${DEPLOY}.env.${name} is set`);
        // Never on every job of a shared queue: not organisation-wide, not another pipeline's.
        const elsewhere = [
            ...Object.keys(config.secrets.organization?.env ?? {}),
            ...Object.entries(config.secrets.pipelines)
                .filter(([slug]) => slug !== DEPLOY)
                .flatMap(([, set]) => Object.keys(set?.env ?? {})),
        ];
        for (const name of deploySecrets) assert.ok(!elsewhere.includes(name), `${name} is only ${DEPLOY}'s`);
        for (const file of DOCUMENTS)
            for (const name of deploySecrets)
                assert.doesNotMatch(read(file), new RegExp(`${name}\\s*[:=]\\s*\\S`), `no value of ${name} in ${file}`);
    });

    it("pass credentials only to the preview, deploy and drift steps, by name", () => {
        const config = prodConfig();
        const deploySecrets = Object.keys(config.secrets.pipelines[DEPLOY]?.env ?? {});
        for (const step of commandSteps()) {
            const key = String(step.key);
            const passed = namesPassed(step).filter((n) => deploySecrets.includes(n));
            // Two steps run on the host: the deploy pipeline's upload of deploy.yml (the agent's own command), and
            // the base-branch fetch of ci-platform, whose jobs hold no secret but the git credentials.
            if (key !== "deploy-pipeline" && key !== "plan-base")
                assert.deepEqual(passesEverything(step), [], `${key} passes its container only what it names`);
            if (!CREDENTIAL_STEPS.includes(key)) {
                assert.deepEqual(passed, [], `${key} gets no credentials`);
                continue;
            }
            const role = key === "deploy" ? DEPLOY_ROLE : READ_ROLE;
            assert.deepEqual(passed.sort(), [...PROVIDER_TOKENS, role].sort(), `${key} gets the tokens and its role`);
            const script = scriptOf(step);
            assert.match(script, new RegExp(`assume_aws_role "\\$${role}"`), `${key} assumes ${role}`);
            assert.equal(dockerOptions(step)?.["mount-buildkite-agent"], true, `${key} can request an OIDC token`);
        }
        assert.deepEqual(commandsOf(byKey("deploy-pipeline")), [`buildkite-agent pipeline upload ${BUILDKITE_DEPLOY}`]);
    });

    it("assume each AWS role only in a step its declared trust names, on the deploy queue, never with the instance's", () => {
        const config = prodConfig();
        const roles = prodDeployRoles().filter((r) => r.buildkite !== undefined);
        const roleOf: Record<string, string> = { [DEPLOY_ROLE]: "deploy", [READ_ROLE]: "read" };
        const deploy = deployPipeline(config);
        for (const step of stepsIn(BUILDKITE_DEPLOY).filter(isCommand)) {
            const key = String(step.key);
            // No step borrows the instance role (docker plugin v5.13.0 `propagate-aws-auth-tokens`).
            assert.notEqual(dockerOptions(step)?.["propagate-aws-auth-tokens"], true, key);
            const assumed = /assume_aws_role "\$(CI_PLATFORM_AWS_[A-Z]+_ROLE_ARN)"/.exec(scriptOf(step))?.[1];
            if (assumed === undefined) continue;
            const access = roleOf[assumed];
            const trusting = roles.filter(
                (r) => r.access === access && r.buildkite?.pipeline === DEPLOY && r.buildkite.steps.includes(key),
            );
            assert.equal(trusting.length, 1, `step ${key} assumes the ${access} role, whose trust names it`);
            assert.equal(trusting[0].buildkite?.branch, "main");
            assert.equal(queueOf(step), deploy.queue, `${key} runs on the deploy queue`);
        }
        // And the other way: every step a Buildkite-trusted role names exists in deploy.yml, with that key.
        for (const r of roles)
            for (const key of r.buildkite?.steps ?? []) assert.ok(byKey(key), `${r.name} trusts step ${key}`);
        assert.deepEqual(
            roles.filter((r) => r.access === "deploy").flatMap((r) => r.buildkite?.steps ?? []),
            ["deploy"],
            "only the pulumi up step can take the deploy role",
        );
    });

    it("never build a pull request or a tag in the deploy pipeline, whose builds only the platform team may start", () => {
        const deploy = deployPipeline(prodConfig());
        assert.equal(deploy.branches, "main", "a branch filter: main only");
        assert.equal(deploy.defaultBranch ?? "main", "main");
        assert.equal(deploy.provider?.buildPullRequests, false, "no pull request builds");
        assert.notEqual(deploy.provider?.buildPullRequestForks, true, "no fork builds");
        assert.equal(deploy.provider?.buildTags, false, "no tag builds");
        for (const key of ["preview", "approve-deploy", "deploy"]) {
            const condition = String(byKey(key).if);
            assert.match(condition, /build\.branch == "main"/, `${key} runs on main only`);
            assert.match(condition, /build\.pull_request\.id == null/, `${key} never runs for a pull request`);
        }
        for (const schedule of deploy.schedules ?? [])
            assert.equal(schedule.branch, "main", `schedule "${schedule.label}" builds main, the reviewed code`);
        // Build permission starts a build of main at any commit: the owning team only, nobody else.
        assert.equal(deploy.team, "platform");
        assert.deepEqual(deploy.teams ?? [], [], "no other team has access to the deploy pipeline");
    });

    it("give pull requests of ci-platform the offline plan only, after fetching the base branch on the host", () => {
        const plan = byKey("plan");
        const base = byKey("plan-base");
        for (const step of [plan, base])
            assert.equal(step.if, `pipeline.slug == "${OWN}" && build.pull_request.id != null`);
        assert.equal(plan.depends_on, "plan-base");
        // The git credentials are the host's (s3-secrets hooks v2.8.0 secrets.go: GIT_CONFIG_PARAMETERS with a host
        // credential helper), which the docker plugin does not pass: the fetch must run outside the container.
        assert.equal(dockerOptions(base), undefined, "plan-base runs on the host");
        assert.match(scriptOf(base), /^git fetch --depth=1 origin /m);
        assert.notEqual(dockerOptions(plan), undefined, "the plan runs in the Node image");
        assert.doesNotMatch(scriptOf(plan), /\bgit (fetch|pull|clone|worktree)\b/, "no git network access there");
        assert.match(scriptOf(plan), /buildkite-agent artifact download \.plan-base\.tar\.gz \. --step plan-base/);
        assert.equal(dockerOptions(plan)?.["mount-buildkite-agent"], true, "the plan step can download the artifact");
    });

    it("give the steps that build or run docker the host's daemon, with an option docker plugin v5.13.0 has", () => {
        for (const step of commandSteps()) {
            const docker = dockerOptions(step);
            if (docker === undefined) continue;
            for (const option of Object.keys(docker))
                assert.ok(
                    DOCKER_PLUGIN_V5_13_0_OPTIONS.has(option),
                    `${String(step.key)}: docker plugin option ${option}`,
                );
            // pulumi's docker provider builds and pushes the step images through the daemon.
            const usesDocker = /\bpulumi (up|preview)\b|\bdocker (build|push|run)\b/.test(scriptOf(step));
            if (usesDocker)
                assert.ok(
                    asList(docker.volumes).includes(DOCKER_SOCKET_VOLUME),
                    `${String(step.key)} mounts the Docker socket`,
                );
        }
        assert.ok(
            DOCKER_PLUGIN_V5_13_0_OPTIONS.has("volumes") && !DOCKER_PLUGIN_V5_13_0_OPTIONS.has("mount-docker-socket"),
        );
    });

    it("fail loudly, naming the config path, when the credentials did not reach the job", () => {
        const lib = read(".buildkite/lib.bash");
        assert.match(lib, /ci-platform:secrets\.pipelines\.ci-platform-deploy\.env/);
        assert.match(lib, /buildkite-agent oidc request-token --audience sts\.amazonaws\.com/);
        for (const script of [".buildkite/preview.sh", ".buildkite/deploy.sh", ".buildkite/drift.sh"])
            assert.match(read(script), /^require_credentials /m, `${script} checks its credentials first`);
    });
});

describe("Buildkite scripts", () => {
    it("pass shellcheck", () => {
        const result = spawnSync("shellcheck", ["-x", "-s", "bash", ...BUILDKITE_SCRIPTS, ".buildkite/lib.bash"], {
            cwd: ROOT,
            encoding: "utf8",
        });
        assert.ok(result.error === undefined, `shellcheck runs (${String(result.error)})`);
        assert.equal(result.status, 0, result.stdout);
    });

    it("require_credentials names every missing credential and exits 1", () => {
        const result = spawnSync(
            "bash",
            ["-c", ". .buildkite/lib.bash && require_credentials CI_PLATFORM_AWS_READ_ROLE_ARN && echo reached"],
            { cwd: ROOT, encoding: "utf8", env: { PATH: process.env.PATH ?? "", GITHUB_TOKEN: "x" } },
        );
        assert.equal(result.status, 1);
        assert.doesNotMatch(result.stdout, /reached/);
        assert.match(result.stderr, /Missing PULUMI_ACCESS_TOKEN BUILDKITE_API_TOKEN CI_PLATFORM_AWS_READ_ROLE_ARN:/);
    });
    it("refuse_superseded stops a deploy build when a newer build of its branch exists, and lets the newest through", () => {
        const dir = mkdtempSync(path.join(tmpdir(), "superseded-"));
        // A fake curl that answers the builds list with the newest build's number, and records the URL asked.
        writeFileSync(
            path.join(dir, "curl"),
            '#!/bin/bash\necho "${@: -1}" > "$(dirname "$0")/url"\necho "[{\\"number\\": $NEWEST}]"\n',
            { mode: 0o755 },
        );
        const run = (own: number, newest: number) =>
            spawnSync("bash", ["-c", ". .buildkite/lib.bash && refuse_superseded && echo deploying"], {
                cwd: ROOT,
                encoding: "utf8",
                env: {
                    PATH: `${dir}:${process.env.PATH ?? ""}`,
                    NEWEST: String(newest),
                    BUILDKITE_BUILD_NUMBER: String(own),
                    BUILDKITE_BRANCH: "main",
                    BUILDKITE_ORGANIZATION_SLUG: "learningequality",
                    BUILDKITE_PIPELINE_SLUG: DEPLOY,
                    BUILDKITE_API_TOKEN: "x",
                },
            });
        const stale = run(41, 42);
        assert.equal(stale.status, 1);
        assert.doesNotMatch(stale.stdout, /deploying/);
        assert.match(stale.stderr, /Build 41 is superseded by build 42 of main/);
        assert.match(
            readFileSync(path.join(dir, "url"), "utf8"),
            /\/v2\/organizations\/learningequality\/pipelines\/ci-platform-deploy\/builds\?branch=main&per_page=1/,
        );
        assert.match(run(42, 42).stdout, /deploying/);
        // And deploy.sh asks before pulumi up.
        const deploy = read(".buildkite/deploy.sh");
        assert.ok(
            deploy.indexOf("refuse_superseded") > 0 &&
                deploy.indexOf("refuse_superseded") < deploy.indexOf("pulumi up --yes"),
        );
    });

    it("plan-base.sh fetches the base branch with the host's git and uploads its files for the plan step", () => {
        const dir = mkdtempSync(path.join(tmpdir(), "plan-base-"));
        const git = (cwd: string, ...args: string[]) => {
            const r = spawnSync("git", ["-c", "user.name=t", "-c", "user.email=t@e", ...args], {
                cwd,
                encoding: "utf8",
            });
            assert.equal(r.status, 0, `git ${args.join(" ")}: ${r.stderr}`);
            return r.stdout.trim();
        };
        // origin: main has base.txt; the checkout is a pull request branch that changed it and has not fetched main.
        const origin = path.join(dir, "origin");
        git(dir, "init", "-q", "-b", "main", origin);
        writeFileSync(path.join(origin, "base.txt"), "main\n");
        git(origin, "add", "base.txt");
        git(origin, "commit", "-q", "-m", "base");
        git(origin, "checkout", "-q", "-b", "feature");
        writeFileSync(path.join(origin, "base.txt"), "feature\n");
        git(origin, "commit", "-q", "-am", "change");
        const checkout = path.join(dir, "checkout");
        git(dir, "clone", "-q", "--single-branch", "--branch", "feature", origin, checkout);
        const bin = path.join(dir, "bin");
        git(dir, "init", "-q", bin); // any directory; holds the fake agent
        writeFileSync(path.join(bin, "buildkite-agent"), '#!/bin/bash\necho "$*" >> "$(dirname "$0")/calls"\n', {
            mode: 0o755,
        });
        const result = spawnSync(path.join(ROOT, ".buildkite/plan-base.sh"), [], {
            cwd: checkout,
            encoding: "utf8",
            env: { PATH: `${bin}:${process.env.PATH ?? ""}`, BUILDKITE_PULL_REQUEST_BASE_BRANCH: "main", HOME: dir },
        });
        assert.equal(result.status, 0, result.stderr);
        assert.equal(readFileSync(path.join(bin, "calls"), "utf8"), "artifact upload .plan-base.tar.gz\n");
        const out = path.join(dir, "out");
        git(dir, "init", "-q", out);
        const tar = spawnSync("tar", ["-xzf", path.join(checkout, ".plan-base.tar.gz"), "-C", out], {
            encoding: "utf8",
        });
        assert.equal(tar.status, 0, tar.stderr);
        assert.equal(readFileSync(path.join(out, "base.txt"), "utf8"), "main\n", "the archive holds main's files");
    });

    it("assume_aws_role writes an OIDC token for STS and sets the AWS SDK's web-identity variables", () => {
        const bin = mkdtempSync(path.join(tmpdir(), "fake-agent-"));
        // A fake buildkite-agent that records its arguments and prints a token.
        writeFileSync(
            path.join(bin, "buildkite-agent"),
            '#!/bin/bash\necho "$*" >> "$(dirname "$0")/calls"\necho token-1\n',
            { mode: 0o755 },
        );
        const result = spawnSync(
            "bash",
            [
                "-c",
                '. .buildkite/lib.bash && assume_aws_role arn:aws:iam::123456789012:role/ci-platform-read >/dev/null && echo "$AWS_ROLE_ARN|$(cat "$AWS_WEB_IDENTITY_TOKEN_FILE")|$AWS_ROLE_SESSION_NAME"',
            ],
            {
                cwd: ROOT,
                encoding: "utf8",
                env: { PATH: `${bin}:${process.env.PATH ?? ""}`, BUILDKITE_JOB_ID: "job-1" },
                // The token refresher runs every four minutes; it must stop with the shell, or its sleep holds the
                // output open and this call waits for it.
                timeout: 60_000,
            },
        );
        assert.equal(result.error, undefined, "the shell's output closed when it exited");
        assert.equal(result.status, 0, result.stderr);
        assert.equal(result.stdout.trim(), "arn:aws:iam::123456789012:role/ci-platform-read|token-1|buildkite-job-1");
        const calls = readFileSync(path.join(bin, "calls"), "utf8");
        assert.match(calls, /^oidc request-token --audience sts\.amazonaws\.com /);
        // The roles' trust policies require these session tags; a token without them is refused.
        const tagged = /--aws-session-tag (\S+)/.exec(calls.split("\n")[0]);
        assert.ok(tagged, `asks for AWS session tags: ${calls}`);
        assert.deepEqual(tagged[1].split(",").sort(), [...SESSION_TAGS].sort());
    });
});

describe("drift detection", () => {
    it("is a daily schedule the stack declares for the deploy pipeline, and not for ci-platform", () => {
        const config = prodConfig();
        const schedule = deployPipeline(config).schedules?.find((s) => /drift/i.test(s.label));
        assert.ok(schedule, "with a drift schedule");
        assert.match(schedule.cronline, /^\S+ \S+ \* \* \*$/, "once a day");
        assert.deepEqual(ownPipeline(config).schedules ?? [], [], "ci-platform has no schedule");
    });

    it("runs pulumi preview --refresh --expect-no-changes on scheduled builds only, fails on drift, never deploys", () => {
        const doc = parse(read(BUILDKITE_DEPLOY)) as { steps: Record<string, unknown>[] };
        const drift = doc.steps.find((s) => s.key === "drift");
        assert.ok(drift);
        assert.equal(drift.if, 'build.source == "schedule"');
        assert.deepEqual(drift.agents, { queue: "deploy" });
        const script = read(String(drift.command));
        assert.match(script, /pulumi preview --refresh --expect-no-changes/);
        assert.match(script, /exit 1/);
        assert.doesNotMatch(
            script,
            /^\s*(pulumi (up|destroy|refresh --yes|import)\b|.*DEPLOY_ROLE)/m,
            "drift runs no command that writes, and never takes the deploy role",
        );
        assert.match(script, /assume_aws_role "\$CI_PLATFORM_AWS_READ_ROLE_ARN"/, "with the read-only role");
        for (const step of doc.steps.filter((s) => ["preview", "approve-deploy", "deploy"].includes(String(s.key))))
            assert.match(String(step.if), /build\.source == "webhook"/, "a schedule never previews or deploys");
    });

    it("also runs the drift verifier for what refresh cannot see, read-only, failing the step on its drift", () => {
        const script = read(".buildkite/drift.sh");
        assert.match(script, /pulumi stack export --stack prod --file "\$state_dir\/state\.json"/);
        assert.match(script, /npm run verify -- --stack prod --state "\$state_dir\/state\.json" --objects etag/);
        assert.match(script, /verify_status=\$\{PIPESTATUS\[0\]\}/);
        assert.match(script, /if \[\[ \$status -ne 0 \|\| \$verify_status -ne 0 \]\]; then/);
        assert.ok(
            script.indexOf('assume_aws_role "$CI_PLATFORM_AWS_READ_ROLE_ARN"') < script.indexOf("npm run verify --"),
            "with the read-only role",
        );
        assert.doesNotMatch(script, /--show-secrets/, "no secret is decrypted for the check");
    });

    it("previews and deploys in the builds the roles admit: a push (webhook), never an API, UI or trigger build", () => {
        // The `if` only keeps such builds from showing steps that cannot assume their role; the roles' trust policies
        // (build_source session tag) are what refuse them.
        const doc = parse(read(BUILDKITE_DEPLOY)) as { steps: Record<string, unknown>[] };
        const step = (key: string) => doc.steps.find((s) => s.key === key) as Record<string, unknown>;
        const sourcesOf = (condition: string) =>
            [...condition.matchAll(/build\.source == "([a-z_]+)"/g)].map((m) => m[1]);
        for (const key of ["approve-deploy", "deploy"])
            for (const source of sourcesOf(String(step(key).if)))
                assert.ok(BUILD_SOURCES.deploy.includes(source), `${key} runs in ${source} builds`);
        for (const key of ["preview", "drift"])
            for (const source of sourcesOf(String(step(key).if)))
                assert.ok(BUILD_SOURCES.read.includes(source), `${key} runs in ${source} builds`);
        assert.deepEqual(sourcesOf(String(step("deploy").if)), ["webhook"]);
    });
});
