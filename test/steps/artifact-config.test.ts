import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatIssue } from "../../components/config";
import { parsePlatformConfig } from "../../components/platform-config";
import { artifactPlanOf, META_DATA, producerDefinitionHash } from "../../components/steps/artifact-sources";
import { Mutable, entry, validRawConfig } from "../fixtures/config";

/*
 * The producer/user checks of monorepo artifacts (components/steps/artifact-sources.ts `artifactIssues`, run by the
 * config's cross-checks): each used artifact has exactly one producer, with the config path and a fix.
 */

/** The fixture with the `mono` pipeline's packages replaced (and, unless `token` is false, its read token). */
function withPackages(packages: Mutable[], opts: { token?: boolean; mono?: Mutable } = {}) {
    const raw = validRawConfig();
    Object.assign(entry(raw, "pipelines", 4), { packages, ...opts.mono });
    if (opts.token !== false) {
        const secrets = raw.secrets as { pipelines: Record<string, unknown> };
        secrets.pipelines.mono = { env: { BUILDKITE_READ_BUILDS_TOKEN: "not-a-real-token" } };
    }
    return raw;
}

function problems(packages: Mutable[], opts: { token?: boolean; mono?: Mutable } = {}): string[] {
    const result = parsePlatformConfig(withPackages(packages, opts));
    return result.ok ? [] : result.error.map(formatIssue);
}

