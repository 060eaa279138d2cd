import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { PlatformConfig } from "../../components/config";
import { releaseQueue } from "../../components/config/access-checks";
import { triggerGraphOf } from "../../components/graph/trigger-graph";
import { parseVersionsText, readImageFiles, stepImageResolver } from "../../components/images";
import { interpolateAtBuildCreation, simulate } from "../../components/simulator";
import {
    CHAINED_IF,
    PARENT_ENV,
    RELEASE_READ_TOKEN_VAR,
    TRIGGERED_IF,
    UPLOAD_ENV_VAR,
    stepsForPlatform,
} from "../../components/steps/pipeline-steps";
import { prodConfig, prodRawConfig, mustParse, validRawConfig } from "../fixtures/config";
import { crossClusterTriggers } from "../../components/steps";
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
const stored = (slug: string) => asBuilt(steps[slug].document);
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
            asBuilt(s.document).steps.flatMap((st) =>
                ((st.commands as string[] | undefined) ?? [])
                    .flatMap((c) => c.split("\n"))
                    .filter((c) => c.includes("artifact download")),
            ),
        );
        assert.ok(downloads.length >= 6, "the release steps download artifacts");
        // A monorepo's package upload may copy an artifact from its base build (`--build`): into "." too.
        for (const command of downloads)
            assert.match(command, /^\s*buildkite-agent artifact download "[^"]+" \.( --build "\$[a-z_]+")?$/);
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
            // Its cluster signs: the document itself, stored unwrapped (the simulator runs either form).
            "kolibri-python-package": steps["kolibri-python-package"].document.replace('" .', '" dist/'),
        };
        const bad = simulate({ config, stored: broken, push: { pipeline: "kolibri-python-package", tag: "v1.0.0" } });
        assert.equal(bad.problems.length, 1);
        assert.match(bad.problems[0], /release-artifacts: artifact download to "dist\/", which does not exist/);
    });
});

describe("defect 5: the release flow", () => {
    const gated = config.pipelines.filter((p) => p.gate === "release");

    it("gives every gated child a release step after its own build, which checks the release again", () => {
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
            assert.equal(step.if, TRIGGERED_IF);
            assert.ok(
                step.commands.includes(
                    'if ! ci_platform_release; then echo "Not a release: nothing to upload."; exit 0; fi',
                ),
            );
            for (const pattern of p.artifacts)
                assert.ok(step.commands.includes(`buildkite-agent artifact download "${pattern}" .`), p.slug);
            const upload = step.commands.join("\n");
            // The tag and repository the check verified, never the build's env.
            assert.match(upload, /^tag="\$release_tag"$/m);
            assert.match(upload, /^api="https:\/\/api\.github\.com\/repos\/\$release_repository"$/m);
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

    it("has the Debian build trigger the Raspberry Pi image at its end, passing its own build id", () => {
        const doc = stored("kolibri-python-package");
        const keys = doc.steps.map((s) => (s.wait !== undefined ? "wait" : s.key));
        assert.deepEqual(keys, ["upload", "wait", "triggers", "wait", "release-artifacts"]);
        const debian = stored("kolibri-installer-debian").steps.map((s) => (s.wait !== undefined ? "wait" : s.key));
        assert.deepEqual(debian, ["release-check", "wait", "upload", "wait", "release-upload", "chained-triggers"]);
        const chain = storedStep("kolibri-installer-debian", "chained-triggers") as { if?: string };
        assert.equal(chain.if, CHAINED_IF("kolibri-python-package", "deb-build"));
        const [raspbian] = uploaded("kolibri-installer-debian", "chained-triggers").steps;
        assert.equal(raspbian.trigger, "kolibri-raspbian-image");
        assert.equal(raspbian.key, "raspbian-image");
        assert.equal(raspbian.depends_on, undefined);
        const env = (raspbian.build as { env: Record<string, string> }).env;
        // Its own build, and the parent's values forwarded from the env the parent's trigger gave it.
        assert.equal(env[PARENT_ENV.artifactsBuildId], "$BUILDKITE_BUILD_ID");
        assert.equal(env[PARENT_ENV.buildId], `$${PARENT_ENV.buildId}`);
        assert.equal(env[PARENT_ENV.pipeline], `$${PARENT_ENV.pipeline}`);
        assert.equal(env.CI_PLATFORM_RELEASE, undefined);
        assert.equal(env[PARENT_ENV.tag], `\${${PARENT_ENV.tag}:-}`);
        assert.equal(env[PARENT_ENV.repository], "learningequality/kolibri");
        assert.equal(env[PARENT_ENV.triggerKey], "raspbian-image");
        // No build writes meta-data onto another build any more (`--job` of another build's job); a monorepo's package
        // upload writes its own build's.
        for (const p of config.pipelines) assert.ok(!/meta-data set[^\n]*--job/.test(steps[p.slug].document), p.slug);
    });

    it("adds no release step to a gated child that declares no artifacts", () => {
        const raw = prodRawConfig();
        const pipelines = raw.pipelines as Record<string, unknown>[];
        delete pipelines.find((p) => p.slug === "kolibri-installer-android")?.artifacts;
        const s = generate(mustParse(raw));
        const keys = asBuilt(s["kolibri-installer-android"].document).steps.map((x) => x.key);
        assert.ok(!keys.includes("release-upload"));
        // Only the Debian child, which the Raspberry Pi image downloads from, runs a chained trigger.
        const chaining = config.pipelines.filter((p) =>
            asBuilt(steps[p.slug].document).steps.some((x) => x.key === "chained-triggers"),
        );
        assert.deepEqual(
            chaining.map((p) => p.slug),
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

describe("chained triggers across clusters", () => {
    it("asks the organisation to let the sibling, which runs the chained trigger, trigger across clusters", () => {
        const raw = validRawConfig();
        raw.organizationRules = true;
        const pipelines = raw.pipelines as Record<string, unknown>[];
        // `image` dependsOn `installer`: with artifacts, the installer's build triggers it.
        Object.assign(pipelines.find((p) => p.slug === "installer") as object, { artifacts: ["dist/*"] });
        // A gated child that releases artifacts needs the release check's read_builds token.
        (raw.secrets as { pipelines: Record<string, unknown> }).pipelines.installer = {
            env: { [RELEASE_READ_TOKEN_VAR]: "not-a-real-token" },
        };
        Object.assign(pipelines.find((p) => p.slug === "image") as object, {
            cluster: "macos",
            queue: "macos",
            publicRepository: true,
        });
        const small = mustParse(raw);
        assert.deepEqual(crossClusterTriggers(small, triggerGraphOf(small)), [
            { source: "installer", target: "image" },
        ]);
    });
});
