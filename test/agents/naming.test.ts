import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    HOME_SECRETS_CLUSTER,
    MAX_AWS_FLEET_NAME_LENGTH,
    SCALER_ROLE_STACK_PREFIX_LENGTH,
    TYPES,
    agentEnvObjectKey,
    childName,
    cloudFormationStackName,
    clusterQueueName,
    fleetPhysicalName,
    hookObjectName,
    hooksKeyPrefix,
    installsHooks,
    managedPolicyAttachmentRole,
    scalerRolePattern,
    secretObjectName,
    secretsBucketName,
    secretsBucketNameProblem,
    tokenParameterPath,
} from "../../components/agents/naming";

/*
 * components/agents/naming.ts: the names of the agents module's resources derive from config names and keys only,
 * never from an index or from which other regions exist, and fit the limits AWS puts on them.
 */

/** IAM ArnLike matching: `*` any run of characters, `?` one. */
const arnLike = (pattern: string, arn: string) =>
    new RegExp(
        `^${pattern
            .replace(/[.+^${}()|[\]\\]/g, "\\$&")
            .replace(/\*/g, ".*")
            .replace(/\?/g, ".")}$`,
    ).test(arn);

describe("agents naming", () => {
    it("installs the bash hooks bundle on Linux fleets only", () => {
        assert.equal(installsHooks("linux"), true);
        assert.equal(installsHooks("windows"), false);
    });

    it("names a managed policy attachment by a hash of the ARN: stable, distinct, independent of list order", () => {
        const a = managedPolicyAttachmentRole("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess");
        const b = managedPolicyAttachmentRole("arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess");
        assert.match(a, /^managed-[0-9a-f]{12}$/);
        assert.equal(a, managedPolicyAttachmentRole("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"));
        assert.notEqual(a, b);
    });

    it("keys a fleet's agent env file by its content, beside its bootstrap scripts", () => {
        const one = agentEnvObjectKey("linux-us-east-1", "A=1\n");
        assert.match(one, /^_ci-platform\/bootstrap\/linux-us-east-1-[0-9a-f]+\.env$/);
        assert.equal(agentEnvObjectKey("linux-us-east-1", "A=1\n"), one);
        assert.notEqual(agentEnvObjectKey("linux-us-east-1", "A=2\n"), one, "a new allow-list is a new key");
    });

    it("names a component's children `<component>-<role>`, secrets and hooks by key and path", () => {
        assert.equal(childName("secrets-us-east-1", "bucket"), "secrets-us-east-1-bucket");
        assert.equal(secretObjectName("secrets-us-east-1", "app/env"), "secrets-us-east-1-secret-app/env");
        assert.equal(hookObjectName("secrets-us-east-1", "pre-command"), "secrets-us-east-1-hook-pre-command");
        assert.equal(hooksKeyPrefix("f00"), "_ci-platform/hooks/f00");
        assert.equal(clusterQueueName("macos", "default"), "queue-macos/default");
    });

    it("keeps the home cluster's buckets at their per-region names, and gives every other cluster its own", () => {
        assert.equal(HOME_SECRETS_CLUSTER, "default");
        assert.equal(secretsBucketName("eu-west-1"), "secrets-eu-west-1");
        assert.equal(secretsBucketName("eu-west-1", "default"), "secrets-eu-west-1");
        assert.equal(secretsBucketName("eu-west-1", "macos"), "secrets-macos-eu-west-1");
        // No (cluster, region) pair takes another's name while regions are AWS's own (none is a suffix of another).
        const regions = ["us-east-1", "us-gov-west-1", "eu-west-1", "ap-southeast-2"];
        const names = regions.flatMap((r) =>
            ["default", "macos", "macos-us", "us"].map((c) => secretsBucketName(r, c)),
        );
        assert.equal(new Set(names).size, names.length);
    });

    it("says why a bucket cannot be named: over S3's 63 characters, or characters S3 refuses", () => {
        // AWS S3 User Guide, "General purpose bucket naming rules": 3 to 63 lowercase letters, digits, dots, hyphens.
        // secrets-<cluster>-us-east-1-bucket-<7 random>: 33 characters besides the cluster's.
        assert.equal(secretsBucketNameProblem("us-east-1", "c".repeat(30)), undefined);
        assert.equal(
            secretsBucketNameProblem("us-east-1", "c".repeat(31)),
            `its secrets bucket's name (secrets-${"c".repeat(31)}-us-east-1-bucket and 8 random characters) would be 64 characters, over S3's 63`,
        );
        assert.match(
            secretsBucketNameProblem("us-east-1", "MacOS") ?? "",
            /^its secrets bucket would be named secrets-MacOS-us-east-1-bucket-…, but S3 bucket names are lowercase/,
        );
        assert.equal(secretsBucketNameProblem("us-east-1", "default"), undefined);
    });

    it("derives physical names from physicalName when set, never from renamedFrom", () => {
        assert.equal(fleetPhysicalName({ name: "new" }), "new");
        assert.equal(fleetPhysicalName({ name: "new", physicalName: "old" }), "old");
        assert.equal(tokenParameterPath("old"), "/ci-platform/old/buildkite-agent-token");
        assert.equal(cloudFormationStackName("old"), "buildkite-old");
    });

    it("bounds a fleet's name so that `buildkite-<fleet>-Role` fits IAM's 64 characters", () => {
        assert.equal(MAX_AWS_FLEET_NAME_LENGTH, 49);
        assert.equal(`buildkite-${"f".repeat(MAX_AWS_FLEET_NAME_LENGTH)}-Role`.length, 64);
        // Our own role, `<fleet>-role-` and 7 random characters, fits too.
        assert.ok(`${"f".repeat(MAX_AWS_FLEET_NAME_LENGTH)}-role-1234567`.length <= 64);
    });

    it("matches the scaler's generated role name (buildkite-agent-scaler issue #68) and no other fleet's", () => {
        const pattern = scalerRolePattern("aws", "123456789012", "5-11-0-test");
        assert.equal(pattern, "arn:aws:iam::123456789012:role/buildkite-5-11-0-test-Autoscaling*-ExecutionRole-*");
        const role = (name: string) => `arn:aws:iam::123456789012:role/${name}`;
        assert.ok(arnLike(pattern, role("buildkite-5-11-0-test-Autoscaling-CV-ExecutionRole-X4NRVJKLN5LX")));
        assert.ok(!arnLike(pattern, role("buildkite-5-11-0-test-other-Autoscaling-CV-ExecutionRole-X4NRVJKLN5LX")));
        assert.ok(!arnLike(pattern, role("buildkite-5-11-0-test-Role")));
        assert.ok(
            !arnLike(pattern, `arn:aws:iam::210987654321:role/buildkite-5-11-0-test-Autoscaling-CV-ExecutionRole-X`),
        );
    });

    it("keeps of a long fleet's stack name only what survives CloudFormation's cut of the nested stack's name", () => {
        const fleet = "linux-build-fleet-in-eu-west-1";
        const nested = `${cloudFormationStackName(fleet)}-AutoscalingArm64-1ABCDEF`;
        const generated = `${nested.slice(0, SCALER_ROLE_STACK_PREFIX_LENGTH)}-ExecutionRole-X4NRVJKLN5LX`;
        const pattern = scalerRolePattern("aws-cn", "123456789012", fleet);
        assert.ok(pattern.startsWith("arn:aws-cn:iam::123456789012:role/"));
        assert.ok(arnLike(pattern, `arn:aws-cn:iam::123456789012:role/${generated}`), `${pattern} ${generated}`);
    });

    it("names the component and resource types other modules find them by", () => {
        assert.deepEqual(TYPES, {
            fleet: "ci-platform:agents:Fleet",
            secretsBucket: "ci-platform:agents:SecretsBucket",
            clusterQueue: "buildkite:Cluster/clusterQueue:ClusterQueue",
            bucketObject: "aws:s3/bucketObjectv2:BucketObjectv2",
        });
    });
});
