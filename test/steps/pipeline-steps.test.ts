import assert from "node:assert/strict";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { uploadedDocument } from "../../components/steps/stored-upload";
import { parse } from "yaml";
import { PlatformConfig } from "../../components/config";
import { triggerGraphOf } from "../../components/graph/trigger-graph";
import { checkOurRules, validatePipelineDocument, walkSteps } from "../../components/steps/pipeline-schema";
import {
    PARENT_ENV,
    TRIGGERED_IF,
    RELEASE_ONLY_IF,
    UPLOAD_ENV_VAR,
    briefSteps,
    escapeForUpload,
    stepsForPlatform,
} from "../../components/steps/pipeline-steps";
import { interpolateAtBuildCreation } from "../../components/simulator";
import { cachedPlan } from "../fixtures/plans";
import { PlanResource } from "../../scripts/plan/model";
import { parseVersionsText, readImageFiles, stepImageResolver } from "../../components/images";
import { prodConfig } from "../fixtures/config";

/*
 * The prod stack's plan, run through the real program under mocks: every assertion reads the `steps` input of the
 * Buildkite Pipeline resources the plan records, parsed from YAML, and the documents those steps upload.
 */

type Doc = { env?: Record<string, string>; steps: Record<string, unknown>[] };

const ROOT = path.resolve(__dirname, "../..");
let resources: PlanResource[] = [];
let config: PlatformConfig;

/** The parsed `steps` input of a pipeline in the plan, once Buildkite has created a build from it. */
function storedDoc(slug: string): Doc {
    const resource = resources.find((r) => r.type === "buildkite:Pipeline/pipeline:Pipeline" && r.inputs.slug === slug);
    assert.ok(resource, `no pipeline ${slug} in the plan`);
    assert.equal(typeof resource.inputs.steps, "string");
    // As the build holds them: Buildkite interpolates stored steps when it creates the build. A signing pipeline's
    // one stored step uploads the document, which the upload interpolates the same way (stored-upload.ts).
    const text = resource.inputs.steps as string;
    return parse(interpolateAtBuildCreation(uploadedDocument(text) ?? text, {})) as Doc;
}

/** The document a stored step uploads: its {@link UPLOAD_ENV_VAR}, parsed. */
function uploadedBy(doc: Doc, key: string): Doc {
    const step = doc.steps.find((s) => s.key === key) as { env?: Record<string, string>; commands?: string[] };
    assert.ok(step, `no step ${key}`);
    assert.ok(
        step.commands?.some((c) => c.includes(`"$${UPLOAD_ENV_VAR}" | buildkite-agent pipeline upload`)),
        `step ${key} must pipe ${UPLOAD_ENV_VAR} to buildkite-agent pipeline upload`,
    );
    const yaml = step.env?.[UPLOAD_ENV_VAR];
    assert.equal(typeof yaml, "string");
    return parse(yaml as string) as Doc;
}

/** Every document of a pipeline: the stored one, then every one it uploads. */
function allDocs(slug: string): { name: string; doc: Doc; uploaded: boolean }[] {
    const stored = storedDoc(slug);
    const uploads = stored.steps
        .filter((s) => typeof (s.env as Record<string, string> | undefined)?.[UPLOAD_ENV_VAR] === "string")
        .map((s) => ({ name: `${slug} ${String(s.key)}`, doc: uploadedBy(stored, s.key as string), uploaded: true }));
    return [{ name: `${slug} (stored)`, doc: stored, uploaded: false }, ...uploads];
}

const hasIfChanged = (value: unknown): boolean =>
    Array.isArray(value)
        ? value.some(hasIfChanged)
        : typeof value === "object" && value !== null
          ? Object.entries(value).some(([k, v]) => k === "if_changed" || hasIfChanged(v))
          : false;

before(async () => {
    resources = [...(await cachedPlan({ stack: "prod" })).resources];
    config = prodConfig();
});

