import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { fleetIssues, physicalNameIssues, secretFileIssues } from "../components/agents/config-checks";
import { checkDeployRoles } from "../components/access/checks";
import { ConfigIssue, checkAccess, formatConfigPath, platformConfigSchema } from "../components/config";
import { referenceIssues } from "../components/config/cross-checks";
import { checkReleaseReadToken } from "../components/config/release-checks";
import { checkRenames } from "../components/config/renames";
import { crossClusterTriggerIssues, triggerIssues } from "../components/graph/config-checks";
import { imageRefIssues } from "../components/images/config-checks";
import { crossCheck, loadStackConfig, parsePlatformConfig } from "../components/platform-config";
import { signingIssues } from "../components/signing/config-checks";
import { packageIssues } from "../components/steps/config-checks";
import { mustParse, validRawConfig } from "./fixtures/config";

const paths = (issues: readonly ConfigIssue[]) => issues.map((i) => formatConfigPath(i.path));

/** The fixture's config with one problem of each concern. */
function brokenEverywhere() {
    const config = mustParse(validRawConfig());
    const fleet = config.fleets[0];
    if (fleet.kind === "aws") fleet.minSize = 99; // fleets
    config.fleets[1].renamedFrom = [config.fleets[0].name]; // renames
    config.pipelines[1].cluster = "nowhere"; // references
    config.pipelines[0].image = { name: "none", variant: "x" }; // image references
    config.pipelines[4].packages[1].dependsOn = ["nothing"]; // packages
    config.pipelines[0].triggers.push({ pipeline: "mac-app", dependsOn: ["missing"], async: false, env: {} }); // triggers, across clusters
    config.secrets.organization = { files: { NPMRC: "x" } }; // secret files
    config.pipelines[0].requiresSecrets = ["NOT_DELIVERED"]; // access
    return config;
}

describe("crossCheck", () => {
    it("is every concern's checks, in a fixed order", () => {
        const config = brokenEverywhere();
        const expected = [
            ...checkRenames(config),
            ...physicalNameIssues(config),
            ...signingIssues(config),
            ...referenceIssues(config),
            ...fleetIssues(config),
            ...imageRefIssues(config),
            ...packageIssues(config),
            ...triggerIssues(config),
            ...secretFileIssues(config),
            ...checkAccess(config),
            ...crossClusterTriggerIssues(config),
            ...checkReleaseReadToken(config),
            ...checkDeployRoles(config),
        ];
        assert.deepEqual(crossCheck(config), expected);
        for (const path of [
            "ci-platform:fleets[1].renamedFrom[0]",
            "ci-platform:pipelines[1].cluster",
            "ci-platform:fleets[0].minSize",
            "ci-platform:pipelines[0].image.name",
            "ci-platform:pipelines[4].packages[1].dependsOn[0]",
            "ci-platform:pipelines[0].triggers[2].dependsOn[0]",
            "ci-platform:pipelines[0].triggers[2].pipeline",
            "ci-platform:secrets.organization.files.NPMRC",
            "ci-platform:pipelines[0].requiresSecrets[0]",
        ])
            assert.ok(paths(expected).includes(path), `${path} in ${paths(expected).join(", ")}`);
    });

    it("leaves out checkout, secrets, cross-cluster and read-token checks with access: false", () => {
        const config = brokenEverywhere();
        assert.ok(checkAccess(config).length > 0 && crossClusterTriggerIssues(config).length > 0);
        assert.deepEqual(crossCheck(config, { access: false }), [
            ...checkRenames(config),
            ...physicalNameIssues(config),
            ...signingIssues(config),
            ...referenceIssues(config),
            ...fleetIssues(config),
            ...imageRefIssues(config),
            ...packageIssues(config),
            ...triggerIssues(config),
            ...secretFileIssues(config),
            ...checkDeployRoles(config),
        ]);
    });
});

describe("parsePlatformConfig parses a config once", () => {
    const schema = platformConfigSchema as unknown as { safeParse: (...args: unknown[]) => unknown };
    const original = schema.safeParse;
    let parses = 0;
    beforeEach(() => {
        parses = 0;
        schema.safeParse = (...args: unknown[]) => {
            parses++;
            return original.apply(platformConfigSchema, args);
        };
    });
    afterEach(() => {
        schema.safeParse = original;
    });

    it("parses the program's config and the plan's second read of the same text once", () => {
        const raw = validRawConfig();
        raw.organization = `acme-${Date.now()}`; // a text no earlier test parsed
        const program = loadStackConfig({ raw, secretKeys: [] });
        const again = parsePlatformConfig(structuredClone(raw));
        assert.equal(parses, 1);
        assert.ok(again.ok);
        assert.equal(again.value.organization, program.organization);
        raw.organization = `${raw.organization}-changed`;
        assert.equal(parsePlatformConfig(raw).ok, true);
        assert.equal(parses, 2, "a changed config is parsed again");
    });

    it("hands each caller its own copy", () => {
        const raw = validRawConfig();
        raw.organization = `acme-copy-${Date.now()}`;
        const first = parsePlatformConfig(raw);
        assert.ok(first.ok);
        first.value.pipelines.pop();
        const second = parsePlatformConfig(raw);
        assert.ok(second.ok);
        assert.equal(parses, 1);
        assert.equal(second.value.pipelines.length, first.value.pipelines.length + 1);
    });

    it("keeps the problems of an invalid config the same on the second read", () => {
        const raw = validRawConfig();
        raw.organization = `acme-bad-${Date.now()}`;
        (raw.fleets as Record<string, unknown>[])[0].minSize = 99;
        const first = parsePlatformConfig(raw);
        const second = parsePlatformConfig(raw);
        assert.ok(!first.ok && !second.ok);
        assert.deepEqual(second.error, first.error);
        assert.deepEqual(paths(first.error), ["ci-platform:fleets[0].minSize"]);
        assert.equal(parses, 1);
    });
});
