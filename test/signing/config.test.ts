import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatIssue } from "../../components/config";
import { parsePlatformConfig } from "../../components/platform-config";
import { secretsShape } from "../../components/config/load";
import { fleetSigning, signingStackParameters, staticAgentConfigLines, uploadQueues } from "../../components/signing";
import { checkParameters } from "../../components/agents";
import { storedUploadStep } from "../../components/steps/stored-upload";
import { entry, mustParse, validRawConfig } from "../fixtures/config";
import { AGENT_TEST_PRIVATE_JWKS } from "./fixtures";

/* clusters[].signing and ci-platform:secrets.signing: what the config accepts, and the errors with their paths. */

const PUBLIC = { kty: "OKP", crv: "Ed25519", kid: "default-2026", x: "1qWvxwM10mDkEp1iKU2ODZqaxYkIW6qCiuaJEV1JWrY" };

function withSigning(signing: unknown, privateSet: boolean) {
    const raw = validRawConfig();
    Object.assign(entry(raw, "clusters", 0), { signing });
    if (privateSet) {
        const secrets = (raw.secrets ?? { pipelines: {} }) as Record<string, unknown>;
        secrets.signing = { default: AGENT_TEST_PRIVATE_JWKS };
        raw.secrets = secrets;
    }
    return raw;
}

function problems(raw: ReturnType<typeof validRawConfig>): string[] {
    const result = parsePlatformConfig(raw);
    return result.ok ? [] : result.error.map(formatIssue);
}

describe("signing config", () => {
    it("accepts a jwks cluster with its public key and private set; blocks by default", () => {
        const config = mustParse(withSigning({ mode: "jwks", verificationKeys: [PUBLIC] }, true));
        assert.equal(config.clusters[0].signing?.failureBehavior, "block");
    });

    it("needs the private set of a jwks cluster, naming the config path and the command that sets it", () => {
        const found = problems(withSigning({ mode: "jwks", verificationKeys: [PUBLIC] }, false));
        assert.equal(found.length, 1);
        assert.match(
            found[0],
            /ci-platform:clusters\[0\]\.signing\.mode.*ci-platform:secrets\.signing\.default holds no private key set.*pulumi config set --secret --path 'ci-platform:secrets\.signing\.default'/s,
        );
    });

    it("refuses off or warn without a reason, jwks without keys, and a signingKeyId that no public key has", () => {
        assert.match(
            problems(withSigning({ mode: "off" }, false)).join("\n"),
            /clusters\[0\]\.signing: signing off needs a reason: set reason/,
        );
        assert.match(
            problems(withSigning({ mode: "jwks", verificationKeys: [PUBLIC], failureBehavior: "warn" }, true)).join(
                "\n",
            ),
            /failureBehavior warn runs jobs that fail verification/,
        );
        assert.match(
            problems(withSigning({ mode: "jwks" }, true)).join("\n"),
            /clusters\[0\]\.signing: mode jwks needs verificationKeys/,
        );
        assert.match(
            problems(withSigning({ mode: "jwks", verificationKeys: [PUBLIC], signingKeyId: "other" }, true)).join("\n"),
            /signing\.signingKeyId.*"other" is not the kid/s,
        );
        assert.deepEqual(problems(withSigning({ mode: "off", reason: "agents too old" }, false)), []);
    });

    it("refuses a key that is not Ed25519 (ES256 signatures are not deterministic)", () => {
        const found = problems(
            withSigning({ mode: "jwks", verificationKeys: [{ ...PUBLIC, kty: "EC", crv: "P-256" }] }, true),
        );
        assert.match(found.join("\n"), /Ed25519/);
    });

    it("refuses a private set for a cluster that does not sign with a JWKS, never echoing it", () => {
        const found = problems(withSigning(undefined, true));
        assert.equal(found.length, 1);
        assert.match(found[0], /ci-platform:secrets\.signing\.default.*its private key set is unused/s);
        assert.ok(!found[0].includes("4Gyw"));
    });

    it("keeps the private set out of the config's secrets shape", () => {
        const config = mustParse(withSigning({ mode: "jwks", verificationKeys: [PUBLIC] }, true));
        const shape = secretsShape(config.secrets);
        assert.ok(shape.signing?.default !== undefined && !shape.signing.default.includes("4Gyw"));
    });
});

describe("fleet signing", () => {
    const signing = mustParse(
        withSigning({ mode: "jwks", verificationKeys: [PUBLIC], signingKeyId: "default-2026" }, true),
    ).clusters[0].signing;

    it("gives upload fleets the signing key, others only the verification set, and parameters the pinned template accepts", () => {
        const uploader = fleetSigning(signing, { cluster: "default", queue: "default" }, ["default/default"]);
        const other = fleetSigning(signing, { cluster: "default", queue: "gpu" }, ["default/default"]);
        const paths = { signing: "/ci-platform/f/signing-jwks", verification: "/ci-platform/f/verification-jwks" };
        const up = signingStackParameters(uploader, paths);
        assert.deepEqual(up, {
            BuildkiteAgentVerificationKeySSMParameter: paths.verification,
            PipelineSigningVerificationFailureBehavior: "block",
            BuildkiteAgentSigningKeySSMParameter: paths.signing,
            BuildkiteAgentSigningKeyID: "default-2026",
        });
        assert.deepEqual(Object.keys(signingStackParameters(other, paths)).sort(), [
            "BuildkiteAgentVerificationKeySSMParameter",
            "PipelineSigningVerificationFailureBehavior",
        ]);
        assert.deepEqual(checkParameters(up), []);
        assert.ok(!JSON.stringify(uploader).includes("4Gyw"), "the public set only");
    });

    it("gives a static fleet its agent config lines", () => {
        assert.deepEqual(staticAgentConfigLines(fleetSigning(signing, { cluster: "default", queue: "mac" }, [])), [
            "verification-jwks-file=/etc/buildkite-agent/verification-key.json",
            "verification-failure-behavior=block",
        ]);
    });

    it("finds the queues that run stored upload steps", () => {
        const config = { pipelines: [{ slug: "a", cluster: "default" }] } as unknown as Parameters<
            typeof uploadQueues
        >[0];
        const storedSteps = [
            {
                kind: "command",
                key: "upload",
                label: "u",
                queue: "default",
                commands: ["buildkite-agent pipeline upload"],
            },
            { kind: "command", key: "build", label: "b", queue: "gpu", commands: ["make"] },
        ] as const;
        assert.deepEqual(uploadQueues(config, { a: { storedSteps } }), ["default/default"]);
        // A signing cluster's one stored step uploads the document: its queue's fleet signs too.
        const storedUpload = storedUploadStep("steps: []\n", "linux");
        assert.deepEqual(uploadQueues(config, { a: { storedSteps, storedUpload } }), [
            "default/default",
            "default/linux",
        ]);
        // A document uploaded by the stored steps that uploads again: that step's queue signs as well.
        const again = {
            kind: "command",
            key: "again",
            label: "a",
            queue: "deep",
            commands: ["buildkite-agent pipeline upload x.yml"],
        } as const;
        assert.deepEqual(uploadQueues(config, { a: { storedSteps, uploaded: [{ steps: [again] }] } }), [
            "default/deep",
            "default/default",
        ]);
    });
});
