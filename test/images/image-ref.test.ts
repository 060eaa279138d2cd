import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    REGISTRY_ENV_VAR,
    registryEnvironment,
    imageReference,
    imageTag,
    registryHost,
    repositoryName,
    resolveStepImage,
} from "../../components/images/image-ref";

const images = [
    { name: "buildkite-test", variants: ["py3.10", "py3.11", "py3.12", "py3.13"] },
    { name: "deb-builder", variants: ["bookworm", "trixie"] },
];
const versions = { "buildkite-test": "2026.11.1", "deb-builder": "2026.10.2" };

describe("image names", () => {
    it("tags a variant at a version", () => {
        assert.equal(imageTag("py3.12", "2026.11.1"), "py3.12-2026.11.1");
        assert.throws(() => imageTag("py 3.12", "2026.11.1"), /not a valid image tag/);
        assert.throws(() => imageTag("x".repeat(120), "2026.11.1"), /not a valid image tag/);
    });

    it("names the registry host of an account in a region", () => {
        assert.equal(registryHost("123456789012", "eu-west-1"), "123456789012.dkr.ecr.eu-west-1.amazonaws.com");
        assert.equal(registryHost("123456789012", "cn-north-1"), "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn");
        assert.throws(() => registryHost("1234", "eu-west-1"), /account id/);
        assert.throws(() => registryHost("123456789012", "Europe"), /region/);
    });

    it("gives the concrete reference in a region's registry", () => {
        assert.equal(repositoryName("buildkite-test"), "ci-platform/buildkite-test");
        assert.equal(
            imageReference({
                accountId: "123456789012",
                region: "ap-southeast-1",
                image: "buildkite-test",
                variant: "py3.12",
                version: "2026.11.1",
            }),
            "123456789012.dkr.ecr.ap-southeast-1.amazonaws.com/ci-platform/buildkite-test:py3.12-2026.11.1",
        );
    });
});

describe("resolveStepImage", () => {
    it("gives a region-neutral reference the agent's environment completes at run time", () => {
        const step = resolveStepImage({ images, versions, ref: { name: "buildkite-test", variant: "py3.12" } });
        assert.equal(step.image, `\${${REGISTRY_ENV_VAR}}/ci-platform/buildkite-test:py3.12-2026.11.1`);
        assert.equal(step.tag, "py3.12-2026.11.1");
        assert.equal(step.version, "2026.11.1");
        assert.equal(step.homeReference, undefined);
    });

    it("expands to each region's registry: the same step pulls locally in every region of a queue", () => {
        const step = resolveStepImage({ images, versions, ref: { name: "deb-builder", variant: "trixie" } });
        for (const region of ["us-east-1", "eu-west-1"]) {
            const env = registryEnvironment("123456789012", region);
            const expanded = step.image.replace(/\$\{(\w+)\}/g, (_, v: string) => env[v]);
            assert.equal(
                expanded,
                imageReference({
                    accountId: "123456789012",
                    region,
                    image: "deb-builder",
                    variant: "trixie",
                    version: "2026.10.2",
                }),
            );
        }
    });

    it("gives the home-region reference as a fallback when the account is known", () => {
        const step = resolveStepImage({
            images,
            versions,
            ref: { name: "buildkite-test", variant: "py3.10" },
            accountId: "123456789012",
            homeRegion: "us-east-1",
        });
        assert.equal(
            step.homeReference,
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/ci-platform/buildkite-test:py3.10-2026.11.1",
        );
    });

    it("follows the pin: a bumped version changes the tag", () => {
        const before = resolveStepImage({ images, versions, ref: { name: "buildkite-test", variant: "py3.13" } });
        const after = resolveStepImage({
            images,
            versions: { ...versions, "buildkite-test": "2026.11.2" },
            ref: { name: "buildkite-test", variant: "py3.13" },
        });
        assert.notEqual(before.image, after.image);
        assert.match(after.image, /py3\.13-2026\.11\.2$/);
    });

    it("throws on an undeclared image, an undeclared variant, or a missing pin", () => {
        assert.throws(
            () => resolveStepImage({ images, versions, ref: { name: "nope", variant: "py3.12" } }),
            /not declared/,
        );
        assert.throws(
            () => resolveStepImage({ images, versions, ref: { name: "buildkite-test", variant: "py2.7" } }),
            /no variant "py2.7"/,
        );
        assert.throws(
            () =>
                resolveStepImage({
                    images,
                    versions: { "deb-builder": "2026.10.2" },
                    ref: { name: "buildkite-test", variant: "py3.12" },
                }),
            /no pinned version/,
        );
    });
});

describe("the hook environment", () => {
    it("exports the registry of the agent's region, and no image version", () => {
        assert.deepEqual(registryEnvironment("123456789012", "eu-west-1"), {
            CI_PLATFORM_ECR_REGISTRY: "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
        });
    });
});
