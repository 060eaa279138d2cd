import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    ConfigError,
    ConfigIssue,
    checkStackFile,
    cronLineProblem,
    formatIssue,
    secretKeyIssues,
} from "../../components/config";
import { loadStackConfig, parsePlatformConfig } from "../../components/platform-config";
import { Mutable, entry, validRawConfig } from "../fixtures/config";

/*
 * Issue 12, "Bad input": every config a fuzzer got through, or that crashed the program, and their neighbours.
 * Each case mutates the valid fixture and expects the config refused (the plan's exit 2) with a problem at the named
 * `ci-platform:` path that says how to fix it.
 */

type Raw = Record<string, unknown>;
const pipeline = (raw: Raw, i: number) => entry(raw, "pipelines", i);
const fleet = (raw: Raw, i: number) => entry(raw, "fleets", i);

/** Parses, expects refusal, returns the formatted lines. */
function refused(raw: Raw): string[] {
    const result = parsePlatformConfig(raw);
    assert.equal(result.ok, false, "expected the config to be refused");
    return (result.error ?? []).map(formatIssue);
}

/** Asserts a problem at exactly `path` that matches `message` and carries a fix. */
function expectProblem(lines: readonly string[], path: string, message: RegExp): void {
    const at = lines.filter((l) => l.startsWith(`${path}: `));
    assert.ok(at.length > 0, `expected a problem at ${path}, got:\n${lines.join("\n")}`);
    const line = at.find((l) => message.test(l));
    assert.ok(line, `expected ${message} at ${path}, got:\n${at.join("\n")}`);
    assert.match(line, / Fix: \S/, `expected a fix in: ${line}`);
}