describe("prod plan: kolibri-python-package", () => {
    it("runs its own build, waits, then uploads a trigger step per installer it triggers itself", () => {
        const stored = storedDoc("kolibri-python-package");
        const keys = stored.steps.map((s) => (s.wait !== undefined ? "wait" : s.key));
        assert.deepEqual(keys, ["upload", "wait", "triggers", "wait", "release-artifacts"]);
        assert.equal(
            stored.steps[0].commands && (stored.steps[0].commands as string[])[0],
            "buildkite-agent pipeline upload",
        );

        // The Raspberry Pi image downloads from the Debian build, so the Debian build triggers it (chained).
        const triggers = [
            ...uploadedBy(stored, "triggers").steps,
            ...uploadedBy(storedDoc("kolibri-installer-debian"), "chained-triggers").steps,
        ];
        const children = config.pipelines
            .find((p) => p.slug === "kolibri-python-package")
            ?.triggers.map((t) => t.pipeline);
        assert.deepEqual(triggers.map((t) => t.trigger).sort(), children?.sort());
        for (const installer of [
            "kolibri-installer-debian",
            "kolibri-installer-android",
            "kolibri-installer-windows",
            "kolibri-installer-macos",
            "kolibri-raspbian-image",
        ])
            assert.ok(
                triggers.some((t) => t.trigger === installer),
                `no trigger step for ${installer}`,
            );
    });

    it("leaves the Raspberry Pi image to the Debian build, after that build's own steps", () => {
        const first = uploadedBy(storedDoc("kolibri-python-package"), "triggers").steps;
        assert.ok(first.some((t) => t.key === "deb-build"));
        assert.ok(!first.some((t) => t.trigger === "kolibri-raspbian-image"));
        for (const t of first) assert.equal(t.depends_on, undefined);
        const debian = storedDoc("kolibri-installer-debian").steps;
        const at = (key: string) => debian.findIndex((s) => s.key === key);
        assert.ok(debian.slice(at("upload") + 1, at("chained-triggers")).some((s) => s.wait !== undefined));
    });

    it("passes the parent's build id, job id, commit, branch and message to every child, and no release flag", () => {
        const stored = storedDoc("kolibri-python-package");
        for (const t of uploadedBy(stored, "triggers").steps) {
            const build = t.build as { message: string; env: Record<string, string>; commit?: string };
            assert.equal(build.message, "$BUILDKITE_MESSAGE");
            assert.equal(build.env[PARENT_ENV.buildId], "$BUILDKITE_BUILD_ID");
            assert.equal(build.env[PARENT_ENV.jobId], "$BUILDKITE_JOB_ID");
            assert.equal(build.env[PARENT_ENV.commit], "$BUILDKITE_COMMIT");
            assert.equal(build.env[PARENT_ENV.branch], "$BUILDKITE_BRANCH");
            assert.equal(build.env[PARENT_ENV.pipeline], "$BUILDKITE_PIPELINE_SLUG");
            // A trigger step's env is a claim: nothing decides a release from it (issue 12).
            assert.equal(build.env.CI_PLATFORM_RELEASE, undefined);
            // Children build other repositories: the parent's commit goes as env, never as the child's commit.
            assert.equal(build.commit, undefined);
        }
        const commands = (stored.steps.find((s) => s.key === "triggers")?.commands as string[]).join("\n");
        assert.ok(!commands.includes("CI_PLATFORM_RELEASE"));
    });

    it("runs the release-artifacts step only on tag builds, after the triggers finished", () => {
        const stored = storedDoc("kolibri-python-package");
        const releaseIndex = stored.steps.findIndex((s) => s.key === "release-artifacts");
        const release = stored.steps[releaseIndex];
        assert.equal(release.if, "build.tag != null");
        assert.equal(release.if, RELEASE_ONLY_IF);
        assert.ok(stored.steps[releaseIndex - 1].wait !== undefined, "a wait must come before release-artifacts");
        // It downloads the build's own artifacts: uploading them again would store each one twice.
        assert.equal(release.artifact_paths, undefined);
        // The secrets hook exports PYPI_TOKEN in the environment hook; the docker plugin passes it in by name only.
        const plugins = release.plugins as Record<string, { environment?: string[] }>[];
        const docker = plugins.map((p) => Object.entries(p)[0]).find(([ref]) => ref.startsWith("docker#"));
        assert.deepEqual(docker?.[1].environment, ["PYPI_TOKEN"]);
        // No other step is tag-only.
        assert.equal(stored.steps.filter((s) => s.if === RELEASE_ONLY_IF).length, 1);
    });
});

