import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    asList,
    at,
    blocks,
    isOpaque,
    isSet,
    isTrue,
    jsonDocument,
    SECRET,
    stackParameters,
    UNKNOWN,
} from "../../policy/resource";

describe("policy/resource helpers", () => {
    it("reads through Terraform block lists by their first element", () => {
        const inputs = { rule: [{ apply: { algorithm: "aws:kms" } }, { apply: { algorithm: "AES256" } }] };
        assert.equal(at(inputs, "rule", "apply", "algorithm"), "aws:kms");
        assert.equal(at(inputs, "rule", "missing", "algorithm"), undefined);
        assert.equal(at("text", "a"), undefined);
        assert.deepEqual(blocks([{ a: 1 }, "x", null]), [{ a: 1 }]);
        assert.deepEqual(blocks({ a: 1 }), [{ a: 1 }]);
        assert.deepEqual(blocks(undefined), []);
    });

    it("treats secrets and unknowns as opaque but set", () => {
        assert.ok(isOpaque(SECRET) && isOpaque(UNKNOWN) && !isOpaque("[secret"));
        assert.ok(isSet(SECRET) && isSet("x") && !isSet("  ") && !isSet(3));
    });

    it("reads booleans as CloudFormation and providers write them", () => {
        assert.deepEqual([true, "true", "1", false, "false", 1, "yes"].map(isTrue), [
            true,
            true,
            true,
            false,
            false,
            false,
            false,
        ]);
    });

    it("parses a JSON document from text or takes an object, and gives up on opaque or broken text", () => {
        assert.deepEqual(jsonDocument('{"Version":"2012-10-17"}'), { Version: "2012-10-17" });
        assert.deepEqual(jsonDocument({ a: 1 }), { a: 1 });
        assert.equal(jsonDocument(SECRET), undefined);
        assert.equal(jsonDocument("{broken"), undefined);
        assert.equal(jsonDocument("[1,2]"), undefined);
    });

    it("lists one-or-many values, and reads a stack's parameters", () => {
        assert.deepEqual(asList("a"), ["a"]);
        assert.deepEqual(asList(["a", "b"]), ["a", "b"]);
        assert.deepEqual(asList(null), []);
        const stack = (parameters: unknown) => ({ urn: "u", type: "t", name: "n", inputs: { parameters } });
        assert.deepEqual(stackParameters(stack({ KeyName: "" })), { KeyName: "" });
        assert.deepEqual(stackParameters(stack(UNKNOWN)), {});
    });
});
