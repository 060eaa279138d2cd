import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as aws from "@pulumi/aws";
import type * as docker from "@pulumi/docker";
import type { PlatformConfig } from "../../components/config";
import { DeclaredImages, declareImageRegistries, declareImages, pushesOf } from "../../components/images";
import type { ImageFiles } from "../../components/images/check";
import { captureStack } from "../../scripts/plan/capture";
import { TEST_STACK } from "../fixtures/plan";
import type { PlanResource } from "../../scripts/plan/model";
import { mustParse, validRawConfig } from "../fixtures/config";

/*
 * components/images/index.ts: declareImages, which declares every image of the config in every image region, and
 * pushesOf, which picks the pushes a pipeline waits for. The AgentImage component's own resources are
 * test/images/agent-image.test.ts's. The small config has one image, buildkite-test (py3.11, py3.12), and fleets in
 * us-east-1 (home) and eu-west-1.
 */

const ACCOUNT = "123456789012";
const VERSION = "2026.11.2";
const config: PlatformConfig = mustParse(validRawConfig());
const RECORDED = "https://github.com/earlier-owner/ci-platform/tree/main/agent-images/buildkite-test";
/** The pins file: buildkite-test's version, with its history entry (and recorded source URL) when `recorded`. */
const files = (recorded: boolean): ImageFiles => ({
    versionsJson: JSON.stringify({
        "buildkite-test": recorded
            ? {
                  version: VERSION,
                  history: [
                      {
                          version: VERSION,
                          digest: `sha256:${"0".repeat(64)}`,
                          variants: ["py3.11", "py3.12"],
                          sourceUrl: RECORDED,
                      },
                  ],
              }
            : VERSION,
    }),
    dockerfile: (image) => (image === "buildkite-test" ? "FROM scratch\nARG PYTHON_VERSION\n" : undefined),
    dockerignore: () => undefined,
});

/** Declares the small config's images under the mocks; returns what declareImages gave and what was registered. */
async function declare(
    over: { files?: ImageFiles; sourceRepository?: string } = {},
): Promise<{ images: DeclaredImages; resources: PlanResource[] }> {
    let images: DeclaredImages | undefined;
    const { resources } = await captureStack({
        ...TEST_STACK,
        run: () => {
            const regions = ["eu-west-1", "us-east-1"];
            const awsProviders = Object.fromEntries(
                regions.map((r) => [r, new aws.Provider(`aws-${r}`, { region: r as aws.Region })]),
            );
            images = declareImages({
                config,
                versions: { "buildkite-test": VERSION },
                registries: declareImageRegistries({ regions, awsProviders, accountId: ACCOUNT }),
                pullerRoleArns: { "us-east-1": [`arn:aws:iam::${ACCOUNT}:role/fleet`] },
                accountId: ACCOUNT,
                rootDir: "/nonexistent",
                files: over.files ?? files(true),
                ...(over.sourceRepository !== undefined ? { sourceRepository: over.sourceRepository } : {}),
            });
        },
    });
    assert.ok(images);
    return { images, resources };
}
const sourceUrls = (resources: PlanResource[]) => [
    ...new Set(
        resources
            .filter((r) => r.type === "docker:index/image:Image")
            .map((r) => (r.inputs.build as { args: Record<string, string> }).args.SOURCE_URL),
    ),
];

describe("declareImages", () => {
    let declared: { images: DeclaredImages; resources: PlanResource[] };
    before(async () => {
        declared = await declare();
    });

    it("declares one component per image, pushed to every image region (home and AWS fleet regions), sorted", () => {
        assert.deepEqual(
            declared.resources.filter((r) => r.type === "ci-platform:images:Image").map((r) => r.name),
            ["buildkite-test"],
        );
        assert.deepEqual(declared.images.regions, ["eu-west-1", "us-east-1"]);
        assert.deepEqual(declared.images.images["buildkite-test"].regions, ["eu-west-1", "us-east-1"]);
        assert.deepEqual(declared.images.images["buildkite-test"].tags, [`py3.11-${VERSION}`, `py3.12-${VERSION}`]);
    });

    it("indexes each push by region, then ci-platform/<image>:<tag>", () => {
        for (const region of ["eu-west-1", "us-east-1"])
            assert.deepEqual(Object.keys(declared.images.pushes[region]).sort(), [
                `ci-platform/buildkite-test:py3.11-${VERSION}`,
                `ci-platform/buildkite-test:py3.12-${VERSION}`,
            ]);
        assert.notEqual(
            declared.images.pushes["eu-west-1"][`ci-platform/buildkite-test:py3.11-${VERSION}`],
            declared.images.pushes["us-east-1"][`ci-platform/buildkite-test:py3.11-${VERSION}`],
        );
    });

    it("labels the pushes with the source URL the pinned version recorded, not today's owner", () => {
        assert.deepEqual(sourceUrls(declared.resources), [RECORDED]);
    });

    it("falls back to the given source repository, else to <owner>/ci-platform, for a pin without history", async () => {
        const given = await declare({ files: files(false), sourceRepository: "https://example.com/fork" });
        assert.deepEqual(sourceUrls(given.resources), [
            "https://example.com/fork/tree/main/agent-images/buildkite-test",
        ]);
        const owner = await declare({ files: files(false) });
        assert.deepEqual(sourceUrls(owner.resources), [
            "https://github.com/acme/ci-platform/tree/main/agent-images/buildkite-test",
        ]);
    });

    it("refuses a region without a registry, and an image without a pin or a Dockerfile, before any resource", () => {
        const base = {
            config,
            versions: { "buildkite-test": VERSION },
            pullerRoleArns: {},
            accountId: ACCOUNT,
            rootDir: "/nonexistent",
            files: files(true),
        };
        assert.throws(() => declareImages({ ...base, registries: {} }), {
            message: "no image registry for eu-west-1, us-east-1; declareImageRegistries makes them",
        });
        const registries = Object.fromEntries(["eu-west-1", "us-east-1"].map((r) => [r, {} as DeclaredImagesRegistry]));
        assert.throws(() => declareImages({ ...base, registries, versions: {} }), {
            message:
                'image "buildkite-test" needs a pin in agent-images/versions.json and agent-images/buildkite-test/Dockerfile; checkImages reports this before any resource',
        });
        assert.throws(
            () => declareImages({ ...base, registries, files: { ...files(true), dockerfile: () => undefined } }),
            /image "buildkite-test" needs a pin/,
        );
    });
});
type DeclaredImagesRegistry = Parameters<typeof declareImages>[0]["registries"][string];

describe("pushesOf", () => {
    const push = (name: string) => ({ name }) as unknown as docker.Image;
    const a = push("a");
    const b = push("b");
    const images = { pushes: { "us-east-1": { "ci-platform/x:1": a }, "eu-west-1": { "ci-platform/x:1": b } } };

    it("gives the push of each need, in the needs' order", () => {
        assert.deepEqual(
            pushesOf(images, [
                { region: "eu-west-1", reference: "ci-platform/x:1" },
                { region: "us-east-1", reference: "ci-platform/x:1" },
            ]),
            [b, a],
        );
    });

    it("leaves out a need with no push (the policy pack's images-in-every-region reports it)", () => {
        assert.deepEqual(
            pushesOf(images, [
                { region: "ap-south-1", reference: "ci-platform/x:1" },
                { region: "us-east-1", reference: "ci-platform/x:2" },
            ]),
            [],
        );
        assert.deepEqual(pushesOf(images, []), []);
    });
});
