import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatIssue, requiredSecretNames } from "../../components/config";
import { parsePlatformConfig } from "../../components/platform-config";
import { Mutable, entry, mustParse, prodRawConfig, validRawConfig } from "../fixtures/config";

/*
 * Checkout, secrets that reach their fleets, and cross-cluster rules: what the config must say for every job to
 * find its repository credentials and secrets on the fleet that runs it. Fixture: pipelines app(0), installer(1),
 * image(2) and mono(4) run on two AWS fleets of queue default; mac-app(3) only on the static fleet mac-office
 * (fleets[2]).
 */

function lines(raw: Record<string, unknown>): string[] {
    const result = parsePlatformConfig(raw);
    return result.ok ? [] : result.error.map(formatIssue);
}

function expectOne(raw: Record<string, unknown>, path: string, message: RegExp): string {
    const found = lines(raw);
    assert.equal(found.length, 1, `expected one problem, got:\n${found.join("\n")}`);
    assert.ok(found[0].startsWith(`${path}: `), `expected path ${path} in:\n${found[0]}`);
    assert.match(found[0], message);
    return found[0];
}

const secrets = (raw: Record<string, unknown>) =>
    raw.secrets as { organization?: Mutable; pipelines: Record<string, Mutable> };

describe("checkout", () => {
    it("defaults to HTTPS", () => {
        assert.equal(mustParse(validRawConfig()).pipelines[0].checkout, "https");
    });

    it("refuses an SSH checkout when no SSH key reaches the AWS fleets", () => {
        const raw = validRawConfig();
        entry(raw, "pipelines", 4).checkout = "ssh";
        expectOne(
            raw,
            "ci-platform:pipelines[4].checkout",
            /checks out git@github\.com:other-org\/mono\.git over SSH, but no SSH key reaches its AWS fleets \("linux-us-east-1"\).*Fix: add the repository's deploy key with pulumi config set --secret --path 'ci-platform:secrets\.pipelines\.mono\.privateSshKey'.*or use checkout: https/,
        );
    });

    it("accepts an SSH checkout with the pipeline's own key or the organisation's", () => {
        const own = validRawConfig();
        entry(own, "pipelines", 4).checkout = "ssh";
        secrets(own).pipelines.mono = { privateSshKey: "-----BEGIN OPENSSH PRIVATE KEY-----" };
        assert.deepEqual(lines(own), []);
        const org = validRawConfig();
        entry(org, "pipelines", 4).checkout = "ssh";
        secrets(org).organization = { privateSshKey: "-----BEGIN OPENSSH PRIVATE KEY-----" };
        // The organisation's git-credentials went with the replacement: every HTTPS pipeline now lacks them.
        assert.deepEqual(
            lines(org).map((l) => l.split(":")[1]),
            ["pipelines[0].checkout", "pipelines[1].checkout", "pipelines[2].checkout"],
        );
    });

    it("refuses a private HTTPS checkout without git-credentials, and accepts a public repository without them", () => {
        const raw = validRawConfig();
        delete secrets(raw).organization;
        const found = lines(raw);
        assert.deepEqual(
            found.map((l) => l.split(": ")[0]),
            [0, 1, 2, 4].map((i) => `ci-platform:pipelines[${i}].checkout`),
        );
        assert.match(
            found[0],
            /checks out https:\/\/github\.com\/acme\/app\.git over HTTPS, but no git-credentials reach its AWS fleets.*exit 128.*Fix: set ci-platform:secrets\.organization\.gitCredentials \(or the pipeline's\).*publicRepository: true/,
        );
        for (const i of [0, 1, 2, 4]) entry(raw, "pipelines", i).publicRepository = true;
        assert.deepEqual(lines(raw), []);
    });

    it("accepts a pipeline's own git-credentials", () => {
        const raw = validRawConfig();
        delete secrets(raw).organization;
        for (const i of [1, 2, 4]) entry(raw, "pipelines", i).publicRepository = true;
        secrets(raw).pipelines.app.gitCredentials = "https://x-access-token:t@github.com";
        assert.deepEqual(lines(raw), []);
    });

    it("refuses an SSH or private HTTPS checkout on a static fleet that declares no credentials of its own", () => {
        const ssh = validRawConfig();
        entry(ssh, "pipelines", 3).checkout = "ssh";
        expectOne(
            ssh,
            "ci-platform:pipelines[3].checkout",
            /over SSH on static fleet "mac-office", which reads no secrets bucket.*Fix: .*add ssh to ci-platform:fleets\[2\]\.checkoutCredentials/,
        );
        entry(ssh, "fleets", 2).checkoutCredentials = ["ssh"];
        assert.deepEqual(lines(ssh), []);

        const https = validRawConfig();
        entry(https, "pipelines", 3).publicRepository = false;
        // The organisation's git-credentials are in the buckets, which an on-premises fleet does not read.
        expectOne(
            https,
            "ci-platform:pipelines[3].checkout",
            /over HTTPS on static fleet "mac-office".*Fix: set publicRepository: true if acme\/mac-app is public, or .*add https to ci-platform:fleets\[2\]\.checkoutCredentials/,
        );
        entry(https, "fleets", 2).checkoutCredentials = ["https"];
        assert.deepEqual(lines(https), []);
    });

    it("names the allowed methods for an unknown one", () => {
        const raw = validRawConfig();
        entry(raw, "pipelines", 0).checkout = "git";
        expectOne(raw, "ci-platform:pipelines[0].checkout", /Fix: use one of: ssh, https/);
    });
});

describe("secrets reach every fleet that runs the pipeline", () => {
    it("refuses a secret value for a pipeline only static fleets run, without echoing the value", () => {
        const raw = validRawConfig();
        secrets(raw).pipelines["mac-app"] = { env: { NOTARY_PASSWORD: "value-7c1e" } };
        entry(raw, "fleets", 2).providesSecrets = ["NOTARY_PASSWORD"];
        const line = expectOne(
            raw,
            'ci-platform:secrets.pipelines["mac-app"].env.NOTARY_PASSWORD',
            /runs only on static fleets \("mac-office"\), which read no secrets bucket, and ci-platform declares no other delivery to on-premises machines: no job of the pipeline would get the value\. Fix: remove it \(pulumi config rm --path 'ci-platform:secrets\.pipelines\.mac-app\.env\.NOTARY_PASSWORD'\).*providesSecrets/,
        );
        assert.ok(!line.includes("value-7c1e"));
    });

    it("refuses checkout credentials for a pipeline only static fleets run", () => {
        const raw = validRawConfig();
        secrets(raw).pipelines["mac-app"] = { privateSshKey: "key-5d2a" };
        const line = expectOne(
            raw,
            'ci-platform:secrets.pipelines["mac-app"].privateSshKey',
            /no job of the pipeline would get the value.*list ssh in ci-platform:fleets\[2\]\.checkoutCredentials/,
        );
        assert.ok(!line.includes("key-5d2a"));
    });

    it("refuses a static fleet that does not provide a secret its pipeline needs", () => {
        const raw = validRawConfig();
        entry(raw, "pipelines", 3).requiresSecrets = ["NOTARY_PASSWORD", "SIGNING_TOKEN"];
        entry(raw, "fleets", 2).providesSecrets = ["SIGNING_TOKEN"];
        expectOne(
            raw,
            "ci-platform:fleets[2].providesSecrets",
            /static fleet "mac-office" runs pipeline "mac-app", which needs "NOTARY_PASSWORD"; an on-premises fleet reads no secrets bucket.*Fix: set NOTARY_PASSWORD on the machines/,
        );
        entry(raw, "fleets", 2).providesSecrets = ["SIGNING_TOKEN", "NOTARY_PASSWORD"];
        assert.deepEqual(lines(raw), []);
    });

    it("requires a value in ci-platform:secrets for a name an AWS pipeline needs; the organisation's counts", () => {
        const raw = validRawConfig();
        entry(raw, "pipelines", 1).requiresSecrets = ["PYPI_TOKEN"];
        expectOne(
            raw,
            "ci-platform:pipelines[1].requiresSecrets[0]",
            /needs PYPI_TOKEN, but ci-platform:secrets holds no value for it, so its AWS fleets \("linux-us-east-1"\) never get it\. Fix: pulumi config set --secret --path 'ci-platform:secrets\.pipelines\.installer\.env\.PYPI_TOKEN' <value>/,
        );
        (secrets(raw).organization as Mutable).files = { PYPI_TOKEN: "t" };
        assert.deepEqual(lines(raw), []);
    });

    it("counts the names of a pipeline's own secret values as needed", () => {
        const config = mustParse(validRawConfig());
        config.pipelines[0].requiresSecrets = ["OTHER_TOKEN"];
        assert.deepEqual(requiredSecretNames(config, config.pipelines[0]), ["OTHER_TOKEN", "TOKEN"]);
    });
});

describe("triggers across clusters", () => {
    it("are refused unless the organization has rules, with both fixes", () => {
        const raw = validRawConfig();
        (entry(raw, "pipelines", 0).triggers as Mutable[]).push({ pipeline: "mac-app" });
        expectOne(
            raw,
            "ci-platform:pipelines[0].triggers[2].pipeline",
            /pipeline "app" \(cluster "default"\) triggers "mac-app" \(cluster "macos"\).*Fix: ask Buildkite support to enable rules for the organization and set ci-platform:organizationRules: true.*or put both pipelines in one cluster/,
        );
        raw.organizationRules = true;
        assert.deepEqual(lines(raw), []);
    });

    it("defaults to no organization rules", () => {
        assert.equal(mustParse(validRawConfig()).organizationRules, false);
    });
});

describe("every problem at once", () => {
    it("reports checkout, secrets and rules problems together", () => {
        const raw = validRawConfig();
        entry(raw, "pipelines", 4).checkout = "ssh";
        secrets(raw).pipelines["mac-app"] = { env: { NOTARY_PASSWORD: "v" } };
        (entry(raw, "pipelines", 0).triggers as Mutable[]).push({ pipeline: "mac-app" });
        assert.deepEqual(
            lines(raw).map((l) => l.split(": ")[0]),
            [
                "ci-platform:fleets[2].providesSecrets",
                "ci-platform:pipelines[0].triggers[2].pipeline",
                "ci-platform:pipelines[4].checkout",
                'ci-platform:secrets.pipelines["mac-app"].env.NOTARY_PASSWORD',
            ],
        );
    });
});

describe("prod config", () => {
    it("checks out the public Kolibri repositories over HTTPS, dagster over SSH with its key; the macOS secret is the fleet's", () => {
        const config = mustParse(prodRawConfig());
        const bySlug = new Map(config.pipelines.map((p) => [p.slug, p]));
        for (const p of config.pipelines.filter((x) => x.slug.startsWith("kolibri-")))
            assert.deepEqual([p.checkout, p.publicRepository], ["https", true], p.slug);
        assert.equal(bySlug.get("dagster")?.checkout, "ssh");
        assert.ok(config.secrets.pipelines.dagster.privateSshKey);
        assert.deepEqual(
            [bySlug.get("ci-platform")?.checkout, bySlug.get("ci-platform")?.publicRepository],
            ["https", false],
        );
        assert.ok(config.secrets.organization?.gitCredentials);
        assert.equal(config.secrets.pipelines["kolibri-installer-macos"], undefined);
        const mac = config.fleets.find((f) => f.kind === "static");
        assert.ok(mac?.kind === "static");
        assert.deepEqual(mac.providesSecrets, [
            "APPLE_NOTARIZE_PASSWORD",
            "GITHUB_RELEASE_TOKEN",
            "BUILDKITE_READ_BUILDS_TOKEN",
        ]);
        assert.equal(config.organizationRules, true);
    });
});

describe("organizationRules as Pulumi hands it to the program", () => {
    it("reads the text true and false as booleans", () => {
        for (const [text, value] of [
            ["true", true],
            ["false", false],
        ] as const) {
            const raw = validRawConfig();
            raw.organizationRules = text;
            assert.equal(mustParse(raw).organizationRules, value);
        }
    });

    it("refuses other text", () => {
        const raw = validRawConfig();
        raw.organizationRules = "yes";
        expectOne(raw, "ci-platform:organizationRules", /expected a boolean, not the text "yes"/);
    });
});
