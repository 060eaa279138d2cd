import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse, stringify } from "yaml";
import {
    Push,
    SimulationError,
    evaluateConditional,
    interpolate,
    interpolateAtBuildCreation,
    simulate,
} from "../../components/simulator";
import { buildFacts } from "../fixtures/simulator";
import { ApiBuild, releaseCheckHolds } from "../../components/simulator";
import { TRIGGERED_IF, releaseCheckScript } from "../../components/steps/pipeline-steps";
import { mustParse, validRawConfig } from "../fixtures/config";

describe("simulator: the conditionals of the generated steps (buildkite docs, conditionals)", () => {
    it("checks triggered builds for a release whatever their env says: no conditional reads a release flag", () => {
        for (const env of [{}, { CI_PLATFORM_RELEASE: "true" }, { CI_PLATFORM_RELEASE: "false" }] as Record<
            string,
            string
        >[])
            assert.equal(evaluateConditional(TRIGGERED_IF, buildFacts({ source: "trigger_job", env })), true);
        assert.equal(evaluateConditional(TRIGGERED_IF, buildFacts({ env: { CI_PLATFORM_RELEASE: "true" } })), false);
    });

    it("models the release check on its facts: source pipeline and repository, artifacts build, tag at commit", () => {
        const script = releaseCheckScript(
            [
                { pipeline: "parent", parent: "parent", repository: "o/parent", publicRepository: true },
                { pipeline: "sibling", parent: "parent", repository: "o/parent", publicRepository: true },
            ],
            { organization: "o" },
        );
        // The REST API's view: build 1 of parent is the tag's build; build 2 of sibling was triggered by it.
        const tagBuild: ApiBuild = {
            id: "b1",
            commit: "abc",
            branch: "v1",
            source: "webhook",
            pullRequest: null,
            triggeredFrom: null,
        };
        const siblingBuild: ApiBuild = {
            id: "b2",
            commit: "fff",
            branch: "main",
            source: "trigger_job",
            pullRequest: null,
            triggeredFrom: { pipeline: "parent", number: 1, id: "b1" },
        };
        const api =
            (over: Partial<ApiBuild> = {}) =>
            (pipeline: string, number: string) =>
                pipeline === "parent" && number === "1"
                    ? { ...tagBuild, ...over }
                    : pipeline === "sibling" && number === "2"
                      ? siblingBuild
                      : undefined;
        const tags = new Map([["https://github.com/o/parent.git", new Map([["v1", "abc"]])]]);
        const real = {
            BUILDKITE_TRIGGERED_FROM_BUILD_PIPELINE_SLUG: "parent",
            BUILDKITE_TRIGGERED_FROM_BUILD_ID: "b1",
            CI_PLATFORM_ARTIFACTS_BUILD_ID: "b1",
            CI_PLATFORM_PARENT_REPOSITORY: "o/parent",
            CI_PLATFORM_PARENT_TAG: "v1",
            CI_PLATFORM_PARENT_COMMIT: "abc",
            BUILDKITE_TRIGGERED_FROM_BUILD_NUMBER: "1",
            CI_PLATFORM_RELEASE: "false",
        };
        const chained = {
            ...real,
            BUILDKITE_TRIGGERED_FROM_BUILD_PIPELINE_SLUG: "sibling",
            BUILDKITE_TRIGGERED_FROM_BUILD_ID: "b2",
            BUILDKITE_TRIGGERED_FROM_BUILD_NUMBER: "2",
            CI_PLATFORM_ARTIFACTS_BUILD_ID: "b2",
        };
        assert.equal(releaseCheckHolds(script, real, tags, api()).holds, true);
        assert.equal(releaseCheckHolds(script, chained, tags, api()).holds, true);
        // The triggering build as the API tells it: a pull request's, another commit, another branch, unknown.
        for (const over of [{ pullRequest: "12" }, { commit: "def" }, { branch: "main" }, { id: "b7" }])
            for (const env of [real, chained])
                assert.equal(releaseCheckHolds(script, env, tags, api(over)).holds, false, JSON.stringify(over));
        assert.equal(releaseCheckHolds(script, real, tags).holds, false, "no API answer: not a release");
        for (const forged of [
            { BUILDKITE_TRIGGERED_FROM_BUILD_PIPELINE_SLUG: "other" },
            { CI_PLATFORM_PARENT_REPOSITORY: "o/other" },
            { CI_PLATFORM_ARTIFACTS_BUILD_ID: "b9" },
            { CI_PLATFORM_PARENT_TAG: "v2" },
            { CI_PLATFORM_PARENT_COMMIT: "def" },
        ])
            assert.equal(
                releaseCheckHolds(script, { ...real, ...forged, CI_PLATFORM_RELEASE: "true" }, tags, api()).holds,
                false,
                JSON.stringify(forged),
            );
    });
});

