/** Fixtures shared by the signing tests. */

/*
 * The agent's own pipeline-signing vectors, ported from buildkite/go-pipeline at commit
 * fd45720551e84b8463a794314271f6e21b2d5e60 (the library buildkite/agent v3.137.0 signs and verifies with):
 * signature/sign_test.go `TestSignVerify` (the EdDSA case: Ed25519 is deterministic, so its value is fixed; the
 * ES512 and PS512 cases are not) and the keys of signature/fixtures/keys/EdDSA/TEST_DO_NOT_USE-*.json. These
 * keys are the library's published test keys: never use them for anything else.
 */
export const AGENT_TEST_PRIVATE_JWKS =
    '{"keys":[{"alg":"EdDSA","crv":"Ed25519","d":"4Gyw8sTl6pVvbsI5iAbPE1LHvW68BnPf6wUedgVsnag","kid":"TEST_DO_NOT_USE","kty":"OKP","use":"sig","x":"1qWvxwM10mDkEp1iKU2ODZqaxYkIW6qCiuaJEV1JWrY"}]}';
export const AGENT_TEST_PUBLIC_JWKS =
    '{"keys":[{"alg":"EdDSA","crv":"Ed25519","kid":"TEST_DO_NOT_USE","kty":"OKP","use":"sig","x":"1qWvxwM10mDkEp1iKU2ODZqaxYkIW6qCiuaJEV1JWrY"}]}';

/** sign_test.go `TestSignVerify`: the step, the env it is signed with and the job env it is verified against. */
export const VECTOR_STEP = {
    commands: ["llamas"],
    plugins: [{ "some-plugin#v1.0.0": null }, { "another-plugin#v3.4.5": { llama: "Kuzco" } }],
    env: { CONTEXT: "cats", DEPLOY: "0" },
};
