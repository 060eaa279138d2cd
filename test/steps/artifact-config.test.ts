import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatIssue, parsePlatformConfig } from "../../components/config";
import { artifactPlanOf } from "../../components/steps/artifact-sources";
import { Mutable, entry, validRawConfig } from "../fixtures/config";

/*
 * The producer/user checks of monorepo artifacts (components/steps/artifact-sources.ts `artifactIssues`, run by the
 * config's cross-checks): each used artifact has exactly one producer, with the config path and a fix.
 */

/** The fixture with the `mono` pipeline's packages replaced. */
function withPackages(packages: Mutable[]) {
    const raw = validRawConfig();
    entry(raw, "pipelines", 4).packages = packages;
    return raw;
}

function problems(packages: Mutable[]): string[] {
    const result = parsePlatformConfig(withPackages(packages));
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
        assert.deepEqual(artifactPlanOf(mono), {
            producers: { core: { step: "package-core", artifacts: ["libs/core/dist/*.whl"], copy: [] } },
            users: { "package-api": ["core"], "package-util": ["core"] },
            vars: { core: "CI_PLATFORM_CORE_BUILD_ID" },
        });
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
});
