import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { secretsReadableOnlyByServingFleets } from "../../../policy/invariants/secrets-reachability";
import { DEFAULT_PARAMS } from "../../../policy/rules";
import { prodConfig } from "../../fixtures/config";
import { withScopedRoles } from "../scoped-roles";
import { prodResources } from "./plan-resources";
import type { Editable } from "./plan-resources";

/*
 * secrets-readable-only-by-serving-fleets, both ways on the prod plan: as prod declares it (each fleet on a
 * platform-owned role that reads only the prefixes of the pipelines it serves), and with the stacks' InstanceRoleARN
 * removed, so that each Elastic CI Stack creates its own role, which reads its whole SecretsBucket. The model itself is
 * tested in test/policy/reachability.test.ts.
 */
const check = (resources: Parameters<typeof secretsReadableOnlyByServingFleets.check>[0]) =>
    secretsReadableOnlyByServingFleets.check(resources, DEFAULT_PARAMS);

/**
 * The prod plan as it was before the platform owned the roles: every Elastic CI Stack creates its own instance role
 * (no InstanceRoleARN), whose DecryptAgentToken statement covers the secrets key (the token parameter shared that
 * key), and the keys keep their default policy (the account root delegates to IAM).
 */
async function withStackOwnRoles(): Promise<Editable[]> {
    return (await prodResources())
        .filter((r) => r.type !== "aws:kms/keyPolicy:KeyPolicy")
        .map((r) => {
            if (r.type !== "aws:cloudformation/stack:Stack") return r;
            const copy = structuredClone(r);
            const params = copy.inputs.parameters as Record<string, unknown>;
            delete params.InstanceRoleARN;
            // The key ARN the template builds from this parameter; a pattern standing for "the secrets key".
            params.BuildkiteAgentTokenParameterStoreKMSKey = "arn:aws:kms:*:*:key/*";
            return copy;
        });
}

describe("secrets-readable-only-by-serving-fleets", () => {
    it("reports each fleet that reads another pipeline's secrets through the stack's own role, naming fleet and object", async () => {
        const found = check(await withStackOwnRoles());
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

    it("is quiet on the prod plan, where each fleet's role reads only its served pipelines' prefixes", async () => {
        assert.deepEqual(check(await prodResources()), []);
        // The same holds for roles written independently from the config (test/policy/scoped-roles.ts).
        assert.deepEqual(check(withScopedRoles(await withStackOwnRoles(), prodConfig())), []);
    });

    it("reports a served pipeline's secret the fleet cannot read as too little", async () => {
        const resources = structuredClone(await prodResources());
        const policy = resources.find((r) => r.name === "large-us-east-1-policy");
        assert.ok(policy && typeof policy.inputs.policy === "string");
        const before = policy.inputs.policy;
        policy.inputs.policy = before.replace(/"arn:aws:s3:::[^"]+\/kolibri-installer-android\/\*",?/g, "");
        assert.notEqual(policy.inputs.policy, before);
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
