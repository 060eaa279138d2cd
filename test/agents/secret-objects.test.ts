import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
    isLoadedSecretFileName,
    renderEnvFile,
    secretObjectMetadata,
    secretObjects,
    secretsBucketScopes,
    secretsForBucket,
} from "../../components/agents/secret-objects";
import { shellQuote } from "../../components/hooks/bundle";
import { mustParse, prodConfig, validRawConfig } from "../fixtures/config";

/** Evaluates an env file the way the stack's secrets hook does, and prints one variable's value. */
function evalEnv(envFile: string, name: string): string {
    const script = `set -euo pipefail; envscript="$(cat)"; set -o allexport; eval "$envscript"; set +o allexport; printf '%s' "\${${name}}"`;
    const result = spawnSync("bash", ["-c", script], { input: envFile, encoding: "utf8" });
    assert.equal(result.status, 0, result.stderr);
    return result.stdout;
}

describe("shellQuote and renderEnvFile", () => {
    it("round-trips awkward values through bash eval unchanged, running nothing", () => {
        const values = [
            "plain",
            "it's",
            "$(touch /tmp/ci-platform-pwned)",
            "`id`",
            'say "hi" \\ back',
            "line1\nline2",
            "'",
            "$HOME ${PATH} !!",
            "ünïcödé ✓",
            "",
        ];
        for (const value of values) assert.equal(evalEnv(renderEnvFile({ V: value }), "V"), value, value);
    });

    it("round-trips any string without NUL (property)", () => {
        fc.assert(
            fc.property(
                fc.string({ unit: "binary" }).filter((s) => !s.includes("\0")),
                (value) => {
                    return evalEnv(renderEnvFile({ V: value }), "V") === value;
                },
            ),
            { numRuns: 60 },
        );
    });

    it("exports every variable, sorted, one per line", () => {
        const file = renderEnvFile({ ZED: "z", ALPHA: "a" });
        const lines = file.split("\n").filter((l) => l && !l.startsWith("#"));
        assert.deepEqual(lines, ["ALPHA='a'", "ZED='z'"]);
        assert.equal(evalEnv(file, "ALPHA") + evalEnv(file, "ZED"), "az");
    });

    it("refuses NUL and bad variable names", () => {
        assert.throws(() => shellQuote("a\0b"), /NUL/);
        assert.throws(() => renderEnvFile({ "BAD-NAME": "x" }), /not an environment variable name/);
    });
});

describe("secretObjects", () => {
    const objects = secretObjects({
        organization: { gitCredentials: ["https://ci:tok@github.com"], env: { ORG_WIDE: "o" } },
        pipelines: {
            kolibri: { env: { PYPI_TOKEN: "p" }, privateSshKey: "-----BEGIN KEY-----\nabc\n-----END KEY-----" },
            dagster: { files: { NPM_TOKEN: "n" }, gitCredentials: "https://a:b@github.com" },
        },
    });

    it("lays objects out as the stack's secrets hooks read them", () => {
        assert.deepEqual(
            objects.map((o) => o.key),
            [
                "dagster/git-credentials",
                "dagster/secret-files/NPM_TOKEN",
                "env",
                "git-credentials",
                "kolibri/env",
                "kolibri/private_ssh_key",
            ],
        );
        const byKey = new Map(objects.map((o) => [o.key, o]));
        assert.equal(byKey.get("dagster/secret-files/NPM_TOKEN")?.content, "n", "secret files hold the bare value");
        assert.equal(byKey.get("git-credentials")?.content, "https://ci:tok@github.com\n");
        assert.ok(byKey.get("kolibri/private_ssh_key")?.content.endsWith("-----END KEY-----\n"));
        assert.equal(evalEnv(byKey.get("kolibri/env")?.content ?? "", "PYPI_TOKEN"), "p");
        assert.equal(byKey.get("env")?.pipeline, undefined);
        assert.equal(byKey.get("kolibri/env")?.pipeline, "kolibri");
    });

    it("records the variable names each object exports, never a value, in its metadata", () => {
        const metadata = Object.fromEntries(objects.map((o) => [o.key, secretObjectMetadata(o)]));
        assert.deepEqual(metadata, {
            "dagster/git-credentials": undefined,
            "dagster/secret-files/NPM_TOKEN": { "ci-platform-variables": "NPM_TOKEN" },
            env: { "ci-platform-variables": "ORG_WIDE" },
            "git-credentials": undefined,
            "kolibri/env": { "ci-platform-variables": "PYPI_TOKEN" },
            "kolibri/private_ssh_key": undefined,
        });
    });

    it("creates nothing for an empty config", () => {
        assert.deepEqual(secretObjects({ pipelines: {} }), []);
        assert.deepEqual(secretObjects({ pipelines: { a: { env: {} } } }), []);
    });

    it("knows which secret-file names the hooks load", () => {
        assert.ok(isLoadedSecretFileName("ANDROID_KEYSTORE_PASSWORD"));
        assert.ok(isLoadedSecretFileName("AWS_SECRET_ACCESS_KEY"));
        assert.ok(!isLoadedSecretFileName("KEYSTORE"));
    });
});

