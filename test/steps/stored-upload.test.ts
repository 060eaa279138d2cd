import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { parseJwks, signedStoredPipeline, signingIssues, verifyStep } from "../../components/signing";
import type { StepSignature } from "../../components/signing";
import { interpolate, interpolateAtBuildCreation } from "../../components/simulator";
import { generateSteps, renderStoredPipeline, stepsForPipeline } from "../../components/steps";
import {
    STORED_UPLOAD_COMMAND,
    STORED_UPLOAD_ENV_VAR,
    STORED_UPLOAD_KEY,
    reviewableSteps,
    storedUploadStep,
    uploadedDocument,
} from "../../components/steps/stored-upload";
import { triggerGraphOf } from "../../components/graph/trigger-graph";
import { prodConfig } from "../fixtures/config";
import { AGENT_TEST_PRIVATE_JWKS, AGENT_TEST_PUBLIC_JWKS } from "../signing/fixtures";

/*
 * A signing cluster's pipelines store ONE step that uploads the generated document (components/steps/stored-upload.ts):
 * nothing with a `$` is signed by the program, and the jobs get what they got when the document itself was stored.
 */

const config = prodConfig();
const generated = generateSteps(config, () => "${CI_PLATFORM_ECR_REGISTRY}/ci-platform/image:variant-1").bySlug;
const signingClusters = new Set(
    config.clusters.filter((c) => c.signing !== undefined && c.signing.mode !== "off").map((c) => c.name),
);
const signingPipelines = config.pipelines.filter((p) => signingClusters.has(p.cluster));

describe("stored steps of a signing cluster: one upload step", () => {
    it("prod: every signing pipeline's stored steps hold no `$` (main stored `$$` in 7 of them)", () => {
        assert.equal(signingPipelines.length, 9);
        for (const p of signingPipelines) {
            const stored = generated[p.slug].stored;
            assert.ok(!stored.includes("$"), `${p.slug} stores a $`);
            const steps = (parse(stored) as { steps: { key: string; commands: string[] }[] }).steps;
            assert.deepEqual(
                steps.map((s) => [s.key, s.commands]),
                [[STORED_UPLOAD_KEY, [STORED_UPLOAD_COMMAND]]],
            );
        }
        // The documents they upload do hold `$$`: what main stored.
        assert.ok(signingPipelines.filter((p) => generated[p.slug].document.includes("$$")).length >= 7);
    });

    it("uploads, byte for byte, the document main stored: the pipeline's env and steps rendered for build creation", () => {
        for (const p of signingPipelines) {
            const steps = generated[p.slug];
            assert.equal(
                uploadedDocument(steps.stored),
                renderStoredPipeline({ env: p.env, steps: steps.storedSteps }),
                p.slug,
            );
        }
    });

    it("halving model: the upload's interpolation gives the jobs the commands, env and plugins the editor's did", () => {
        // A job env with variables build creation does not know: with every `$` doubled, none is ever expanded.
        const jobEnv = {
            BUILDKITE_BUILD_ID: "b1",
            BUILDKITE_BUILD_NUMBER: "7",
            BUILDKITE_BRANCH: "main",
            BUILDKITE_COMMIT: "abc",
            CI_PLATFORM_ECR_REGISTRY: "123.dkr.ecr.us-east-1.amazonaws.com",
            HOME: "/var/lib/buildkite-agent",
        };
        const values = (v: unknown): unknown =>
            typeof v === "string"
                ? interpolate(v, jobEnv)
                : Array.isArray(v)
                  ? v.map(values)
                  : v !== null && typeof v === "object"
                    ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, values(x)]))
                    : v;
        for (const p of signingPipelines) {
            const document = uploadedDocument(generated[p.slug].stored) ?? "";
            // buildkite/interpolate v0.1.5 parser.go also takes `\$` as an escape, which the model does not: none here.
            assert.ok(!document.includes("\\$"), p.slug);
            const byAgent = values(parse(document));
            const byEditor = parse(
                interpolateAtBuildCreation(renderStoredPipeline({ env: p.env, steps: generated[p.slug].storedSteps }), {
                    BUILDKITE_BRANCH: "main",
                }),
            );
            assert.deepEqual(byAgent, byEditor, p.slug);
        }
    });

    it("carries the step's queue, retry rules, timeout and key; a non-signing cluster keeps the document itself", () => {
        const p = config.pipelines.find((x) => x.slug === "kolibri-installer-windows");
        assert.ok(p);
        const wire = parse(generated[p.slug].stored) as { steps: Record<string, unknown>[] };
        const step = wire.steps[0];
        // Its own queue is served by Windows agents only: the upload runs where its release steps run.
        assert.deepEqual(step.agents, { queue: "default" });
        assert.equal(step.timeout_in_minutes, 10);
        assert.ok(Array.isArray((step.retry as { automatic: unknown[] }).automatic));
        const unsigned = { ...config, clusters: config.clusters.map((c) => ({ ...c, signing: undefined })) };
        const plain = stepsForPipeline(p, {
            config: unsigned,
            graph: triggerGraphOf(unsigned),
            resolveImage: () => "image",
        });
        assert.equal(plain.stored, plain.document);
        assert.equal(plain.storedUpload, undefined);
        assert.equal(uploadedDocument(plain.stored), undefined);
    });
});

