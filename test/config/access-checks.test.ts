import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    checkAccess,
    checkoutUrl,
    deliveredSecretNames,
    fleetsRunning,
    pipelineQueues,
    pipelinesServed,
    releaseQueue,
    requiredSecretNames,
    serves,
} from "../../components/config/access-checks";
import type { FleetConfig, PlatformConfig } from "../../components/config/schema";
import { mustParse, validRawConfig } from "../fixtures/config";

/* Which fleets run which pipeline's jobs, and what those jobs need from them. The fixture: cluster "default" with
 * queues default (linux-us-east-1) and default-eu-west-1 (linux-eu-west-1); cluster "macos" with the static fleet
 * mac-office. Checkout and secret refusals through the parser: access.test.ts. */

const fixture = (): PlatformConfig => mustParse(validRawConfig());
const pipeline = (config: PlatformConfig, slug: string) => {
    const p = config.pipelines.find((x) => x.slug === slug);
    assert.ok(p, slug);
    return p;
};
const asWindows = (config: PlatformConfig, names: string[]): FleetConfig[] =>
    config.fleets.map((f) => (f.kind === "aws" && names.includes(f.name) ? { ...f, os: "windows" as const } : f));

describe("releaseQueue and pipelineQueues", () => {
    it("a pipeline's own queue when a POSIX agent serves it, or when no fleet does", () => {
        const config = fixture();
        assert.equal(releaseQueue({ cluster: "default", queue: "default" }, config.fleets), "default");
        assert.equal(releaseQueue({ cluster: "default", queue: "nobody" }, config.fleets), "nobody");
        assert.equal(releaseQueue({ cluster: "macos", queue: "macos" }, config.fleets), "macos", "static is POSIX");
    });

    it("a Windows-only queue: a Linux queue of the same cluster, default first, never another cluster's", () => {
        const config = fixture();
        const fleets = asWindows(config, ["linux-eu-west-1"]);
        assert.equal(releaseQueue({ cluster: "default", queue: "default-eu-west-1" }, fleets), "default");
        const allWindows = asWindows(config, ["linux-us-east-1", "linux-eu-west-1"]);
        assert.equal(releaseQueue({ cluster: "default", queue: "default" }, allWindows), "default");
        const other = asWindows(config, ["linux-us-east-1"]);
        assert.equal(releaseQueue({ cluster: "default", queue: "default" }, other), "default-eu-west-1");
    });

    it("among several Linux queues of the cluster, default first, then by name", () => {
        const config = fixture();
        const linux = config.fleets[0];
        assert.equal(linux.kind, "aws");
        const fleets: FleetConfig[] = [
            { ...linux, name: "win", queue: "win", os: "windows" },
            { ...linux, name: "b", queue: "b-linux" },
            { ...linux, name: "a", queue: "a-linux" },
            { ...linux, name: "d", queue: "default" },
        ];
        assert.equal(releaseQueue({ cluster: "default", queue: "win" }, fleets), "default");
        assert.equal(releaseQueue({ cluster: "default", queue: "win" }, fleets.slice(0, 3)), "a-linux");
    });

    it("a gated child targets its release queue as well; another pipeline only its own", () => {
        const fleets = asWindows(fixture(), ["linux-us-east-1"]);
        assert.deepEqual(pipelineQueues({ cluster: "default", queue: "default", gate: "release" }, fleets), [
            "default",
            "default-eu-west-1",
        ]);
        assert.deepEqual(pipelineQueues({ cluster: "default", queue: "default", gate: "none" }, fleets), ["default"]);
        assert.deepEqual(pipelineQueues({ cluster: "default", queue: "default", gate: "release" }, fixture().fleets), [
            "default",
        ]);
    });
});