const cases: [string, (raw: Raw) => void, string, RegExp][] = [
    // Non-string scalars are not coerced into names.
    [
        "a number as a cluster name",
        (raw) => ((raw.clusters as Mutable[])[0].name = 7),
        "ci-platform:clusters[0].name",
        /expected a cluster name/,
    ],
    [
        "a number as a team name",
        (raw) => ((raw.teams as Mutable[])[0].name = 42),
        "ci-platform:teams[0].name",
        /expected a team name/,
    ],
    [
        "a boolean as a pipeline slug",
        (raw) => (pipeline(raw, 1).slug = true),
        "ci-platform:pipelines[1].slug",
        /expected a pipeline slug/,
    ],
    [
        "a number as an image variant",
        (raw) => ((raw.images as Mutable[])[0].variants = [3.1]),
        "ci-platform:images[0].variants[0]",
        /expected a variant/,
    ],
    [
        "a number as a pipeline's queue",
        (raw) => (pipeline(raw, 0).queue = 5),
        "ci-platform:pipelines[0].queue",
        /expected a queue key/,
    ],
    [
        "a number as a fleet's cluster",
        (raw) => (fleet(raw, 0).cluster = 1),
        "ci-platform:fleets[0].cluster",
        /expected a cluster name/,
    ],
    [
        "a number as a tag value",
        (raw) => (raw.tags = { CostCenter: 1234 }),
        "ci-platform:tags.CostCenter",
        /tag values are strings/,
    ],
    [
        "a number as an env value",
        (raw) => (pipeline(raw, 0).env = { PORT: 8080 }),
        "ci-platform:pipelines[0].env.PORT",
        /environment values are strings/,
    ],
    [
        "a string as maxSize",
        (raw) => (fleet(raw, 0).maxSize = "10"),
        "ci-platform:fleets[0].maxSize",
        /expected a number, not the text "10"/,
    ],
    // Numbers have an upper bound.
    [
        "maxSize above 1000",
        (raw) => (fleet(raw, 0).maxSize = 1_000_000),
        "ci-platform:fleets[0].maxSize",
        /is 1000000; must be at most 1000/,
    ],
    [
        "minSize above 1000",
        (raw) => (fleet(raw, 0).minSize = 5000),
        "ci-platform:fleets[0].minSize",
        /is 5000; must be at most 1000/,
    ],
    [
        "agentsPerInstance above 64",
        (raw) => (fleet(raw, 0).agentsPerInstance = 1000),
        "ci-platform:fleets[0].agentsPerInstance",
        /is 1000; must be at most 64/,
    ],
    [
        "onDemandPercentage above 100",
        (raw) => (fleet(raw, 0).onDemandPercentage = 101),
        "ci-platform:fleets[0].onDemandPercentage",
        /is 101; must be at most 100/,
    ],
    [
        "a fractional maxSize",
        (raw) => (fleet(raw, 0).maxSize = 2.5),
        "ci-platform:fleets[0].maxSize",
        /expected a whole number/,
    ],
    [
        "logRetentionDays above 3653",
        (raw) => (fleet(raw, 0).logRetentionDays = 100000),
        "ci-platform:fleets[0].logRetentionDays",
        /is 100000; must be at most 3653/,
    ],
    [
        "rootVolumeSizeGb above 16384",
        (raw) => (fleet(raw, 0).rootVolumeSizeGb = 20000),
        "ci-platform:fleets[0].rootVolumeSizeGb",
        /is 20000; must be at most 16384/,
    ],
    [
        "keepVersions above 1000",
        (raw) => ((raw.images as Mutable[])[0].keepVersions = 1e9),
        "ci-platform:images[0].keepVersions",
        /is 1000000000; must be at most 1000/,
    ],
    ["an infinite maxSize", (raw) => (fleet(raw, 0).maxSize = Infinity), "ci-platform:fleets[0].maxSize", /number/],
    [
        "an Elastic CI Stack version with an absurd number",
        (raw) => (raw.elasticStack = { version: "v6.71.100000" }),
        "ci-platform:elasticStack.version",
        /not a pinned release/,
    ],
    // Names.
    [
        "a pipeline slug over 100 characters",
        (raw) => (pipeline(raw, 1).slug = "a".repeat(101)),
        "ci-platform:pipelines[1].slug",
        /at most 100/,
    ],
    [
        "a pipeline slug with capitals",
        (raw) => (pipeline(raw, 1).slug = "Installer"),
        "ci-platform:pipelines[1].slug",
        /lowercase/,
    ],
    [
        "a cluster name over 63 characters",
        (raw) => ((raw.clusters as Mutable[])[1].name = "m".repeat(64)),
        "ci-platform:clusters[1].name",
        /at most 63/,
    ],
    [
        "a queue key with a space",
        (raw) => (pipeline(raw, 0).queue = "my queue"),
        "ci-platform:pipelines[0].queue",
        /letters, digits, '-' and '_'/,
    ],
    [
        "an image name ECR refuses (double dash)",
        (raw) => ((raw.images as Mutable[])[0].name = "build--test"),
        "ci-platform:images[0].name",
        /ECR repository name/,
    ],
    [
        "an image name ending in a dash",
        (raw) => ((raw.images as Mutable[])[0].name = "buildkite-"),
        "ci-platform:images[0].name",
        /ECR repository name/,
    ],
    [
        "a variant too long for an image tag",
        (raw) => ((raw.images as Mutable[])[0].variants = ["v".repeat(65)]),
        "ci-platform:images[0].variants[0]",
        /at most 64/,
    ],
    [
        "a team name with a newline",
        (raw) => ((raw.teams as Mutable[])[1].name = "app\nadmins"),
        "ci-platform:teams[1].name",
        /control characters/,
    ],
    [
        "an env var name starting with a digit",
        (raw) => (pipeline(raw, 0).env = { "1TOKEN": "x" }),
        'ci-platform:pipelines[0].env["1TOKEN"]',
        /letters, digits and _/,
    ],
    [
        "a GitHub owner ending in a hyphen",
        (raw) => (raw.github = { owner: "acme-" }),
        "ci-platform:github.owner",
        /1-39 letters/,
    ],
    [
        "a GitHub owner over 39 characters",
        (raw) => (raw.github = { owner: "a".repeat(40) }),
        "ci-platform:github.owner",
        /1-39 letters/,
    ],
    [
        "a trigger naming a pipeline by a number",
        (raw) => ((pipeline(raw, 0).triggers as Mutable[])[0].pipeline = 3),
        "ci-platform:pipelines[0].triggers[0].pipeline",
        /expected a pipeline slug/,
    ],
    [
        "secrets for a slug Buildkite cannot have",
        (raw) => ((raw.secrets as Mutable).pipelines = { "App Server": { env: { A: "x" } } }),
        'ci-platform:secrets.pipelines["App Server"]',
        /invalid key/,
    ],
    // Paths.
    [
        "a repository with a .. name",
        (raw) => (pipeline(raw, 1).repository = "acme/.."),
        "ci-platform:pipelines[1].repository",
        /not a GitHub repository/,
    ],
    [
        "a repository with a path beyond owner/name",
        (raw) => (pipeline(raw, 1).repository = "acme/../other"),
        "ci-platform:pipelines[1].repository",
        /owner\/name/,
    ],
    [
        "a repository name over 100 characters",
        (raw) => (pipeline(raw, 1).repository = `acme/${"r".repeat(101)}`),
        "ci-platform:pipelines[1].repository",
        /up to 100/,
    ],
    [
        "a repository with a .git suffix",
        (raw) => (pipeline(raw, 1).repository = "acme/installer.git"),
        "ci-platform:pipelines[1].repository",
        /without the \.git suffix/,
    ],
    [
        "a package path with ..",
        (raw) => ((pipeline(raw, 4).packages as Mutable[])[1].path = "services/../../etc"),
        "ci-platform:pipelines[4].packages[1].path",
        /\.\. segments/,
    ],
    [
        "a package path that is absolute",
        (raw) => ((pipeline(raw, 4).packages as Mutable[])[1].path = "/etc/api"),
        "ci-platform:pipelines[4].packages[1].path",
        /relative to the repository root/,
    ],
    [
        "a package path with a backslash",
        (raw) => ((pipeline(raw, 4).packages as Mutable[])[1].path = "services\\api"),
        "ci-platform:pipelines[4].packages[1].path",
        /backslash/,
    ],
    [
        "a package path with a . segment",
        (raw) => ((pipeline(raw, 4).packages as Mutable[])[1].path = "./services/api"),
        "ci-platform:pipelines[4].packages[1].path",
        /\. or \.\. segments/,
    ],
    [
        "a package path with an empty segment",
        (raw) => ((pipeline(raw, 4).packages as Mutable[])[1].path = "services//api"),
        "ci-platform:pipelines[4].packages[1].path",
        /empty segment/,
    ],
    [
        "an always-rebuild path outside the repository",
        (raw) => (pipeline(raw, 4).alwaysRebuildPaths = ["../secrets"]),
        "ci-platform:pipelines[4].alwaysRebuildPaths[0]",
        /\.\. segments/,
    ],
    [
        "an artifact pattern climbing out of the checkout",
        (raw) => (pipeline(raw, 0).artifacts = ["dist/../../etc/*"]),
        "ci-platform:pipelines[0].artifacts[0]",
        /no '\.\.' segment/,
    ],
    [
        "a default branch with ..",
        (raw) => (pipeline(raw, 0).defaultBranch = "release..1"),
        "ci-platform:pipelines[0].defaultBranch",
        /git branch name/,
    ],
    [
        "a default branch with a space",
        (raw) => (pipeline(raw, 0).defaultBranch = "main branch"),
        "ci-platform:pipelines[0].defaultBranch",
        /git branch name/,
    ],
    [
        "a schedule branch ending in .lock",
        (raw) => (pipeline(raw, 0).schedules = [{ label: "n", cronline: "@daily", branch: "main.lock" }]),
        "ci-platform:pipelines[0].schedules[0].branch",
        /git branch name/,
    ],
    // Tags.
    [
        "a tag key with the aws: prefix",
        (raw) => (raw.tags = { "aws:createdBy": "me" }),
        'ci-platform:tags["aws:createdBy"]',
        /aws: prefix is reserved/,
    ],
    [
        "a tag key with the AWS: prefix in capitals",
        (raw) => (fleet(raw, 0).tags = { "AWS:Owner": "me" }),
        'ci-platform:fleets[0].tags["AWS:Owner"]',
        /aws: prefix is reserved/,
    ],
    [
        "a tag key over 128 characters",
        (raw) => (raw.tags = { ["k".repeat(129)]: "v" }),
        `ci-platform:tags.${"k".repeat(129)}`,
        /at most 128/,
    ],
    [
        "a tag value over 256 characters",
        (raw) => (raw.tags = { Team: "v".repeat(257) }),
        "ci-platform:tags.Team",
        /at most 256/,
    ],
    [
        "a tag value with characters AWS refuses",
        (raw) => (raw.tags = { Team: "a;b" }),
        "ci-platform:tags.Team",
        /letters, digits, spaces and/,
    ],
    [
        "a tag key with characters AWS refuses",
        (raw) => (raw.tags = { "cost#center": "x" }),
        'ci-platform:tags["cost#center"]',
        /letters, digits, spaces and/,
    ],
    [
        "a tag value starting with aws:",
        (raw) => (raw.tags = { Owner: "aws:me" }),
        "ci-platform:tags.Owner",
        /reserved for AWS/,
    ],
    // Cron lines.
    [
        "a cron line with a minute out of range",
        (raw) => (pipeline(raw, 0).schedules = [{ label: "n", cronline: "61 * * * *" }]),
        "ci-platform:pipelines[0].schedules[0].cronline",
        /expected range 0-59/,
    ],
    [
        "a cron line with seconds",
        (raw) => (pipeline(raw, 0).schedules = [{ label: "n", cronline: "0 0 2 * * *" }]),
        "ci-platform:pipelines[0].schedules[0].cronline",
        /no seconds/,
    ],
    [
        "a cron line that is not cron",
        (raw) => (pipeline(raw, 0).schedules = [{ label: "n", cronline: "every day" }]),
        "ci-platform:pipelines[0].schedules[0].cronline",
        /fields/,
    ],
    [
        "a cron line every minute",
        (raw) => (pipeline(raw, 0).schedules = [{ label: "n", cronline: "* * * * *" }]),
        "ci-platform:pipelines[0].schedules[0].cronline",
        /under 10 minutes/,
    ],
    [
        "a cron line with an unknown time zone",
        (raw) => (pipeline(raw, 0).schedules = [{ label: "n", cronline: "0 2 * * * Mars/Olympus" }]),
        "ci-platform:pipelines[0].schedules[0].cronline",
        /not a time zone/,
    ],
    [
        "a predefined interval Buildkite lacks",
        (raw) => (pipeline(raw, 0).schedules = [{ label: "n", cronline: "@reboot" }]),
        "ci-platform:pipelines[0].schedules[0].cronline",
        /predefined intervals/,
    ],
    [
        "a cron line with the ~ operator",
        (raw) => (pipeline(raw, 0).schedules = [{ label: "n", cronline: "0 ~ * * *" }]),
        "ci-platform:pipelines[0].schedules[0].cronline",
        /random-value operator/,
    ],
    [
        "a cron line on the 31st of February",
        (raw) => (pipeline(raw, 0).schedules = [{ label: "n", cronline: "0 0 31 2 *" }]),
        "ci-platform:pipelines[0].schedules[0].cronline",
        /not a valid cron line/,
    ],
    // Wrongly typed secrets: refused, not a crash.
    ["secrets as a list", (raw) => (raw.secrets = [1, 2]), "ci-platform:secrets", /expected an object/],
    ["secrets as text", (raw) => (raw.secrets = "hunter2"), "ci-platform:secrets", /expected an object/],
    [
        "secrets.pipelines as a list",
        (raw) => (raw.secrets = { pipelines: [{ env: {} }] }),
        "ci-platform:secrets.pipelines",
        /expected a map of names to values/,
    ],
    [
        "a secret env value as a number",
        (raw) => ((raw.secrets as Mutable).pipelines = { app: { env: { TOKEN: 12345 } } }),
        "ci-platform:secrets.pipelines.app.env.TOKEN",
        /expected a string/,
    ],
    // Free text has a bound.
    [
        "a description of a megabyte",
        (raw) => ((raw.clusters as Mutable[])[0].description = "d".repeat(1_000_000)),
        "ci-platform:clusters[0].description",
        /at most 1000/,
    ],
];

