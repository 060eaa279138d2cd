import * as pulumi from "@pulumi/pulumi";
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type * as agentsModule from "../../components/agents";
import { FAKE_BUNDLE, fleetProviders, prodConfig } from "./fixtures";
import { installMocks } from "./mocks";

/*
 * ci-platform:fleets[].stepsUseInstanceRole reaches each fleet's bootstrap script (which then leaves IMDS open to
 * step containers, hooks/bootstrap.sh block_container_imds): the value the config says, false when unset.
 */
const { settle, install } = installMocks();
const rendered: agentsModule.BootstrapRequest[] = [];
const config = prodConfig();
const OPEN = "linux-eu-west-1";

before(async () => {
    install();
    const fleet = config.fleets.find((f) => f.name === OPEN);
    assert.ok(fleet?.kind === "aws");
    (fleet as { stepsUseInstanceRole: boolean }).stepsUseInstanceRole = true;
    const agents = await import("../../components/agents");
    agents.declareFleets({
        config,
        secretValues: pulumi.secret(config.secrets),
        clusterIds: {
            default: "c-default",
            macos: "c-macos",
            platform: "c-platform",
            deploy: "c-deploy",
            dagster: "c-dagster",
        },
        hooksBundle: FAKE_BUNDLE,
        providers: await fleetProviders(config),
        renderBootstrap: (req) => {
            rendered.push(req);
            return { key: `_ci-platform/bootstrap/${req.fleet.name}.sh`, content: "#!/bin/bash\n" };
        },
    });
    await settle();
});

describe("fleets[].stepsUseInstanceRole", () => {
    it("is passed to every Linux fleet's bootstrap script: true where set, false by default", () => {
        const linux = config.fleets.filter((f) => f.kind === "aws" && f.os === "linux").map((f) => f.name);
        assert.deepEqual(rendered.map((r) => r.fleet.name).sort(), [...linux].sort());
        for (const request of rendered)
            assert.equal(request.fleet.stepsUseInstanceRole, request.fleet.name === OPEN, request.fleet.name);
    });
});

describe("fleets[].stepsUseInstanceRole in the config", () => {
    it("defaults to false, and a value that is not a boolean is refused with its path", async () => {
        const { formatIssue } = await import("../../components/config");
        const { parsePlatformConfig } = await import("../../components/platform-config");
        const { entry, validRawConfig } = await import("../fixtures/config");
        const parsed = parsePlatformConfig(validRawConfig());
        assert.ok(parsed.ok);
        const fleet = parsed.value.fleets[0];
        assert.equal(fleet.kind === "aws" && fleet.stepsUseInstanceRole, false);
        const raw = validRawConfig();
        entry(raw, "fleets", 0).stepsUseInstanceRole = "yes";
        const refused = parsePlatformConfig(raw);
        assert.equal(refused.ok, false);
        const lines = refused.ok ? [] : refused.error.map(formatIssue);
        assert.ok(
            lines.some((l) => l.startsWith("ci-platform:fleets[0].stepsUseInstanceRole: ")),
            lines.join("\n"),
        );
    });
});