describe("prod plan: gated installers", () => {
    it("begin with the release check of triggered builds, then a wait; the parent and the ungated pipelines have none", () => {
        for (const p of config.pipelines) {
            const [first, second] = storedDoc(p.slug).steps;
            if (p.gate === "release") {
                assert.equal(first.key, "release-check", p.slug);
                assert.equal(first.if, TRIGGERED_IF);
                assert.equal(first.if, 'build.source == "trigger_job"');
                assert.ok(second.wait !== undefined, p.slug);
                // The block step is uploaded by the check, never stored with a condition on the build's env.
                assert.ok(
                    storedDoc(p.slug).steps.every((s) => s.block === undefined),
                    p.slug,
                );
            } else {
                assert.ok(
                    storedDoc(p.slug).steps.every((s) => s.block === undefined),
                    `${p.slug} is not gated but has a block step`,
                );
            }
        }
        const gated = config.pipelines.filter((p) => p.gate === "release").map((p) => p.slug);
        assert.deepEqual(gated.sort(), [
            "kolibri-installer-android",
            "kolibri-installer-debian",
            "kolibri-installer-macos",
            "kolibri-installer-windows",
            "kolibri-raspbian-image",
        ]);
    });

    it("declares an organization rule for the trigger into the macOS cluster, and only that one", () => {
        const rules = resources.filter((r) => r.inputs.type === "pipeline.trigger_build.pipeline");
        assert.equal(rules.length, 1);
        assert.equal(rules[0].inputs.type, "pipeline.trigger_build.pipeline");
        const value = JSON.parse(rules[0].inputs.value as string) as Record<string, string>;
        // The values are the pipelines' UUIDs (outputs the mocks invent), one for each side.
        assert.match(value.source_pipeline, /^[0-9a-f-]{36}$/);
        assert.match(value.target_pipeline, /^[0-9a-f-]{36}$/);
        assert.notEqual(value.source_pipeline, value.target_pipeline);
        assert.deepEqual(Object.keys(value).sort(), ["source_pipeline", "target_pipeline"]);
        assert.match(rules[0].name, /kolibri-python-package-to-kolibri-installer-macos$/);
    });
});

