import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { accessSync, constants, existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse, parseDocument } from "yaml";
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

    it("exist: GitHub CI, deploy and plan comment workflows, the Buildkite pipeline and its scripts", () => {
        for (const file of [
            `${WORKFLOWS_DIR}/ci.yml`,
            `${WORKFLOWS_DIR}/deploy.yml`,
            `${WORKFLOWS_DIR}/plan-comment.yml`,
            BUILDKITE,
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
        for (const file of [...WORKFLOWS, BUILDKITE]) parseYaml(file);
    });

    it("run only npm scripts that package.json defines", () => {
        const used = new Map<string, string>();
        for (const file of [...WORKFLOWS, BUILDKITE, ...BUILDKITE_SCRIPTS]) {
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
            { command: "preview", stack: "prod", diff: true, comment: true, packs: "policy" },
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

    it("on main: pulumi up in the production environment (manual approval)", () => {
        const deploy = parseYaml(`${WORKFLOWS_DIR}/deploy.yml`);
        assert.deepEqual(at(deploy, "on", "push", "branches"), ["main"]);
        const up = jobsOf(deploy).find(([, job]) =>
            stepsOf(job).some((s) => String(s.uses).startsWith("pulumi/actions@") && withOf(s).command === "up"),
        );
        assert.ok(up, "a job runs pulumi up");
        assert.equal(up[1].environment, "production");
        assert.ok(asList(up[1].needs).includes("test"), "after the tests");
        const step = stepsOf(up[1]).find((s) => String(s.uses).startsWith("pulumi/actions@"));
        assert.equal(step && withOf(step).policyPacks, "policy");
    });
});

function at(value: unknown, ...keys: string[]): unknown {
    return keys.reduce<unknown>((v, k) => (isRecord(v) ? v[k] : undefined), value);
}
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

describe("Buildkite pipeline", () => {
    const pipeline = () => parseYaml(BUILDKITE);
    const steps = () => {
        const s = pipeline().steps;
        assert.ok(Array.isArray(s) && s.length > 0, "steps is a non-empty array");
        return s as unknown[];
    };
    const commandsOf = (step: unknown) => (isRecord(step) ? asList(step.command ?? step.commands).map(String) : []);
    const indexOf = (predicate: (step: unknown) => boolean) => steps().findIndex(predicate);

    it("has only known step types", () => {
        for (const step of steps()) {
            const kinds = isRecord(step)
                ? ["command", "commands", "block", "wait", "trigger", "group", "input"].filter((k) => k in step)
                : [];
            assert.ok(step === "wait" || kinds.length >= 1, `unknown step ${JSON.stringify(step)}`);
        }
    });

    it("runs the tests, the offline plan diff as an annotation, and a preview with the policy pack", () => {
        const all = [...steps().flatMap(commandsOf), ...BUILDKITE_SCRIPTS.map(read)].join("\n");
        assert.match(all, /npm test/);
        assert.match(all, /npm run plan -- --diff [^\n]* --markdown/);
        assert.match(all, /buildkite-agent annotate --style \S+ --context plan/);
        assert.match(all, /pulumi preview --diff [^\n]*--policy-pack policy/);
        assert.match(read(".buildkite/preview.sh"), /if \[\[ -z "\$\{PULUMI_ACCESS_TOKEN:-\}" \]\]/);
    });

    it("puts a block step before pulumi up, both only on main", () => {
        const block = indexOf((s) => isRecord(s) && "block" in s);
        const up = indexOf((s) => commandsOf(s).some((c) => /pulumi up --yes --stack prod/.test(c)));
        assert.ok(block >= 0 && up >= 0, "both steps exist");
        assert.ok(block < up, "the block step comes first");
        const [blockStep, upStep] = [steps()[block], steps()[up]] as Json[];
        assert.match(String(blockStep?.if), /build\.branch == "main"/);
        assert.match(String(upStep?.if), /build\.branch == "main"/);
        assert.equal(upStep?.depends_on, blockStep?.key, "pulumi up waits for the block step");
    });

    it("pins every plugin to a release", () => {
        const references = pluginReferences(pipeline());
        assert.ok(references.length > 0);
        for (const { step, plugin } of references) assert.ok(isPinnedPlugin(plugin), `${step}: ${plugin}`);
        assert.equal(isPinnedPlugin("docker"), false);
        assert.equal(isPinnedPlugin("docker#main"), false);
    });

    it("references scripts that exist", () => {
        for (const command of steps().flatMap(commandsOf)) {
            const script = /^(\.buildkite\/[\w.-]+\.sh)\b/.exec(command)?.[1];
            if (script) assert.ok(BUILDKITE_SCRIPTS.includes(script), `${script} exists`);
        }
    });
});

describe("drift detection", () => {
    it("is a daily schedule the stack declares for this repository's own pipeline", () => {
        const prod = parse(read("Pulumi.prod.yaml")) as {
            config: {
                "ci-platform:pipelines": { repository: string; schedules?: { label: string; cronline: string }[] }[];
            };
        };
        const own = prod.config["ci-platform:pipelines"].find((p) => p.repository.endsWith("/ci-platform"));
        assert.ok(own, "the platform's own pipeline is declared");
        const schedule = own.schedules?.find((s) => /drift/i.test(s.label));
        assert.ok(schedule, "with a drift schedule");
        assert.match(schedule.cronline, /^\S+ \S+ \* \* \*$/, "once a day");
    });

    it("runs pulumi preview --refresh --expect-no-changes on scheduled builds only, and fails on drift", () => {
        const doc = parse(read(".buildkite/pipeline.yml")) as { steps: Record<string, unknown>[] };
        const drift = doc.steps.find((s) => s.key === "drift");
        assert.ok(drift);
        assert.equal(drift.if, 'build.source == "schedule"');
        const script = read(String(drift.command));
        assert.match(script, /pulumi preview --refresh --expect-no-changes/);
        assert.match(script, /exit 1/);
        for (const step of doc.steps.filter((s) => s.key === "approve-deploy" || s.key === "deploy"))
            assert.match(String(step.if), /build\.source != "schedule"/, "a schedule never deploys");
    });
});
