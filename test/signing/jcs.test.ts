import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { canonicalJson } from "../../components/signing/jcs";

/* RFC 8785 canonical JSON, as buildkite/go-pipeline signature/sign.go `canonicalPayload` produces it through
 * gowebpki/jcs `Transform` (the agent's signed payload). Vectors: sign_test.go lives in vectors.test.ts. */

describe("canonicalJson", () => {
    it("writes the JSON literals and parses back to the value it was given", () => {
        const value = { z: [true, false, null], a: { "": "", b: -12.5 }, m: "line\nbreak" };
        const text = canonicalJson(value);
        assert.equal(text, '{"a":{"":"","b":-12.5},"m":"line\\nbreak","z":[true,false,null]}');
        assert.deepEqual(JSON.parse(text), value);
    });

    it("orders members by UTF-16 code units, not by code points (RFC 8785 §3.2.3)", () => {
        // U+FF61 sorts after the surrogate pair of U+1F600 by code point, before it by UTF-16 unit (0xFF61 > 0xD83D).
        assert.equal(canonicalJson({ "\uff61": 1, "\u{1f600}": 2 }), '{"\u{1f600}":2,"\uff61":1}');
        // Upper case before lower case (code unit order), digits before both.
        assert.equal(canonicalJson({ b: 1, B: 2, "1": 3 }), '{"1":3,"B":2,"b":1}');
    });

    it("leaves out members whose value is undefined, as JSON.stringify does, and keeps null", () => {
        assert.equal(canonicalJson({ a: undefined, b: null }), '{"b":null}');
    });

    it("keeps array order (arrays are not sorted)", () => {
        assert.equal(canonicalJson([3, 1, 2]), "[3,1,2]");
    });

    it("is independent of the order members were inserted in", () => {
        const a = canonicalJson({ x: 1, y: { p: 1, q: 2 } });
        const b = canonicalJson({ y: { q: 2, p: 1 }, x: 1 });
        assert.equal(a, b);
    });

    it("writes -0 as 0 and large or small numbers in ECMAScript form (RFC 8785 §3.2.2.3)", () => {
        assert.equal(canonicalJson([-0, 1e21, 1e-7, 123456789012345680000]), "[0,1e+21,1e-7,123456789012345680000]");
    });

    it("refuses what JSON has no form for, naming it", () => {
        assert.throws(() => canonicalJson(Number.POSITIVE_INFINITY), /number Infinity/);
        assert.throws(() => canonicalJson(undefined), /undefined/);
        assert.throws(() => canonicalJson({ f: () => 1 }), /function/);
        assert.throws(() => canonicalJson(Symbol("s")), /symbol/);
        assert.throws(() => canonicalJson(10n), /bigint/);
    });
});
