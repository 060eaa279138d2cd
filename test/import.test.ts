import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { platformConfigSchema } from "../components/config/schema";
import { runImport } from "../scripts/import";
import { classifyStoredSteps } from "../scripts/import/stored-steps";
import { nextLink, retryDelaySeconds } from "../scripts/import/rest";
import {
    cluster as liveCluster,
    FakeApis,
    GITHUB_TOKEN,
    hooks as liveHooks,
    PIPELINES,
    queues as liveQueues,
    SCHEDULE,
    startFakeApis,
    team as liveTeam,
    TOKEN,
} from "./import/fake-apis";
import { planInProcess } from "./fixtures/cli";

const ROOT = path.join(__dirname, "..");

/** Runs the importer in-process against the fake; sleeps are recorded, not waited. */
async function importFrom(fake: FakeApis, out: string, env: Record<string, string> = {}) {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const sleeps: number[] = [];
    const code = await runImport(
        ["--org", "acme", "--out", out, "--stack", "adopted", "--api-url", fake.url, "--github-api-url", fake.url],
        {
            env: { BUILDKITE_API_TOKEN: TOKEN, GITHUB_TOKEN, ...env },
            stdout: (t) => stdout.push(t),
            stderr: (t) => stderr.push(t),
            sleep: async (ms) => {
                sleeps.push(ms);
            },
        },
    );
    return { code, stdout: stdout.join(""), stderr: stderr.join(""), sleeps };
}

