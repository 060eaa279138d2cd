import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatIssue, type PlatformConfig, type RawConfig } from "../../components/config";
import { parsePlatformConfig } from "../../components/platform-config";
import { checkImages, type ImageFiles } from "../../components/images/check";
import { imageContentDigest } from "../../components/images/dockerfile";

const PY = "ARG PYTHON_VERSION\nFROM python:${PYTHON_VERSION}-slim-bookworm\nWORKDIR /workdir\n";
const DEB = "ARG VARIANT\nFROM debian:${VARIANT}-slim\nWORKDIR /workdir\n";

function config(overrides: RawConfig = {}): PlatformConfig {
    const result = parsePlatformConfig({
        organization: "acme",
        github: { owner: "acme" },
        homeRegion: "us-east-1",
        elasticStack: { version: "v6.71.1" },
        clusters: [{ name: "default" }],
        teams: [{ name: "platform" }],
        fleets: [
            {
                name: "a",
                kind: "aws",
                cluster: "default",
                queue: "default",
                region: "us-east-1",
                instanceTypes: ["c7i.xlarge"],
                minSize: 0,
                maxSize: 1,
            },
        ],
        images: [
            { name: "buildkite-test", variants: ["py3.12", "py3.13"] },
            { name: "deb-builder", variants: ["bookworm", "trixie"] },
        ],
        ...overrides,
    });
    assert.ok(result.ok, JSON.stringify(result.error));
    return result.value;
}

/** The variants `config()` declares, which a fixture's pins record as released. */
const VARIANTS: Record<string, string[]> = {
    "buildkite-test": ["py3.12", "py3.13"],
    "deb-builder": ["bookworm", "trixie"],
};

/** A history entry as `images:bump` writes it. */
function entry(name: string, version: string, dockerfile: string, variants = VARIANTS[name] ?? ["x"]) {
    return {
        version,
        digest: imageContentDigest(dockerfile),
        variants,
        sourceUrl: `https://github.com/acme/ci-platform/tree/main/agent-images/${name}`,
    };
}

/**
 * The files of a fixture. A pin given as a bare calendar version is recorded with a history of that one version,
 * with the digest of the Dockerfile given here and the variants of `variants` (default {@link VARIANTS}), as
 * `images:bump` would write it; `{ raw: text }` is used verbatim.
 */
function files(
    versions: string | { raw: string } | undefined,
    dockerfiles: Record<string, string>,
    dockerignores: Record<string, string | undefined> = { "buildkite-test": "*\n", "deb-builder": "*\n" },
    variants: Record<string, string[]> = VARIANTS,
): ImageFiles {
    let text = typeof versions === "object" ? versions.raw : versions;
    if (typeof versions === "string") {
        try {
            const pins = JSON.parse(versions) as Record<string, unknown>;
            text = JSON.stringify(
                Object.fromEntries(
                    Object.entries(pins).map(([name, v]) => [
                        name,
                        typeof v === "string" && /^\d{4}\.\d{2}\.\d+$/.test(v)
                            ? { version: v, history: [entry(name, v, dockerfiles[name] ?? "", variants[name])] }
                            : v,
                    ]),
                ),
            );
        } catch {
            // not JSON: the test is about that
        }
    }
    return {
        versionsJson: text,
        dockerfile: (name) => dockerfiles[name],
        dockerignore: (name) => dockerignores[name],
    };
}

const GOOD_VERSIONS = '{ "buildkite-test": "2026.11.1", "deb-builder": "2026.11.1" }';
const GOOD_FILES = { "buildkite-test": PY, "deb-builder": DEB };