describe("simulator: pipeline upload interpolation (agent v3.137.0, buildkite/interpolate)", () => {
    it("expands $VAR, ${VAR}, ${VAR:-default}, and keeps $$ as a literal $", () => {
        const env = { A: "1", EMPTY: "" };
        assert.equal(interpolate("$A ${A} ${EMPTY:-d} ${UNSET:-x} $UNSET.", env), "1 1 d x .");
        assert.equal(interpolate("$${CI_PLATFORM_ECR_REGISTRY}/img $$A", env), "${CI_PLATFORM_ECR_REGISTRY}/img $A");
    });
});

describe("simulator: build-creation interpolation of stored steps (buildkite docs, environment variables)", () => {
    it("knows only the documented variables, empties the others, and halves $$", () => {
        const yaml = [
            "steps:",
            "  - command: 'echo $BUILDKITE_BRANCH $BUILDKITE_BUILD_ID $$BUILDKITE_BUILD_ID $$$$X'",
            "    env: { Y: '${CI_PLATFORM_ECR_REGISTRY}/img' }",
        ].join("\n");
        const env = { BUILDKITE_BRANCH: "main", BUILDKITE_BUILD_ID: "b1", CI_PLATFORM_ECR_REGISTRY: "r" };
        assert.deepEqual(parse(interpolateAtBuildCreation(yaml, env)), {
            steps: [{ command: "echo main  $BUILDKITE_BUILD_ID $$X", env: { Y: "/img" } }],
        });
    });

    it("makes an unescaped stored upload step upload nothing, and an escaped one upload its document", () => {
        const config = mustParse(validRawConfig());
        const slug = config.pipelines[0].slug;
        const step = (dollar: string) =>
            stringify({
                steps: [
                    {
                        key: "up",
                        agents: { queue: "default" },
                        commands: [
                            `printf '%s\\n' "${dollar}CI_PLATFORM_PIPELINE_YAML" | buildkite-agent pipeline upload`,
                        ],
                        env: {
                            CI_PLATFORM_PIPELINE_YAML:
                                "steps: [{ key: inner, command: x, agents: { queue: default } }]",
                        },
                    },
                ],
            });
        const keys = (dollar: string) =>
            simulate({
                config,
                stored: { [slug]: step(dollar) },
                push: { pipeline: slug, branch: "main" },
            }).builds[0].jobs.map((j) => j.key);
        assert.deepEqual(keys("$$"), ["up", "inner"]);
        assert.deepEqual(keys("$"), ["up"]);
    });
});

