import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { parsePlatformConfig } from "../../components/platform-config";
import type { AwsFleetConfig } from "../../components/config/schema";
import {
    checkParameters,
    costAllocationTag,
    StackWiring,
    toStackParameters,
} from "../../components/agents/stack-parameters";
import { prodConfig, prodRawConfig } from "./fixtures";

const WIRING: StackWiring = {
    tokenParameterPath: "/ci-platform/linux-us-east-1/buildkite-agent-token",
    tokenKeyId: "1234abcd-12ab-34cd-56ef-1234567890ab",
    secretsBucket: "secrets-us-east-1-bucket-0a1b2c",
    secretsBucketRegion: "us-east-1",
    bootstrapScriptUrl: "s3://secrets-us-east-1-bucket-0a1b2c/_ci-platform/bootstrap/linux-us-east-1.sh",
    instanceRoleArn: "arn:aws:iam::123456789012:role/linux-us-east-1-role-1234567",
    costAllocationTag: { name: "CostCenter", value: "engineering-ci" },
};

const awsFleets = () => prodConfig().fleets.filter((f): f is AwsFleetConfig => f.kind === "aws");

describe("toStackParameters", () => {
    it("gives every prod fleet parameters the pinned template accepts", () => {
        const fleets = awsFleets();
        assert.ok(fleets.length >= 3);
        for (const fleet of fleets) assert.deepEqual(checkParameters(toStackParameters(fleet, WIRING)), [], fleet.name);
    });

    it("wires the queue, token path (never the token), secrets bucket and hardening flags", () => {
        const fleet = awsFleets().find((f) => f.name === "linux-eu-west-1");
        assert.ok(fleet);
        const p = toStackParameters(fleet, { ...WIRING, secretsBucketRegion: "eu-west-1" });
        assert.equal(p.BuildkiteQueue, "default-eu-west-1");
        assert.equal(p.BuildkiteAgentTokenParameterStorePath, WIRING.tokenParameterPath);
        assert.equal(p.BuildkiteAgentToken, undefined);
        assert.equal(p.SecretsBucket, WIRING.secretsBucket);
        assert.equal(p.SecretsBucketRegion, "eu-west-1");
        assert.equal(p.SecretsBucketEncryption, "true");
        assert.equal(p.InstanceTypes, "c7i.xlarge,c6i.xlarge");
        assert.equal(p.MinSize, "0");
        assert.equal(p.MaxSize, "20");
        assert.equal(p.OnDemandPercentage, "20");
        assert.equal(p.AgentsPerInstance, "2");
        assert.equal(p.IMDSv2Tokens, "required");
        assert.equal(p.BuildkiteAgentEnableGracefulShutdown, "true");
        assert.equal(p.BuildkitePurgeBuildsOnDiskFull, "true");
        assert.equal(p.BuildkiteTerminateInstanceOnDiskFull, "true");
        assert.equal(p.ECRAccessPolicy, "readonly");
        assert.equal(p.EnableCostAllocationTags, "true");
        assert.equal(p.BuildkiteAgentTags, "region=eu-west-1,fleet=linux-eu-west-1");
        assert.equal(p.BootstrapScriptUrl, WIRING.bootstrapScriptUrl);
        assert.equal(p.VpcId, undefined, "no VPC given: the stack creates its own");
    });

    it("hands the stack our instance role, so it creates no instance role, no instance policy of its own", () => {
        // elastic-ci-stack-for-aws v6.71.1 templates/aws-stack.yml: IAMRole and IAMPolicies exist only when
        // InstanceRoleARN is "" (Condition CreateIAMRole); with a role given, ManagedPolicyARNs and InstanceRoleName
        // would be ignored.
        for (const fleet of awsFleets()) {
            const p = toStackParameters(fleet, WIRING);
            assert.equal(p.InstanceRoleARN, WIRING.instanceRoleArn, fleet.name);
            assert.match(p.InstanceRoleARN, /^arn:aws:iam::[0-9]+:role\/.*$/, "the template's AllowedPattern");
            for (const ignored of ["ManagedPolicyARNs", "InstanceRoleName"])
                assert.equal(p[ignored], undefined, `${fleet.name}: ${ignored}`);
            // With our role, ECRAccessPolicy attaches nothing; "readonly" only keeps the stack's ECR login on.
            assert.equal(p.ECRAccessPolicy, "readonly");
        }
    });

    it("passes the token key's id, so the scaler may decrypt the token it polls Buildkite with", () => {
        // v6.71.1 templates/aws-stack.yml Autoscaling passes BuildkiteAgentTokenParameterStoreKMSKey to
        // buildkite-agent-scaler v1.12.0, whose template.yaml grants kms:Decrypt on `key/<it>` only when it is set.
        for (const fleet of awsFleets()) {
            const p = toStackParameters(fleet, WIRING);
            assert.equal(p.BuildkiteAgentTokenParameterStoreKMSKey, WIRING.tokenKeyId, fleet.name);
            assert.doesNotMatch(p.BuildkiteAgentTokenParameterStoreKMSKey, /^arn:/, "an id: the template adds key/");
        }
    });

    it("refuses a role ARN outside the aws partition: the template's InstanceRoleARN pattern rejects it", () => {
        const p = toStackParameters(awsFleets()[0], {
            ...WIRING,
            instanceRoleArn: "arn:aws-cn:iam::123456789012:role/x",
        });
        assert.match(checkParameters(p).join("\n"), /InstanceRoleARN .* does not match/);
    });

    it("passes VPC, subnets, volume size and the boundary when given; the managed policies go on our role only", () => {
        const fleet: AwsFleetConfig = {
            ...awsFleets()[0],
            vpcId: "vpc-0abc",
            subnets: ["subnet-01", "subnet-02"],
            rootVolumeSizeGb: 500,
            permissionsBoundary: "arn:aws:iam::123456789012:policy/boundary",
            managedPolicyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
        };
        const p = toStackParameters(fleet, WIRING);
        assert.equal(p.VpcId, "vpc-0abc");
        assert.equal(p.Subnets, "subnet-01,subnet-02");
        assert.equal(p.RootVolumeSize, "500");
        // v6.71.1 templates/aws-stack.yml applies it to AsgProcessSuspenderRole, StopBuildkiteAgentsRole and the
        // scaler's role (Autoscaling RolePermissionsBoundaryARN), the roles the stack still creates.
        assert.equal(p.InstanceRolePermissionsBoundaryARN, "arn:aws:iam::123456789012:policy/boundary");
        assert.equal(p.ManagedPolicyARNs, undefined);
        assert.deepEqual(checkParameters(p), []);
        assert.equal(toStackParameters(awsFleets()[0], WIRING).InstanceRolePermissionsBoundaryARN, undefined);
    });
});

