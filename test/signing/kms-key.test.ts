import * as pulumi from "@pulumi/pulumi";
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type * as kmsKeyModule from "../../components/signing/kms-key";
import { signingKeyPolicy } from "../../components/signing/kms-keys";
import { installMocks, type Registered } from "../agents/mocks";

/* A kms cluster's signing key under the SDK's mocks: what ClusterSigningKey declares for a created key and a named
 * one. The agent takes only an ECC_NIST_P256 SIGN_VERIFY key (buildkite/agent v3.137.0
 * internal/cryptosigner/aws/kms.go NewKMS); every running agent holds the key id from boot
 * (clicommand/agent_start.go), so the key and its replicas are protected and retained. */

const { registered, phase, settle, install } = installMocks();
const TYPE = "ci-platform:signing:ClusterSigningKey";
const NAMED = "arn:aws:kms:us-east-1:123456789012:key/mrk-0123abcd";
const resolve = <T>(o: pulumi.Output<T>) => new Promise<T>((r) => o.apply((v) => r(v)));

let created: { arnIn(region: string): pulumi.Output<string>; homeArn: pulumi.Output<string> };
let named: typeof created;
let missingReplica: unknown;
const inPhase = (p: string) => registered.filter((r) => r.phase === p);
const one = (rs: Registered[], type: string, name?: string) => {
    const found = rs.filter((r) => r.type === type && (name === undefined || r.name === name));
    assert.equal(found.length, 1, `${type} ${name ?? ""}: ${found.length}`);
    return found[0];
};

before(async () => {
    install();
    const aws = await import("@pulumi/aws");
    const { ClusterSigningKey }: typeof kmsKeyModule = await import("../../components/signing/kms-key");
    const providers = Object.fromEntries(
        ["us-east-1", "eu-west-1"].map((region) => [region, new aws.Provider(`aws-${region}`, { region })]),
    );
    const users = {
        accountId: "123456789012",
        signerRoleArns: [pulumi.output("arn:aws:iam::123456789012:role/signer")],
        verifierRoleArns: [pulumi.output("arn:aws:iam::123456789012:role/verifier")],
        writers: ["arn:aws:iam::123456789012:role/deploy"],
    };
    phase.value = "created";
    const key = new ClusterSigningKey("signing-default", {
        plan: { cluster: "default", homeRegion: "us-east-1", replicaRegions: ["eu-west-1"] },
        providers,
    });
    key.grant(users, providers);
    created = key;
    try {
        key.arnIn("ap-south-1");
    } catch (e) {
        missingReplica = e;
    }
    await settle();
    phase.value = "named";
    const byName = new ClusterSigningKey("signing-named", {
        plan: { cluster: "named", named: NAMED, homeRegion: "us-east-1", replicaRegions: ["eu-west-1"] },
        providers,
    });
    byName.grant(users, providers);
    named = byName;
    await settle();
});

describe("ClusterSigningKey, a key the stack creates", () => {
    it("is a multi-region ECC_NIST_P256 SIGN_VERIFY key in the home region, protected and retained", () => {
        const key = one(inPhase("created"), "aws:kms/key:Key");
        assert.equal(key.name, "signing-default-key");
        assert.equal(key.inputs.keyUsage, "SIGN_VERIFY");
        assert.equal(key.inputs.customerMasterKeySpec, "ECC_NIST_P256");
        assert.equal(key.inputs.multiRegion, true);
        assert.deepEqual([key.protect, key.retainOnDelete], [true, true]);
        assert.match(key.provider, /::aws-us-east-1::/);
    });

    it("has a replica in each other region, by that region's provider, protected and retained", () => {
        const replica = one(inPhase("created"), "aws:kms/replicaKey:ReplicaKey");
        assert.equal(replica.name, "signing-default-replica-eu-west-1");
        assert.match(replica.provider, /::aws-eu-west-1::/);
        assert.deepEqual([replica.protect, replica.retainOnDelete], [true, true]);
        assert.equal(replica.inputs.primaryKeyArn, "arn:aws:kms:us-east-1:123456789012:key/key-signing-default-key");
    });

    it("has an alias named for the cluster, and every child parented to the component", () => {
        const alias = one(inPhase("created"), "aws:kms/alias:Alias");
        assert.equal(alias.inputs.namePrefix, "alias/ci-platform-signing-default-");
        const component = one(inPhase("created"), TYPE, "signing-default");
        const children = inPhase("created").filter((r) => r.type.startsWith("aws:kms/"));
        assert.equal(children.length, 5);
        assert.ok(children.every((r) => r.parent === component.urn));
    });

    it("grant: one key policy per key and replica, in its region, the policy of kms-keys.ts", () => {
        const policies = inPhase("created").filter((r) => r.type === "aws:kms/keyPolicy:KeyPolicy");
        assert.deepEqual(
            policies.map((p) => [p.name, p.provider.includes("::aws-us-east-1::") ? "us-east-1" : "eu-west-1"]),
            [
                ["signing-default-key-policy-us-east-1", "us-east-1"],
                ["signing-default-key-policy-eu-west-1", "eu-west-1"],
            ],
        );
        const expected = signingKeyPolicy({
            accountId: "123456789012",
            signerRoleArns: ["arn:aws:iam::123456789012:role/signer"],
            verifierRoleArns: ["arn:aws:iam::123456789012:role/verifier"],
            writers: ["arn:aws:iam::123456789012:role/deploy"],
        });
        for (const p of policies) assert.deepEqual(JSON.parse(String(p.inputs.policy)), expected);
    });

    it("arnIn gives each region's key ARN, and refuses a region without a replica", async () => {
        assert.equal(await resolve(created.homeArn), "arn:aws:kms:us-east-1:123456789012:key/key-signing-default-key");
        assert.ok(missingReplica instanceof pulumi.ResourceError);
        assert.match((missingReplica as Error).message, /no replica in ap-south-1/);
    });

    it("records its key plan on the component, as inputs", () => {
        const component = one(inPhase("created"), TYPE, "signing-default");
        assert.deepEqual(component.inputs, { cluster: "default", named: null, replicaRegions: ["eu-west-1"] });
    });
});

describe("ClusterSigningKey, a key the config names", () => {
    it("declares no key, no alias, no replica and no policy: the key's policy is its owner's", () => {
        assert.deepEqual(
            inPhase("named").map((r) => r.type),
            [TYPE],
        );
        assert.equal(one(inPhase("named"), TYPE).inputs.named, NAMED);
    });

    it("arnIn gives the replica ARN of the named key in each region", async () => {
        assert.equal(await resolve(named.homeArn), NAMED);
        assert.equal(await resolve(named.arnIn("eu-west-1")), "arn:aws:kms:eu-west-1:123456789012:key/mrk-0123abcd");
    });
});