describe("prod plan: every document", () => {
    it("passes the pipeline schema and the project's rules, stored and uploaded, for every pipeline", () => {
        let documents = 0;
        for (const p of config.pipelines) {
            for (const { name, doc } of allDocs(p.slug)) {
                documents++;
                assert.deepEqual(validatePipelineDocument(doc), [], name);
                assert.deepEqual(checkOurRules(doc), [], name);
            }
        }
        // One stored document per pipeline, plus the uploads: kolibri's two trigger waves and dagster's two package sets.
        assert.equal(documents, config.pipelines.length + 4);
    });

    it("keeps if_changed out of stored steps and puts it only in the documents an agent uploads", () => {
        for (const p of config.pipelines)
            for (const { name, doc, uploaded } of allDocs(p.slug))
                if (!uploaded) assert.equal(hasIfChanged(doc), false, name);
        assert.ok(allDocs("dagster").some((d) => d.uploaded && hasIfChanged(d.doc)));
    });

    it("gives every command step a queue a fleet serves, retries for infrastructure failures and a timeout", () => {
        for (const p of config.pipelines)
            for (const { name, doc } of allDocs(p.slug))
                for (const step of walkSteps(doc).filter((s) => s.type === "command")) {
                    const body = step.body as Record<string, unknown>;
                    const queue = (body.agents as { queue: string }).queue;
                    assert.ok(
                        config.fleets.some((f) => f.queue === queue && f.cluster === p.cluster),
                        `${name} ${step.path}: no fleet serves ${queue}`,
                    );
                    const automatic = (body.retry as { automatic: { exit_status?: number }[] }).automatic;
                    for (const code of [-1, 125, 128, 255])
                        assert.ok(
                            automatic.some((r) => r.exit_status === code),
                            `${name} ${step.path}: no retry for ${code}`,
                        );
                    assert.ok(!automatic.some((r) => r.exit_status === 1), "a failing test (exit 1) is never retried");
                    assert.equal(typeof body.timeout_in_minutes, "number");
                }
    });

    it("agrees with the pure generator, which the brief is computed from", () => {
        const graph = triggerGraphOf(config);
        const versions = parseVersionsText(readImageFiles(ROOT).versionsJson ?? "{}").value ?? {};
        const generated = stepsForPlatform(config, graph, stepImageResolver(config.images, versions));
        for (const p of config.pipelines) {
            // Every prod cluster signs: the pipeline stores one signed step (components/signing/stored-steps.ts)
            // that uploads the generated document, byte for byte (components/steps/stored-upload.ts).
            const resource = resources.find((r) => r.name === `${p.slug}-pipeline`);
            const text = resource?.inputs.steps as string;
            const raw = parse(text) as Doc;
            assert.equal(raw.steps.length, 1, p.slug);
            assert.ok(raw.steps[0].signature, `${p.slug}: its stored step is signed`);
            const unsigned = JSON.parse(JSON.stringify(raw), (key, value: unknown) =>
                key === "signature" ? undefined : value,
            ) as Doc;
            assert.deepEqual(unsigned, parse(generated[p.slug].stored), p.slug);
            assert.equal(uploadedDocument(text), generated[p.slug].document, p.slug);
            for (const u of generated[p.slug].uploaded)
                assert.deepEqual(parse(u.yaml), uploadedBy(storedDoc(p.slug), u.stepKey));
        }
        assert.equal(
            briefSteps(generated["kolibri-installer-debian"]),
            "kolibri-installer-debian: release-check [triggered] → wait → upload → wait → release-upload [triggered] → chained-triggers [triggered by kolibri-python-package/deb-build] { trigger kolibri-raspbian-image (raspbian-image) }",
        );
        assert.match(
            briefSteps(generated["kolibri-python-package"]),
            /^kolibri-python-package: upload → wait → triggers \{ trigger kolibri-installer-debian \(deb-build\) → .* \} → wait → release-artifacts \[tag\]$/,
        );
    });
});

describe("stored steps: escaped once more for build-creation interpolation (buildkite docs)", () => {
    it("writes the upload step's variable as $$ and the embedded document's $$ as $$$$ in the pipeline's YAML", () => {
        const versions = parseVersionsText(readImageFiles(ROOT).versionsJson ?? "{}").value ?? {};
        const generated = stepsForPlatform(config, triggerGraphOf(config), stepImageResolver(config.images, versions));
        const raw = parse(generated["kolibri-python-package"].document) as Doc;
        const triggers = raw.steps.find((s) => s.key === "triggers") as {
            commands: string[];
            env: Record<string, string>;
        };
        assert.ok(triggers.commands.includes(`printf '%s\\n' "$$${UPLOAD_ENV_VAR}" | buildkite-agent pipeline upload`));
        assert.match(triggers.env[UPLOAD_ENV_VAR], /CI_PLATFORM_PARENT_BUILD_ID: \$\$BUILDKITE_BUILD_ID\n/);
        const release = raw.steps.find((s) => s.key === "release-artifacts") as {
            plugins: Record<string, { image: string }>[];
        };
        const image = Object.values(release.plugins.find((p) => Object.keys(p)[0].startsWith("docker#")) ?? {})[0]
            .image;
        assert.match(image, /^\$\$\{CI_PLATFORM_ECR_REGISTRY\}\//);
        // After build creation, the document the agent uploads keeps $$ for the job.
        const built = storedDoc("kolibri-python-package");
        const doc = uploadedBy(built, "triggers");
        const deb = doc.steps.find((s) => s.key === "deb-build") as { build: { env: Record<string, string> } };
        assert.equal(deb.build.env[PARENT_ENV.buildId], "$BUILDKITE_BUILD_ID");
    });
});

describe("escapeForUpload", () => {
    it("doubles every dollar so the job receives the text unchanged", () => {
        assert.equal(escapeForUpload("${A}/x:$B $$"), "$${A}/x:$$B $$$$");
        assert.equal(escapeForUpload("plain"), "plain");
    });
});
