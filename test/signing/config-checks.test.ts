import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { PlatformConfig } from "../../components/config/schema";
import { signingIssues } from "../../components/signing/config-checks";
import { mustParse, validRawConfig } from "../fixtures/config";
import { AGENT_TEST_PRIVATE_JWKS, AGENT_TEST_PUBLIC_JWKS } from "./fixtures";

/* The cross-checks of clusters[].signing against the rest of the config, called on a parsed config edited after
 * parsing (parsing runs them too: these tests see signingIssues alone). */

const publicKey = JSON.parse(AGENT_TEST_PUBLIC_JWKS).keys[0];
type Signing = NonNullable<PlatformConfig["clusters"][number]["signing"]>;

function withSigning(signing: Signing, edit: (c: PlatformConfig) => PlatformConfig = (c) => c): PlatformConfig {
    const config = mustParse(validRawConfig());
    return edit({ ...config, clusters: config.clusters.map((c, i) => (i === 0 ? { ...c, signing } : c)) });
}
const jwks: Signing = { mode: "jwks", failureBehavior: "block", verificationKeys: [publicKey] };
const withPrivateSet = (c: PlatformConfig): PlatformConfig => ({
    ...c,
    secrets: { ...c.secrets, signing: { default: AGENT_TEST_PRIVATE_JWKS } },
});
const windows =
    (names: string[]) =>
    (c: PlatformConfig): PlatformConfig => ({
        ...c,
        fleets: c.fleets.map((f) =>
            f.kind === "aws" && names.includes(f.name) ? { ...f, os: "windows" as const } : f,
        ),
    });

describe("signingIssues", () => {
    it("finds nothing in a config whose jwks cluster has its private set and POSIX fleets", () => {
        assert.deepEqual(signingIssues(withSigning(jwks, withPrivateSet)), []);
        assert.deepEqual(signingIssues(mustParse(validRawConfig())), []);
    });

    it("a jwks cluster without its private set: at the cluster's signing mode, with the config set command", () => {
        const issues = signingIssues(withSigning(jwks));
        assert.equal(issues.length, 1);
        assert.deepEqual(issues[0].path, ["clusters", 0, "signing", "mode"]);
        assert.match(issues[0].message, /ci-platform:secrets\.signing\.default holds no private key set/);
        assert.match(issues[0].fix ?? "", /pulumi config set --secret --path 'ci-platform:secrets\.signing\.default'/);
    });

    it("a private set of no cluster, or of a cluster that does not sign with a JWKS, at its secrets path", () => {
        const config = withSigning({ mode: "off", failureBehavior: "block", reason: "r" }, (c) => ({
            ...c,
            secrets: { ...c.secrets, signing: { nowhere: "{}", default: "{}" } },
        }));
        const issues = signingIssues(config);
        assert.deepEqual(
            issues.map((i) => i.path),
            [
                ["secrets", "signing", "default"],
                ["secrets", "signing", "nowhere"],
            ],
        );
        assert.match(issues[0].message, /does not sign with a JWKS/);
        assert.match(issues[1].message, /"nowhere" is not a declared cluster/);
        // No issue quotes a private set.
        assert.ok(issues.every((i) => !i.message.includes("{}")));
    });

    it("a signing pipeline whose cluster has only Windows agents: its stored step has no POSIX shell to run on", () => {
        const config = withSigning(jwks, (c) => windows(["linux-us-east-1", "linux-eu-west-1"])(withPrivateSet(c)));
        const issues = signingIssues(config);
        const slugs = config.pipelines.filter((p) => p.cluster === "default").map((p) => p.slug);
        assert.deepEqual(
            issues.map((i) => i.path),
            config.pipelines.flatMap((p, i) => (p.cluster === "default" ? [["pipelines", i, "queue"]] : [])),
        );
        assert.equal(issues.length, slugs.length);
        assert.match(issues[0].message, /printenv, base64 and a POSIX shell.*served by Windows fleets only/);
        assert.match(issues[0].fix ?? "", /add a Linux \(or static\) fleet to cluster "default"/);
    });

    it("a Windows queue with a Linux queue beside it: only a gated pipeline's steps move there", () => {
        const config = withSigning(jwks, (c) => windows(["linux-us-east-1"])(withPrivateSet(c)));
        const issues = signingIssues(config);
        const flagged = issues.map((i) => config.pipelines[i.path[1] as number]);
        // Gated children (gate: release) run their release steps, and the upload, on the Linux queue.
        assert.ok(flagged.length > 0);
        assert.ok(
            flagged.every((p) => p.gate !== "release" && p.queue === "default"),
            JSON.stringify(flagged),
        );
        assert.match(issues[0].fix ?? "", /set pipelines\[\d+\]\.gate to release .*"default-eu-west-1"/);
    });

    it("a pipeline of a cluster whose signing is off is not checked for POSIX agents", () => {
        const off = withSigning(
            { mode: "off", failureBehavior: "block", reason: "r" },
            windows(["linux-us-east-1", "linux-eu-west-1"]),
        );
        assert.deepEqual(signingIssues(off), []);
    });

    it("a named KMS key: an ARN, and multi-region when the cluster's AWS fleets are outside its region", () => {
        const kms = (key: string) => signingIssues(withSigning({ mode: "kms", failureBehavior: "block", key }));
        const alias = kms("alias/signing");
        assert.deepEqual(
            alias.map((i) => i.path),
            [["clusters", 0, "signing", "key"]],
        );
        assert.match(alias[0].message, /is not a KMS key ARN/);
        const single = kms("arn:aws:kms:us-east-1:123456789012:key/1234abcd");
        assert.match(single[0].message, /AWS fleets in eu-west-1, outside the key's region us-east-1/);
        assert.match(single[0].fix ?? "", /replica in eu-west-1/);
        assert.deepEqual(kms("arn:aws:kms:us-east-1:123456789012:key/mrk-0123abcd"), []);
    });
});
