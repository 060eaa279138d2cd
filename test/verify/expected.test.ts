import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { securePlaceholder } from "../../scripts/plan/stack-file";
import { expectationsOf, sha256Hex, VERIFIED_TYPES, wireValue } from "../../scripts/verify/expected";
import { planResource } from "../fixtures/plan";

// @pulumi/pulumi 3.276.0 runtime/rpc.d.ts: secrets and output values are wrapped as { [specialSigKey]: <sig>, value }.
const secret = (value: unknown) => ({ [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig, value });
const output = (value: unknown) => ({ [pulumi.runtime.specialSigKey]: pulumi.runtime.specialOutputValueSig, value });

describe("wireValue", () => {
    it("takes the secret and output wrappers off, nested in either order, and leaves other values", () => {
        assert.equal(wireValue(secret("x")), "x");
        assert.equal(wireValue(output(secret("y"))), "y");
        assert.deepEqual(wireValue({ plain: 1 }), { plain: 1 });
        assert.deepEqual(wireValue(["a"]), ["a"]);
        assert.equal(wireValue(null), null);
    });
});

describe("sha256Hex", () => {
    it("is the hex SHA-256 of text and of bytes alike", () => {
        assert.equal(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert.equal(sha256Hex(Buffer.from("abc")), sha256Hex("abc"));
    });
});

describe("expectationsOf", () => {
    const west = planResource("aws-eu-west-1", "pulumi:providers:aws", { region: "eu-west-1" });
    const object = (name: string, content: unknown, provider: string | null = west.urn) => ({
        resource: planResource(name, VERIFIED_TYPES.object, {}, { provider }),
        raw: { key: output(`${name}.env`), content },
    });

    it("expects each content object's digest in its provider's region, secret or not, sorted by URN", () => {
        const found = expectationsOf(
            [
                object("b", secret("B=1\n")),
                { resource: west, raw: { region: "eu-west-1" } },
                object("a", "A=1\n"),
                object("c", "C=1\n", null),
            ],
            { decrypted: false },
        );
        assert.deepEqual(
            found.objects.map((o) => [o.key, o.region, o.sha256, o.secret]),
            [
                ["a.env", "eu-west-1", sha256Hex("A=1\n"), false],
                ["b.env", "eu-west-1", sha256Hex("B=1\n"), true],
                // No explicit provider: the default provider's region.
                ["c.env", "us-east-1", sha256Hex("C=1\n"), false],
            ],
        );
    });

    it("has no digest for content holding a stack file's undecrypted secret, unless the config was decrypted", () => {
        const content = `TOKEN=${securePlaceholder("v1:cipher")}\n`;
        assert.equal(expectationsOf([object("s", secret(content))], { decrypted: false }).objects[0].sha256, null);
        assert.equal(
            expectationsOf([object("s", secret(content))], { decrypted: true }).objects[0].sha256,
            sha256Hex(content),
        );
    });

    it("leaves out objects without text content, keeps every token, and images with a name", () => {
        const token = planResource("t", VERIFIED_TYPES.token, {});
        const image = planResource("i", VERIFIED_TYPES.image, {});
        const unnamed = planResource("j", VERIFIED_TYPES.image, {});
        const found = expectationsOf(
            [
                object("source", undefined),
                { resource: token, raw: undefined },
                { resource: image, raw: { imageName: output("123.dkr.ecr.us-east-1.amazonaws.com/r:1") } },
                { resource: unnamed, raw: {} },
                { resource: planResource("other", "aws:s3/bucket:Bucket", {}), raw: { content: "x" } },
            ],
            { decrypted: false },
        );
        assert.deepEqual(found.objects, []);
        assert.deepEqual(found.tokens, [{ urn: token.urn }]);
        assert.deepEqual(found.images, [{ urn: image.urn, imageName: "123.dkr.ecr.us-east-1.amazonaws.com/r:1" }]);
    });
});
