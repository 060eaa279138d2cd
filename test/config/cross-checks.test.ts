import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigIssue, formatConfigPath } from "../../components/config";
import { referenceIssues } from "../../components/config/cross-checks";
import { mustParse, validRawConfig } from "../fixtures/config";

const at = (issues: readonly ConfigIssue[]) =>
    issues.map((i) => `${formatConfigPath(i.path).replace(/^ci-platform:/, "")}: ${i.message}`);

describe("referenceIssues", () => {
    it("finds nothing in a valid config, and leaves fleets, packages and triggers to their own checks", () => {
        const config = mustParse(validRawConfig());
        assert.deepEqual(referenceIssues(config), []);
        const fleet = config.fleets[0];
        if (fleet.kind === "aws") fleet.minSize = 99;
        config.pipelines[0].triggers.push({ pipeline: "nowhere", dependsOn: [], async: false, env: {} });
        config.pipelines[4].packages[1].dependsOn = ["nothing"];
        assert.deepEqual(referenceIssues(config), []);
    });

    it("reports names declared twice, in the order of the lists", () => {
        const config = mustParse(validRawConfig());
        config.clusters.push({ ...config.clusters[0] });
        config.teams.push({ ...config.teams[1] });
        config.fleets.push({ ...config.fleets[2] });
        config.images.push({ ...config.images[0] });
        config.pipelines[1].name = "Installer";
        config.pipelines.push({ ...config.pipelines[1] });
        assert.deepEqual(at(referenceIssues(config)), [
            'clusters[2].name: duplicate cluster name "default" (first declared at index 0)',
            'teams[2].name: duplicate team name "app" (first declared at index 1)',
            'fleets[3].name: duplicate fleet name "mac-office" (first declared at index 2)',
            'images[1].name: duplicate image name "buildkite-test" (first declared at index 0)',
            'pipelines[5].slug: duplicate pipeline slug "installer" (first declared at index 1)',
            'pipelines[5].name: duplicate pipeline name "Installer" (first declared at index 1)',
        ]);
    });

    it("reports unknown clusters, unserved queues, unknown teams and secrets of unknown pipelines", () => {
        const config = mustParse(validRawConfig());
        config.fleets[2].cluster = "macoss";
        config.pipelines[1].cluster = "defualt";
        config.pipelines[2].queue = "defaultt";
        config.pipelines[0].team = "platfrom";
        config.pipelines[0].teams = [
            { team: "app", access: "READ_ONLY" },
            { team: "app", access: "READ_ONLY" },
        ];
        config.pipelines[0].schedules = [
            { label: "nightly", cronline: "@daily" },
            { label: "nightly", cronline: "@daily" },
        ] as (typeof config.pipelines)[0]["schedules"];
        config.secrets.pipelines.ap = {};
        const issues = referenceIssues(config);
        assert.deepEqual(at(issues), [
            'fleets[2].cluster: unknown cluster "macoss"; did you mean "macos"? declared clusters: default, macos',
            'pipelines[0].team: unknown team "platfrom"; did you mean "platform"? declared teams: platform, app',
            'pipelines[0].teams[1].team: duplicate team "app" (first declared at index 0)',
            'pipelines[0].schedules[1].label: duplicate schedule label "nightly" (first declared at index 0)',
            'pipelines[1].cluster: unknown cluster "defualt"; did you mean "default"? declared clusters: default, macos',
            'pipelines[2].queue: no fleet serves queue "defaultt" in cluster "default"; did you mean "default"? queues served there: default, default-eu-west-1',
            'secrets.pipelines.ap: secrets for unknown pipeline "ap"; did you mean "app"?',
        ]);
        assert.deepEqual(
            issues.map((i) => i.unknownName),
            ["macoss", "platfrom", undefined, undefined, "defualt", "defaultt", "ap"],
        );
    });
});
