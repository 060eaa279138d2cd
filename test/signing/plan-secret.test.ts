import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { parse, stringify } from "yaml";
import { parseJwks, verifyStep } from "../../components/signing";
import type { StepSignature } from "../../components/signing";
import type { PlanDocument } from "../../scripts/plan/model";
import { ROOT, runScript } from "../fixtures/cli";
import { AGENT_TEST_PRIVATE_JWKS, AGENT_TEST_PUBLIC_JWKS } from "./fixtures";

/*
 * End to end through the offline plan, with a real private key set in the stack file (a test fixture may hold plain
 * values under ci-platform:secrets): the stored steps carry signatures that verify with the public key, and the
 * private key appears nowhere in the plan, neither its text nor its JSON.
 */
const PRIVATE_D = (JSON.parse(AGENT_TEST_PRIVATE_JWKS) as { keys: { d: string }[] }).keys[0].d;
const dir = mkdtempSync(path.join(tmpdir(), "signing-plan-"));
let plan: PlanDocument;
let text: string;

before(async () => {
    const doc = parse(readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, unknown> };
    const clusters = doc.config["ci-platform:clusters"] as { name: string; signing?: Record<string, unknown> }[];
    const cluster = clusters.find((c) => c.name === "default");
    assert.ok(cluster?.signing);
    cluster.signing.verificationKeys = (JSON.parse(AGENT_TEST_PUBLIC_JWKS) as { keys: unknown[] }).keys;
    const secrets = doc.config["ci-platform:secrets"] as { signing: Record<string, unknown> };
    secrets.signing.default = AGENT_TEST_PRIVATE_JWKS;
    const file = path.join(dir, "Pulumi.signing.yaml");
    writeFileSync(file, stringify(doc));
    const out = path.join(dir, "signing.json");
    const result = await runScript("scripts/plan.ts", ["--config", file, "--json", out]);
    assert.equal(result.code, 0, result.stderr);
    text = result.stdout + result.stderr;
    plan = JSON.parse(readFileSync(out, "utf8")) as PlanDocument;
});

describe("the offline plan of a stack with a real signing key", () => {
    it("never shows the private key: not in the plan's text, not in its JSON", () => {
        assert.ok(!text.includes(PRIVATE_D));
        assert.ok(!JSON.stringify(plan).includes(PRIVATE_D));
        const parameter = plan.resources.find((r) => r.name === "linux-us-east-1-signing-jwks");
        assert.equal(parameter?.inputs.value, "[secret]");
    });

    it("stores steps whose signatures verify with the cluster's public key, bound to the pipeline's repository", () => {
        const pipeline = plan.resources.find((r) => r.name === "kolibri-python-package-pipeline");
        assert.ok(pipeline);
        // One stored step with no `$` (components/steps/stored-upload.ts): nothing for Buildkite to interpolate.
        assert.ok(!String(pipeline.inputs.steps).includes("$"));
        const steps = parse(String(pipeline.inputs.steps)) as {
            env?: Record<string, string>;
            steps: {
                commands?: string[];
                env?: Record<string, string>;
                plugins?: Record<string, unknown>[];
                signature?: StepSignature;
            }[];
        };
        const commands = steps.steps.filter((s) => s.commands !== undefined);
        assert.deepEqual(
            commands.map((s) => s.commands),
            [["printenv CI_PLATFORM_PIPELINE | base64 --decode | buildkite-agent pipeline upload"]],
        );
        const context = {
            repositoryUrl: String(pipeline.inputs.repository),
            outerEnv: { ...steps.env, BUILDKITE_BUILD_ID: "x" },
        };
        const keys = parseJwks(AGENT_TEST_PUBLIC_JWKS, false);
        for (const step of commands) {
            assert.match(step.signature?.value ?? "", /^eyJ[\w-]+\.\.[\w-]+$/);
            assert.equal(
                verifyStep({ ...step, commands: step.commands ?? [] }, step.signature, context, keys),
                undefined,
            );
        }
        // The document it uploads changed by one byte (an edit in Buildkite) fails.
        const encoded = commands[0].env?.CI_PLATFORM_PIPELINE ?? "";
        const document = Buffer.from(encoded, "base64");
        document[document.length - 2] ^= 1;
        const edited = { ...commands[0].env, CI_PLATFORM_PIPELINE: document.toString("base64") };
        assert.notEqual(edited.CI_PLATFORM_PIPELINE, encoded);
        assert.equal(
            verifyStep(
                { ...commands[0], commands: commands[0].commands ?? [], env: edited },
                commands[0].signature,
                context,
                keys,
            ),
            "the signature does not verify",
        );
        // Another repository (a pipeline pointed elsewhere in Buildkite) fails.
        const moved = { ...context, repositoryUrl: "https://github.com/evil/fork.git" };
        assert.equal(
            verifyStep({ ...commands[0], commands: commands[0].commands ?? [] }, commands[0].signature, moved, keys),
            "the signature does not verify",
        );
    });
});
