import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { MOCK_ACCOUNT_ID } from "../../scripts/plan/mocks";
import { accountIdOf, parseStackExport, StateMocks } from "../../scripts/verify/state";

// @pulumi/pulumi 3.276.0 runtime/rpc.d.ts: a secret is serialized as { [specialSigKey]: specialSecretSig, ... }.
const secret = (ciphertext: string) => ({
    [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig,
    ciphertext,
});

const OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2";
const PREFIX = "urn:pulumi:prod::ci-platform::";
const PROVIDER = `${PREFIX}pulumi:providers:aws::aws-us-east-1::04da6b54-80e4-46f7-96ec-b56ff0331ba9`;
const exported = (resources: unknown[]) => JSON.stringify({ version: 3, deployment: { manifest: {}, resources } });

describe("parseStackExport", () => {
    it("keeps urn, type, id and outputs by URN, with every secret, at any depth, as [secret]", () => {
        const urn = `${PREFIX}${OBJECT}::env`;
        const state = parseStackExport(
            exported([
                {
                    urn,
                    type: OBJECT,
                    id: "env-1",
                    outputs: { etag: "abc", content: secret("v1:x"), nested: [{ token: secret("v1:y") }, 1] },
                },
                { urn: `${PREFIX}pulumi:pulumi:Stack::prod`, type: "pulumi:pulumi:Stack" },
                { type: "no-urn" },
            ]),
        );
        assert.deepEqual([...state.keys()], [urn, `${PREFIX}pulumi:pulumi:Stack::prod`]);
        assert.deepEqual(state.get(urn), {
            urn,
            type: OBJECT,
            id: "env-1",
            outputs: { etag: "abc", content: "[secret]", nested: [{ token: "[secret]" }, 1] },
        });
        assert.deepEqual(state.get(`${PREFIX}pulumi:pulumi:Stack::prod`)?.outputs, {});
        assert.equal(state.get(`${PREFIX}pulumi:pulumi:Stack::prod`)?.id, "");
        assert.ok(!JSON.stringify([...state.values()]).includes("v1:"));
    });

    it("refuses a document that is not a stack export", () => {
        assert.throws(
            () => parseStackExport(JSON.stringify({ resources: [] })),
            /not a `pulumi stack export` document/,
        );
        assert.throws(() => parseStackExport("not json"), SyntaxError);
    });
});

describe("accountIdOf", () => {
    it("is the account of the first IAM ARN in the outputs, or undefined", () => {
        const state = parseStackExport(
            exported([
                { urn: "u1", type: "t", outputs: { arn: "arn:aws:s3:::bucket" } },
                { urn: "u2", type: "t", outputs: { role: { arn: "arn:aws:iam::210987654321:role/x" } } },
                { urn: "u3", type: "t", outputs: { arn: "arn:aws:iam::111111111111:role/y" } },
            ]),
        );
        assert.equal(accountIdOf(state), "210987654321");
        assert.equal(accountIdOf(parseStackExport(exported([{ urn: "u", type: "t", outputs: {} }]))), undefined);
    });
});

describe("StateMocks", () => {
    const deployedUrn = `${PREFIX}ci-platform:agents:Fleet$${OBJECT}::secrets-env`;
    const state = parseStackExport(
        exported([
            {
                urn: deployedUrn,
                type: OBJECT,
                id: "real-id",
                outputs: { etag: "real-etag", content: secret("v1:z") },
            },
            {
                urn: `${PREFIX}aws:iam/role:Role::r`,
                type: "aws:iam/role:Role",
                outputs: { arn: "arn:aws:iam::210987654321:role/r" },
            },
        ]),
    );
    const args = (name: string): pulumi.runtime.MockResourceArgs => ({
        type: OBJECT,
        name,
        inputs: { key: "env", content: "A=1\n" },
        // An explicit provider, as the program gives every resource (the stack turns default providers off).
        provider: PROVIDER,
        custom: true,
    });

    it("answers a deployed resource with its id and outputs over the plan's, but never a hidden secret", () => {
        const mocks = new StateMocks(state);
        const answer = mocks.newResource(args("secrets-env"));
        assert.equal(answer.id, "real-id");
        assert.equal(answer.state.etag, "real-etag");
        assert.equal(answer.state.content, "A=1\n", "a [secret] output replaced the program's value");
    });

    it("answers a resource not deployed yet as the plan does, and the caller identity with the stack's account", () => {
        const mocks = new StateMocks(state);
        const answer = mocks.newResource(args("secrets-new"));
        assert.notEqual(answer.id, "real-id");
        assert.equal(typeof answer.state.etag, "string");
        const identity = mocks.call({
            token: "aws:index/getCallerIdentity:getCallerIdentity",
            inputs: {},
            provider: PROVIDER,
        });
        assert.equal(identity.accountId, "210987654321");
        const none = new StateMocks(new Map()).call({
            token: "aws:index/getCallerIdentity:getCallerIdentity",
            inputs: {},
            provider: PROVIDER,
        });
        assert.equal(none.accountId, MOCK_ACCOUNT_ID);
    });
});
