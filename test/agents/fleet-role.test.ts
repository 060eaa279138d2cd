import * as pulumi from "@pulumi/pulumi";
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type * as agentsModule from "../../components/agents";
import { managedPolicyAttachmentRole } from "../../components/agents/naming";
import type { PlatformConfig } from "../../components/config/schema";
import { FAKE_BUNDLE, fleetProviders, prodConfig } from "./fixtures";
import { installMocks } from "./mocks";

// The config's permissionsBoundary and managedPolicyArns keep working now that the role is ours: the template's
// IAMRole, which InstanceRoleARN replaces, is where it would put them (elastic-ci-stack-for-aws v6.71.1
// templates/aws-stack.yml IAMRole, `Condition: CreateIAMRole`), so they must land on our role. The boundary also goes to
// the stack: it still applies InstanceRolePermissionsBoundaryARN to the roles it creates (AsgProcessSuspenderRole,
// StopBuildkiteAgentsRole, the scaler's).

const { registered, settle, install } = installMocks();
const BOUNDARY = "arn:aws:iam::123456789012:policy/ci-boundary";
const EXTRA = ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore", "arn:aws:iam::123456789012:policy/extra"];

function withRoleSettings(config: PlatformConfig): PlatformConfig {
    return {
        ...config,
        fleets: config.fleets.map((f) =>
            f.name === "linux-eu-west-1" && f.kind === "aws"
                ? { ...f, permissionsBoundary: BOUNDARY, managedPolicyArns: [...EXTRA, EXTRA[0]] }
                : f,
        ),
    };
}

before(async () => {
    install();
    const agents: typeof agentsModule = await import("../../components/agents");
    agents.declareFleets({
        config: withRoleSettings(prodConfig()),
        secretValues: pulumi.secret(prodConfig().secrets),
        clusterIds: { default: "c1", macos: "c2", platform: "c3", deploy: "c4", dagster: "c5" },
        hooksBundle: FAKE_BUNDLE,
        providers: await fleetProviders(withRoleSettings(prodConfig())),
        renderBootstrap: (req) => ({ key: `_ci-platform/bootstrap/${req.fleet.name}.sh`, content: "#!/bin/bash\n" }),
    });
    await settle();
});

describe("a fleet's role with the config's boundary and managed policies", () => {
    it("carries the permissions boundary on our role and on the stack's own roles", () => {
        const role = registered.find((r) => r.type === "aws:iam/role:Role" && r.name === "linux-eu-west-1-role");
        assert.equal(role?.inputs.permissionsBoundary, BOUNDARY);
        const other = registered.find((r) => r.type === "aws:iam/role:Role" && r.name === "linux-us-east-1-role");
        assert.equal(other?.inputs.permissionsBoundary, undefined, "only where configured");
        const stack = registered.find((r) => r.name === "linux-eu-west-1-stack");
        const params = stack?.inputs.parameters as Record<string, string>;
        assert.equal(params.InstanceRolePermissionsBoundaryARN, BOUNDARY);
        assert.equal(params.ManagedPolicyARNs, undefined);
        const otherStack = registered.find((r) => r.name === "linux-us-east-1-stack");
        const otherParams = otherStack?.inputs.parameters as Record<string, string>;
        assert.equal(otherParams.InstanceRolePermissionsBoundaryARN, undefined, "only where configured");
    });

    it("attaches each extra managed policy once, under a name from the ARN, beside the fleet's own policy", () => {
        const attachments = registered
            .filter((r) => r.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
            .filter((r) => r.parent.endsWith("::linux-eu-west-1"));
        assert.deepEqual(
            attachments.map((a) => a.name).sort(),
            [
                ...EXTRA.map((arn) => `linux-eu-west-1-${managedPolicyAttachmentRole(arn)}`),
                "linux-eu-west-1-policy-attachment",
            ].sort(),
        );
        for (const a of attachments) assert.equal(a.inputs.role, "linux-eu-west-1-role-1234567");
        assert.deepEqual(
            attachments.map((a) => a.inputs.policyArn).sort(),
            [...EXTRA, "arn:aws:iam::123456789012:policy/linux-eu-west-1-policy-1234567"].sort(),
        );
    });
});
