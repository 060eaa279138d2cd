import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { signingKeyOf } from "../../components/signing/jws";
import {
    canonicalPayload,
    ENV_FIELD_PREFIX,
    fullPluginSource,
    signedValues,
    signStep,
    verifyStepWith,
    type StepSignature,
} from "../../components/signing/step-signature";
import { AGENT_TEST_PRIVATE_JWKS } from "./fixtures";

/* What buildkite-agent signs of a command step (buildkite/go-pipeline signature/pipeline_invariants.go SignedFields and
 * ValuesForFields, step_command.go, plugin.go FullSource). The agent's own vectors: vectors.test.ts; the verifier
 * against changed steps: verify.test.ts. */

const context = { repositoryUrl: "https://github.com/acme/app.git" };

describe("fullPluginSource (plugin.go FullSource)", () => {
    for (const [given, full] of [
        ["", ""],
        ["/abs/path", "/abs/path"],
        ["\\\\share\\plugin", "\\\\share\\plugin"],
        ["C:/plugins/x", "C:/plugins/x"],
        ["ssh://git@host/x.git", "ssh://git@host/x.git"],
        ["org/name", "github.com/org/name-buildkite-plugin"],
        ["docker-compose#v5.0.0", "github.com/buildkite-plugins/docker-compose-buildkite-plugin#v5.0.0"],
        ["name#", "github.com/buildkite-plugins/name-buildkite-plugin"],
    ])
        it(`"${given}" → "${full}"`, () => assert.equal(fullPluginSource(given), full));
});

describe("signedValues (pipeline_invariants.go SignedFields)", () => {
    it("joins commands with newlines and gives null for an absent or empty env, plugins and matrix", () => {
        for (const step of [{ commands: ["a", "b"] }, { commands: ["a", "b"], env: {}, plugins: [] }])
            assert.deepEqual(signedValues(step, context), {
                command: "a\nb",
                env: null,
                plugins: null,
                matrix: null,
                repository_url: context.repositoryUrl,
            });
    });

    it("gives a plugin with an empty or absent config as {full source: null} (EmptyToNil)", () => {
        const values = signedValues(
            { commands: ["x"], plugins: [{ "a#v1": {} }, { "b#v1": [] }, { "c#v1": null }] },
            context,
        );
        assert.deepEqual(values.plugins, [
            { "github.com/buildkite-plugins/a-buildkite-plugin#v1": null },
            { "github.com/buildkite-plugins/b-buildkite-plugin#v1": null },
            { "github.com/buildkite-plugins/c-buildkite-plugin#v1": null },
        ]);
    });

    it("refuses a plugin entry that is not a one-key object", () => {
        assert.throws(() => signedValues({ commands: ["x"], plugins: [{ a: 1, b: 2 }] }, context), /one-key object/);
        assert.throws(() => signedValues({ commands: ["x"], plugins: [{}] }, context), /one-key object/);
    });

    it("adds one env::NAME per outer variable the step's own env does not set", () => {
        const values = signedValues(
            { commands: ["x"], env: { SHARED: "step" } },
            { ...context, outerEnv: { SHARED: "pipeline", ONLY_OUTER: "1" } },
        );
        assert.equal(values[`${ENV_FIELD_PREFIX}ONLY_OUTER`], "1");
        assert.equal(Object.hasOwn(values, `${ENV_FIELD_PREFIX}SHARED`), false);
        assert.deepEqual(values.env, { SHARED: "step" });
    });
});

describe("signStep", () => {
    it("records the signed field names sorted, and signs the canonical payload of alg and values", () => {
        const key = signingKeyOf(AGENT_TEST_PRIVATE_JWKS);
        const signature = signStep({ commands: ["x"] }, { ...context, outerEnv: { Z: "1", A: "2" } }, key);
        assert.deepEqual(signature.signed_fields, [
            "command",
            "env",
            "env::A",
            "env::Z",
            "matrix",
            "plugins",
            "repository_url",
        ]);
        let seen = "";
        verifyStepWith({ commands: ["x"] }, signature, { ...context, outerEnv: { Z: "1", A: "2" } }, (_v, payload) => {
            seen = payload;
            return true;
        });
        assert.equal(
            seen,
            canonicalPayload("EdDSA", signedValues({ commands: ["x"] }, { ...context, outerEnv: { Z: "1", A: "2" } })),
        );
    });
});

describe("verifyStepWith (pipeline_invariants.go ValuesForFields)", () => {
    const accept = () => true;
    const base: StepSignature = {
        algorithm: "ES256",
        signed_fields: ["command", "env", "matrix", "plugins", "repository_url"],
        value: "v",
    };

    it("hands the check the signature's value and the payload under the signature's own algorithm", () => {
        const calls: [string, string][] = [];
        const result = verifyStepWith({ commands: ["x"] }, base, context, (value, payload) => {
            calls.push([value, payload]);
            return true;
        });
        assert.equal(result, undefined);
        assert.deepEqual(calls, [["v", canonicalPayload("ES256", signedValues({ commands: ["x"] }, context))]]);
    });

    it("says why it refuses: no fields, a required field left out, an unknown field", () => {
        assert.equal(
            verifyStepWith({ commands: ["x"] }, { ...base, signed_fields: [] }, context, accept),
            "the signature covers no fields",
        );
        assert.equal(
            verifyStepWith({ commands: ["x"] }, { ...base, signed_fields: ["command", "env"] }, context, accept),
            "the signature does not cover matrix, plugins, repository_url",
        );
        assert.equal(
            verifyStepWith(
                { commands: ["x"] },
                { ...base, signed_fields: [...base.signed_fields, "secrets"] },
                context,
                accept,
            ),
            'unknown signed field "secrets"',
        );
    });

    it("reads env::NAME from the job's env, and refuses when the job lacks the variable", () => {
        const signature = { ...base, signed_fields: [...base.signed_fields, "env::TEAM"] };
        assert.equal(
            verifyStepWith({ commands: ["x"] }, signature, context, accept),
            'variable "TEAM" is missing from the job\'s environment',
        );
        let payload = "";
        verifyStepWith({ commands: ["x"] }, signature, { ...context, outerEnv: { TEAM: "t", OTHER: "o" } }, (_v, p) => {
            payload = p;
            return true;
        });
        // Only the signed variable is in the payload: other job variables are not.
        assert.match(payload, /"env::TEAM":"t"/);
        assert.doesNotMatch(payload, /OTHER/);
    });

    it("fails when the check does not verify", () => {
        assert.equal(
            verifyStepWith({ commands: ["x"] }, base, context, () => false),
            "the signature does not verify",
        );
    });
});
