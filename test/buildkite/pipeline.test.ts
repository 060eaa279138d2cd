import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { parse } from "yaml";
import { BuildkitePipeline, pipelineInputs } from "../../components/buildkite";
import { PipelineConfig } from "../../components/config";
import { parsePlatformConfig } from "../../components/platform-config";
import { captureStack } from "../../scripts/plan/capture";
import { TEST_STACK } from "../fixtures/plan";
import { PlanResource, SECRET } from "../../scripts/plan/model";
import { validRawConfig } from "../fixtures/config";

let resources: PlanResource[] = [];
let pipelines: PipelineConfig[] = [];

const find = (type: string, name: string) => {
    const found = resources.find((r) => r.type === type && r.name === name);
    assert.ok(found, `no ${type} named ${name}; have:\n${resources.map((r) => `${r.type} ${r.name}`).join("\n")}`);
    return found;
};
const named = (suffix: string) => resources.filter((r) => r.name.endsWith(suffix));

before(async () => {
    const parsed = parsePlatformConfig(validRawConfig());
    assert.ok(parsed.ok);
    pipelines = parsed.value.pipelines;
    pipelines[1].schedules = [
        { label: "Nightly build!", cronline: "0 2 * * *", env: {}, enabled: true },
        { label: "Weekly", cronline: "0 3 * * 0", env: { FULL: "1" }, enabled: true },
    ];
    pipelines[3].renamedFrom = ["mac-application"];
    pipelines[1].teams = [{ team: "platform", access: "BUILD_AND_READ" }];
    pipelines[2].webhook = "none";
    pipelines[4].checkout = "ssh";
    ({ resources } = await captureStack({
        ...TEST_STACK,
        run: () => {
            for (const pipeline of pipelines)
                new BuildkitePipeline(pipeline.slug, {
                    pipeline,
                    clusterId: `cluster-${pipeline.cluster}`,
                    defaultTeamId: "team-app",
                    teamIds: { platform: "team-platform", app: "team-app" },
                    steps: `steps:\n  - command: buildkite-agent pipeline upload\n    agents: { queue: ${pipeline.queue} }\n`,
                });
        },
    }));
});