describe("bad config is refused with its path and a fix", () => {
    for (const [name, mutate, path, message] of cases) {
        it(name, () => {
            const raw = validRawConfig();
            mutate(raw);
            expectProblem(refused(raw), path, message);
        });
    }

    it("a wrongly typed secrets is reported alone, not as missing credentials of every pipeline", () => {
        const raw = validRawConfig();
        raw.secrets = [1, 2];
        assert.deepEqual(
            refused(raw).map((l) => l.split(":").slice(0, 2).join(":")),
            ["ci-platform:secrets"],
        );
    });

    it("never echoes a secret value in a problem about it", () => {
        const raw = validRawConfig();
        (raw.secrets as Mutable).pipelines = { app: { env: { TOKEN: "s3cr3t-".repeat(10_000) } } };
        const lines = refused(raw);
        assert.ok(lines.some((l) => l.startsWith("ci-platform:secrets.pipelines.app.env.TOKEN: ")));
        assert.ok(lines.every((l) => !l.includes("s3cr3t-")));
    });
});

describe("cron lines in Buildkite's dialect", () => {
    for (const line of [
        "0 2 * * *",
        "*/10 * * * *",
        "@daily",
        "@midnight",
        "0 8 * * * America/Vancouver",
        "0 0 */2 * * +01:00",
        "0 0 L * *",
        "0 0 -2-L * *",
        "0 0 * * 2%2+1",
        "0 16 * * SUN",
        "0 0 * * 1-5",
    ])
        it(`accepts ${line}`, () => assert.equal(cronLineProblem(line), undefined));
});

