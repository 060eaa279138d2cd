import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { triggerGraphOf } from "../../components/graph/trigger-graph";
import { crossClusterTriggers, generateSteps } from "../../components/steps";
import type { ResolveImage } from "../../components/steps";
import { entry, mustParse, validRawConfig } from "../fixtures/config";

/*
 * components/steps/index.ts: the one entry point index.ts calls for steps (the trigger graph, every pipeline's steps
 * and the triggers between clusters), and crossClusterTriggers. The small config: app triggers installer and image
 * (image dependsOn installer), all in cluster "default"; mac-app runs alone in cluster "macos".
 */

const IMAGE = "${CI_PLATFORM_ECR_REGISTRY}/ci-platform/buildkite-test:py3.12-2026.11.1";
const resolve: ResolveImage = () => IMAGE;
/** The small config with `installer` moved to cluster "macos" (served by the on-premises fleet mac-office). */
function installerInMacos() {
    const raw = validRawConfig();
    raw.organizationRules = true;
    Object.assign(entry(raw, "pipelines", 1), { cluster: "macos", queue: "macos", publicRepository: true });
    return mustParse(raw);
}

describe("crossClusterTriggers", () => {
    it("is empty when every trigger stays in its cluster", () => {
        const config = mustParse(validRawConfig());
        assert.deepEqual(crossClusterTriggers(config, triggerGraphOf(config)), []);
    });

    it("names the trigger's source pipeline and its target when they run in different clusters", () => {
        const config = installerInMacos();
        assert.deepEqual(crossClusterTriggers(config, triggerGraphOf(config)), [
            { source: "app", target: "installer" },
        ]);
    });
});

describe("generateSteps", () => {
    it("gives every pipeline's steps by slug, from the trigger graph it gives with them", () => {
        const config = mustParse(validRawConfig());
        const generated = generateSteps(config, resolve);
        assert.deepEqual(Object.keys(generated.bySlug).sort(), config.pipelines.map((p) => p.slug).sort());
        for (const [slug, steps] of Object.entries(generated.bySlug)) assert.equal(steps.slug, slug);
        assert.deepEqual(generated.graph, triggerGraphOf(config));
        assert.deepEqual(generated.graph.edges.map((e) => `${e.from}→${e.to}`).sort(), ["app→image", "app→installer"]);
        assert.deepEqual(generated.crossClusterTriggers, []);
    });

    it("reports the cross-cluster triggers the organization must allow", () => {
        const config = installerInMacos();
        assert.deepEqual(generateSteps(config, resolve).crossClusterTriggers, [{ source: "app", target: "installer" }]);
    });

    it("runs each containerised step in the image the resolver gives for the pipeline's image", () => {
        const config = mustParse(validRawConfig());
        const asked: string[] = [];
        const generated = generateSteps(config, (image) => {
            asked.push(JSON.stringify(image));
            return IMAGE;
        });
        assert.ok(asked.length > 0, "the resolver was asked");
        assert.ok(generated.bySlug.app.document.includes(IMAGE), generated.bySlug.app.document);
        assert.ok(!generated.bySlug["mac-app"].document.includes(IMAGE), "mac-app names no image");
    });
});
