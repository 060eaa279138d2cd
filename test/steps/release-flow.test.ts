import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { PlatformConfig } from "../../components/config";
import { triggerGraphOf } from "../../components/graph/trigger-graph";
import { parseVersionsText, readImageFiles, stepImageResolver } from "../../components/images";
import { interpolateAtBuildCreation, simulate } from "../../components/simulator";
import {
    PARENT_ENV,
    RELEASE_GATE_IF,
    RELEASE_STEP_IF,
    SIBLING_BUILD_VAR,
    UPLOAD_ENV_VAR,
    releaseQueue,
    stepsForPlatform,
} from "../../components/steps/pipeline-steps";
import { prodConfig, prodRawConfig, mustParse } from "../fixtures/config";
import * as path from "node:path";

/*
 * Issue 11 defects 4 (artifact download destination) and 5 (the Kolibri release flow), on the steps the program
 * generates for the prod config.
 */

type Doc = { steps: Record<string, unknown>[] };
const ROOT = path.resolve(__dirname, "../..");
const imageFiles = readImageFiles(ROOT);
const versions = parseVersionsText(imageFiles.versionsJson ?? "{}").value ?? {};

function generate(config: PlatformConfig) {
    return stepsForPlatform(config, triggerGraphOf(config), stepImageResolver(config.images, versions));
}
const config = prodConfig();
const steps = generate(config);
/** A pipeline's stored steps as a build holds them (Buildkite interpolates them when it creates the build). */
const asBuilt = (yaml: string) => parse(interpolateAtBuildCreation(yaml, {})) as Doc;
const stored = (slug: string) => asBuilt(steps[slug].stored);
const storedStep = (slug: string, key: string) => {
    const step = stored(slug).steps.find((s) => s.key === key);
    assert.ok(step, `no step ${key} in ${slug}`);
    return step as { commands: string[]; if?: string; env?: Record<string, string>; agents: { queue: string } };
};
const uploaded = (slug: string, key: string) => parse(storedStep(slug, key).env?.[UPLOAD_ENV_VAR] ?? "") as Doc;

describe("defect 4: artifact downloads into a clean checkout", () => {
    it("downloads every artifact into the checkout itself, never into a directory that may not exist", () => {
        // buildkite/agent v3.137.0 internal/artifact/downloader.go: the destination must exist; only "." does.
        const downloads = Object.values(steps).flatMap((s) =>
            asBuilt(s.stored).steps.flatMap((st) =>
                ((st.commands as string[] | undefined) ?? []).filter((c) => c.includes("artifact download")),
            ),
        );
        assert.ok(downloads.length >= 6, "the release steps download artifacts");
        for (const command of downloads) assert.match(command, /^buildkite-agent artifact download "[^"]+" \.$/);
        assert.deepEqual(storedStep("kolibri-python-package", "release-artifacts").commands.slice(0, 2), [
            'buildkite-agent artifact download "dist/*.whl" .',
            'buildkite-agent artifact download "dist/*.pex" .',
        ]);
    });

    it("the simulator finds no download problem on a tag build (it reports one for `dist/`)", () => {
        const stored = Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, v.stored]));
        const sim = simulate({ config, stored, push: { pipeline: "kolibri-python-package", tag: "v1.0.0" } });
        assert.deepEqual(sim.problems, []);
        const broken = {
            ...stored,
            "kolibri-python-package": stored["kolibri-python-package"].replace('" .', '" dist/'),
        };
        const bad = simulate({ config, stored: broken, push: { pipeline: "kolibri-python-package", tag: "v1.0.0" } });
        assert.equal(bad.problems.length, 1);
        assert.match(bad.problems[0], /release-artifacts: artifact download to "dist\/", which does not exist/);
    });
});