describe("BuildkitePipeline", () => {
    it("creates the pipeline in its cluster with its default team, repository and steps", () => {
        const p = find("buildkite:Pipeline/pipeline:Pipeline", "app-pipeline");
        assert.equal(p.inputs.clusterId, "cluster-default");
        assert.equal(p.inputs.defaultTeamId, "team-app");
        assert.equal(p.inputs.repository, "https://github.com/acme/app.git");
        assert.equal(p.inputs.slug, "app");
        assert.equal(p.inputs.name, "App");
        assert.equal(p.inputs.defaultBranch, "main");
        const steps = parse(String(p.inputs.steps)) as { steps: { command: string; agents: { queue: string } }[] };
        assert.equal(steps.steps[0].command, "buildkite-agent pipeline upload");
        assert.equal(steps.steps[0].agents.queue, "default");
        assert.equal(
            find("buildkite:Pipeline/pipeline:Pipeline", "mac-app-pipeline").inputs.clusterId,
            "cluster-macos",
        );
    });

    it("checks out over HTTPS by default and over SSH when the pipeline says so", () => {
        // Which credential a clone uses follows from this URL's scheme: the secrets hooks' git-credentials serve
        // HTTPS remotes only, their ssh-agent key SSH remotes only.
        assert.equal(
            find("buildkite:Pipeline/pipeline:Pipeline", "image-pipeline").inputs.repository,
            "https://github.com/acme/image.git",
        );
        assert.equal(
            find("buildkite:Pipeline/pipeline:Pipeline", "mono-pipeline").inputs.repository,
            "git@github.com:other-org/mono.git",
        );
    });

    it("tags a public repository's pipeline so the policy pack knows its HTTPS checkout needs no credentials", () => {
        assert.deepEqual(find("buildkite:Pipeline/pipeline:Pipeline", "mac-app-pipeline").inputs.tags, [
            "repo:acme/mac-app",
            "public-repository",
        ]);
        assert.deepEqual(find("buildkite:Pipeline/pipeline:Pipeline", "app-pipeline").inputs.tags, ["repo:acme/app"]);
    });

    it("sets GitHub provider settings with sensible defaults", () => {
        const settings = find("buildkite:Pipeline/pipeline:Pipeline", "app-pipeline").inputs.providerSettings as Record<
            string,
            unknown
        >;
        assert.equal(settings.buildPullRequests, true);
        assert.equal(settings.buildPullRequestForks, false);
        assert.equal(settings.skipBuildsForExistingCommits, true);
        assert.equal(settings.publishCommitStatus, true);
        assert.equal(settings.triggerMode, "code");
    });

    it("adds a GitHub repository webhook with json, TLS verification, the four events and a secret URL", () => {
        const hook = find("github:index/repositoryWebhook:RepositoryWebhook", "app-webhook");
        assert.equal(hook.inputs.repository, "app");
        assert.deepEqual(hook.inputs.events, ["push", "pull_request", "deployment", "merge_group"]);
        const configuration = hook.inputs.configuration as Record<string, unknown>;
        assert.equal(configuration.contentType, "json");
        assert.equal(configuration.insecureSsl, false);
        assert.equal(configuration.url, SECRET);
        assert.ok(hook.dependsOn.includes(find("buildkite:Pipeline/pipeline:Pipeline", "app-pipeline").urn));
        assert.match(hook.parent ?? "", /ci-platform:buildkite:Pipeline::app$/);
    });

    it("uses the provider's pipeline webhook for the GitHub App, and none when asked", () => {
        const app = find("buildkite:Pipeline/webhook:Webhook", "mac-app-webhook");
        assert.equal(app.inputs.repository, "https://github.com/acme/mac-app.git");
        assert.equal(named("mac-app-webhook").length, 1);
        assert.equal(named("image-webhook").length, 0);
    });

    it("sends a schedule's env only when it has variables (the provider reads none back as null)", () => {
        const empty = find("buildkite:Pipeline/schedule:Schedule", "installer-schedule-nightly-build");
        assert.ok(!("env" in empty.inputs), JSON.stringify(empty.inputs));
        const weekly = find("buildkite:Pipeline/schedule:Schedule", "installer-schedule-weekly");
        assert.deepEqual(weekly.inputs.env, { FULL: "1" });
    });

    it("protects the pipeline (archived on delete by the provider), not its team access, schedules or webhook", () => {
        for (const p of resources.filter((r) => r.type === "buildkite:Pipeline/pipeline:Pipeline"))
            assert.equal(p.protect, true, p.name);
        for (const r of resources.filter((r) => /^(buildkite:Pipeline\/(team|schedule|webhook)|github:)/.test(r.type)))
            assert.equal(r.protect, false, r.name);
    });

    it("aliases a renamed pipeline and each child to its earlier slug, under the component's old URN", () => {
        const base = "urn:pulumi:test::ci-platform::ci-platform:buildkite:Pipeline";
        assert.deepEqual(find("ci-platform:buildkite:Pipeline", "mac-app").aliases, [`${base}::mac-application`]);
        assert.deepEqual(find("buildkite:Pipeline/pipeline:Pipeline", "mac-app-pipeline").aliases, [
            `${base}$buildkite:Pipeline/pipeline:Pipeline::mac-application-pipeline`,
        ]);
        const webhook = resources.find((r) => r.name === "mac-app-webhook");
        assert.ok(webhook);
        assert.ok(webhook.aliases.includes(`${base}$${webhook.type}::mac-application-webhook`), webhook.aliases.join());
        assert.deepEqual(find("buildkite:Pipeline/pipeline:Pipeline", "app-pipeline").aliases, []);
    });

    it("names schedules and team access after stable keys", () => {
        const schedule = find("buildkite:Pipeline/schedule:Schedule", "installer-schedule-nightly-build");
        assert.equal(schedule.inputs.cronline, "0 2 * * *");
        assert.equal(schedule.inputs.branch, "main");
        const team = find("buildkite:Pipeline/team:Team", "installer-team-platform");
        assert.equal(team.inputs.teamId, "team-platform");
        assert.equal(team.inputs.accessLevel, "BUILD_AND_READ");
    });

    it("registers every child under its component", () => {
        const component = find("ci-platform:buildkite:Pipeline", "app");
        for (const r of resources.filter((x) => x.name.startsWith("app-"))) assert.equal(r.parent, component.urn);
    });
});

describe("intermediate builds (buildkite docs canceling_builds.md, skipping.md)", () => {
    const inputsOf = (raw: ReturnType<typeof validRawConfig>) => {
        const parsed = parsePlatformConfig(raw);
        assert.ok(parsed.ok);
        return Object.fromEntries(parsed.value.pipelines.map((p) => [p.slug, pipelineInputs(p)]));
    };

    it("turns skipping and cancelling off for a trigger target, on elsewhere, unless the config says", () => {
        const raw = validRawConfig();
        const inputs = inputsOf(raw);
        // `app` triggers `installer` and `image`: a newer `app` build must not cancel their running builds.
        for (const slug of ["installer", "image"]) {
            assert.equal(inputs[slug].skipIntermediateBuilds, false, slug);
            assert.equal(inputs[slug].cancelIntermediateBuilds, false, slug);
        }
        assert.equal(inputs.app.skipIntermediateBuilds, true);
        assert.equal(inputs.app.cancelIntermediateBuilds, true);

        const pipelinesRaw = raw.pipelines as Record<string, unknown>[];
        const installer = pipelinesRaw.find((p) => p.slug === "installer") as Record<string, unknown>;
        installer.cancelIntermediateBuilds = true;
        (pipelinesRaw.find((p) => p.slug === "app") as Record<string, unknown>).skipIntermediateBuilds = false;
        const told = inputsOf(raw);
        assert.equal(told.installer.cancelIntermediateBuilds, true);
        assert.equal(told.installer.skipIntermediateBuilds, false);
        assert.equal(told.app.skipIntermediateBuilds, false);
    });
});