describe("monorepo artifacts in config", () => {
    it("accepts producers and users, and plans them (users default to the producers of their closure)", () => {
        const result = parsePlatformConfig(
            withPackages([
                { name: "core", path: "libs/core", artifacts: ["dist/*.whl"] },
                { name: "util", path: "libs/util", dependsOn: ["core"] },
                { name: "api", path: "services/api", dependsOn: ["util"], copyArtifacts: [] },
            ]),
        );
        assert.ok(result.ok, result.ok ? "" : result.error.map(formatIssue).join("\n"));
        const mono = result.value.pipelines.find((p) => p.slug === "mono");
        assert.ok(mono);
        const ran = META_DATA.ran(
            "core",
            producerDefinitionHash({
                path: "libs/core",
                artifacts: ["dist/*.whl"],
                command: "make -C libs/core test",
                image: "img:py3.11",
            }),
        );
        assert.match(ran, /^ci-platform:ran:core:[0-9a-f]{64}$/);
        assert.deepEqual(
            artifactPlanOf(mono, () => "img:py3.11"),
            {
                producers: { core: { step: "package-core", ran, artifacts: ["libs/core/dist/*.whl"], copy: [] } },
                users: { "package-api": ["core"], "package-util": ["core"] },
                vars: { core: "CI_PLATFORM_CORE_BUILD_ID" },
            },
        );
    });

    it("refuses a used package that produces nothing, or is not a package, each at its path with a fix", () => {
        const lines = problems([
            { name: "core", path: "libs/core" },
            { name: "api", path: "services/api", uses: ["core", "nope"] },
        ]);
        const at = (p: string) => lines.find((l) => l.startsWith(`ci-platform:pipelines[4].packages[1].uses[${p}]: `));
        assert.match(at("0") ?? "", /uses the artifacts of "core", which produces none.* Fix: \S/);
        assert.match(at("1") ?? "", /"nope", which is not a package.* Fix: \S/);
    });

    it("refuses an artifact with two producers, and an opt-out that names no artifact", () => {
        const lines = problems([
            { name: "outer", path: "libs", artifacts: ["core/dist/*.whl"] },
            { name: "core", path: "libs/core", artifacts: ["dist/*.whl"], copyArtifacts: ["dist/*.tar.gz"] },
        ]);
        assert.ok(
            lines.some((l) =>
                /^ci-platform:pipelines\[4\]\.packages\[1\]\.artifacts\[0\]: artifact "libs\/core\/dist\/\*\.whl" is produced by packages\[0\]/.test(
                    l,
                ),
            ),
            lines.join("\n"),
        );
        assert.ok(
            lines.some((l) => l.startsWith("ci-platform:pipelines[4].packages[1].copyArtifacts[0]: ")),
            lines.join("\n"),
        );
    });

    it("refuses two producers whose build variables would collide", () => {
        const lines = problems([
            { name: "a-b", path: "x", artifacts: ["dist/*"] },
            { name: "a_b", path: "y", artifacts: ["dist/*"] },
        ]);
        assert.ok(
            lines.some(
                (l) =>
                    l.startsWith("ci-platform:pipelines[4].packages[1].name: ") &&
                    l.includes("CI_PLATFORM_A_B_BUILD_ID"),
            ),
            lines.join("\n"),
        );
    });

    it("keys a producer's `ran` meta-data on its definition: path, artifacts, command and image each change it", () => {
        const base = { path: "libs/core", artifacts: ["dist/*.whl"], command: "make", image: "img:1" };
        const hashes = [
            base,
            { ...base, path: "libs/core2" },
            { ...base, artifacts: ["dist/*.tar.gz"] },
            { ...base, command: "make wheel" },
            { ...base, image: "img:2" },
        ].map(producerDefinitionHash);
        assert.equal(new Set(hashes).size, hashes.length);
        assert.equal(producerDefinitionHash({ ...base }), hashes[0], "stable for the same definition");
        const planOf = (command: string) => {
            const result = parsePlatformConfig(
                withPackages([{ name: "core", path: "libs/core", artifacts: ["dist/*.whl"], command }]),
            );
            assert.ok(result.ok);
            const mono = result.value.pipelines.find((p) => p.slug === "mono");
            assert.ok(mono);
            return artifactPlanOf(mono, () => "img")?.producers.core.ran;
        };
        assert.notEqual(planOf("make a"), planOf("make b"));
    });

    it("refuses a used package outside the user's dependency closure (its change would not rerun the user)", () => {
        const lines = problems([
            { name: "core", path: "libs/core", artifacts: ["dist/*.whl"] },
            { name: "tool", path: "libs/tool", artifacts: ["dist/*.whl"] },
            { name: "util", path: "libs/util", dependsOn: ["core"] },
            { name: "api", path: "services/api", dependsOn: ["util"], uses: ["core", "tool"] },
        ]);
        assert.deepEqual(
            lines.filter((l) => l.includes(".uses[")),
            [
                'ci-platform:pipelines[4].packages[3].uses[1]: package "api" uses the artifacts of "tool", which is not among its dependencies: a change to "tool" would not run "api" again. Fix: add "tool" to the dependsOn of "api" (directly or through one of its dependencies), or remove it from uses.',
            ],
        );
    });

    it("refuses a package path or artifact glob the generated shell cannot quote, or would trim", () => {
        for (const bad of ['dist/"x', "dist/`x`", "dist/$x", "dist/a;b"]) {
            const lines = problems([{ name: "core", path: "libs/core", artifacts: [bad] }]);
            assert.ok(
                lines.some((l) => l.startsWith("ci-platform:pipelines[4].packages[0].artifacts[0]: artifact glob")),
                `${bad}: ${lines.join("\n")}`,
            );
        }
        for (const [path, artifact, at] of [
            ["libs/core ", "dist/*", "path"],
            ["libs/core", " dist/*.whl", "artifacts[0]"],
        ]) {
            const lines = problems([{ name: "core", path, artifacts: [artifact] }]);
            assert.ok(
                lines.some(
                    (l) =>
                        l.startsWith(`ci-platform:pipelines[4].packages[0].${at}: `) &&
                        l.includes("begins or ends with white space"),
                ),
                lines.join("\n"),
            );
        }
        const lines = problems([{ name: "core", path: "libs/$core", artifacts: ["dist/*"] }]);
        assert.ok(
            lines.some((l) =>
                /^ci-platform:pipelines\[4\]\.packages\[0\]\.path: package path "libs\/\$core" holds '\$'/.test(l),
            ),
            lines.join("\n"),
        );
    });

    it("refuses producers when the pipeline's AWS fleets get no read token (the lookup would never find a base build)", () => {
        const packages = [{ name: "core", path: "libs/core", artifacts: ["dist/*.whl"] }];
        assert.deepEqual(problems(packages), []);
        const lines = problems(packages, { token: false });
        assert.ok(
            lines.some(
                (l) =>
                    l.startsWith("ci-platform:pipelines[4].packages[0].artifacts: ") &&
                    l.includes("BUILDKITE_READ_BUILDS_TOKEN"),
            ),
            lines.join("\n"),
        );
        // No producer, no token needed.
        assert.deepEqual(problems([{ name: "core", path: "libs/core" }], { token: false }), []);
    });

    it("refuses publish secrets the pipeline's secrets do not hold, and a publish step without packages", () => {
        const packages = [{ name: "core", path: "libs/core", artifacts: ["dist/*.whl"] }];
        const publish = { command: "twine upload dist/*", secrets: ["TWINE_PASSWORD"] };
        const lines = problems(packages, { mono: { publish } });
        assert.ok(
            lines.some(
                (l) => l.startsWith("ci-platform:pipelines[4].publish.secrets[0]: ") && l.includes("TWINE_PASSWORD"),
            ),
            lines.join("\n"),
        );
        assert.ok(
            problems([], { mono: { publish: { command: "x" } } }).some((l) =>
                l.startsWith("ci-platform:pipelines[4].publish: "),
            ),
        );
    });
});