describe("secretsForBucket", () => {
    it("keeps the organisation's secrets and those of pipelines an AWS fleet of the region runs", () => {
        const config = mustParse(validRawConfig());
        config.secrets.pipelines["mac-app"] = { env: { NOTARY_PASSWORD: "n" } };
        // app runs on queue default, served in us-east-1 only; mac-app only on the static fleet.
        const us = secretsForBucket(config, { region: "us-east-1", cluster: "default" });
        assert.deepEqual(Object.keys(us.pipelines), ["app"]);
        assert.equal(us.organization, config.secrets.organization);
        const eu = secretsForBucket(config, { region: "eu-west-1", cluster: "default" });
        assert.deepEqual(eu.pipelines, {});
        assert.equal(eu.organization, config.secrets.organization);
        // No fleet runs anything in this region: the organisation's secrets only.
        assert.deepEqual(secretsForBucket(config, { region: "ap-south-1", cluster: "default" }).pipelines, {});
    });

    it("keeps a pipeline's secrets out of another cluster's bucket in the same region, and copies the organisation's", () => {
        const config = prodConfig();
        const pipelines = (region: string, cluster: string) =>
            Object.keys(secretsForBucket(config, { region, cluster }).pipelines).sort();
        assert.deepEqual(pipelines("us-east-1", "deploy"), ["ci-platform-deploy"]);
        // The platform cluster builds pull requests: its one pipeline has a checkout credential of its own, and the
        // cluster takes none of the organisation's secrets (clusters[].organizationSecrets: false).
        assert.deepEqual(pipelines("us-east-1", "platform"), ["ci-platform"]);
        assert.deepEqual(
            Object.keys(
                secretsForBucket(config, { region: "us-east-1", cluster: "platform" }).pipelines["ci-platform"],
            ),
            ["gitCredentials"],
        );
        assert.equal(secretsForBucket(config, { region: "us-east-1", cluster: "platform" }).organization, undefined);
        assert.ok(!pipelines("us-east-1", "default").includes("ci-platform-deploy"));
        assert.ok(pipelines("us-east-1", "default").includes("kolibri-python-package"));
        for (const cluster of ["default", "deploy"])
            assert.equal(
                secretsForBucket(config, { region: "us-east-1", cluster }).organization,
                config.secrets.organization,
                `cluster ${cluster} gets the organisation's secrets`,
            );
    });
});

describe("secretsBucketScopes", () => {
    it("is every (region, cluster) with an AWS fleet, sorted, and nothing for a static fleet's cluster", () => {
        assert.deepEqual(
            secretsBucketScopes(prodConfig()).map((s) => `${s.region}/${s.cluster}`),
            [
                "ap-southeast-1/default",
                "eu-west-1/dagster",
                "eu-west-1/default",
                "us-east-1/default",
                "us-east-1/deploy",
                "us-east-1/platform",
            ],
        );
    });
});
