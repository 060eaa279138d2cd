import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type * as pulumi from "@pulumi/pulumi";
import { disabledDefaultProviders, MOCK_ACCOUNT_ID, PlanMocks } from "../../scripts/plan/mocks";

/*
 * The plan's mock provider, through its public face (newResource and call, as the SDK's mock monitor calls them:
 * @pulumi/pulumi 3.276.0 runtime/mocks.d.ts Mocks). A provider reference is "<provider urn>::<id>".
 */
const PREFIX = "urn:pulumi:prod::ci-platform::";
const resourceArgs = (
    type: string,
    name: string,
    inputs: Record<string, unknown> = {},
    provider?: string,
): pulumi.runtime.MockResourceArgs => ({ type, name, inputs, provider, custom: true });

describe("disabledDefaultProviders", () => {
    it("reads a JSON list, or a bare word as `pulumi config set` stores it; nothing when unset", () => {
        assert.deepEqual([...disabledDefaultProviders('["aws","docker"]')], ["aws", "docker"]);
        assert.deepEqual([...disabledDefaultProviders(" aws ")], ["aws"]);
        assert.deepEqual([...disabledDefaultProviders('["*"]')], ["*"]);
        assert.equal(disabledDefaultProviders(undefined).size, 0);
        assert.equal(disabledDefaultProviders("  ").size, 0);
    });
});

describe("PlanMocks", () => {
    it("gives the same ids and outputs for the same resource, and different ones for another name", () => {
        const a = new PlanMocks(new Set()).newResource(resourceArgs("aws:iam/role:Role", "deploy"));
        const b = new PlanMocks(new Set()).newResource(resourceArgs("aws:iam/role:Role", "deploy"));
        const c = new PlanMocks(new Set()).newResource(resourceArgs("aws:iam/role:Role", "other"));
        assert.deepEqual(a, b);
        assert.notEqual(a.id, c.id);
        assert.match(String(a.state.arn), new RegExp(`^arn:aws:iam::${MOCK_ACCOUNT_ID}:role/`));
    });

    it("puts a resource in its provider's region, and the default region without one", () => {
        const mocks = new PlanMocks(new Set());
        const provider = mocks.newResource(
            resourceArgs("pulumi:providers:aws", "aws-eu-west-1", { region: "eu-west-1" }),
        );
        const ref = `${PREFIX}pulumi:providers:aws::aws-eu-west-1::${provider.id}`;
        const repo = mocks.newResource(resourceArgs("aws:ecr/repository:Repository", "app", { name: "app" }, ref));
        assert.equal(repo.state.repositoryUrl, `${MOCK_ACCOUNT_ID}.dkr.ecr.eu-west-1.amazonaws.com/app`);
        const region = mocks.call({ token: "aws:index/getRegion:getRegion", inputs: {}, provider: ref });
        assert.equal(region.name, "eu-west-1");
        const home = mocks.newResource(resourceArgs("aws:ecr/repository:Repository", "home", { name: "home" }));
        assert.equal(home.state.repositoryUrl, `${MOCK_ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com/home`);
    });

    it("keeps the program's inputs in the state, beside the computed outputs", () => {
        const object = new PlanMocks(new Set()).newResource(
            resourceArgs("aws:s3/bucketObjectv2:BucketObjectv2", "env", { key: "env", content: "A=1\n" }),
        );
        assert.equal(object.state.key, "env");
        assert.equal(object.state.content, "A=1\n");
        assert.match(String(object.state.etag), /^[0-9a-f]{32}$/);
    });

    it("keeps a renamed resource's id under its first name (stateNames), as the engine keeps its state", () => {
        const mocks = new PlanMocks(new Set());
        const before = mocks.newResource(resourceArgs("aws:iam/role:Role", "old-name"));
        mocks.stateNames.set("aws:iam/role:Role::new-name", "old-name");
        const after = mocks.newResource(resourceArgs("aws:iam/role:Role", "new-name"));
        assert.equal(after.id, before.id);
    });

    it("refuses a resource or invoke on a disabled default provider, naming it and the fix (pulumi/pulumi#8829)", () => {
        const mocks = new PlanMocks(new Set(["aws"]));
        assert.throws(
            () => mocks.newResource(resourceArgs("aws:s3/bucket:Bucket", "b")),
            /resource aws:s3\/bucket:Bucket "b" has no explicit provider.*pulumi:disable-default-providers.*pass \{ provider \}/,
        );
        assert.throws(
            () => mocks.call({ token: "aws:index/getRegion:getRegion", inputs: {} }),
            /invoke aws:index\/getRegion:getRegion has no explicit provider/,
        );
        // Other packages, explicit providers and components are untouched.
        mocks.newResource(resourceArgs("buildkite:Team/team:Team", "t"));
        mocks.newResource(resourceArgs("aws:s3/bucket:Bucket", "b", {}, `${PREFIX}pulumi:providers:aws::p::id`));
        mocks.newResource({ ...resourceArgs("ci-platform:agents:Fleet", "f"), custom: false });
        assert.throws(() =>
            new PlanMocks(new Set(["*"])).newResource(
                resourceArgs("github:index/repositoryWebhook:RepositoryWebhook", "w"),
            ),
        );
    });

    it("answers the caller identity with the mock account, and names the file to extend for an unknown invoke", () => {
        const mocks = new PlanMocks(new Set());
        const identity = mocks.call({ token: "aws:index/getCallerIdentity:getCallerIdentity", inputs: {} });
        assert.equal(identity.accountId, MOCK_ACCOUNT_ID);
        assert.throws(
            () => mocks.call({ token: "aws:index/getAmi:getAmi", inputs: {} }),
            /no mock for the invoke aws:index\/getAmi:getAmi; add one in scripts\/plan\/mocks\.ts/,
        );
    });
});