describe("npm run import against a fake Buildkite and GitHub", { timeout: 120_000 }, () => {
    let fake: FakeApis;
    let out: string;
    let run: Awaited<ReturnType<typeof importFrom>>;
    let stackText: string;
    let reportText: string;
    let config: Record<string, unknown>;
    const adopt = () => config["ci-platform:adopt"] as { resource: string; id: string }[];
    const idOf = (resource: string) => adopt().find((a) => a.resource === resource)?.id;

    before(async () => {
        fake = await startFakeApis({ throttle: ["/v2/organizations/acme/pipelines?per_page=100&page=2"] });
        out = mkdtempSync(path.join(tmpdir(), "import14-"));
        run = await importFrom(fake, out);
        stackText = readFileSync(path.join(out, "Pulumi.adopted.yaml"), "utf8");
        reportText = readFileSync(path.join(out, "import-report.md"), "utf8");
        config = (parse(stackText) as { config: Record<string, unknown> }).config;
    });
    after(async () => {
        await fake.close();
        rmSync(out, { recursive: true, force: true });
    });

    it("follows every Link page, waits out the 429's Retry-After and retries that page", () => {
        assert.equal(run.code, 0, run.stderr);
        const pages = fake.requests.filter((r) => r.startsWith("GET /v2/organizations/acme/pipelines?"));
        // Six pipelines two a page: pages 1, 2 (429), 2 again, 3; the client asks for 100 and still follows the links.
        assert.deepEqual(pages, [
            "GET /v2/organizations/acme/pipelines?per_page=100",
            "GET /v2/organizations/acme/pipelines?per_page=100&page=2",
            "GET /v2/organizations/acme/pipelines?per_page=100&page=2",
            "GET /v2/organizations/acme/pipelines?per_page=100&page=3",
        ]);
        assert.deepEqual(run.sleeps, [1000]);
        assert.match(run.stderr, /429, waiting 1s/);
        // Queues and hooks are one item a page: each list read whole.
        assert.equal(fake.requests.filter((r) => r.includes("/queues")).length, 2);
        const slugs = (config["ci-platform:pipelines"] as { slug: string }[]).map((p) => p.slug);
        assert.deepEqual(slugs, ["api", "docs", "lib", "tools", "web"]);
    });

    it("writes a stack file the schema accepts, with every object's import id", () => {
        const parsed = platformConfigSchema.safeParse(
            Object.fromEntries(
                Object.entries(config)
                    .filter(([k]) => k.startsWith("ci-platform:"))
                    .map(([k, v]) => [k.slice("ci-platform:".length), v]),
            ),
        );
        assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
        assert.equal(idOf("api-pipeline"), "UGlwZWxpbmUtLS0api");
        assert.equal(idOf("acme-cluster-default-cluster"), "Q2x1c3Rlci0tLTQyZjFhN2Rh");
        // terraform-provider-buildkite resource_cluster_queue.go ImportState: "<queue GraphQL id>,<cluster UUID>".
        assert.equal(
            idOf("queue-Default-cluster/default"),
            "Q2x1c3RlclF1ZXVlLS0tZGVmYXVsdA==,42f1a7da-812d-4430-93d8-1cc7c33a6bcf",
        );
        assert.equal(idOf("acme-team-platform"), "VGVhbS0tLWM1ZTA5NjE5");
        assert.equal(idOf("api-schedule-nightly"), "UGlwZWxpbmVTY2hlZHVsZS0tLXMx");
    });

    it("adopts the repository's Buildkite webhook, not the other service's beside it", () => {
        // The fake's Buildkite hook of acme/api is 2010; 1010 delivers to ci.example.com.
        assert.equal(idOf("api-webhook"), "api/2010");
        assert.equal(idOf("docs-webhook"), "docs/2030");
        // acme/lib has only the other service's hook: no webhook adopted, none declared, and the report says so.
        assert.equal(idOf("lib-webhook"), undefined);
        const lib = (config["ci-platform:pipelines"] as { slug: string; webhook: string }[]).find(
            (p) => p.slug === "lib",
        );
        assert.equal(lib?.webhook, "none");
        assert.match(reportText, /## pipeline lib\n\n(- .*\n)*- no webhook of acme\/lib delivers to this pipeline/);
    });

    it("reports what it could not express, by pipeline", () => {
        assert.match(
            reportText,
            /## pipeline web\n\n(- .*\n)*- stored steps \(3 step\(s\), 7 line\(s\) of YAML\) not expressible: it sets `env`/,
        );
        assert.match(reportText, /## pipeline old\n\n- not declared: archived/);
        assert.match(reportText, /## pipeline api\n\n(- .*\n)*- pipeline env DEPLOY_TOKEN, REGION: values not copied/);
        assert.match(reportText, /provider setting `build_pull_request_labels_changed` is not in the schema/);
        // The live hook delivers push and pull_request; the program declares its own events: said before the up.
        assert.match(
            reportText,
            /## pipeline api\n\n(- .*\n)*- its GitHub webhook \(2010\) is updated on the second `pulumi up`: events pull_request, push → /,
        );
        // The single-upload forms (a `steps:` document, a bare list of one string) are our default: not reported.
        assert.doesNotMatch(reportText, /## pipeline (api|docs)\n\n(- .*\n)*- stored steps/);
    });

    it("reads on past a repository whose hooks the token cannot list, and says so", () => {
        assert.equal(run.code, 0, run.stderr);
        const tools = (config["ci-platform:pipelines"] as { slug: string; webhook: string }[]).find(
            (p) => p.slug === "tools",
        );
        assert.equal(tools?.webhook, "none");
        assert.equal(idOf("tools-webhook"), undefined);
        assert.match(
            reportText,
            /## pipeline tools\n\n(- .*\n)*- GitHub answered 404 for the webhooks of acme\/tools \(the token cannot list them\)/,
        );
    });

    it("writes the live name even when it equals the slug, and reports a normalised repository URL", () => {
        const pipelines = config["ci-platform:pipelines"] as { slug: string; name?: string }[];
        assert.equal(pipelines.find((p) => p.slug === "tools")?.name, "tools");
        assert.match(
            reportText,
            /## pipeline docs\n\n(- .*\n)*- repository https:\/\/github\.com\/acme\/docs is declared as acme\/docs \(https\): its URL becomes https:\/\/github\.com\/acme\/docs\.git/,
        );
        assert.match(
            reportText,
            /## pipeline tools\n\n(- .*\n)*- repository ssh:\/\/git@github\.com\/acme\/tools\.git is declared/,
        );
        const ignored = (resource: string) =>
            (config["ci-platform:adopt"] as { resource: string; ignoreChanges?: string[] }[]).find(
                (a) => a.resource === resource,
            )?.ignoreChanges ?? [];
        assert.ok(ignored("docs-pipeline").includes("repository"));
        assert.ok(ignored("tools-pipeline").includes("repository"));
        assert.ok(!ignored("api-pipeline").includes("repository"));
        // "Default cluster" has a space the schema refuses: renamed, the name ignored on import, and reported.
        assert.deepEqual(ignored("acme-cluster-default-cluster"), ["name"]);
        assert.match(reportText, /## cluster Default cluster\n\n- declared as "Default-cluster"/);
    });

    it("never writes or prints a secret: no env value, no webhook URL, no token", () => {
        for (const text of [stackText, reportText, run.stdout, run.stderr]) {
            assert.doesNotMatch(text, /s3cr3t-value-never-written|never"|webhook\.buildkite\.com|deliver\/secret/);
            assert.ok(!text.includes(TOKEN) && !text.includes(GITHUB_TOKEN));
        }
    });

    it("plans: the imported objects show as imports, not creates", { timeout: 120_000 }, async () => {
        // `npm run plan`'s `main` in this process (its exit codes through a process: test/plan.test.ts).
        const json = path.join(out, "plan.json");
        const plan = await planInProcess("--config", path.join(out, "Pulumi.adopted.yaml"), "--json", json);
        assert.ok(plan.code === 0 || plan.code === 3, `plan exited ${plan.code}: ${plan.stderr}`);
        const resources = (
            JSON.parse(readFileSync(json, "utf8")) as {
                resources: { type: string; name: string; importId: string | null }[];
            }
        ).resources;
        for (const entry of adopt()) {
            const found = resources.filter((r) => r.name === entry.resource);
            assert.equal(found.length, 1, entry.resource);
            assert.equal(found[0].importId, entry.id, entry.resource);
        }
        const bk = resources.filter((r) =>
            /^buildkite:(Pipeline\/pipeline|Cluster\/cluster|Cluster\/clusterQueue|Team\/team|Pipeline\/schedule):|^github:index\/repositoryWebhook/.test(
                r.type,
            ),
        );
        assert.equal(bk.length, 13);
        assert.deepEqual(
            bk.filter((r) => r.importId === null).map((r) => r.name),
            [],
        );
        assert.match(
            plan.stdout,
            /buildkite:Pipeline\/pipeline:Pipeline {2}api-pipeline {2}\(= imported from id UGlwZWxpbmUtLS0api, not created/,
        );
    });

    it("imports match: each adopted object's planned inputs equal the live ones, but for its ignoreChanges", () => {
        // Reads the previous test's plan: the program's inputs for the importer's stack file.
        const resources = (
            JSON.parse(readFileSync(path.join(out, "plan.json"), "utf8")) as {
                resources: { name: string; inputs: Record<string, unknown> }[];
            }
        ).resources;
        const entries = config["ci-platform:adopt"] as { resource: string; ignoreChanges?: string[] }[];
        // The live value of each input the fake has, by the resource's Pulumi input names.
        const live = new Map<string, Record<string, unknown>>();
        live.set("acme-cluster-default-cluster", {
            name: liveCluster.name,
            description: liveCluster.description,
            emoji: liveCluster.emoji,
            color: liveCluster.color,
        });
        for (const q of liveQueues)
            live.set(`queue-Default-cluster/${q.key}`, { key: q.key, description: q.description ?? undefined });
        live.set("acme-team-platform", {
            name: liveTeam.name,
            privacy: liveTeam.privacy.toUpperCase(),
            defaultTeam: liveTeam.default,
            defaultMemberRole: undefined, // not in the REST API: unknown, so it must be ignored
        });
        live.set("api-schedule-nightly", {
            label: SCHEDULE.label,
            cronline: SCHEDULE.cronline,
            message: SCHEDULE.message,
            branch: SCHEDULE.branch,
            enabled: SCHEDULE.enabled,
            env: SCHEDULE.env,
        });
        for (const p of PIPELINES) {
            live.set(`${p.slug}-pipeline`, {
                name: p.name,
                slug: p.slug,
                repository: p.repository,
                defaultBranch: p.default_branch,
                skipIntermediateBuilds: p.skip_queued_branch_builds,
                cancelIntermediateBuilds: p.cancel_running_branch_builds,
                tags: p.tags ?? [],
                steps: p.configuration,
                defaultTeamId: undefined, // empty in the state after an import (see map.ts)
            });
            const hook = liveHooks(p.slug).find((h) => h.id >= 2000);
            if (hook) live.set(`${p.slug}-webhook`, { events: hook.events, active: hook.active });
        }
        let compared = 0;
        for (const entry of entries) {
            const values = live.get(entry.resource);
            assert.ok(values, `the test knows the live values of ${entry.resource}`);
            const inputs = resources.find((r) => r.name === entry.resource)?.inputs ?? {};
            for (const [key, value] of Object.entries(values)) {
                if (entry.ignoreChanges?.includes(key)) continue;
                const planned = inputs[key] ?? undefined;
                const norm = (v: unknown) => (Array.isArray(v) ? [...(v as unknown[])].map(String).sort() : v);
                assert.deepEqual(norm(planned), norm(value), `${entry.resource}.${key}`);
                compared++;
            }
        }
        assert.ok(compared > 30, `compared ${compared} inputs`);
    });
});

describe("npm run import: refusals", { timeout: 60_000 }, () => {
    it("stops with one line on a 401, naming the token variable and never the token", async () => {
        const fake = await startFakeApis();
        try {
            const out = mkdtempSync(path.join(tmpdir(), "import14-"));
            // Asynchronously: the fake answers from this process's event loop.
            const child = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
                const proc = execFile(
                    process.execPath,
                    ["--import", "tsx", "scripts/import.ts", "--org", "acme", "--out", out, "--api-url", fake.url],
                    {
                        cwd: ROOT,
                        encoding: "utf8",
                        timeout: 50_000,
                        env: { ...process.env, BUILDKITE_API_TOKEN: "wrong-token-xyz", GITHUB_TOKEN: "" },
                    },
                    (_error, _stdout, stderr) => resolve({ status: proc.exitCode, stderr }),
                );
            });
            assert.equal(child.status, 1);
            const lines = child.stderr.trim().split("\n");
            assert.equal(
                lines.at(-1),
                "import: Buildkite API: GET /v2/organizations/acme/pipelines answered 401: the token is missing, wrong or expired; check BUILDKITE_API_TOKEN",
            );
            assert.ok(!child.stderr.includes("wrong-token-xyz"));
            rmSync(out, { recursive: true, force: true });
        } finally {
            await fake.close();
        }
    });

    it("--help exits 0; no token or an unknown flag exits 2", async () => {
        const io = (env: Record<string, string>) => {
            const err: string[] = [];
            const std: string[] = [];
            return { env, stdout: (t: string) => std.push(t), stderr: (t: string) => err.push(t), err, std };
        };
        const help = io({});
        assert.equal(await runImport(["--help"], help), 0);
        assert.match(help.std.join(""), /^usage: npm run import -- --org SLUG --out DIR/);
        const noToken = io({});
        assert.equal(await runImport(["--org", "acme", "--out", "/tmp/x"], noToken), 2);
        assert.match(noToken.err.join(""), /set BUILDKITE_API_TOKEN/);
        const bad = io({ BUILDKITE_API_TOKEN: "t" });
        assert.equal(await runImport(["--org", "acme", "--outt", "x"], bad), 2);
        assert.match(bad.err.join(""), /unknown option --outt; did you mean --out\?/);
    });
});

describe("import modules", () => {
    it("nextLink reads rel=next among other relations, and nothing on the last page", () => {
        assert.equal(
            nextLink(
                '<https://api.buildkite.com/v2/x?page=3>; rel="next", <https://api.buildkite.com/v2/x?page=6>; rel="last"',
            ),
            "https://api.buildkite.com/v2/x?page=3",
        );
        assert.equal(
            nextLink('<https://api.github.com/x?page=1>; rel="prev", <https://api.github.com/x?page=1>; rel="first"'),
            undefined,
        );
        assert.equal(nextLink(null), undefined);
    });

    it("retryDelaySeconds: Retry-After (seconds or date), then RateLimit-Reset, then x-ratelimit-reset", () => {
        const now = Date.parse("2026-11-30T20:00:00Z");
        assert.equal(retryDelaySeconds(new Headers({ "Retry-After": "7", "RateLimit-Reset": "40" }), now), 7);
        assert.equal(retryDelaySeconds(new Headers({ "Retry-After": "Mon, 30 Nov 2026 20:00:30 GMT" }), now), 30);
        assert.equal(retryDelaySeconds(new Headers({ "RateLimit-Reset": "42" }), now), 42);
        // Both windows must lift: the later of the organisation's and the user's reset.
        assert.equal(retryDelaySeconds(new Headers({ "RateLimit-Reset": "5", "RateLimit-User-Reset": "50" }), now), 50);
        assert.equal(retryDelaySeconds(new Headers({ "RateLimit-Reset": "50", "RateLimit-User-Reset": "5" }), now), 50);
        assert.equal(retryDelaySeconds(new Headers({ "x-ratelimit-reset": String(now / 1000 + 12) }), now), 12);
        assert.equal(retryDelaySeconds(new Headers({}), now), undefined);
    });

    it("classifyStoredSteps: one upload in its usual forms is ours; anything else is custom", () => {
        for (const yaml of [
            'steps:\n  - command: "buildkite-agent pipeline upload"\n',
            "steps:\n  - label: ':pipeline:'\n    command: buildkite-agent pipeline upload\n",
            "steps:\n  - commands:\n      - buildkite-agent pipeline upload\n",
            "- buildkite-agent pipeline upload\n",
            "- command: buildkite-agent pipeline upload\n",
        ])
            assert.equal(classifyStoredSteps(yaml, undefined).kind, "default", yaml);
        assert.equal(
            classifyStoredSteps(null, [
                {
                    type: "script",
                    name: "x",
                    command: "buildkite-agent pipeline upload",
                    env: {},
                    agent_query_rules: [],
                },
            ]).kind,
            "default",
        );
        for (const yaml of [
            "steps:\n  - command: buildkite-agent pipeline upload .buildkite/other.yml\n",
            "env:\n  A: b\nsteps:\n  - command: buildkite-agent pipeline upload\n",
            "steps:\n  - command: buildkite-agent pipeline upload\n    agents:\n      queue: deploy\n",
            "steps:\n  - command: make test\n",
            "steps: [\n",
        ])
            assert.equal(classifyStoredSteps(yaml, undefined).kind, "custom", yaml);
        assert.equal(classifyStoredSteps("", []).kind, "none");
    });
});