describe("checkImages", () => {
    it("finds nothing wrong in a consistent setup", () => {
        assert.deepEqual(checkImages(config(), files(GOOD_VERSIONS, GOOD_FILES)), []);
    });

    it("reports an image without a pinned version at its name", () => {
        const issues = checkImages(config(), files('{ "buildkite-test": "2026.11.1" }', GOOD_FILES));
        assert.deepEqual(issues.map(formatIssue), [
            'ci-platform:images[1].name: image "deb-builder" has no pinned version in agent-images/versions.json. Fix: run npm run images:bump -- deb-builder.',
        ]);
    });

    it("reports a missing Dockerfile with its path", () => {
        const issues = checkImages(config(), files(GOOD_VERSIONS, { "buildkite-test": PY }));
        assert.equal(issues.length, 1);
        assert.deepEqual(issues[0].path, ["images", 1, "name"]);
        assert.match(issues[0].message, /no Dockerfile at agent-images\/deb-builder\/Dockerfile/);
    });

    it("reports a pin for an undeclared image, with a suggestion", () => {
        const issues = checkImages(
            config(),
            files(
                '{ "buildkite-test": "2026.11.1", "deb-builder": "2026.11.1", "deb-bulder": "2026.11.1" }',
                GOOD_FILES,
            ),
        );
        assert.equal(issues.length, 1);
        assert.deepEqual(issues[0].path, ["images"]);
        assert.match(
            issues[0].message,
            /pins "deb-bulder", which is not declared in ci-platform:images; did you mean "deb-builder"\?/,
        );
    });

    it("reports a pin without a near name in plain words, and none for a stack that builds no images", () => {
        const pins = files(
            '{ "buildkite-test": "2026.11.1", "deb-builder": "2026.11.1", "zzz": "2026.11.1" }',
            GOOD_FILES,
        );
        const issues = checkImages(config(), pins);
        assert.equal(issues.length, 1);
        assert.equal(
            issues[0].message,
            'agent-images/versions.json pins "zzz", which is not declared in ci-platform:images',
        );
        // The pins are the repository's: a stack that declares no image builds none (examples/Pulumi.example.yaml).
        assert.deepEqual(checkImages({ ...config(), images: [] }, pins), []);
    });

    it("reports a malformed version at the image's name, and still checks the rest", () => {
        const issues = checkImages(config(), files('{ "buildkite-test": "2026-11-01" }', { "buildkite-test": PY }));
        assert.deepEqual(
            issues.map((i) => formatIssue(i).split(":")[0] + ":" + formatIssue(i).split(":")[1]),
            ["ci-platform:images[0].name", "ci-platform:images[1].name", "ci-platform:images[1].name"],
        );
        assert.match(issues[0].message, /"2026-11-01", which is not a calendar version YYYY\.MM\.N/);
        assert.ok(issues.some((i) => /no Dockerfile/.test(i.message)));
        assert.ok(issues.some((i) => /"deb-builder" has no pinned version/.test(i.message)));
    });

    it("reports a missing or unreadable versions.json", () => {
        assert.match(checkImages(config(), files(undefined, GOOD_FILES))[0].message, /versions\.json is missing/);
        const broken = checkImages(config(), files("{", GOOD_FILES));
        assert.equal(broken.length, 1);
        assert.deepEqual(broken[0].path, ["images"]);
        assert.match(broken[0].message, /not valid JSON/);
    });

    it("reports a variant whose build arguments leave the base image unset, at the variant", () => {
        const cfg = config({ images: [{ name: "buildkite-test", variants: ["py3.12", "bookworm"] }] });
        const issues = checkImages(
            cfg,
            files('{ "buildkite-test": "2026.11.1" }', GOOD_FILES, undefined, {
                "buildkite-test": ["py3.12", "bookworm"],
            }),
        );
        assert.equal(issues.length, 1);
        assert.equal(formatIssue(issues[0]).split(": ")[0], "ci-platform:images[0].variants[1]");
        assert.match(issues[0].message, /variant "bookworm" .* needs PYTHON_VERSION in FROM/);
    });

    it("refuses a final non-root USER: under the fleets' userns remap it cannot write the checkout", () => {
        const nonRoot = `${DEB}RUN useradd --uid 2000 buildkite\nUSER buildkite\n`;
        const issues = checkImages(config(), files(GOOD_VERSIONS, { ...GOOD_FILES, "deb-builder": nonRoot }));
        assert.equal(issues.length, 1);
        assert.equal(formatIssue(issues[0]).split(": ")[0], "ci-platform:images[1].name");
        assert.match(issues[0].message, /line 5 makes steps run as USER buildkite/);
        assert.match(issues[0].message, /EnableDockerUserNamespaceRemap/);
        assert.match(issues[0].fix ?? "", /drop the USER line/);
    });

    it("accepts USER root at the end, and a non-root USER in an earlier build stage", () => {
        const staged = `FROM debian:bookworm AS tools\nUSER nobody\n${DEB}USER root\n`;
        assert.deepEqual(checkImages(config(), files(GOOD_VERSIONS, { ...GOOD_FILES, "deb-builder": staged })), []);
    });

    it("refuses a build context whose .dockerignore is missing or lets files through", () => {
        const issues = checkImages(
            config(),
            files(GOOD_VERSIONS, GOOD_FILES, { "buildkite-test": "*\n!scripts\n", "deb-builder": undefined }),
        );
        assert.deepEqual(
            issues.map((i) => [formatIssue(i).split(": ")[0], /does not exclude|is missing/.exec(i.message)?.[0]]),
            [
                ["ci-platform:images[0].name", "does not exclude"],
                ["ci-platform:images[1].name", "is missing"],
            ],
        );
        assert.match(issues[1].fix ?? "", /agent-images\/deb-builder\/.dockerignore a single line "\*"/);
    });

    it("reports a Dockerfile without FROM", () => {
        const issues = checkImages(config(), files(GOOD_VERSIONS, { ...GOOD_FILES, "deb-builder": "USER x\n" }));
        assert.deepEqual(issues[0].path, ["images", 1, "name"]);
        assert.match(issues[0].message, /has no FROM/);
    });

    it("accepts fleets in more regions than ECR replication reached: each region gets its own push", () => {
        const regions = [
            "us-east-2",
            "us-west-1",
            "us-west-2",
            "ca-central-1",
            "ca-west-1",
            "mx-central-1",
            "sa-east-1",
            "eu-central-1",
            "eu-central-2",
            "eu-west-1",
            "eu-west-2",
            "eu-west-3",
            "eu-south-1",
            "eu-south-2",
            "eu-north-1",
            "af-south-1",
            "me-south-1",
            "me-central-1",
            "il-central-1",
            "ap-east-1",
            "ap-south-1",
            "ap-south-2",
            "ap-southeast-1",
            "ap-southeast-2",
            "ap-southeast-3",
            "ap-southeast-4",
        ];
        const fleets = regions.map((region, i) => ({
            name: `f${i}`,
            kind: "aws",
            cluster: "default",
            queue: `q${i}`,
            region,
            instanceTypes: ["c7i.xlarge"],
            minSize: 0,
            maxSize: 1,
        }));
        assert.deepEqual(checkImages(config({ fleets }), files(GOOD_VERSIONS, GOOD_FILES)), []);
    });
});

