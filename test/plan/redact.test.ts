import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { containsSecret, redact, secretVersionsOf } from "../../scripts/plan/redact";
import { securePlaceholder } from "../../scripts/plan/stack-file";

// The SDK's wire signatures (exported by @pulumi/pulumi runtime/rpc.ts), as serialized resource inputs carry them.
const {
    specialSigKey: SIG,
    specialSecretSig,
    specialOutputValueSig,
    specialResourceSig,
    specialAssetSig,
} = pulumi.runtime;
const secret = (value: unknown) => ({ [SIG]: specialSecretSig, value });
const output = (fields: Record<string, unknown>) => ({ [SIG]: specialOutputValueSig, ...fields });

describe("redact", () => {
    it("writes every secret as [secret], at any depth, and leaves plain values alone with sorted keys", () => {
        const value = { z: 1, a: ["x", secret("hunter2")], nested: { token: secret({ deep: "s3cr3t" }) } };
        const out = redact(value);
        assert.deepEqual(out, { a: ["x", "[secret]"], nested: { token: "[secret]" }, z: 1 });
        assert.deepEqual(Object.keys(out as object), ["a", "nested", "z"]);
        assert.ok(!JSON.stringify(out).includes("hunter2") && !JSON.stringify(out).includes("s3cr3t"));
    });

    it("reads output values: secret ones as [secret], unknown ones as [unknown], known ones as their value", () => {
        assert.equal(redact(output({ value: "pw", secret: true })), "[secret]");
        assert.equal(redact(output({ secret: false })), "[unknown]");
        assert.deepEqual(redact(output({ value: { b: 2, a: 1 }, secret: false })), { a: 1, b: 2 });
        assert.equal(redact(pulumi.runtime.unknownValue), "[unknown]");
    });

    it("writes a resource reference as its URN and an asset by its path, never its text", () => {
        assert.equal(
            redact({ [SIG]: specialResourceSig, urn: "urn:pulumi:s::p::t::n", id: "i" }),
            "urn:pulumi:s::p::t::n",
        );
        assert.deepEqual(redact({ [SIG]: specialAssetSig, path: "hooks/x.sh" }), { asset: "hooks/x.sh" });
        assert.deepEqual(redact({ [SIG]: specialAssetSig, text: "#!/bin/sh secret" }), { asset: "(text)" });
    });
});

describe("containsSecret", () => {
    it("finds a secret anywhere, a secret output included, and nothing in plain values", () => {
        assert.equal(containsSecret({ a: [1, { b: secret("x") }] }), true);
        assert.equal(containsSecret([output({ value: "x", secret: true })]), true);
        assert.equal(containsSecret({ a: [1, "two", { b: output({ value: "x", secret: false }) }] }), false);
    });
});

describe("secretVersionsOf", () => {
    it("names the versions of the stack file's secrets each path carries, distinct and sorted", () => {
        const [v1, v2] = [securePlaceholder("cipher-1"), securePlaceholder("cipher-2")];
        const id = (p: string) => p.slice("[secret:".length, -1);
        const versions = secretVersionsOf({
            content: secret(`${v2}\n${v1}\n${v2}`),
            parameters: { Token: output({ value: v1, secret: true }) },
            env: ["plain", secret(v1)],
            tags: { Name: "no secret here" },
        });
        assert.deepEqual(versions, {
            content: [id(v1), id(v2)].sort().join(","),
            "env[1]": id(v1),
            "parameters.Token": id(v1),
        });
    });
});
