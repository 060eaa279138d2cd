import * as pulumi from "@pulumi/pulumi";
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type * as fleetModule from "../../components/agents/agent-fleet";
import type { AwsFleetConfig } from "../../components/config/schema";
import { prodConfig } from "./fixtures";
import { installMocks } from "./mocks";

/*
 * Component input errors before any apply (issue 15): an AWS fleet's plain inputs are checked at the top of its
 * constructor and raised as one InputPropertiesError, so that a preview whose outputs are still unknown (an apply
 * that never runs) reports them too.
 */
const { registered, settle, install } = installMocks();
let fleets: typeof fleetModule;
before(async () => {
    // Mocks are installed in the file's first hook, not at load: test files share a process (scripts/test.ts).
    install();
    fleets = await import("../../components/agents/agent-fleet");
});

const config = prodConfig();
const linux = config.fleets.find((f): f is AwsFleetConfig => f.kind === "aws" && f.os === "linux")!;
/** An output the engine has not resolved, as in a preview before the resource exists: its applies never run. */
const unknown = () => pulumi.output(pulumi.unknown as unknown as string);

/** An AWS fleet's args, every wiring value unknown. */
function awsArgs(fleet: AwsFleetConfig, extra: Partial<fleetModule.AgentFleetArgs> = {}): fleetModule.AgentFleetArgs {
    return {
        fleet,
        clusterId: unknown(),
        templateUrl: "https://s3.amazonaws.com/buildkite-aws-stack/v6.71.1/aws-stack.yml",
        region: {
            secretsBucketName: unknown(),
            secretsBucketArn: unknown(),
            secretsKeyArn: unknown(),
            tokenKeyArn: unknown(),
            tokenKeyId: unknown(),
            hooksHash: "abc123",
            hooksPrefix: "_ci-platform/hooks/abc123",
        },
        renderBootstrap: () => ({ key: "_ci-platform/bootstrap/x.sh", content: "#!/bin/bash\n" }),
        accountId: unknown(),
        secrets: { organization: false, pipelines: [] },
        allowlist: { pipelines: [] },
        ...extra,
    };
}

/** The InputPropertiesError the constructor throws, or a failed assertion. */
function inputErrors(construct: () => unknown): pulumi.InputPropertiesError {
    try {
        construct();
    } catch (e) {
        assert.ok(pulumi.InputPropertiesError.isInstance(e), `an InputPropertiesError, got ${String(e)}`);
        return e;
    }
    assert.fail("no error");
}

describe("an AWS fleet's input errors, before any apply", () => {
    it("refuses a stack parameter the pinned template rejects, though every output it waits for is unknown", async () => {
        const bad = {
            ...linux,
            name: "bad-spot",
            spotAllocationStrategy: "cheapest-first",
        } as unknown as AwsFleetConfig;
        const e = inputErrors(() => new fleets.AgentFleet("bad-spot", awsArgs(bad)));
        assert.deepEqual(
            e.errors.map((x) => x.propertyPath),
            ["fleet"],
        );
        assert.match(e.errors[0].reason, /SpotAllocationStrategy is "cheapest-first", not one of the allowed values/);
        assert.match(e.errors[0].reason, /fix fleet bad-spot in ci-platform:fleets/);
        await settle();
        // Nothing below the component was declared.
        assert.deepEqual(
            registered.filter((r) => r.parent.endsWith("::bad-spot")).map((r) => r.name),
            [],
        );
    });

    it("names every missing wiring input and signing input at once", () => {
        const e = inputErrors(
            () =>
                new fleets.AgentFleet("unwired", {
                    fleet: { ...linux, name: "unwired" },
                    clusterId: "c1",
                    signing: { mode: "jwks", failureBehavior: "block", signs: true, verificationJwks: '{"keys":[]}' },
                }),
        );
        assert.deepEqual(
            e.errors.map((x) => x.propertyPath),
            ["region", "renderBootstrap", "templateUrl", "accountId", "secrets", "allowlist", "signingJwks"],
        );
        const kms = inputErrors(
            () =>
                new fleets.AgentFleet(
                    "kms-without-key",
                    awsArgs(
                        { ...linux, name: "kms-without-key" },
                        { signing: { mode: "kms", failureBehavior: "block", signs: false } },
                    ),
                ),
        );
        assert.deepEqual(
            kms.errors.map((x) => x.propertyPath),
            ["signingKmsKeyArn"],
        );
    });

    it("accepts the prod fleets' plain inputs, and tells plain parameters from those other resources give", () => {
        for (const fleet of config.fleets.filter((f): f is AwsFleetConfig => f.kind === "aws")) {
            const inputs = fleets.checkAwsFleetInputs(fleet.name, awsArgs(fleet), fleet.name);
            assert.ok(inputs.plain.includes("BuildkiteQueue"), fleet.name);
            assert.ok(inputs.plain.includes("MinSize"), fleet.name);
            for (const fromOutputs of ["SecretsBucket", "InstanceRoleARN", "BuildkiteAgentTokenParameterStoreKMSKey"])
                assert.ok(!inputs.plain.includes(fromOutputs), `${fleet.name} ${fromOutputs}`);
        }
    });
});
