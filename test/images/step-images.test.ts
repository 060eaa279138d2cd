import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { FleetConfig } from "../../components/config";
import { imagePath, imagePushesNeeded } from "../../components/images/step-images";
import type { Step } from "../../components/steps";
import { mustParse, validRawConfig } from "../fixtures/config";

/*
 * components/images/step-images.ts: which image pushes a pipeline's jobs pull, read from its generated steps.
 * The small config: AWS fleets on queue "default" (us-east-1) and "default-eu-west-1" (eu-west-1) in cluster
 * "default", the on-premises fleet "mac-office" on queue "macos" in cluster "macos"; home region us-east-1.
 */

const config = mustParse(validRawConfig());
const TEST_IMAGE = "${CI_PLATFORM_ECR_REGISTRY}/ci-platform/buildkite-test:py3.12-2026.11.1";
const command = (queue: string, image?: string): Step =>
    ({
        kind: "command",
        label: `on ${queue}`,
        commands: ["make"],
        queue,
        ...(image !== undefined ? { container: { image, expandVars: true, ecrLogin: true } } : {}),
    }) as Step;
const steps = (stored: Step[], uploaded: Step[][] = []) => ({
    storedSteps: stored,
    uploaded: uploaded.map((s, i) => ({ stepKey: `upload-${i}`, yaml: "", steps: s })),
});

describe("imagePath", () => {
    it("takes the ci-platform/<image>:<tag> part after whatever registry precedes it", () => {
        assert.equal(imagePath(TEST_IMAGE), "ci-platform/buildkite-test:py3.12-2026.11.1");
        assert.equal(
            imagePath("123456789012.dkr.ecr.us-east-1.amazonaws.com/ci-platform/deb-builder:v1"),
            "ci-platform/deb-builder:v1",
        );
        assert.equal(imagePath("ci-platform/deb-builder:v1"), "ci-platform/deb-builder:v1");
    });

    it("is undefined for an image that is not one of the platform's, or not a plain tag", () => {
        assert.equal(imagePath("ubuntu:24.04"), undefined);
        assert.equal(imagePath("docker.io/library/ubuntu:24.04"), undefined);
        assert.equal(imagePath("registry/not-ci-platform/x:1"), undefined);
        assert.equal(imagePath("registry/ci-platform/x"), undefined, "no tag");
        assert.equal(imagePath("registry/ci-platform/x@sha256:" + "a".repeat(64)), undefined, "a digest");
    });
});

describe("imagePushesNeeded", () => {
    it("needs the tag in the region of each AWS fleet that takes the step's queue in the pipeline's cluster", () => {
        assert.deepEqual(imagePushesNeeded(config, { cluster: "default" }, steps([command("default", TEST_IMAGE)])), [
            { region: "us-east-1", reference: "ci-platform/buildkite-test:py3.12-2026.11.1" },
        ]);
        assert.deepEqual(
            imagePushesNeeded(config, { cluster: "default" }, steps([command("default-eu-west-1", TEST_IMAGE)])),
            [{ region: "eu-west-1", reference: "ci-platform/buildkite-test:py3.12-2026.11.1" }],
        );
    });

    it("pulls from the home region's registry on an on-premises fleet (image-ref.ts homeReference)", () => {
        assert.deepEqual(imagePushesNeeded(config, { cluster: "macos" }, steps([command("macos", TEST_IMAGE)])), [
            { region: "us-east-1", reference: "ci-platform/buildkite-test:py3.12-2026.11.1" },
        ]);
    });

    it("needs nothing for a step without a platform image, or on a queue no fleet of the cluster takes", () => {
        assert.deepEqual(
            imagePushesNeeded(
                config,
                { cluster: "default" },
                steps([command("default"), command("default", "ubuntu:24.04"), command("macos", TEST_IMAGE)]),
            ),
            [],
        );
    });

    it("reads the steps inside groups and those the stored steps upload, once per (region, reference), sorted", () => {
        const other = "${CI_PLATFORM_ECR_REGISTRY}/ci-platform/deb-builder:bookworm-2026.10.2";
        const fleets: FleetConfig[] = [
            ...config.fleets,
            { ...config.fleets.find((f) => f.name === "linux-eu-west-1")!, name: "second", queue: "default" },
        ];
        const group = { kind: "group", label: "g", steps: [command("default", other)] } as Step;
        const needs = imagePushesNeeded(
            { ...config, fleets },
            { cluster: "default" },
            steps(
                [command("default", TEST_IMAGE), group],
                [[command("default", TEST_IMAGE), command("default", other)]],
            ),
        );
        assert.deepEqual(needs, [
            { region: "eu-west-1", reference: "ci-platform/buildkite-test:py3.12-2026.11.1" },
            { region: "eu-west-1", reference: "ci-platform/deb-builder:bookworm-2026.10.2" },
            { region: "us-east-1", reference: "ci-platform/buildkite-test:py3.12-2026.11.1" },
            { region: "us-east-1", reference: "ci-platform/deb-builder:bookworm-2026.10.2" },
        ]);
    });
});