describe("the stack file as text", () => {
    const file = (text: string) => new TextEncoder().encode(text);
    const check = (bytes: Uint8Array) => checkStackFile(bytes).issues.map(formatIssue);

    it("refuses a secure: value outside ci-platform:secrets, at its exact path", () => {
        const lines = check(
            file(
                "config:\n  ci-platform:pipelines:\n    - slug: app\n      env:\n        TOKEN:\n          secure: v1:abc:def\n  ci-platform:secrets:\n    pipelines:\n      app: { env: { TOKEN: { secure: v1:x:y } } }\n",
            ),
        );
        assert.equal(lines.length, 1, lines.join("\n"));
        expectProblem(
            lines,
            "ci-platform:pipelines[0].env.TOKEN",
            /secure: \(encrypted\) value outside ci-platform:secrets/,
        );
    });

    it("leaves secure: values of other namespaces alone", () => {
        assert.deepEqual(check(file("config:\n  aws:secretKey:\n    secure: v1:a:b\n")), []);
    });

    it("refuses bytes that are not UTF-8, naming the key and line that hold them", () => {
        const head = file("config:\n  ci-platform:organization: acme\n  ci-platform:teams:\n    - name: pl");
        const bytes = new Uint8Array([...head, 0xe9, ...file("tform\n")]);
        const lines = check(bytes);
        expectProblem(lines, "ci-platform:teams[0].name", /line 4 of the stack file holds bytes that are not UTF-8/);
    });

    it("refuses bytes that are not UTF-8 in a comment, by line", () => {
        const bytes = new Uint8Array([
            ...file("# caf"),
            0xff,
            ...file("\nconfig:\n  ci-platform:organization: acme\n"),
        ]);
        const lines = check(bytes);
        assert.equal(lines.length, 1);
        assert.match(lines[0], /^ci-platform: line 1 of the stack file holds bytes that are not UTF-8.* Fix: /);
    });

    it("accepts a valid UTF-8 file with non-ASCII text", () => {
        assert.deepEqual(check(file("config:\n  ci-platform:teams:\n    - name: plataforma é ü 日本\n")), []);
    });

    it("refuses a number or an empty value where a top-level key takes text", () => {
        const lines = check(file("config:\n  ci-platform:organization: 12345\n  ci-platform:homeRegion:\n"));
        expectProblem(lines, "ci-platform:organization", /is a number \(12345\)/);
        expectProblem(lines, "ci-platform:homeRegion", /is empty/);
    });

    it("accepts a boolean top-level key written as a boolean or as text", () => {
        assert.deepEqual(check(file("config:\n  ci-platform:organizationRules: true\n")), []);
        assert.deepEqual(check(file('config:\n  ci-platform:organizationRules: "true"\n')), []);
    });

    it("reports YAML that does not parse as a config problem, not a crash", () => {
        const lines = check(file("config:\n  ci-platform:organization: [unclosed\n"));
        assert.equal(lines.length, 1);
        assert.match(lines[0], /^ci-platform: the stack file is not valid YAML/);
    });
});