describe("simulator: builds of a small config", () => {
    const config = mustParse(validRawConfig());
    const doc = (yaml: string) => ({ [config.pipelines[0].slug]: yaml });
    const slug = config.pipelines[0].slug;

    it("applies a step branch filter, and reports a dependency on a step that does not exist", () => {
        const stored = doc(
            [
                "steps:",
                "  - { key: a, command: x, agents: { queue: default }, branches: 'release/*' }",
                "  - { key: b, command: y, agents: { queue: default }, depends_on: nope }",
            ].join("\n"),
        );
        const sim = simulate({ config, stored, push: { pipeline: slug, branch: "main" } });
        const [a, b] = sim.builds[0].jobs;
        assert.equal(a.runs, false);
        assert.match(a.reason ?? "", /^branches: "release\/\*" does not match main/);
        assert.equal(b.runs, true);
        assert.equal(sim.problems.length, 1);
        assert.match(sim.problems[0], /depends on "nope", which does not exist/);
    });

    it("refuses an unknown pipeline, a push that is two things at once, and YAML without steps", () => {
        assert.throws(() => simulate({ config, stored: {}, push: { pipeline: "nope" } }), /no pipeline "nope"/);
        assert.throws(
            () => simulate({ config, stored: doc("steps: []"), push: { pipeline: slug, branch: "a", tag: "b" } }),
            SimulationError,
        );
        assert.throws(() => simulate({ config, stored: doc("env: {}"), push: { pipeline: slug } }), /steps list/);
    });
});

describe("simulator: queues, secrets and pull requests", () => {
    const raw = validRawConfig();
    (raw.fleets as Record<string, unknown>[]).push({
        name: "signing-box",
        kind: "static",
        cluster: "default",
        queue: "signing",
        providesSecrets: ["SIGNING_PASSWORD"],
    });
    const config = mustParse(raw);
    const slug = "app"; // cluster default, queue default; secrets: TOKEN, and the organisation's git-credentials
    const jobsOf = (yaml: string, push: Partial<Push> = {}) => {
        const sim = simulate({ config, stored: { [slug]: yaml }, push: { pipeline: slug, ...push } });
        return { sim, jobs: new Map(sim.builds[0].jobs.map((j) => [j.key, j])) };
    };

    it("looks secrets up by the job's own queue, and sends a job without a queue nowhere", () => {
        const { sim, jobs } = jobsOf(
            [
                "steps:",
                "  - { key: sign, command: x, agents: { queue: signing } }",
                "  - { key: plain, command: y, agents: { queue: default } }",
                "  - { key: lost, command: z }",
            ].join("\n"),
        );
        assert.ok(jobs.get("sign")?.secrets.includes("SIGNING_PASSWORD"));
        assert.ok(!jobs.get("plain")?.secrets.includes("SIGNING_PASSWORD"));
        assert.deepEqual(jobs.get("lost")?.fleets, []);
        assert.deepEqual(sim.problems.length, 1);
        assert.match(sim.problems[0], /step lost has no queue: .*default queue, which the config does not declare/);
    });

    it("reports for a containerised job only the secrets the docker plugin's environment passes in", () => {
        const docker = (key: string, environment: string) =>
            `  - { key: ${key}, command: x, agents: { queue: default }, plugins: [{ "docker#v5.13.0": { image: "img", propagate-environment: true${environment} } }] }`;
        const { jobs } = jobsOf(["steps:", docker("bare", ""), docker("named", ", environment: [TOKEN]")].join("\n"));
        assert.deepEqual(jobs.get("bare")?.secrets, []);
        assert.deepEqual(jobs.get("named")?.secrets, ["TOKEN"]);
        const { jobs: host } = jobsOf("steps:\n  - { key: h, command: x, agents: { queue: default } }");
        assert.deepEqual(host.get("h")?.secrets, ["TOKEN", "git-credentials"]);
    });

    it("builds a pull request on its head branch when given", () => {
        const yaml = "steps:\n  - { key: a, command: x, agents: { queue: default } }";
        assert.equal(jobsOf(yaml, { pr: 7, branch: "feature/x" }).sim.builds[0].branch, "feature/x");
        assert.equal(jobsOf(yaml, { pr: 7 }).sim.builds[0].branch, "pr-7");
        assert.throws(() => jobsOf(yaml, { pr: 7, tag: "v1" }), SimulationError);
    });
});
