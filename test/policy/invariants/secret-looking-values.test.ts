import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { noSecretLookingValues, secretLookingValues } from "../../../policy/invariants/secret-looking-values";
import type { PlanResource } from "../../../policy/resource";
import { RULES } from "../../../policy/rules";
import { type Editable, named, prodResources } from "./plan-resources";

const check = (resources: readonly PlanResource[]) => noSecretLookingValues.check(resources, { requiredTags: [] });

// Token-shaped strings, built at run time so that no token-shaped literal sits in the repository.
const TOKENS = {
    github: "ghp_" + "x1Y2z3".repeat(6),
    fineGrained: "github_pat_" + "11AAAAAAA0".repeat(4),
    pypi: "pypi-AgEIcHlwaS5vcmc" + "Q2l0eW".repeat(10),
    npm: "npm_" + "a1B2c3".repeat(6),
    aws: "AKIA" + "ABCDEFGH23456789",
    slack: "xoxb-" + "1234567890-abcdefghij",
    buildkite: "bkua_" + "0123456789abcdef0123",
    privateKey: "-----BEGIN OPENSSH " + "PRIVATE KEY-----\nb3Blbn==\n",
};

describe("secretLookingValues", () => {
    it("finds each kind of token in any string input, by path, and never returns the value", () => {
        const found = secretLookingValues({
            type: "buildkite:Pipeline/schedule:Schedule",
            inputs: {
                env: { A: TOKENS.github, B: `x ${TOKENS.fineGrained} y`, C: TOKENS.pypi, D: TOKENS.npm },
                tags: { Owner: TOKENS.aws, [TOKENS.slack]: "key" },
                list: ["fine", TOKENS.buildkite],
                description: `key:\n${TOKENS.privateKey}`,
            },
        });
        assert.deepEqual(found, [
            { path: "env.A", kind: "GitHub token" },
            { path: "env.B", kind: "GitHub fine-grained token" },
            { path: "env.C", kind: "PyPI token" },
            { path: "env.D", kind: "npm token" },
            { path: "tags.Owner", kind: "AWS access key id" },
            { path: "tags.<key>", kind: "Slack token" },
            { path: "list[1]", kind: "Buildkite API token" },
            { path: "description", kind: "private key" },
        ]);
        const text = JSON.stringify(found);
        for (const token of Object.values(TOKENS)) assert.ok(!text.includes(token.slice(0, 12)));
    });

    it("skips secrets, unknowns, and a pipeline's steps (steps-no-credentials judges them)", () => {
        assert.deepEqual(
            secretLookingValues({
                type: "buildkite:Pipeline/pipeline:Pipeline",
                inputs: { steps: `env: { T: ${TOKENS.github} }`, a: "[secret]", b: "[unknown]" },
            }),
            [],
        );
        assert.equal(
            secretLookingValues({
                type: "buildkite:Pipeline/schedule:Schedule",
                inputs: { steps: TOKENS.github },
            }).length,
            1,
        );
    });

    it("does not mistake ordinary values for tokens", () => {
        assert.deepEqual(
            secretLookingValues({
                type: "x",
                inputs: {
                    a: "pypi-simple-mirror",
                    b: "npm_config_cache",
                    c: "github_pat",
                    d: "$GITHUB_TOKEN",
                    e: "PYPI_TOKEN",
                },
            }),
            [],
        );
    });
});

describe("invariant no-secret-looking-values", () => {
    it("is advisory and in the pack", () => {
        assert.equal(noSecretLookingValues.enforcementLevel, "advisory");
        assert.ok(RULES.includes(noSecretLookingValues));
    });

    it("passes the prod plan: no false positive among its hooks, scripts, policies and descriptions", async () => {
        assert.deepEqual(check(await prodResources()), []);
    });

    it("warns about a token in a schedule's env, a tag, a description and a pipeline's env, naming where", async () => {
        const resources = await prodResources();
        const schedule: Editable = named(resources, "ci-platform-deploy-schedule-drift-detection");
        // A schedule without variables sends no env at all (components/buildkite/pipeline.ts).
        schedule.inputs.env = { ...(schedule.inputs.env as Record<string, string> | undefined), NPM_TOKEN: TOKENS.npm };
        const key: Editable = named(resources, "secrets-us-east-1-key", "aws:kms/key:Key");
        key.inputs.tags = { Contact: TOKENS.github };
        const cluster = resources.find((r) => r.type === "buildkite:Cluster/cluster:Cluster");
        assert.ok(cluster);
        cluster.inputs.description = `see ${TOKENS.pypi}`;
        const pipeline = named(resources, "dagster-pipeline", "buildkite:Pipeline/pipeline:Pipeline");
        pipeline.inputs.env = { SLACK: TOKENS.slack };
        const findings = check(resources);
        const byUrn = (a: string[], b: string[]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
        const where = (message: string) => [
            /in (\S+), which/.exec(message)?.[1] ?? "",
            /shaped like an? (.+?) in /.exec(message)?.[1] ?? "",
        ];
        assert.deepEqual(
            findings.map((f) => [f.urn, ...where(f.message)]).sort(byUrn),
            [
                [schedule.urn, "env.NPM_TOKEN", "npm token"],
                [key.urn, "tags.Contact", "GitHub token"],
                [cluster.urn, "description", "PyPI token"],
                [pipeline.urn, "env.SLACK", "Slack token"],
            ].sort(byUrn),
        );
        // One token on many resources is one finding, naming how many carry it.
        const tagged = resources.filter((r) => r.type === "aws:s3/bucket:Bucket");
        for (const r of tagged) r.inputs.tags = { ...(r.inputs.tags as object), Contact: TOKENS.github };
        const grouped = check(resources).find((f) => f.message.includes("tags.Contact"));
        assert.equal(check(resources).length, 4);
        assert.equal(grouped?.urn, key.urn);
        assert.match(
            grouped?.message ?? "",
            new RegExp(
                `^${tagged.length + 1} resources \\(Key "secrets-us-east-1-key", Bucket "[^"]+", Bucket "[^"]+", and ${tagged.length - 2} more\\) have a value shaped like a GitHub token in tags\\.Contact`,
            ),
        );
        for (const f of findings) {
            assert.match(f.message, /Fix: revoke it, keep it under ci-platform:secrets/);
            for (const token of Object.values(TOKENS)) assert.ok(!f.message.includes(token.slice(0, 12)), f.message);
        }
    });
});
