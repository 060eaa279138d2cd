import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigIssue, PlatformConfig, formatConfigPath } from "../../components/config";
import { RELEASE_READ_TOKEN_VAR } from "../../components/config/release-checks";
import { packageIssues } from "../../components/steps/config-checks";
import { mustParse, validRawConfig } from "../fixtures/config";

type Pipeline = PlatformConfig["pipelines"][number];
type Package = Pipeline["packages"][number];

/** The fixture's config and its monorepo pipeline `mono` (packages core and api, api depends on core), to change. */
function withMono(change: (mono: Pipeline, config: PlatformConfig) => void): PlatformConfig {
    const config = mustParse(validRawConfig());
    const mono = config.pipelines.find((p) => p.slug === "mono");
    assert.ok(mono);
    change(mono, config);
    return config;
}
const pkg = (mono: Pipeline, name: string): Package => {
    const found = mono.packages.find((p) => p.name === name);
    assert.ok(found);
    return found;
};
const at = (issues: readonly ConfigIssue[]) =>
    issues.map((i) => `${formatConfigPath(i.path).replace(/^ci-platform:/, "")}: ${i.message}`);

describe("packageIssues", () => {
    it("finds nothing in a valid config, and leaves triggers, fleets and references alone", () => {
        assert.deepEqual(packageIssues(mustParse(validRawConfig())), []);
        const config = withMono((mono, c) => {
            mono.triggers.push({ pipeline: "nowhere", dependsOn: [], async: false, env: {} });
            mono.cluster = "undeclared";
            const fleet = c.fleets[0];
            if (fleet.kind === "aws") fleet.minSize = 99;
        });
        assert.deepEqual(packageIssues(config), []);
    });

    it("reports duplicate names and paths, unknown and self dependencies, and a cycle", () => {
        const config = withMono((mono) => {
            mono.packages.push({ ...pkg(mono, "core"), dependsOn: ["cor", "core"] });
            pkg(mono, "core").dependsOn = ["api"];
        });
        assert.deepEqual(at(packageIssues(config)), [
            'pipelines[4].packages[2].name: duplicate package name "core" (first declared at index 0)',
            'pipelines[4].packages[2].path: duplicate package path "libs/core" (first declared at index 0)',
            'pipelines[4].packages[2].dependsOn[0]: unknown package "cor"; did you mean "core"? packages of "mono": core, api, core',
            'pipelines[4].packages[2].dependsOn[1]: package "core" depends on itself',
            "pipelines[4].packages: package dependencies form a cycle: api -> core -> api",
        ]);
    });

    it("needs an image for the packages' steps", () => {
        const config = withMono((mono) => {
            mono.image = undefined;
        });
        assert.deepEqual(at(packageIssues(config)), [
            'pipelines[4].image: pipeline "mono" has packages but no image for their steps',
        ]);
        const each = withMono((mono) => {
            mono.image = undefined;
            for (const p of mono.packages) p.image = { name: "buildkite-test", variant: "py3.11" };
        });
        assert.deepEqual(packageIssues(each), []);
    });

    it("needs the read token of an AWS pipeline whose packages produce artifacts", () => {
        const config = withMono((mono) => {
            pkg(mono, "core").artifacts = ["dist/*.whl"];
        });
        const issues = at(packageIssues(config));
        assert.equal(issues.length, 1);
        assert.match(issues[0], /^pipelines\[4\]\.packages\[0\]\.artifacts: pipeline "mono" has packages that produce/);
        assert.match(issues[0], new RegExp(`with ${RELEASE_READ_TOKEN_VAR}, but ci-platform:secrets holds no value`));
        const delivered = withMono((mono, c) => {
            pkg(mono, "core").artifacts = ["dist/*.whl"];
            c.secrets.pipelines.mono = { env: { [RELEASE_READ_TOKEN_VAR]: "x" } };
        });
        assert.deepEqual(packageIssues(delivered), []);
    });

    it("reports a publish step without packages and a publish secret that is not delivered", () => {
        const config = withMono((mono, c) => {
            mono.publish = { command: "make publish", secrets: ["PYPI_TOKEN"] };
            const app = c.pipelines[0];
            app.publish = { command: "make publish", secrets: [] };
        });
        assert.deepEqual(at(packageIssues(config)), [
            'pipelines[0].publish: pipeline "app" has a publish step but no packages: it publishes the packages\' artifacts',
            'pipelines[4].publish.secrets[0]: pipeline "mono" publishes with PYPI_TOKEN, but ci-platform:secrets holds no value for it',
        ]);
    });
});
