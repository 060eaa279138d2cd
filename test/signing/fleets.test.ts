import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { SigningConfig } from "../../components/config/schema";
import {
    fleetSigning,
    kmsStackParameters,
    signingParameterPaths,
    signingParameterPatterns,
    signingStackParameters,
    staticAgentConfigLines,
    uploadQueues,
    type FleetSigning,
} from "../../components/signing/fleets";
import { parseJwks } from "../../components/signing/jws";
import type { CommandSpec, Step } from "../../components/steps/step-model";
import { mustParse, validRawConfig } from "../fixtures/config";
import { AGENT_TEST_PUBLIC_JWKS } from "./fixtures";

/* A fleet's part in signed pipelines: which fleets sign, their SSM paths and Elastic CI Stack parameters
 * (elastic-ci-stack-for-aws v6.71.1 bk-install-elastic-stack.sh reads BuildkiteAgentSigningKeySSMParameter and
 * BuildkiteAgentVerificationKeySSMParameter at boot), and a static fleet's agent config lines (buildkite/agent
 * v3.137.0 clicommand/agent_start.go). */

const config = mustParse(validRawConfig());
const command = (queue: string, commands: string[]): CommandSpec => ({ kind: "command", label: "x", queue, commands });
const UPLOAD = "buildkite-agent pipeline upload";
const publicKey = JSON.parse(AGENT_TEST_PUBLIC_JWKS).keys[0] as NonNullable<SigningConfig["verificationKeys"]>[number];
const jwks = (extra: Partial<SigningConfig> = {}): SigningConfig => ({
    mode: "jwks",
    failureBehavior: "block",
    verificationKeys: [publicKey],
    ...extra,
});

describe("uploadQueues", () => {
    it("names the cluster/queue of every command step that runs pipeline upload: the stored step, stored steps, nested uploads", () => {
        const group: Step = {
            kind: "group",
            label: "g",
            steps: [command("builders", [`${UPLOAD} .buildkite/more.yml`]), command("quiet", ["make"])],
        };
        const queues = uploadQueues(config, {
            app: { storedSteps: [command("default", ["make test"])], storedUpload: command("default", [UPLOAD]) },
            installer: { storedSteps: [group] },
            "mac-app": { storedSteps: [], uploaded: [{ steps: [command("macos", [`echo; ${UPLOAD}`])] }] },
            mono: { storedSteps: [command("default", ["buildkite-agent pipeline-upload"])] },
        });
        assert.deepEqual(queues, ["default/builders", "default/default", "macos/macos"]);
    });

    it("ignores pipelines with nothing generated and steps that do not upload", () => {
        assert.deepEqual(uploadQueues(config, {}), []);
        assert.deepEqual(
            uploadQueues(config, { app: { storedSteps: [command("default", ["buildkite-agent annotate"])] } }),
            [],
        );
    });
});

describe("fleetSigning", () => {
    const fleet = { cluster: "default", queue: "default" };

    it("unset and off neither sign nor verify, and off keeps its reason", () => {
        assert.deepEqual(fleetSigning(undefined, fleet, ["default/default"]), {
            mode: "unset",
            failureBehavior: "block",
            signs: false,
        });
        assert.deepEqual(
            fleetSigning({ mode: "off", failureBehavior: "warn", reason: "r" }, fleet, ["default/default"]),
            {
                mode: "off",
                failureBehavior: "block",
                reason: "r",
                signs: false,
            },
        );
    });

    it("jwks signs only where an upload runs, and verifies with the public set with alg and use written", () => {
        const signing = jwks({ signingKeyId: "TEST_DO_NOT_USE", failureBehavior: "warn", reason: "rollout" });
        const signs = fleetSigning(signing, fleet, ["default/default"]);
        assert.equal(signs.signs, true);
        assert.equal(signs.signingKeyId, "TEST_DO_NOT_USE");
        assert.equal(signs.failureBehavior, "warn");
        assert.equal(signs.reason, "rollout");
        assert.deepEqual(parseJwks(signs.verificationJwks ?? "", false), parseJwks(AGENT_TEST_PUBLIC_JWKS, false));
        // Same queue name in another cluster does not sign.
        assert.equal(fleetSigning(signing, { cluster: "macos", queue: "default" }, ["default/default"]).signs, false);
    });

    it("kms signs where an upload runs and carries no key set", () => {
        const kms = fleetSigning({ mode: "kms", failureBehavior: "block" }, fleet, ["default/default"]);
        assert.deepEqual(kms, { mode: "kms", failureBehavior: "block", signs: true });
    });
});

