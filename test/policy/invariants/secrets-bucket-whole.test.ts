import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isSecretsBucketChild, secretsBucketWhole } from "../../../policy/invariants/secrets-bucket-whole";
import type { PlanResource } from "../../../policy/resource";
import { RULES } from "../../../policy/rules";
import { type Editable, named, prodResources } from "./plan-resources";

const check = (resources: readonly PlanResource[]) => secretsBucketWhole.check(resources, { requiredTags: [] });
const COMPONENT = "ci-platform:agents:SecretsBucket";
const childrenOf = (resources: readonly Editable[], component: string) => {
    const urn = named(resources, component, COMPONENT).urn;
    return resources.filter((r) => r.parent === urn);
};

describe("invariant secrets-bucket-whole", () => {
    it("is mandatory and in the pack", () => {
        assert.equal(secretsBucketWhole.enforcementLevel, "mandatory");
        assert.ok(RULES.includes(secretsBucketWhole));
    });

    it("passes the prod plan: every child of every secrets bucket has the bucket's stance, hook objects kept", async () => {
        const resources = await prodResources();
        assert.deepEqual(check(resources), []);
        const components = resources.filter((r) => r.type === COMPONENT);
        assert.ok(components.length >= 4, "a bucket per (region, cluster)");
        for (const component of components) {
            const children = childrenOf(resources, component.name);
            const bucket = children.find((r) => r.type === "aws:s3/bucket:Bucket");
            assert.ok(bucket, component.name);
            // Keys, aliases, key policies, the five guards and the objects: all of them.
            assert.ok(children.length >= 12, `${component.name} has ${children.length} children`);
            const hooks = children.filter((r) => r.name.startsWith(`${component.name}-hook-`));
            assert.ok(hooks.length > 0, `${component.name} holds the hooks bundle`);
            for (const child of children) {
                assert.equal(child.protect, bucket.protect, child.urn);
                // The hooks bundle is kept when a new one replaces it (a CloudFormation rollback reinstalls it); it
                // goes with the bucket, which empties itself.
                assert.equal(child.retainOnDelete, hooks.includes(child) ? true : bucket.retainOnDelete, child.urn);
                assert.ok(isSecretsBucketChild(child));
            }
            assert.equal(bucket.protect, false);
            assert.equal(bucket.retainOnDelete, false);
            assert.equal(bucket.inputs.forceDestroy, true, "emptied before it is deleted");
        }
    });

    it("fails the old stance: bucket and keys retained, their guards deleted with the region", async () => {
        const resources = await prodResources();
        for (const r of childrenOf(resources, "secrets-eu-west-1"))
            if (r.type === "aws:s3/bucket:Bucket" || r.type === "aws:kms/key:Key")
                Object.assign(r, { protect: true, retainOnDelete: true });
        const findings = check(resources);
        const named_ = findings.map((f) => f.urn.split("::").pop());
        for (const guard of ["versioning", "encryption", "public-access", "policy", "lifecycle", "key-alias"])
            assert.ok(named_.includes(`secrets-eu-west-1-${guard}`), guard);
        // The keys agree with the bucket; only this bucket is concerned.
        assert.ok(!named_.includes("secrets-eu-west-1-key"));
        assert.ok(named_.every((n) => n?.startsWith("secrets-eu-west-1-")));
        assert.match(findings[0].message, /delete this guard and keep the bucket without it/);
    });

    it("fails one guard kept while the bucket goes, and a deleted bucket that is not emptied first", async () => {
        const resources = await prodResources();
        Object.assign(named(resources, "secrets-us-east-1-lifecycle"), { retainOnDelete: true });
        named(resources, "secrets-ap-southeast-1-bucket").inputs.forceDestroy = false;
        const findings = check(resources);
        const names = findings.map((f) => f.urn.split("::").pop() ?? "");
        // The kept hook objects of a bucket that no longer empties itself would outlive it, half of it: flagged too.
        const hooks = names.filter((n) => n.startsWith("secrets-ap-southeast-1-hook-"));
        assert.ok(hooks.length > 0);
        assert.deepEqual(names.filter((n) => !hooks.includes(n)).sort(), [
            "secrets-ap-southeast-1-bucket",
            "secrets-us-east-1-lifecycle",
        ]);
        assert.match(findings.find((f) => f.urn.endsWith("-bucket"))?.message ?? "", /forceDestroy/);
    });

    it("allows objects kept in a bucket that empties itself, and only objects, and only with the bucket's protect", async () => {
        const resources = await prodResources();
        const secret = childrenOf(resources, "secrets-eu-west-1").find(
            (r) => r.type === "aws:s3/bucketObjectv2:BucketObjectv2" && !r.name.includes("-hook-"),
        );
        assert.ok(secret);
        Object.assign(secret, { retainOnDelete: true });
        assert.deepEqual(check(resources), [], "a kept object goes when the bucket is emptied and deleted");
        Object.assign(named(resources, "secrets-eu-west-1-versioning"), { retainOnDelete: true });
        Object.assign(secret, { protect: true });
        assert.deepEqual(
            check(resources)
                .map((f) => f.urn.split("::").pop())
                .sort(),
            [secret.name, "secrets-eu-west-1-versioning"],
        );
    });

    it("leaves the secrets bucket's bucket and keys to this rule, not to stateful-resources-protected", async () => {
        const resources = await prodResources();
        const stateful = RULES.find((r) => r.name === "stateful-resources-protected");
        assert.ok(stateful && stateful.kind === "resource");
        const params = { requiredTags: [] };
        const bucket = named(resources, "secrets-us-east-1-bucket");
        assert.deepEqual(stateful.check(bucket, { params, provider: undefined }), []);
        // The same bucket outside a SecretsBucket component still must be protected and retained.
        const outside = { ...bucket, parent: undefined };
        assert.equal(stateful.check({ ...outside, protect: false }, { params, provider: undefined }).length, 1);
        assert.equal(
            stateful.check({ ...outside, protect: true, retainOnDelete: false }, { params, provider: undefined })
                .length,
            1,
        );
    });
});