describe("defect 5: the release flow", () => {
    const gated = config.pipelines.filter((p) => p.gate === "release");

    it("gives every gated child a release step after its own build, the exact complement of its gate", () => {
        assert.equal(gated.length, 5);
        for (const p of gated) {
            const doc = stored(p.slug);
            const index = doc.steps.findIndex((s) => s.key === "release-upload");
            assert.ok(index > 0, `${p.slug} has no release step`);
            assert.ok(doc.steps[index - 1].wait !== undefined, `${p.slug}: a wait must precede the release step`);
            assert.ok(
                doc.steps.findIndex((s) => s.key === "upload") < index,
                `${p.slug}: the release step comes after the build`,
            );
            const step = doc.steps[index] as { if: string; commands: string[] };
            assert.equal(step.if, RELEASE_STEP_IF);
            assert.equal(RELEASE_STEP_IF, RELEASE_GATE_IF.replace('!= "true"', '== "true"'));
            for (const pattern of p.artifacts)
                assert.ok(step.commands.includes(`buildkite-agent artifact download "${pattern}" .`), p.slug);
            const upload = step.commands.join("\n");
            assert.match(upload, /^tag="\$CI_PLATFORM_PARENT_TAG"$/m);
            assert.match(upload, /Authorization: Bearer \$GITHUB_RELEASE_TOKEN/);
        }
    });

    it("passes every child the parent's repository and the id of the build it downloads from", () => {
        const first = uploaded("kolibri-python-package", "triggers").steps;
        for (const t of first) {
            const env = (t.build as { env: Record<string, string> }).env;
            assert.equal(env[PARENT_ENV.artifactsBuildId], "$BUILDKITE_BUILD_ID", String(t.trigger));
            assert.equal(env[PARENT_ENV.repository], "learningequality/kolibri");
            assert.equal(env[PARENT_ENV.triggerKey], t.key);
        }
        assert.ok(!first.some((t) => t.trigger === "kolibri-raspbian-image"));
    });

    it("triggers the Raspberry Pi image in a later wave with the Debian build's id, read from meta-data", () => {
        const doc = stored("kolibri-python-package");
        const keys = doc.steps.map((s) => (s.wait !== undefined ? "wait" : s.key));
        assert.deepEqual(keys, ["upload", "wait", "triggers", "wait", "triggers-2", "wait", "release-artifacts"]);
        const [raspbian] = uploaded("kolibri-python-package", "triggers-2").steps;
        assert.equal(raspbian.trigger, "kolibri-raspbian-image");
        // The wait before this wave already waits for deb-build; depends_on names only steps of its own document.
        assert.equal(raspbian.depends_on, undefined);
        const env = (raspbian.build as { env: Record<string, string> }).env;
        assert.equal(env[PARENT_ENV.artifactsBuildId], `$${SIBLING_BUILD_VAR("deb-build")}`);
        assert.ok(
            storedStep("kolibri-python-package", "triggers-2").commands.includes(
                'export CI_PLATFORM_BUILD_DEB_BUILD="$(buildkite-agent meta-data get "ci-platform-build:deb-build" --default "")"',
            ),
        );
        // The Debian child records its build id on the parent's build.
        assert.deepEqual(storedStep("kolibri-installer-debian", "record-build").commands, [
            'buildkite-agent meta-data set "ci-platform-build:$CI_PLATFORM_TRIGGER_KEY" "$BUILDKITE_BUILD_ID" --job "$CI_PLATFORM_PARENT_JOB_ID"',
        ]);
    });

    it("adds no release step to a gated child that declares no artifacts", () => {
        const raw = prodRawConfig();
        const pipelines = raw.pipelines as Record<string, unknown>[];
        delete pipelines.find((p) => p.slug === "kolibri-installer-android")?.artifacts;
        const s = generate(mustParse(raw));
        const keys = asBuilt(s["kolibri-installer-android"].stored).steps.map((x) => x.key);
        assert.ok(!keys.includes("release-upload"));
        assert.ok(!keys.includes("record-build"));
        // Only the Debian child, which the Raspberry Pi image downloads from, records its build.
        const recording = config.pipelines.filter((p) =>
            asBuilt(steps[p.slug].stored).steps.some((x) => x.key === "record-build"),
        );
        assert.deepEqual(
            recording.map((p) => p.slug),
            ["kolibri-installer-debian"],
        );
    });

    it("runs the release step on a queue with POSIX agents of the same cluster", () => {
        const windows = config.pipelines.find((p) => p.slug === "kolibri-installer-windows");
        assert.ok(windows);
        assert.equal(releaseQueue(windows, config.fleets), "default");
        assert.equal(storedStep("kolibri-installer-windows", "release-upload").agents.queue, "default");
        const macos = config.pipelines.find((p) => p.slug === "kolibri-installer-macos");
        assert.ok(macos);
        assert.equal(releaseQueue(macos, config.fleets), "macos");
    });
});
