import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatConfigPath, formatIssue } from "../../components/config";
import { parsePlatformConfig } from "../../components/platform-config";
import { Mutable, entry, validRawConfig } from "../fixtures/config";

/** Parses, expects failure, and returns the formatted issue lines. */
function problems(raw: Record<string, unknown>): string[] {
    const result = parsePlatformConfig(raw);
    assert.equal(result.ok, false, "expected the config to be rejected");
    return (result.error ?? []).map(formatIssue);
}

/** Asserts exactly one problem, at `path`, whose line matches `message`. */
function expectOne(raw: Record<string, unknown>, path: string, message: RegExp) {
    const lines = problems(raw);
    assert.equal(lines.length, 1, `expected one problem, got:\n${lines.join("\n")}`);
    assert.ok(lines[0].startsWith(`${path}: `), `expected path ${path} in:\n${lines[0]}`);
    assert.match(lines[0], message);
}

describe("parsePlatformConfig", () => {
    it("accepts the valid fixture and applies defaults", () => {
        const result = parsePlatformConfig(validRawConfig());
        assert.ok(result.ok, result.ok ? "" : result.error.map(formatIssue).join("\n"));
        const app = result.value.pipelines[0];
        assert.equal(app.defaultBranch, "main");
        assert.equal(app.webhook, "github");
        assert.equal(app.provider.buildPullRequests, true);
        assert.deepEqual(app.triggers[1].dependsOn, ["installer"]);
        const fleet = result.value.fleets[0];
        assert.ok(fleet.kind === "aws");
        assert.equal(fleet.spotAllocationStrategy, "price-capacity-optimized");
    });

    const cases: [string, (raw: Record<string, unknown>) => void, string, RegExp][] = [
        [
            "an unknown top-level key, with a suggestion",
            (raw) => (raw.pipelinez = []),
            "ci-platform:pipelinez",
            /unknown key "pipelinez"; did you mean "pipelines"\?/,
        ],
        [
            "an unknown key in a pipeline",
            (raw) => (entry(raw, "pipelines", 1).triggerz = []),
            "ci-platform:pipelines[1].triggerz",
            // One typo, one suggestion: not the list of every allowed key.
            /did you mean "triggers"\? Fix: rename it to "triggers", or remove it\.$/,
        ],
        [
            "a trigger naming an unknown pipeline, with the nearest slug",
            (raw) => ((entry(raw, "pipelines", 0).triggers as Mutable[])[0].pipeline = "instaler"),
            "ci-platform:pipelines[0].triggers[0].pipeline",
            /unknown pipeline "instaler"; did you mean "installer"\?.*Fix: set it to the slug/,
        ],
        [
            "a pipeline that triggers itself",
            (raw) => (entry(raw, "pipelines", 1).triggers = [{ pipeline: "installer" }]),
            "ci-platform:pipelines[1].triggers[0].pipeline",
            /pipeline "installer" triggers itself/,
        ],
        [
            "a trigger cycle across pipelines, named by its members",
            (raw) => (entry(raw, "pipelines", 2).triggers = [{ pipeline: "app" }]),
            "ci-platform:pipelines[0].triggers",
            /cycle: app -> image -> app/,
        ],
        [
            "a trigger dependsOn naming no trigger key",
            (raw) => ((entry(raw, "pipelines", 0).triggers as Mutable[])[1].dependsOn = "instaler"),
            "ci-platform:pipelines[0].triggers[1].dependsOn[0]",
            /no trigger of "app" has the key "instaler"; did you mean "installer"\?/,
        ],
        [
            "trigger dependencies in a cycle",
            (raw) =>
                (entry(raw, "pipelines", 0).triggers = [
                    { pipeline: "installer", key: "a", dependsOn: "b" },
                    { pipeline: "image", key: "b", dependsOn: "a" },
                ]),
            "ci-platform:pipelines[0].triggers",
            /trigger dependencies form a cycle: a -> b -> a/,
        ],
        [
            "an unknown cluster",
            (raw) => (entry(raw, "pipelines", 1).cluster = "defualt"),
            "ci-platform:pipelines[1].cluster",
            /unknown cluster "defualt"; did you mean "default"\?/,
        ],
        [
            "a queue no fleet serves",
            (raw) => (entry(raw, "pipelines", 1).queue = "gpu"),
            "ci-platform:pipelines[1].queue",
            /no fleet serves queue "gpu" in cluster "default".*queues served there: default/,
        ],
        [
            "an unknown team",
            (raw) => (entry(raw, "pipelines", 1).team = "platfrom"),
            "ci-platform:pipelines[1].team",
            /unknown team "platfrom"; did you mean "platform"\?/,
        ],
        [
            "duplicate pipeline slugs",
            (raw) => (entry(raw, "pipelines", 3).slug = "installer"),
            "ci-platform:pipelines[3].slug",
            /duplicate pipeline slug "installer" \(first declared at index 1\)/,
        ],
        [
            "duplicate fleet names",
            (raw) => (entry(raw, "fleets", 1).name = "linux-us-east-1"),
            "ci-platform:fleets[1].name",
            /duplicate fleet name "linux-us-east-1"/,
        ],
        [
            "a misspelt AWS region",
            (raw) => (entry(raw, "fleets", 1).region = "eu-wset-1"),
            "ci-platform:fleets[1].region",
            /"eu-wset-1" is not an AWS region name.*did you mean "eu-west-1"\?/,
        ],
        [
            "minSize above maxSize",
            (raw) => (entry(raw, "fleets", 0).minSize = 11),
            "ci-platform:fleets[0].minSize",
            /minSize 11 is above maxSize 10.*Fix: lower minSize or raise maxSize/,
        ],
        [
            "an unpinned Elastic CI Stack",
            (raw) => (raw.elasticStack = { version: "latest" }),
            "ci-platform:elasticStack.version",
            /"latest" is not a pinned release/,
        ],
        [
            "a repository that is not owner/name",
            (raw) => (entry(raw, "pipelines", 1).repository = "https://github.com/acme/installer"),
            "ci-platform:pipelines[1].repository",
            /is not a GitHub repository; write it as owner\/name/,
        ],
        [
            "an unknown image",
            (raw) => (entry(raw, "pipelines", 0).image = { name: "buildkite-tset", variant: "py3.12" }),
            "ci-platform:pipelines[0].image.name",
            /unknown image "buildkite-tset"; did you mean "buildkite-test"\?/,
        ],
        [
            "an unknown image variant",
            (raw) => (entry(raw, "pipelines", 0).image = { name: "buildkite-test", variant: "py3.9" }),
            "ci-platform:pipelines[0].image.variant",
            /image "buildkite-test" has no variant "py3.9".*its variants: py3.11, py3.12/,
        ],
        [
            "a package depending on an unknown package",
            (raw) => ((entry(raw, "pipelines", 4).packages as Mutable[])[1].dependsOn = ["cor"]),
            "ci-platform:pipelines[4].packages[1].dependsOn[0]",
            /unknown package "cor"; did you mean "core"\?/,
        ],
        [
            "packages depending on each other in a cycle",
            (raw) => ((entry(raw, "pipelines", 4).packages as Mutable[])[0].dependsOn = ["api"]),
            "ci-platform:pipelines[4].packages",
            /package dependencies form a cycle: api -> core -> api/,
        ],
        [
            "duplicate package names",
            (raw) => (entry(raw, "pipelines", 4).packages as Mutable[]).push({ name: "core", path: "libs/core2" }),
            "ci-platform:pipelines[4].packages[2].name",
            /duplicate package name "core"/,
        ],
        [
            "secrets for an unknown pipeline",
            (raw) => ((raw.secrets as Mutable).pipelines = { ap: { env: { A: "b" } } }),
            "ci-platform:secrets.pipelines.ap",
            /secrets for unknown pipeline "ap"; did you mean "app"\?/,
        ],
        [
            "an unknown webhook kind",
            (raw) => (entry(raw, "pipelines", 1).webhook = "gitlab"),
            "ci-platform:pipelines[1].webhook",
            /Fix: use one of: github, github-app, none/,
        ],
        ["a missing organization", (raw) => delete raw.organization, "ci-platform:organization", /is required/],
        [
            "an on-demand percentage above 100",
            (raw) => (entry(raw, "fleets", 0).onDemandPercentage = 150),
            "ci-platform:fleets[0].onDemandPercentage",
            /100/,
        ],
        [
            "an unknown fleet kind",
            (raw) => (entry(raw, "fleets", 2).kind = "gcp"),
            "ci-platform:fleets[2].kind",
            /kind must be "aws" or "static"/,
        ],
        [
            "an AWS fleet without instance types",
            (raw) => (entry(raw, "fleets", 0).instanceTypes = []),
            "ci-platform:fleets[0].instanceTypes",
            /at least one instance type/,
        ],
        [
            "a fleet in an unknown cluster",
            (raw) => (entry(raw, "fleets", 2).cluster = "mac"),
            "ci-platform:fleets[2].cluster",
            /unknown cluster "mac"/,
        ],
        [
            "an invalid environment variable name",
            (raw) => (entry(raw, "pipelines", 1).env = { "NOT-VALID": "x" }),
            'ci-platform:pipelines[1].env["NOT-VALID"]',
            /environment variable names are letters, digits and _/,
        ],
        [
            "two AWS fleets serving one queue, in one region",
            (raw) => Object.assign(entry(raw, "fleets", 1), { queue: "default", region: "us-east-1" }),
            "ci-platform:fleets[1].queue",
            /already served by AWS fleet "linux-us-east-1" in us-east-1; each fleet's scaler sizes itself to the whole queue's backlog/,
        ],
        [
            "two AWS fleets serving one queue, in two regions (each would scale to the whole backlog)",
            (raw) => (entry(raw, "fleets", 1).queue = "default"),
            "ci-platform:fleets[1].queue",
            /already served by AWS fleet "linux-us-east-1" in us-east-1/,
        ],
    ];
    for (const [what, mutate, path, message] of cases) {
        it(`rejects ${what}`, () => {
            const raw = validRawConfig();
            mutate(raw);
            expectOne(raw, path, message);
        });
    }

    it("reports every problem at once, schema and cross-reference alike", () => {
        const raw = validRawConfig();
        raw.elasticStack = { version: "main" };
        entry(raw, "fleets", 0).minSize = 99;
        entry(raw, "pipelines", 1).cluster = "nope";
        const lines = problems(raw);
        assert.equal(lines.length, 3, lines.join("\n"));
        assert.ok(lines.some((l) => l.startsWith("ci-platform:elasticStack.version")));
        assert.ok(lines.some((l) => l.startsWith("ci-platform:fleets[0].minSize")));
        assert.ok(lines.some((l) => l.startsWith("ci-platform:pipelines[1].cluster")));
    });

    it("does not report references to an entry that itself failed to parse", () => {
        const raw = validRawConfig();
        entry(raw, "pipelines", 1).webhook = "gitlab"; // pipeline "installer" is invalid...
        const lines = problems(raw); // ...so "app" triggering "installer" is not also reported as unknown
        assert.deepEqual(
            lines.map((l) => l.split(": ")[0]),
            ["ci-platform:pipelines[1].webhook"],
        );
    });

    it("rejects a cluster whose AWS fleets' secrets bucket S3 could not name, once per region and cluster", () => {
        const raw = validRawConfig();
        (raw.clusters as { name: string }[]).push(
            { name: "Big_Cluster" },
            { name: "a-very-long-cluster-name-for-the-bucket-here" },
        );
        entry(raw, "fleets", 0).cluster = "Big_Cluster";
        entry(raw, "fleets", 1).cluster = "a-very-long-cluster-name-for-the-bucket-here";
        const lines = problems(raw).filter((l) => /secrets bucket/.test(l));
        assert.equal(lines.length, 2, lines.join("\n"));
        assert.match(
            lines[0],
            /^ci-platform:fleets\[0\]\.cluster: .*secrets-Big_Cluster-us-east-1-bucket-…, but S3 bucket names are lowercase/,
        );
        assert.match(lines[1], /^ci-platform:fleets\[1\]\.cluster: .*over S3's 63/);
        // The home cluster keeps its names; a short lowercase cluster is fine.
        entry(raw, "fleets", 0).cluster = "default";
        (raw.clusters as { name: string }[]).push({ name: "deploy" });
        entry(raw, "fleets", 1).cluster = "deploy";
        const result = parsePlatformConfig(raw);
        const after = result.ok ? [] : result.error.map(formatIssue);
        assert.deepEqual(
            after.filter((l) => /secrets bucket/.test(l)),
            [],
        );
    });

    it("never echoes a secret value in a problem", () => {
        const raw = validRawConfig();
        raw.secrets = { pipelines: { app: { env: { TOKEN: 12345678 }, privateSshKey: ["SENTINEL-KEY-42"] } } };
        const text = problems(raw).join("\n");
        assert.match(text, /ci-platform:secrets\.pipelines\.app\.env\.TOKEN/);
        assert.doesNotMatch(text, /12345678|SENTINEL-KEY-42/);
    });
});

describe("formatConfigPath", () => {
    it("writes indices in brackets and odd keys quoted", () => {
        assert.equal(
            formatConfigPath(["pipelines", 2, "triggers", 0, "pipeline"]),
            "ci-platform:pipelines[2].triggers[0].pipeline",
        );
        assert.equal(formatConfigPath(["secrets", "pipelines", "my-app"]), 'ci-platform:secrets.pipelines["my-app"]');
    });
});
