import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    GITHUB_WEBHOOK_EVENTS,
    PUBLIC_REPOSITORY_TAG,
    displayName,
    nameFragment,
    pipelineInputs,
    repositoryUrl,
    splitRepository,
} from "../../components/buildkite/pipeline-settings";
import type { PipelineConfig } from "../../components/config";
import { mustParse, validRawConfig } from "../fixtures/config";

/*
 * components/buildkite/pipeline-settings.ts: the pure mapping from a validated pipeline to the inputs of its
 * Buildkite pipeline. The BuildkitePipeline component's resources are test/buildkite/pipeline.test.ts's.
 */

const config = mustParse(validRawConfig());
const pipeline = (slug: string): PipelineConfig => {
    const p = config.pipelines.find((x) => x.slug === slug);
    assert.ok(p, slug);
    return structuredClone(p);
};

describe("pipeline settings", () => {
    it("clones over HTTPS or SSH, as the checkout method says", () => {
        assert.equal(repositoryUrl("acme/app", "https"), "https://github.com/acme/app.git");
        assert.equal(repositoryUrl("acme/app", "ssh"), "git@github.com:acme/app.git");
    });

    it("splits owner/name", () => {
        assert.deepEqual(splitRepository("other-org/mono"), { owner: "other-org", name: "mono" });
    });

    it("displays the configured name, else the slug in capitalised words", () => {
        assert.equal(displayName({ slug: "kolibri-python-package" }), "Kolibri Python Package");
        assert.equal(displayName({ slug: "app" }), "App");
        assert.equal(displayName({ slug: "app", name: "the app" }), "the app");
    });

    it("makes a stable lowercase name fragment of free text, and never an empty one", () => {
        assert.equal(nameFragment("Nightly build!"), "nightly-build");
        assert.equal(nameFragment("  Weekly -- Full  "), "weekly-full");
        assert.equal(nameFragment("café au lait"), "caf-au-lait");
        assert.equal(nameFragment("!!!"), "unnamed");
        assert.equal(nameFragment(""), "unnamed");
    });

    it("passes the provider settings through, and the filter condition only when set", () => {
        const p = pipeline("app");
        const plain = pipelineInputs(p);
        assert.equal("filterCondition" in plain.providerSettings, false);
        const { filterCondition: _, ...settings } = p.provider;
        assert.deepEqual(plain.providerSettings, settings);
        p.provider.filterCondition = "build.branch != 'wip'";
        assert.equal(pipelineInputs(p).providerSettings.filterCondition, "build.branch != 'wip'");
    });

    it("maps the pipeline's own fields, always allows rebuilds, and tags the repository", () => {
        const p = pipeline("mono");
        p.checkout = "ssh";
        const inputs = pipelineInputs(p);
        assert.equal(inputs.name, "Mono");
        assert.equal(inputs.slug, "mono");
        assert.equal(inputs.repository, "git@github.com:other-org/mono.git");
        assert.equal(inputs.defaultBranch, p.defaultBranch);
        assert.equal(inputs.branchConfiguration, p.branches);
        assert.equal(inputs.allowRebuilds, true);
        assert.deepEqual(inputs.tags, ["repo:other-org/mono"]);
    });

    it("marks a public repository with the tag the policy pack reads", () => {
        assert.equal(PUBLIC_REPOSITORY_TAG, "public-repository");
        assert.deepEqual(pipelineInputs(pipeline("mac-app")).tags, ["repo:acme/mac-app", "public-repository"]);
    });

    it("subscribes the GitHub webhook to the events Buildkite acts on", () => {
        assert.deepEqual([...GITHUB_WEBHOOK_EVENTS], ["push", "pull_request", "deployment", "merge_group"]);
    });
});