describe("checkParameters", () => {
    it("rejects a parameter the template does not have, suggesting the near one", () => {
        const [problem] = checkParameters({ BuildkiteQueues: "default" });
        assert.match(problem, /unknown parameter "BuildkiteQueues".*did you mean "BuildkiteQueue"/);
    });

    it("rejects values outside AllowedValues, patterns, ranges and number syntax", () => {
        assert.match(checkParameters({ IMDSv2Tokens: "always" })[0], /IMDSv2Tokens is "always", not one of/);
        assert.match(checkParameters({ LogRetentionDays: "10" })[0], /not one of the allowed values 1, 3, 5/);
        assert.match(checkParameters({ BuildkiteAgentTokenParameterStorePath: "no-slash" })[0], /does not match/);
        assert.match(checkParameters({ OnDemandPercentage: "101" })[0], /above the template's MaxValue 100/);
        assert.match(checkParameters({ MinSize: "-1" })[0], /below the template's MinValue 0/);
        assert.match(checkParameters({ MaxSize: "ten" })[0], /must be a number/);
        assert.match(checkParameters({ BuildkiteQueue: "" })[0], /MinLength 1/);
        assert.match(checkParameters({ InstanceTypes: "c7i.xlarge, c6i.xlarge" })[0], /does not match/);
    });

    it("refuses to pass the agent token as a plain parameter", () => {
        assert.match(checkParameters({ BuildkiteAgentToken: "bkct_secret" })[0], /credential \(NoEcho\)/);
    });

    it("holds for any fleet the config model accepts (property)", () => {
        const base = prodRawConfig();
        const fleetArb = fc.record({
            name: fc.stringMatching(/^[a-z][a-z0-9-]{0,60}$/),
            instanceTypes: fc.array(fc.constantFrom("c7i.xlarge", "m6g.large", "t3.micro", "c7gn.16xlarge"), {
                minLength: 1,
                maxLength: 30,
            }),
            minSize: fc.integer({ min: 0, max: 50 }),
            maxSize: fc.integer({ min: 0, max: 50 }),
            onDemandPercentage: fc.integer({ min: 0, max: 100 }),
            agentsPerInstance: fc.integer({ min: 1, max: 64 }),
            logRetentionDays: fc.integer({ min: 1, max: 4000 }),
            rootVolumeSizeGb: fc.option(fc.integer({ min: 10, max: 16384 }), { nil: undefined }),
        });
        fc.assert(
            fc.property(fleetArb, (f) => {
                const raw = {
                    ...base,
                    fleets: [
                        ...(base.fleets as unknown[]),
                        { kind: "aws", cluster: "default", queue: "extra", region: "eu-north-1", ...f },
                    ],
                };
                const parsed = parsePlatformConfig(raw);
                if (!parsed.ok) return true; // the config model rejected it, with a path: nothing reaches the stack
                const fleet = parsed.value.fleets.find((x) => x.name === f.name);
                if (fleet?.kind !== "aws") return true;
                return checkParameters(toStackParameters(fleet, WIRING)).length === 0;
            }),
            { numRuns: 300 },
        );
    });
});

describe("costAllocationTag", () => {
    it("prefers CostCenter, else the first tag, else ManagedBy", () => {
        assert.deepEqual(costAllocationTag({ A: "1", CostCenter: "ci" }), { name: "CostCenter", value: "ci" });
        assert.deepEqual(costAllocationTag({ Team: "x", Owner: "y" }), { name: "Owner", value: "y" });
        assert.deepEqual(costAllocationTag({}), { name: "ManagedBy", value: "ci-platform" });
    });
});
