import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { secretsReadableOnlyByServingFleets } from "../../../policy/invariants/secrets-reachability";
import { DEFAULT_PARAMS } from "../../../policy/rules";
import { prodConfig } from "../../fixtures/config";
import { withScopedRoles } from "../scoped-roles";
import { prodResources } from "./plan-resources";

/*
 * secrets-readable-only-by-serving-fleets, both ways on the prod plan: as main declares it (the Elastic CI Stack's
 * own role reads its whole SecretsBucket), and with platform-owned roles scoped to the pipelines each fleet serves.
 * The model itself is tested in test/policy/reachability.test.ts.
 */
const check = (resources: Parameters<typeof secretsReadableOnlyByServingFleets.check>[0]) =>
    secretsReadableOnlyByServingFleets.check(resources, DEFAULT_PARAMS);

describe("secrets-readable-only-by-serving-fleets", () => {
    it("reports each fleet that reads another pipeline's secrets through the stack's own role, naming fleet and object", async () => {
        const found = check(await prodResources());
        const pairs = found.map((f) =>
            /^AWS fleet "([^"]+)" can read s3:\/\/[^/]+\/(\S+),/.exec(f.message)?.slice(1).join(" "),
        );
        assert.ok(pairs.includes("linux-us-east-1 kolibri-installer-android/secret-files/ANDROID_KEYSTORE_PASSWORD"));
        assert.ok(pairs.includes("windows-us-east-1 kolibri-python-package/env"));
        assert.ok(
            !pairs.includes("large-us-east-1 kolibri-installer-android/env"),
            "a served pipeline's secret is not reported",
        );
        assert.ok(found.every((f) => /statement SecretsBucket: s3:Get\*, s3:List\*/.test(f.message)));
        assert.ok(found.every((f) => /Fix: /.test(f.message)));
    });

    it("is quiet when each fleet's role reads only its served pipelines' prefixes", async () => {
        assert.deepEqual(check(withScopedRoles(await prodResources(), prodConfig())), []);
    });

    it("reports a served pipeline's secret the fleet cannot read as too little", async () => {
        const resources = withScopedRoles(await prodResources(), prodConfig());
        const role = resources.find((r) => r.name === "large-us-east-1-role");
        const inline = (role?.inputs.inlinePolicies as { policy: string }[])[0];
        inline.policy = inline.policy.replace(/"arn:aws:s3:::[^"]+\/kolibri-installer-android\/\*",?/, "");
        const found = check(resources);
        assert.deepEqual(
            found.map((f) => f.urn.split("::").pop()),
            [
                "secrets-us-east-1-secret-kolibri-installer-android/env",
                "secrets-us-east-1-secret-kolibri-installer-android/secret-files/ANDROID_KEYSTORE_PASSWORD",
            ],
        );
        assert.match(
            found[0].message,
            /fleet "large-us-east-1" serves pipeline "kolibri-installer-android" but cannot read .* \(too little/,
        );
    });
});