describe("signingParameterPaths and signingParameterPatterns", () => {
    const signing = fleetSigning(jwks({ signingKeyId: "TEST_DO_NOT_USE" }), { cluster: "c", queue: "q" }, ["c/q"]);
    const paths = signingParameterPaths("fleet-a", signing);
    // elastic-ci-stack-for-aws v6.71.1 templates/aws-stack.yml: the SSM parameter's AllowedPattern.
    const ALLOWED = /^$|^\/[a-zA-Z0-9_.\-/]+$/;
    // IAM's `?` matches exactly one character, `*` any run.
    const iamMatches = (pattern: string, value: string) =>
        new RegExp(
            `^${pattern
                .replace(/[.+^${}()|[\]\\]/g, "\\$&")
                .replace(/\?/g, ".")
                .replace(/\*/g, ".*")}$`,
        ).test(value);

    it("are under the fleet's name, in the template's allowed pattern, with a 16-hex-digit digest", () => {
        assert.match(paths.signing, /^\/ci-platform\/fleet-a\/signing-jwks-[0-9a-f]{16}$/);
        assert.match(paths.verification, /^\/ci-platform\/fleet-a\/verification-jwks-[0-9a-f]{16}$/);
        assert.match(paths.signing, ALLOWED);
        assert.match(paths.verification, ALLOWED);
        assert.deepEqual(signingParameterPaths("fleet-a", signing), paths, "deterministic");
    });

    it("a new signing kid moves the signing path only; a new verification set moves both", () => {
        const newKid = signingParameterPaths("fleet-a", { ...signing, signingKeyId: "2027" });
        assert.notEqual(newKid.signing, paths.signing);
        assert.equal(newKid.verification, paths.verification);
        const newSet = signingParameterPaths("fleet-a", { ...signing, verificationJwks: '{"keys":[]}' });
        assert.notEqual(newSet.signing, paths.signing);
        assert.notEqual(newSet.verification, paths.verification);
    });

    it("the patterns match every version of the fleet's paths and no other fleet's", () => {
        const patterns = signingParameterPatterns("fleet-a", true);
        assert.equal(patterns.length, 2);
        assert.ok(patterns.some((p) => iamMatches(p, paths.signing)));
        assert.ok(patterns.some((p) => iamMatches(p, paths.verification)));
        const other = signingParameterPaths("fleet-a-eu", signing);
        assert.ok(!patterns.some((p) => iamMatches(p, other.signing) || iamMatches(p, other.verification)));
        // A fleet that does not sign may read the verification set only.
        assert.deepEqual(signingParameterPatterns("fleet-a", false), [patterns[1]]);
        assert.ok(!iamMatches(patterns[1], paths.signing));
    });
});

describe("signingStackParameters", () => {
    const paths = { signing: "/s", verification: "/v" };
    it("gives nothing to a fleet whose cluster does not sign with a key set", () => {
        for (const mode of ["unset", "off", "kms"] as const)
            assert.deepEqual(signingStackParameters({ mode, failureBehavior: "block", signs: true }, paths), {});
    });
    it("a verifying fleet gets the verification set and the failure behaviour; a signing one the signing set and kid", () => {
        const verifies: FleetSigning = { mode: "jwks", failureBehavior: "warn", signs: false, signingKeyId: "k" };
        assert.deepEqual(signingStackParameters(verifies, paths), {
            BuildkiteAgentVerificationKeySSMParameter: "/v",
            PipelineSigningVerificationFailureBehavior: "warn",
        });
        assert.deepEqual(signingStackParameters({ ...verifies, signs: true }, paths), {
            BuildkiteAgentVerificationKeySSMParameter: "/v",
            PipelineSigningVerificationFailureBehavior: "warn",
            BuildkiteAgentSigningKeySSMParameter: "/s",
            BuildkiteAgentSigningKeyID: "k",
        });
        const { signingKeyId: _k, ...noKid } = verifies;
        void _k;
        assert.equal(signingStackParameters({ ...noKid, signs: true }, paths).BuildkiteAgentSigningKeyID, undefined);
    });
});

describe("kmsStackParameters", () => {
    const arn = "arn:aws:kms:eu-west-1:123456789012:key/mrk-1";
    it("gives nothing outside mode kms, and verify or sign-and-verify by whether the fleet uploads", () => {
        assert.deepEqual(kmsStackParameters({ mode: "jwks", failureBehavior: "block", signs: true }, arn), {});
        assert.deepEqual(kmsStackParameters({ mode: "kms", failureBehavior: "block", signs: false }, arn), {
            PipelineSigningKMSKeyId: arn,
            PipelineSigningKMSAccess: "verify",
            PipelineSigningVerificationFailureBehavior: "block",
        });
        assert.equal(
            kmsStackParameters({ mode: "kms", failureBehavior: "block", signs: true }, arn).PipelineSigningKMSAccess,
            "sign-and-verify",
        );
        // The template refuses a key id and a key spec together (HasPipelineSigningKMSKey).
        assert.equal(
            kmsStackParameters({ mode: "kms", failureBehavior: "block", signs: true }, arn).PipelineSigningKMSKeySpec,
            undefined,
        );
    });
});

describe("staticAgentConfigLines", () => {
    it("verifying machines get the verification file and behaviour; signing ones the signing file and kid", () => {
        const verifies: FleetSigning = { mode: "jwks", failureBehavior: "block", signs: false, signingKeyId: "k" };
        assert.deepEqual(staticAgentConfigLines(verifies), [
            "verification-jwks-file=/etc/buildkite-agent/verification-key.json",
            "verification-failure-behavior=block",
        ]);
        assert.deepEqual(staticAgentConfigLines({ ...verifies, signs: true }).slice(2), [
            "signing-jwks-file=/etc/buildkite-agent/signing-key.json",
            "signing-jwks-key-id=k",
        ]);
    });
    it("kms machines get the key ARN as their signing-aws-kms-key; unset and off get nothing", () => {
        const arn = "arn:aws:kms:us-east-1:123456789012:key/k";
        assert.deepEqual(staticAgentConfigLines({ mode: "kms", failureBehavior: "warn", signs: false }, arn), [
            `signing-aws-kms-key=${arn}`,
            "verification-failure-behavior=warn",
        ]);
        assert.deepEqual(staticAgentConfigLines({ mode: "off", failureBehavior: "block", signs: false }), []);
        assert.deepEqual(staticAgentConfigLines({ mode: "unset", failureBehavior: "block", signs: false }), []);
    });
});