describe("steps naming undeclared images (the config's cross-checks)", () => {
    it("reports an unknown image and an unknown variant with their paths", () => {
        const result = parsePlatformConfig({
            organization: "acme",
            github: { owner: "acme" },
            homeRegion: "us-east-1",
            elasticStack: { version: "v6.71.1" },
            clusters: [{ name: "default" }],
            teams: [{ name: "platform" }],
            images: [{ name: "buildkite-test", variants: ["py3.12"] }],
            pipelines: [
                { slug: "a", repository: "acme/a", image: { name: "buildkit-test", variant: "py3.12" } },
                { slug: "b", repository: "acme/b", image: { name: "buildkite-test", variant: "py3.9" } },
            ],
        });
        assert.equal(result.ok, false);
        const lines = result.error?.map(formatIssue) ?? [];
        assert.ok(
            lines.some((l) => l.startsWith('ci-platform:pipelines[0].image.name: unknown image "buildkit-test"')),
            lines.join("\n"),
        );
        assert.ok(
            lines.some((l) =>
                l.startsWith('ci-platform:pipelines[1].image.variant: image "buildkite-test" has no variant "py3.9"'),
            ),
            lines.join("\n"),
        );
    });

    describe("immutable tags: the Dockerfile must be the content its pinned version was recorded with", () => {
        const recorded = (py: string, deb = DEB) => ({
            raw: JSON.stringify({
                "buildkite-test": { version: "2026.11.1", history: [entry("buildkite-test", "2026.11.1", py)] },
                "deb-builder": { version: "2026.11.1", history: [entry("deb-builder", "2026.11.1", deb)] },
            }),
        });

        it("refuses a Dockerfile edited without a bump, naming the image, the version and the bump command", () => {
            const edited = `${PY}RUN pip install tox\n`;
            const issues = checkImages(config(), files(recorded(PY), { ...GOOD_FILES, "buildkite-test": edited }));
            assert.equal(issues.length, 1, JSON.stringify(issues));
            assert.deepEqual(issues[0].path, ["images", 0, "name"]);
            assert.match(
                issues[0].message,
                /agent-images\/buildkite-test\/Dockerfile changed since version 2026\.11\.1 was pinned .*immutable/,
            );
            assert.match(issues[0].fix ?? "", /npm run images:bump -- buildkite-test/);
        });

        it("accepts the same Dockerfile with CRLF line endings (no new content, no issue)", () => {
            const crlf = PY.replace(/\n/g, "\r\n");
            assert.deepEqual(checkImages(config(), files(recorded(PY), { ...GOOD_FILES, "buildkite-test": crlf })), []);
        });

        it("accepts the edit once the version records its digest (what images:bump writes)", () => {
            const edited = `${PY}RUN pip install tox\n`;
            assert.deepEqual(
                checkImages(config(), files(recorded(edited), { ...GOOD_FILES, "buildkite-test": edited })),
                [],
            );
        });

        it("refuses a pin without a digest (the older bare-version form)", () => {
            const issues = checkImages(
                config(),
                files({ raw: '{ "buildkite-test": "2026.11.1", "deb-builder": "2026.11.1" }' }, GOOD_FILES),
            );
            assert.deepEqual(
                issues.map((i) => i.path),
                [
                    ["images", 0, "name"],
                    ["images", 1, "name"],
                ],
            );
            assert.match(issues[0].message, /without the content digest of its Dockerfile/);
            assert.match(issues[0].fix ?? "", /npm run images:bump -- buildkite-test/);
        });

        it("reports a malformed digest as a versions.json problem", () => {
            const issues = checkImages(
                config(),
                files(
                    { raw: JSON.stringify({ "buildkite-test": { version: "2026.11.1", digest: "abc" } }) },
                    GOOD_FILES,
                ),
            );
            assert.ok(
                issues.some((i) => /not sha256:<64 hex digits>/.test(i.message)),
                JSON.stringify(issues),
            );
        });
    });

    describe("no change pushes a tag that exists: the history of every version ever pinned", () => {
        const OLD = PY;
        const NEW = `${PY}RUN pip install tox\n`;
        const debPin = { version: "2026.11.1", history: [entry("deb-builder", "2026.11.1", DEB)] };
        const raw = (buildkiteTest: object) => ({
            raw: JSON.stringify({ "buildkite-test": buildkiteTest, "deb-builder": debPin }),
        });
        const history = [entry("buildkite-test", "2026.11.1", OLD), entry("buildkite-test", "2026.11.2", NEW)];

        it("accepts the newest version of the history, pinned with its own Dockerfile", () => {
            const issues = checkImages(
                config(),
                files(raw({ version: "2026.11.2", history }), { ...GOOD_FILES, "buildkite-test": NEW }),
            );
            assert.deepEqual(issues, []);
        });

        it("refuses a revert to an older, pushed version (pin and Dockerfile both back), naming the bump", () => {
            const issues = checkImages(
                config(),
                files(raw({ version: "2026.11.1", history }), { ...GOOD_FILES, "buildkite-test": OLD }),
            );
            assert.equal(issues.length, 1, JSON.stringify(issues));
            assert.equal(
                formatIssue(issues[0]).split(": ")[0],
                "ci-platform:images[0].name",
                "the path names the image",
            );
            assert.match(
                issues[0].message,
                /pins "buildkite-test" to 2026\.11\.1, but its history's newest version is 2026\.11\.2/,
            );
            assert.match(issues[0].fix ?? "", /npm run images:bump -- buildkite-test/);
        });

        it("refuses a pin that is not in the history at all", () => {
            const issues = checkImages(
                config(),
                files(raw({ version: "2026.11.5", history }), { ...GOOD_FILES, "buildkite-test": NEW }),
            );
            assert.ok(
                issues.some((i) => /2026\.11\.5 is not in the history/.test(i.message)),
                JSON.stringify(issues),
            );
        });

        it("refuses a variant added back under a version that was pushed without it", () => {
            // 2026.11.2 was released with py3.12 only (py3.13 removed); the config adds py3.13 back.
            const without = [history[0], entry("buildkite-test", "2026.11.2", NEW, ["py3.12"])];
            const issues = checkImages(
                config(),
                files(raw({ version: "2026.11.2", history: without }), { ...GOOD_FILES, "buildkite-test": NEW }),
            );
            assert.equal(issues.length, 1, JSON.stringify(issues));
            assert.deepEqual(issues[0].path, ["images", 0, "variants"]);
            assert.match(issues[0].message, /py3\.13-2026\.11\.2 would be pushed under a version that exists/);
            assert.match(issues[0].fix ?? "", /npm run images:bump -- buildkite-test/);
        });

        it("refuses removing a variant without a bump (else it could come back under the same version)", () => {
            const cfg = config({
                images: [
                    { name: "buildkite-test", variants: ["py3.12"] },
                    { name: "deb-builder", variants: ["bookworm", "trixie"] },
                ],
            });
            const issues = checkImages(
                cfg,
                files(raw({ version: "2026.11.2", history }), { ...GOOD_FILES, "buildkite-test": NEW }),
            );
            assert.equal(issues.length, 1, JSON.stringify(issues));
            assert.match(issues[0].message, /removing py3\.13 without a new version/);
        });

        it("refuses an entry with no history (the {version, digest} form), naming the bump", () => {
            const digestOnly = { version: "2026.11.1", digest: imageContentDigest(OLD) };
            const issues = checkImages(config(), files(raw(digestOnly), { ...GOOD_FILES, "buildkite-test": OLD }));
            assert.equal(issues.length, 1, JSON.stringify(issues));
            assert.match(issues[0].message, /keeps no history for "buildkite-test"/);
            assert.match(issues[0].fix ?? "", /npm run images:bump -- buildkite-test/);
        });

        it("reports a history out of order as a versions.json problem", () => {
            const issues = checkImages(
                config(),
                files(raw({ version: "2026.11.2", history: [...history].reverse() }), {
                    ...GOOD_FILES,
                    "buildkite-test": NEW,
                }),
            );
            assert.ok(
                issues.some((i) => /not in increasing version order/.test(i.message)),
                JSON.stringify(issues),
            );
        });
    });

    describe("an image repository is never adopted (it would hold the tags the program pushes)", () => {
        it("refuses an adopt entry naming an image repository, at the entry, with the delete command", () => {
            const cfg = config({
                adopt: [
                    { resource: "secrets-us-east-1-key", id: "1234abcd-12ab-34cd-56ef-1234567890ab" },
                    { resource: "buildkite-test-us-east-1-repository", id: "ci-platform/buildkite-test" },
                ],
            });
            const issues = checkImages(cfg, files(GOOD_VERSIONS, GOOD_FILES));
            assert.equal(issues.length, 1, JSON.stringify(issues));
            assert.equal(formatIssue(issues[0]).split(": ")[0], "ci-platform:adopt[1].resource");
            assert.match(issues[0].message, /still holds the tags `pulumi up` would push/);
            assert.match(
                issues[0].fix ?? "",
                /aws ecr delete-repository --force --repository-name ci-platform\/buildkite-test/,
            );
        });
    });
});