describe("secret config keys at run time (pulumi up)", () => {
    it("refuses a ci-platform key other than ci-platform:secrets that Pulumi marks secret", () => {
        const issues: ConfigIssue[] = secretKeyIssues(["aws:secretKey", "ci-platform:secrets", "ci-platform:tags"]);
        assert.deepEqual(
            issues.map((i) => i.path),
            [["tags"]],
        );
    });

    it("loadStackConfig throws a ConfigError naming the key, together with the schema's problems", () => {
        const raw = validRawConfig();
        raw.organization = "Not A Slug";
        assert.throws(
            () => loadStackConfig({ raw, secretKeys: ["ci-platform:secrets", "ci-platform:pipelines"] }),
            (e: unknown) => {
                assert.ok(e instanceof ConfigError);
                const lines = e.issues.map(formatIssue);
                expectProblem(lines, "ci-platform:pipelines", /secret value .* outside ci-platform:secrets/);
                assert.ok(lines.some((l) => l.startsWith("ci-platform:organization: ")));
                return true;
            },
        );
    });

    it("loadStackConfig reads the run's config and its secret keys, as under pulumi up", async () => {
        const pulumi = await import("@pulumi/pulumi");
        const raw = { ...validRawConfig(), tags: { Team: "ci" } };
        const config = Object.fromEntries(
            Object.entries(raw).map(([k, v]) => [`ci-platform:${k}`, typeof v === "string" ? v : JSON.stringify(v)]),
        );
        pulumi.runtime.setAllConfig(config, []);
        await withSecretKeys(JSON.stringify(["ci-platform:secrets"]), () =>
            assert.equal(loadStackConfig().organization, "acme"),
        );
        await withSecretKeys(JSON.stringify(["ci-platform:secrets", "ci-platform:tags"]), () =>
            assert.throws(
                () => loadStackConfig(),
                (e: unknown) =>
                    e instanceof ConfigError &&
                    e.issues.length === 1 &&
                    formatIssue(e.issues[0]).startsWith("ci-platform:tags: holds a secret value"),
            ),
        );
    });

    it("reads the secret keys the language host hands the program in its environment, and nothing else", async () => {
        const pulumi = await import("@pulumi/pulumi");
        const { runtimeSecretKeys, SECRET_KEYS_ENV } = await import("../../components/config");
        // @pulumi/pulumi 3.276.0 runtime/config.js configSecretKeysEnvKey: the language host's variable.
        assert.equal(SECRET_KEYS_ENV, "PULUMI_CONFIG_SECRET_KEYS");
        await withSecretKeys(JSON.stringify(["ci-platform:tags", "ci-platform:secrets"]), () =>
            assert.deepEqual(runtimeSecretKeys(), ["ci-platform:secrets", "ci-platform:tags"]),
        );
        await withSecretKeys("[]", () => assert.deepEqual(runtimeSecretKeys(), []));
        // Unset or unreadable: unknown, never "none" (the refusal of misplaced secrets must not switch off).
        await withSecretKeys("not json", () => assert.equal(runtimeSecretKeys(), undefined));
        await withSecretKeys('["ci-platform:tags", 3]', () => assert.equal(runtimeSecretKeys(), undefined));
        await withSecretKeys(undefined, () => {
            // A config store set by hand is not the language host's word: no SDK internals are read.
            pulumi.runtime.setAllConfig({ "ci-platform:tags": "{}" }, ["ci-platform:tags"]);
            assert.equal(runtimeSecretKeys(), undefined);
        });
    });

    it("refuses to load the stack's config when the secret keys cannot be known, naming the variable and the fix", async () => {
        const pulumi = await import("@pulumi/pulumi");
        const raw = validRawConfig();
        pulumi.runtime.setAllConfig(
            Object.fromEntries(
                Object.entries(raw).map(([k, v]) => [
                    `ci-platform:${k}`,
                    typeof v === "string" ? v : JSON.stringify(v),
                ]),
            ),
            [],
        );
        await withSecretKeys(undefined, () =>
            assert.throws(
                () => loadStackConfig(),
                (e: unknown) =>
                    e instanceof ConfigError &&
                    e.issues.length === 1 &&
                    /PULUMI_CONFIG_SECRET_KEYS is unset.*Fix: run the program through the pulumi CLI/.test(
                        formatIssue(e.issues[0]),
                    ),
            ),
        );
    });
});

/** Runs `body` with the language host's secret-keys variable set to `value` (unset for undefined), then restores it. */
async function withSecretKeys(value: string | undefined, body: () => void): Promise<void> {
    const { SECRET_KEYS_ENV } = await import("../../components/config");
    const before = process.env[SECRET_KEYS_ENV];
    if (value === undefined) delete process.env[SECRET_KEYS_ENV];
    else process.env[SECRET_KEYS_ENV] = value;
    try {
        body();
    } finally {
        if (before === undefined) delete process.env[SECRET_KEYS_ENV];
        else process.env[SECRET_KEYS_ENV] = before;
    }
}
