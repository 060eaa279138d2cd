import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatIssue } from "../../components/config/issues";
import { parsePlatformConfig } from "../../components/platform-config";
import { prodRawConfig } from "./fixtures";

/** The formatted issues of the prod config with `fleets` and `secrets` changed. */
function issuesOf(change: (raw: Record<string, unknown>) => Record<string, unknown>): string[] {
    const result = parsePlatformConfig(change(structuredClone(prodRawConfig())));
    assert.equal(result.ok, false, "the config should be rejected");
    return (result.error ?? []).map(formatIssue);
}
type Fleet = Record<string, unknown>;
const withFleet = (i: number, patch: Fleet) => (raw: Record<string, unknown>) => {
    const fleets = raw.fleets as Fleet[];
    fleets[i] = { ...fleets[i], ...patch };
    return raw;
};
const has = (issues: string[], pattern: RegExp) =>
    assert.ok(
        issues.some((i) => pattern.test(i)),
        `no issue matches ${pattern}:\n${issues.join("\n")}`,
    );

describe("bad fleet and secrets config is rejected with paths", () => {
    it("accepts the prod config", () => assert.equal(parsePlatformConfig(prodRawConfig()).ok, true));

    it("unknown region", () =>
        has(
            issuesOf(withFleet(1, { region: "eu-westt-1" })),
            /^ci-platform:fleets\[1\]\.region: "eu-westt-1" is not an AWS region/,
        ));

    it("min above max", () =>
        has(
            issuesOf(withFleet(0, { minSize: 40 })),
            /^ci-platform:fleets\[0\]\.minSize: minSize 40 is above maxSize 30/,
        ));

    it("unknown queue of a pipeline", () =>
        has(
            issuesOf(withFleet(3, { queue: "big" })),
            /^ci-platform:pipelines\[\d\]\.queue: no fleet serves queue "large" in cluster "default"/,
        ));

    it("duplicate fleet names", () =>
        has(
            issuesOf(withFleet(1, { name: "linux-us-east-1" })),
            /^ci-platform:fleets\[1\]\.name: duplicate fleet name "linux-us-east-1"/,
        ));

    it("unpinned stack version", () =>
        has(
            issuesOf((raw) => ({ ...raw, elasticStack: { version: "latest" } })),
            /^ci-platform:elasticStack\.version: "latest" is not a pinned release/,
        ));

    it("secrets for an unknown pipeline", () =>
        has(
            issuesOf((raw) => {
                (raw.secrets as { pipelines: Record<string, unknown> }).pipelines["kolibri-pyhton-package"] = {
                    env: { A: "b" },
                };
                return raw;
            }),
            /^ci-platform:secrets\.pipelines\["kolibri-pyhton-package"\]: secrets for unknown pipeline.*did you mean "kolibri-python-package"/,
        ));

    it("a log retention CloudWatch does not offer", () =>
        has(
            issuesOf(withFleet(0, { logRetentionDays: 10 })),
            /^ci-platform:fleets\[0\]\.logRetentionDays: 10 days is not a retention.*Fix: use one of 1, 3, 5, 7, 14, 30/,
        ));

    it("a fleet name too long for the stack's IAM role", () =>
        has(
            issuesOf(withFleet(0, { name: `linux-${"x".repeat(50)}` })),
            /^ci-platform:fleets\[0\]\.name: fleet name .* 64/,
        ));

    it("a secret file the hooks would never load, or could not pass intact", () => {
        const issues = issuesOf((raw) => {
            (raw.secrets as { pipelines: Record<string, { files?: Record<string, string> }> }).pipelines.dagster = {
                files: { KEYSTORE: "x", NPM_TOKEN: "has $dollar" },
            };
            return raw;
        });
        has(
            issues,
            /^ci-platform:secrets\.pipelines\.dagster\.files\.KEYSTORE: secret file "KEYSTORE" would never be loaded/,
        );
        has(
            issues,
            /^ci-platform:secrets\.pipelines\.dagster\.files\.NPM_TOKEN: the value of secret file "NPM_TOKEN" holds \$/,
        );
        assert.ok(
            issues.every((i) => !i.includes("has $dollar")),
            "the secret value is never printed",
        );
    });
});
