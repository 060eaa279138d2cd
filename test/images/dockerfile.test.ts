import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { parse as parseYaml } from "yaml";
import {
    argDeclarations,
    baseImages,
    dockerfileDigest,
    expandArgs,
    finalUser,
    isRootUser,
    labels,
    missingFromArgs,
    parseDockerfile,
    variantBuildArgs,
    variantBuilds,
} from "../../components/images/dockerfile";

const ROOT = path.resolve(__dirname, "../..");

/** The images the prod stack declares, read from Pulumi.prod.yaml. */
function prodImages(): { name: string; variants: string[] }[] {
    const doc = parseYaml(fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8")) as {
        config: Record<string, unknown>;
    };
    return doc.config["ci-platform:images"] as { name: string; variants: string[] }[];
}

describe("the Dockerfile parser", () => {
    const text = [
        "# syntax=docker/dockerfile:1",
        "ARG BASE=debian",
        "ARG RELEASE",
        "FROM --platform=linux/amd64 ${BASE}:$RELEASE-slim AS build",
        "",
        "ARG VERSION",
        'LABEL a.b="x y" \\',
        "      c.d=${VERSION}",
        "RUN echo one \\",
        "    # a comment inside is skipped",
        "    && echo two",
        "USER 1000",
    ].join("\r\n");
    const ins = parseDockerfile(text);

    it("joins continuations, skips comments and blank lines, keeps line numbers", () => {
        assert.deepEqual(
            ins.map((i) => [i.keyword, i.line]),
            [
                ["ARG", 2],
                ["ARG", 3],
                ["FROM", 4],
                ["ARG", 6],
                ["LABEL", 7],
                ["RUN", 9],
                ["USER", 12],
            ],
        );
        assert.equal(ins[5].args, "echo one && echo two");
    });

    it("reads ARGs with defaults and whether they come before FROM", () => {
        assert.deepEqual(argDeclarations(ins), [
            { name: "BASE", default: "debian", global: true },
            { name: "RELEASE", default: undefined, global: true },
            { name: "VERSION", default: undefined, global: false },
        ]);
    });

    it("reads labels, quoted or not", () => {
        assert.deepEqual(labels(ins), { "a.b": "x y", "c.d": "${VERSION}" });
    });

    it("substitutes build args into FROM, and finds the ones a build leaves unset", () => {
        assert.deepEqual(baseImages(ins, { RELEASE: "trixie" }), ["debian:trixie-slim"]);
        assert.deepEqual(missingFromArgs(ins, {}), ["RELEASE"]);
        assert.deepEqual(missingFromArgs(ins, { RELEASE: "bookworm" }), []);
        assert.equal(expandArgs("$A-${B}-$C", { A: "1", B: "2" }), "1-2-");
    });

    it("digests content independently of line endings", () => {
        assert.equal(dockerfileDigest("FROM x\r\nUSER a\r\n"), dockerfileDigest("FROM x\nUSER a\n"));
        assert.notEqual(dockerfileDigest("FROM x\n"), dockerfileDigest("FROM y\n"));
        assert.match(dockerfileDigest("FROM x\n"), /^[0-9a-f]{64}$/);
    });

    it("gives each variant its build arguments", () => {
        assert.deepEqual(variantBuildArgs("py3.12"), { VARIANT: "py3.12", PYTHON_VERSION: "3.12" });
        assert.deepEqual(variantBuildArgs("bookworm"), { VARIANT: "bookworm" });
    });
});

const REQUIRED_LABELS = [
    "org.opencontainers.image.title",
    "org.opencontainers.image.source",
    "org.opencontainers.image.revision",
    "org.opencontainers.image.version",
];

describe("finalUser", () => {
    it("is root when the final stage sets no USER, even if an earlier stage did", () => {
        const ins = parseDockerfile("FROM a AS build\nUSER app\nFROM b\nRUN true\n");
        assert.deepEqual(finalUser(ins), { user: "root" });
    });

    it("is the last USER of the final stage, with its line", () => {
        const ins = parseDockerfile("FROM a\nUSER app\nRUN true\nUSER 2000:2000\n");
        assert.deepEqual(finalUser(ins), { user: "2000:2000", line: 4 });
    });

    it("recognises root by name or uid, with or without a group", () => {
        for (const u of ["root", "0", "root:root", "0:0"]) assert.ok(isRootUser(u), u);
        for (const u of ["buildkite", "2000", "2000:0", "app:root"]) assert.ok(!isRootUser(u), u);
    });
});

describe("agent-images Dockerfiles", () => {
    const images = prodImages();

    it("the prod stack declares the images the issue names", () => {
        assert.deepEqual(
            images.map((i) => i.name),
            ["buildkite-test", "deb-builder"],
        );
    });

    for (const image of images) {
        describe(image.name, () => {
            const dir = path.join(ROOT, "agent-images", image.name);
            const text = fs.readFileSync(path.join(dir, "Dockerfile"), "utf8");
            const ins = parseDockerfile(text);
            const args = argDeclarations(ins);
            const declared = new Set(args.map((a) => a.name));

            it("has only the Dockerfile and an ignore-everything .dockerignore in its build context", () => {
                assert.deepEqual(fs.readdirSync(dir).sort(), [".dockerignore", "Dockerfile"]);
            });

            it("sets the OCI labels from build arguments the stack passes", () => {
                const l = labels(ins);
                const build = variantBuilds({
                    image: image.name,
                    variants: image.variants,
                    version: "2026.11.1",
                    dockerfile: text,
                    sourceUrl: "https://example.com/src",
                })[0];
                for (const key of REQUIRED_LABELS) {
                    assert.ok(key in l, `missing label ${key}`);
                    const expanded = expandArgs(l[key], build.buildArgs);
                    assert.notEqual(expanded, "", `${key} expands to nothing`);
                    assert.notEqual(expanded, l[key], `${key} must come from a build argument`);
                }
                assert.equal(expandArgs(l["org.opencontainers.image.version"], build.buildArgs), "2026.11.1");
                assert.equal(
                    expandArgs(l["org.opencontainers.image.revision"], build.buildArgs),
                    dockerfileDigest(text),
                );
                assert.equal(expandArgs(l["org.opencontainers.image.title"], build.buildArgs), image.name);
                for (const arg of ["IMAGE_TITLE", "SOURCE_URL", "REVISION", "VERSION"])
                    assert.ok(declared.has(arg), `ARG ${arg} not declared`);
            });

            it("runs steps as container root, which the fleets' user-namespace remap makes the host's buildkite-agent", () => {
                // A non-root USER maps to host uid 99999+N and cannot write the bind-mounted checkout
                // (elastic-ci-stack v6.71.1 bk-configure-docker.sh); see components/images/check.ts.
                assert.deepEqual(finalUser(ins).user, "root");
            });

            for (const variant of image.variants) {
                it(`variant ${variant} maps to build arguments that give a pinned base image`, () => {
                    const buildArgs = variantBuildArgs(variant);
                    assert.deepEqual(missingFromArgs(ins, buildArgs), []);
                    for (const base of baseImages(ins, buildArgs)) {
                        assert.match(
                            base,
                            /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*:[A-Za-z0-9_][A-Za-z0-9_.-]*$/,
                            base,
                        );
                        assert.ok(!base.endsWith(":latest"), `${base} is not pinned`);
                        assert.ok(
                            base.includes(buildArgs.PYTHON_VERSION ?? buildArgs.VARIANT),
                            `${base} does not follow the variant`,
                        );
                    }
                });
            }
        });
    }
});