describe("uploadedDocument / reviewableSteps (what the plan shows)", () => {
    const document = 'env:\n  PRICE: $$5\nsteps:\n  - commands:\n      - echo "$$HOME"\n';
    const stored = renderStoredPipeline({ steps: [storedUploadStep(document, "default")] });

    it("decodes the document of the one stored upload step, signed or not", () => {
        assert.equal(uploadedDocument(stored), document);
        const keys = parseJwks(AGENT_TEST_PUBLIC_JWKS, false);
        const signed = signedStoredPipeline({ steps: [storedUploadStep(document, "default")] }, "https://x/y.git", {
            privateJwks: AGENT_TEST_PRIVATE_JWKS,
            verificationKeys: keys,
            configPath: "ci-platform:secrets.signing.default",
            pipeline: "y",
        });
        assert.equal(uploadedDocument(signed), document);
        assert.match(reviewableSteps(signed), /^# The stored step ci-platform-pipeline uploads this document/);
        assert.ok(reviewableSteps(signed).endsWith(document));
    });

    it("leaves any other text alone: a stored document, another step, a second step, bad base64, no YAML", () => {
        const other = renderStoredPipeline({
            steps: [{ kind: "command", label: "x", queue: "q", commands: ["make"] }],
        });
        assert.equal(uploadedDocument(document), undefined);
        assert.equal(uploadedDocument(other), undefined);
        assert.equal(reviewableSteps(other), other);
        assert.equal(uploadedDocument(stored.replace(STORED_UPLOAD_KEY, "upload")), undefined);
        assert.equal(uploadedDocument(stored.replace("| base64 --decode", "| base64 -d")), undefined);
        const two = renderStoredPipeline({
            steps: [storedUploadStep(document, "default"), storedUploadStep(document, "default")],
        });
        assert.equal(uploadedDocument(two), undefined);
        assert.equal(uploadedDocument(stored.replace(/(CI_PLATFORM_PIPELINE: )\S+/, "$1not*base64")), undefined);
        assert.equal(uploadedDocument("steps: [unclosed"), undefined);
    });
});

describe("the stored upload command, run by bash against a fake buildkite-agent", () => {
    it("hands `buildkite-agent pipeline upload` the document on stdin byte for byte, `$` and all", () => {
        const dir = mkdtempSync(path.join(tmpdir(), "stored-upload-"));
        const agent = path.join(dir, "buildkite-agent");
        writeFileSync(agent, `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/argv"\ncat > "${dir}/stdin"\n`);
        chmodSync(agent, 0o755);
        const document = [
            "env:",
            "  PRICE: $$5",
            "steps:",
            '  - commands: ["echo \\"$$HOME\\" ${X} $(date) \\\\$ `id`"]',
            "    label: ünïcödé ✓",
            "",
        ].join("\n");
        const step = storedUploadStep(document, "default");
        assert.ok(!JSON.stringify(step).includes("$"));
        execFileSync("bash", ["-c", step.commands[0]], {
            env: { PATH: `${dir}:${process.env.PATH ?? ""}`, ...step.env },
        });
        assert.equal(readFileSync(path.join(dir, "stdin"), "utf8"), document);
        assert.equal(readFileSync(path.join(dir, "argv"), "utf8"), "pipeline\nupload\n");
        assert.equal(step.env?.[STORED_UPLOAD_ENV_VAR], Buffer.from(document).toString("base64"));
    });
});

describe("the signed stored step", () => {
    const keys = parseJwks(AGENT_TEST_PUBLIC_JWKS, false);
    const signing = {
        privateJwks: AGENT_TEST_PRIVATE_JWKS,
        verificationKeys: keys,
        configPath: "ci-platform:secrets.signing.default",
        pipeline: "kolibri-python-package",
    };
    const repositoryUrl = "https://github.com/learningequality/kolibri.git";
    const generatedDoc = generated["kolibri-python-package"];

    it("verifies with the project's verifier, and fails when the document changes by one byte", () => {
        assert.ok(generatedDoc.storedUpload);
        const yaml = signedStoredPipeline({ steps: [generatedDoc.storedUpload] }, repositoryUrl, signing);
        const step = (
            parse(yaml) as { steps: { commands: string[]; env: Record<string, string>; signature: StepSignature }[] }
        ).steps[0];
        const job = { repositoryUrl, outerEnv: { ...step.env, BUILDKITE_BUILD_ID: "b" } };
        assert.equal(verifyStep(step, step.signature, job, keys), undefined);
        const bytes = Buffer.from(step.env[STORED_UPLOAD_ENV_VAR], "base64");
        bytes[0] ^= 1;
        const env = { [STORED_UPLOAD_ENV_VAR]: bytes.toString("base64") };
        assert.equal(
            verifyStep({ ...step, env }, step.signature, { ...job, outerEnv: { ...job.outerEnv, ...env } }, keys),
            "the signature does not verify",
        );
    });
});

describe("a signing pipeline whose queue only Windows agents serve", () => {
    const index = config.pipelines.findIndex((p) => p.slug === "kolibri-installer-windows");

    it("prod: none refused (its upload runs on a Linux queue of its cluster, where its release steps run)", () => {
        assert.deepEqual(
            signingIssues(config).filter((i) => i.path[0] === "pipelines"),
            [],
        );
    });

    it("is refused, naming ci-platform:pipelines[i].queue, when no queue of its cluster has POSIX agents", () => {
        const fleets = config.fleets.filter((f) => f.cluster !== "default" || f.queue === "windows");
        const issues = signingIssues({ ...config, fleets });
        assert.deepEqual(
            issues.map((i) => i.path),
            config.pipelines.flatMap((p, i) =>
                p.cluster === "default" && p.queue === "windows" ? [["pipelines", i, "queue"]] : [],
            ),
        );
        assert.deepEqual(issues[0].path, ["pipelines", index, "queue"]);
        assert.match(issues[0].message, /served by Windows fleets only/);
        assert.match(issues[0].fix ?? "", /add a Linux \(or static\) fleet/);
        assert.throws(
            () =>
                stepsForPipeline(config.pipelines[index], {
                    config: { ...config, fleets },
                    graph: triggerGraphOf(config),
                    resolveImage: () => "image",
                }),
            /needs a POSIX shell/,
        );
    });

    it("is refused when it is not a gated child, whose jobs alone go to its cluster's Linux queue", () => {
        const pipelines = config.pipelines.map((p, i) => (i === index ? { ...p, gate: "none" as const } : p));
        const issues = signingIssues({ ...config, pipelines });
        assert.deepEqual(
            issues.map((i) => i.path),
            [["pipelines", index, "queue"]],
        );
        assert.match(issues[0].message, /does not serve the pipeline/);
    });
});
