import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    canonicalJson,
    canonicalPayload,
    fullPluginSource,
    parseJwks,
    signStep,
    signedValues,
    signingKeyOf,
    verifyStep,
} from "../../components/signing";
import { AGENT_TEST_PRIVATE_JWKS, AGENT_TEST_PUBLIC_JWKS, VECTOR_STEP } from "./fixtures";

const SIGN_CONTEXT = { repositoryUrl: "fake-repo", outerEnv: { DEPLOY: "1" } };
const JOB_CONTEXT = { repositoryUrl: "fake-repo", outerEnv: { CONTEXT: "cats", DEPLOY: "0", MISC: "llama drama" } };
const EXPECTED_EDDSA =
    "eyJhbGciOiJFZERTQSIsImtpZCI6IlRFU1RfRE9fTk9UX1VTRSJ9..VvC3kr18HKN8me3NvSJcG6m-Kco54n-088kq8bqF5eNIZVqbtuMhIzw_pp8UltASUvUcEypPnZJ3eYjzOeIVDQ";

describe("the agent's signing vectors (go-pipeline signature/sign_test.go)", () => {
    it("signs TestSignVerify's step to the agent's EdDSA value, with its signed fields", () => {
        const signature = signStep(VECTOR_STEP, SIGN_CONTEXT, signingKeyOf(AGENT_TEST_PRIVATE_JWKS));
        assert.equal(signature.algorithm, "EdDSA");
        assert.equal(signature.value, EXPECTED_EDDSA);
        // DEPLOY is the step's own: the pipeline's DEPLOY is not signed (pipeline_invariants.go SignedFields).
        assert.deepEqual(signature.signed_fields, ["command", "env", "matrix", "plugins", "repository_url"]);
    });

    it("verifies the agent's value against the job env of the vector, with the agent's public JWKS", () => {
        const signature = {
            algorithm: "EdDSA",
            signed_fields: ["command", "env", "matrix", "plugins", "repository_url"],
            value: EXPECTED_EDDSA,
        };
        const keys = parseJwks(AGENT_TEST_PUBLIC_JWKS, false);
        assert.equal(verifyStep(VECTOR_STEP, signature, JOB_CONTEXT, keys), undefined);
    });

    it("builds the payload the library builds: canonical JSON of alg and values, plugins in full form", () => {
        const payload = canonicalPayload("EdDSA", signedValues(VECTOR_STEP, SIGN_CONTEXT));
        assert.equal(
            payload,
            '{"alg":"EdDSA","values":{"command":"llamas","env":{"CONTEXT":"cats","DEPLOY":"0"},"matrix":null,' +
                '"plugins":[{"github.com/buildkite-plugins/some-plugin-buildkite-plugin#v1.0.0":null},' +
                '{"github.com/buildkite-plugins/another-plugin-buildkite-plugin#v3.4.5":{"llama":"Kuzco"}}],' +
                '"repository_url":"fake-repo"}}',
        );
    });
});

describe("canonical JSON (RFC 8785)", () => {
    it("sorts members by UTF-16 code units at every depth and writes no whitespace", () => {
        assert.equal(
            canonicalJson({ b: [1, { d: 1, c: 2 }], a: "x", "\u20ac": 1, "\ud83d\ude00": 2 }),
            '{"a":"x","b":[1,{"c":2,"d":1}],"\u20ac":1,"\ud83d\ude00":2}',
        );
    });
    it("writes numbers and strings as ECMAScript does (RFC 8785 §3.2.2)", () => {
        assert.equal(
            canonicalJson([1e21, 0.000001, -0, 1.5, '\u0007\n"\\/']),
            '[1e+21,0.000001,0,1.5,"\\u0007\\n\\"\\\\/"]',
        );
    });
    it("refuses what JSON cannot hold", () => {
        assert.throws(() => canonicalJson(Number.NaN), /number NaN/);
        assert.throws(() => canonicalJson([undefined]), /undefined/);
    });
});

describe("plugin sources in full form (go-pipeline plugin.go FullSource)", () => {
    for (const [given, full] of [
        ["docker#v5.13.0", "github.com/buildkite-plugins/docker-buildkite-plugin#v5.13.0"],
        ["org/thing#main", "github.com/org/thing-buildkite-plugin#main"],
        ["thing", "github.com/buildkite-plugins/thing-buildkite-plugin"],
        ["https://example.com/x.git#v1", "https://example.com/x.git#v1"],
        ["./local", "./local"],
        ["a/b/c#v1", "a/b/c#v1"],
    ]) {
        it(`${given} → ${full}`, () => assert.equal(fullPluginSource(given), full));
    }
});
