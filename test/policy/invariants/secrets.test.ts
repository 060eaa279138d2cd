import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadedFor, secretsOnlyWhereRun, secretsReachFleets } from "../../../policy/invariants/secrets";
import type { PlanResource } from "../../../policy/resource";
import { copyObject, named, prodResources, secretObject, without } from "./plan-resources";

const reach = (resources: readonly PlanResource[]) => secretsReachFleets.check(resources, { requiredTags: [] });
const leak = (resources: readonly PlanResource[]) => secretsOnlyWhereRun.check(resources, { requiredTags: [] });
const ANDROID = "kolibri-installer-android/secret-files/ANDROID_KEYSTORE_PASSWORD";

describe("loadedFor", () => {
    it("is the bucket root's and the pipeline's env, environment and secret-files, nothing of other pipelines", () => {
        for (const key of [
            "env",
            "environment",
            "secret-files/A_TOKEN",
            "p/env",
            "p/environment",
            "p/secret-files/A_TOKEN",
        ])
            assert.ok(loadedFor("p", key), key);
        for (const key of [
            "q/env",
            "q/secret-files/A_TOKEN",
            "git-credentials",
            "p/private_ssh_key",
            "p/secret-files/x/y",
        ])
            assert.ok(!loadedFor("p", key), key);
    });
});

describe("invariant secrets-reach-fleets", () => {
    it("is mandatory", () => assert.equal(secretsReachFleets.enforcementLevel, "mandatory"));

    it("passes the prod plan, where the macOS fleet provides its notarisation password itself", async () => {
        assert.deepEqual(reach(await prodResources()), []);
    });

    it("fails a pipeline whose required secret is missing from the bucket of a region that runs it", async () => {
        const gone = secretObject(await prodResources(), "us-east-1", "kolibri-python-package/env").urn;
        const resources = without(await prodResources(), (r) => r.urn === gone);
        assert.deepEqual(reach(resources), [], "no object and no requiresSecrets: nothing declared");
        named(resources, "kolibri-python-package", "ci-platform:buildkite:Pipeline").inputs.requiresSecrets = [
            "PYPI_TOKEN",
        ];
        const findings = reach(resources);
        assert.equal(findings.length, 1);
        assert.match(
            findings[0].message,
            /"kolibri-python-package" needs PYPI_TOKEN, but the secrets bucket that AWS fleet "linux-us-east-1" reads in us-east-1 does not hold it/,
        );
        // The organisation's env file at the bucket root, listing the name, delivers it as well.
        const template = secretObject(resources, "us-east-1", "git-credentials");
        resources.push(copyObject(template, "us-east-1", "env", { "ci-platform-variables": "OTHER,PYPI_TOKEN" }));
        assert.deepEqual(reach(resources), []);
    });

    it("fails a static fleet that does not provide a secret its pipeline requires", async () => {
        const resources = await prodResources();
        named(resources, "macos-office", "ci-platform:agents:Fleet").inputs.providesSecrets = [];
        const findings = reach(resources);
        assert.equal(findings.length, 1);
        assert.match(
            findings[0].message,
            /"kolibri-installer-macos" needs APPLE_NOTARIZE_PASSWORD, BUILDKITE_READ_BUILDS_TOKEN, GITHUB_RELEASE_TOKEN on static fleet "macos-office", which reads no secrets bucket and does not provide them/,
        );
    });

    it("fails a static fleet that does not provide a secret the pipeline has objects for", async () => {
        const resources = await prodResources();
        named(resources, "kolibri-installer-macos", "ci-platform:buildkite:Pipeline").inputs = {};
        assert.deepEqual(reach(resources), []);
        const template = secretObject(resources, "us-east-1", "kolibri-python-package/env");
        resources.push(
            copyObject(template, "us-east-1", "kolibri-installer-macos/env", {
                "ci-platform-variables": "NOTARY_TOKEN",
            }),
        );
        assert.match(reach(resources)[0]?.message ?? "", /needs NOTARY_TOKEN on static fleet "macos-office"/);
    });
});

describe("invariant secrets-only-where-run", () => {
    it("is advisory: a copy too many leaks but breaks no build", () =>
        assert.equal(secretsOnlyWhereRun.enforcementLevel, "advisory"));

    it("passes the prod plan: the Android keystore password is only in us-east-1, where queue large runs", async () => {
        const resources = await prodResources();
        assert.deepEqual(leak(resources), []);
        assert.ok(secretObject(resources, "us-east-1", ANDROID));
        assert.throws(() => secretObject(resources, "eu-west-1", ANDROID));
    });

    it("fails a pipeline's secret in a region none of its fleets is in", async () => {
        const resources = await prodResources();
        resources.push(copyObject(secretObject(resources, "eu-west-1", "git-credentials"), "eu-west-1", ANDROID));
        const findings = leak(resources);
        assert.equal(findings.length, 1);
        assert.match(
            findings[0].message,
            /in the secrets bucket of cluster default in eu-west-1, but only AWS fleets "large-us-east-1" run it and none of them reads this bucket/,
        );
    });

    it("fails a pipeline's secret in another cluster's bucket of a region its fleets are in", async () => {
        const resources = await prodResources();
        const template = secretObject(resources, "us-east-1", "git-credentials");
        resources.push(copyObject(template, "us-east-1", "ci-platform-deploy/env"));
        const findings = leak(resources);
        assert.equal(findings.length, 1);
        assert.match(
            findings[0].message,
            /ci-platform-deploy\/env of pipeline "ci-platform-deploy" is in the secrets bucket of cluster default in us-east-1, but only AWS fleets "deploy-us-east-1" run it and none of them reads this bucket/,
        );
    });

    it("fails a secret of a pipeline only static fleets run (the notarisation password before the fix)", async () => {
        const resources = await prodResources();
        for (const region of ["us-east-1", "eu-west-1"])
            resources.push(
                copyObject(secretObject(resources, region, "git-credentials"), region, "kolibri-installer-macos/env", {
                    "ci-platform-variables": "APPLE_NOTARIZE_PASSWORD",
                }),
            );
        const findings = leak(resources);
        assert.equal(findings.length, 2);
        assert.match(findings[0].message, /only static fleets \(macos-office\) run it and they read no bucket/);
    });
});