describe("serves, fleetsRunning and pipelinesServed", () => {
    it("are one relation seen from either side: same cluster, a queue the pipeline's jobs target", () => {
        const config = fixture();
        for (const fleet of config.fleets)
            for (const p of config.pipelines) {
                const s = serves(fleet, p, config.fleets);
                assert.equal(fleetsRunning(config, p).includes(fleet), s, `${fleet.name} ${p.slug}`);
                assert.equal(pipelinesServed(config, fleet).includes(p), s, `${fleet.name} ${p.slug}`);
            }
    });

    it("a queue name shared by two clusters serves only its own cluster's pipelines", () => {
        const config = fixture();
        assert.equal(serves({ cluster: "macos", queue: "default" }, pipeline(config, "app"), config.fleets), false);
    });

    it("lists the pipelines a fleet serves sorted by slug", () => {
        const config = fixture();
        const linux = config.fleets.find((f) => f.name === "linux-us-east-1");
        assert.ok(linux);
        const slugs = pipelinesServed(config, linux).map((p) => p.slug);
        assert.deepEqual(slugs, [...slugs].sort());
        assert.deepEqual(slugs, ["app", "image", "installer", "mono"]);
    });
});

describe("checkoutUrl", () => {
    it("is the SSH or HTTPS clone URL Buildkite hands the agent as BUILDKITE_REPO", () => {
        assert.equal(checkoutUrl("acme/app", "ssh"), "git@github.com:acme/app.git");
        assert.equal(checkoutUrl("acme/app", "https"), "https://github.com/acme/app.git");
    });
});

describe("deliveredSecretNames and requiredSecretNames", () => {
    it("delivers the pipeline's env and file names, and the organisation's where the cluster takes them", () => {
        const config = fixture();
        config.secrets.pipelines.app = { env: { TOKEN: "t" }, files: { NPMRC: "f" } };
        config.secrets.organization = { env: { ORG_WIDE: "o" } };
        assert.deepEqual([...deliveredSecretNames(config, pipeline(config, "app"))].sort(), [
            "NPMRC",
            "ORG_WIDE",
            "TOKEN",
        ]);
        config.clusters[0].organizationSecrets = false;
        assert.deepEqual([...deliveredSecretNames(config, pipeline(config, "app"))].sort(), ["NPMRC", "TOKEN"]);
    });

    it("requires requiresSecrets and the pipeline's own value names, sorted and once each", () => {
        const config = fixture();
        const app = pipeline(config, "app");
        app.requiresSecrets = ["ZED", "TOKEN"];
        config.secrets.pipelines.app = { env: { TOKEN: "t" }, files: { NPMRC: "f" } };
        assert.deepEqual(requiredSecretNames(config, app), ["NPMRC", "TOKEN", "ZED"]);
    });
});

describe("checkAccess", () => {
    it("finds nothing in the fixture", () => {
        assert.deepEqual(checkAccess(fixture()), []);
    });

    it("a cluster that refuses the organisation's secrets gets none of its git-credentials", () => {
        const config = fixture();
        config.clusters[0].organizationSecrets = false;
        const privateOnes = config.pipelines.filter((p) => p.cluster === "default" && !p.publicRepository);
        const issues = checkAccess(config);
        assert.deepEqual(
            issues.map((i) => i.path),
            privateOnes.map((p) => ["pipelines", config.pipelines.indexOf(p), "checkout"]),
        );
        assert.match(issues[0].message, /no git-credentials reach its AWS fleets \("linux-us-east-1"\)/);
    });

    it("never quotes a secret value", () => {
        const config = fixture();
        const mac = pipeline(config, "mac-app");
        config.secrets.pipelines[mac.slug] = {
            env: { SIGNING: "very-secret-value" },
            gitCredentials: "https://x:tok-123@github.com",
        };
        const issues = checkAccess(config);
        assert.ok(issues.length >= 2);
        for (const issue of issues) {
            assert.ok(!JSON.stringify(issue).includes("very-secret-value"));
            assert.ok(!JSON.stringify(issue).includes("tok-123"));
        }
    });
});
