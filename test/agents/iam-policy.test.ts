import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    fleetPolicyDocument,
    FleetPolicyInput,
    instanceTrustPolicy,
    PolicyDocument,
    secretsBucketPolicyDocument,
} from "../../components/agents/iam-policy";
import { BOOTSTRAP_KEY_PREFIX, bundleKeyPrefix, fleetVersionedKey } from "../../components/hooks/bundle";

const HASH = "a".repeat(64);
const BUCKET = "arn:aws:s3:::secrets-eu-west-1-bucket-1";
const TOKEN_PATH = "/ci-platform/linux-eu-west-1/buildkite-agent-token";
const TOKEN_ARN = `arn:aws:ssm:eu-west-1:123456789012:parameter${TOKEN_PATH}`;

const baseInput: FleetPolicyInput = {
    secretsBucketArn: BUCKET,
    secretsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/k1",
    tokenKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/t1",
    tokenParameterPath: TOKEN_PATH,
    stackName: "buildkite-linux-eu-west-1",
    region: "eu-west-1",
    accountId: "123456789012",
    secrets: { organization: true, pipelines: ["kolibri", "kolibri-installer-debian"] },
    ecrRepositories: ["ci-platform/buildkite-test", "ci-platform/deb-builder", "ci-platform/buildkite-test"],
    ecrRegions: ["eu-west-1", "eu-west-1"],
};
const doc = fleetPolicyDocument({
    ...baseInput,
    hooks: { fleetName: "linux" },
});

/** One request as IAM sees it: an action, a resource ARN and the request's condition keys. */
interface Request {
    readonly action: string;
    readonly resource: string;
    readonly context?: Readonly<Record<string, string>>;
}

/** IAM's wildcard match (`*` any run, `?` one character), case-sensitive as for ARNs and condition values. */
const like = (pattern: string, value: string): boolean =>
    new RegExp(
        `^${pattern
            .replace(/[.+^${}()|[\]\\]/g, "\\$&")
            .replace(/\*/g, ".*")
            .replace(/\?/g, ".")}$`,
    ).test(value);

/** Whether an identity policy of Allow statements allows a request (the operators this module writes only). */
function allows(policy: PolicyDocument, request: Request): boolean {
    return policy.Statement.some((s) => {
        if (s.Effect !== "Allow" || !s.Action.some((a) => like(a, request.action))) return false;
        const resources = typeof s.Resource === "string" ? [s.Resource] : s.Resource;
        if (!resources.some((r) => like(r, request.resource))) return false;
        return Object.entries(s.Condition ?? {}).every(([operator, keys]) =>
            Object.entries(keys).every(([key, expected]) => {
                const values = typeof expected === "string" ? [expected] : expected;
                const actual = request.context?.[key];
                if (operator === "Null") return (actual === undefined) === (values[0] === "true");
                if (actual === undefined) return false;
                if (operator === "StringEquals") return values.includes(actual);
                if (operator === "StringLike") return values.some((v) => like(v, actual));
                throw new Error(`operator ${operator} not modelled`);
            }),
        );
    });
}

/** What elastic-ci-stack-s3-secrets-hooks v2.8.0 s3secrets-helper asks S3 for, for a job of pipeline `slug`. */
const helperRequests = (slug: string) => ({
    headBucket: { action: "s3:ListBucket", resource: BUCKET },
    list: [
        { action: "s3:ListBucket", resource: BUCKET, context: { "s3:prefix": "secret-files" } },
        { action: "s3:ListBucket", resource: BUCKET, context: { "s3:prefix": `${slug}/secret-files` } },
    ],
    rootObjects: ["env", "private_ssh_key", "git-credentials", "secret-files/GITHUB_TOKEN"].map((k) => ({
        action: "s3:GetObject",
        resource: `${BUCKET}/${k}`,
    })),
    ownObjects: ["env", "private_ssh_key", "git-credentials", "secret-files/PYPI_TOKEN"].map((k) => ({
        action: "s3:GetObject",
        resource: `${BUCKET}/${slug}/${k}`,
    })),
});

describe("fleetPolicyDocument", () => {
    it("grants the stack's own machinery exactly as the pinned template does, scoped to the fleet", () => {
        const sids = doc.Statement.map((s) => s.Sid);
        assert.equal(new Set(sids).size, sids.length, "statement ids are unique");
        const by = (sid: string) => doc.Statement.find((s) => s.Sid === sid);
        assert.equal(
            by("TerminateInstance")?.Resource,
            "arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:*:autoScalingGroupName/buildkite-linux-eu-west-1-AgentAutoScaleGroup-*",
        );
        assert.deepEqual(by("TerminateInstance")?.Action, [
            "autoscaling:SetInstanceHealth",
            "autoscaling:TerminateInstanceInAutoScalingGroup",
        ]);
        assert.equal(
            by("DescribeOwnStack")?.Resource,
            "arn:aws:cloudformation:eu-west-1:123456789012:stack/buildkite-linux-eu-west-1/*",
        );
        assert.equal(by("Logging")?.Resource, "arn:aws:logs:eu-west-1:123456789012:log-group:/buildkite/*");
        assert.ok(by("SessionManager")?.Action.includes("ssm:UpdateInstanceInformation"));
        assert.equal(by("ReadAgentToken")?.Resource, TOKEN_ARN);
        assert.deepEqual(by("ReadAgentToken")?.Action, ["ssm:GetParameter"]);
        const token = by("DecryptAgentToken");
        assert.equal(token?.Resource, "arn:aws:kms:eu-west-1:123456789012:key/t1");
        assert.deepEqual(token?.Condition, {
            StringEquals: {
                "kms:ViaService": "ssm.eu-west-1.amazonaws.com",
                "kms:EncryptionContext:PARAMETER_ARN": TOKEN_ARN,
            },
        });
        // Nothing the stack's own role had and ours must not: no s3:Get*/s3:List* wildcard, no unconditional decrypt.
        for (const s of doc.Statement) {
            for (const a of s.Action) assert.doesNotMatch(a, /^s3:\w*\*$|^kms:\*$|^\*$/, `${s.Sid}: ${a}`);
            if (s.Action.includes("kms:Decrypt")) assert.ok(s.Condition?.StringEquals?.["kms:ViaService"], s.Sid);
        }
    });

    it("lets a job of a served pipeline read its own prefix and the organisation's root objects", () => {
        for (const slug of ["kolibri", "kolibri-installer-debian"]) {
            const r = helperRequests(slug);
            assert.ok(allows(doc, r.headBucket), "HeadBucket (BucketExists), which fails the job when denied");
            for (const req of [...r.list, ...r.rootObjects, ...r.ownObjects]) assert.ok(allows(doc, req), req.resource);
        }
        assert.deepEqual(doc.Statement.find((s) => s.Sid === "ReadSecretsObjects")?.Resource, [
            `${BUCKET}/env`,
            `${BUCKET}/private_ssh_key`,
            `${BUCKET}/git-credentials`,
            `${BUCKET}/secret-files/*`,
            `${BUCKET}/kolibri/*`,
            `${BUCKET}/kolibri-installer-debian/*`,
        ]);
    });

    it("reads no object and lists no prefix of a pipeline the fleet does not serve", () => {
        const r = helperRequests("dagster");
        for (const req of [...r.ownObjects, r.list[1]]) assert.ok(!allows(doc, req), req.resource);
        // Prefixes are whole path segments: `kolibri/*` does not reach `kolibri-other/`.
        assert.ok(!allows(doc, { action: "s3:GetObject", resource: `${BUCKET}/kolibri-other/env` }));
        assert.ok(!allows(doc, { action: "s3:GetObject", resource: `${BUCKET}/environment` }));
        assert.ok(!allows(doc, { action: "s3:GetObjectVersion", resource: `${BUCKET}/kolibri/env` }));
    });

    it("gives a fleet of a cluster without organisation secrets no root object and no root listing", () => {
        const own = fleetPolicyDocument({ ...baseInput, secrets: { organization: false, pipelines: ["kolibri"] } });
        const r = helperRequests("kolibri");
        for (const req of [...r.rootObjects, r.list[0]]) assert.ok(!allows(own, req), req.resource);
        for (const req of [r.headBucket, r.list[1], ...r.ownObjects]) assert.ok(allows(own, req), req.resource);
    });

    it("decrypts the bucket's objects only through S3 and only for its own bucket", () => {
        const decrypt = (context: Record<string, string>) =>
            allows(doc, { action: "kms:Decrypt", resource: "arn:aws:kms:eu-west-1:123456789012:key/k1", context });
        const viaS3 = { "kms:ViaService": "s3.eu-west-1.amazonaws.com", "kms:EncryptionContext:aws:s3:arn": BUCKET };
        assert.ok(decrypt(viaS3));
        assert.ok(!decrypt({ "kms:EncryptionContext:aws:s3:arn": BUCKET }), "direct Decrypt");
        assert.ok(!decrypt({ ...viaS3, "kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::another" }));
    });

    it("lets bootstrap.sh list exactly the prefix it copies (`aws s3 cp --recursive s3://<bucket>/<prefix>/`)", () => {
        const list = (prefix: string) =>
            allows(doc, { action: "s3:ListBucket", resource: BUCKET, context: { "s3:prefix": prefix } });
        assert.ok(list(`${bundleKeyPrefix(HASH)}/`), "the bootstrap's listing is allowed");
        assert.ok(!list("kolibri/"), "a pipeline's prefix cannot be listed beyond its secret-files");
        assert.ok(!list("dagster/secret-files"), "nor an unserved pipeline's secret files");
        // Another bundle too: a rollback of a hook change installs the older one (retained, secrets-bucket.ts).
        assert.ok(list(`_ci-platform/hooks/${"b".repeat(64)}/`), "an older bundle can be listed");
        assert.ok(!list("_ci-platform/allowlist/"), "nothing else of the platform's prefix");
        assert.ok(!list(""), "an empty prefix is a prefix: not granted");
    });

    it("reads every version of its own bootstrap script and no other fleet's (a rollback points at an older one)", () => {
        const read = (key: string) => allows(doc, { action: "s3:GetObject", resource: `${BUCKET}/${key}` });
        const script = (fleet: string, hex: string) => fleetVersionedKey(fleet, hex, "sh");
        assert.ok(read(script("linux", "0123456789abcdef")), "this version");
        assert.ok(read(script("linux", "fedcba9876543210")), "an older version");
        assert.ok(!read(script("linux-gpu", "0123456789abcdef")), "a fleet whose name starts with this one's");
        assert.ok(!read(script("windows", "0123456789abcdef")), "another fleet's");
        assert.ok(!read(`${BOOTSTRAP_KEY_PREFIX}/linux-0123456789abcdef.env`), "not an env file");
        assert.ok(read(`${bundleKeyPrefix("c".repeat(64))}/pre-command`), "an older bundle's hook");
    });

    it("reads every version of a Windows fleet's own agent env file and no other fleet's", () => {
        const windows = fleetPolicyDocument({ ...baseInput, agentEnvFleetName: "windows" });
        const read = (key: string) => allows(windows, { action: "s3:GetObject", resource: `${BUCKET}/${key}` });
        assert.ok(read(fleetVersionedKey("windows", "0123456789abcdef", "env")));
        assert.ok(read(fleetVersionedKey("windows", "fedcba9876543210", "env")), "an older version");
        assert.ok(!read(fleetVersionedKey("windows-2", "0123456789abcdef", "env")));
        assert.ok(!read(fleetVersionedKey("windows", "0123456789abcdef", "sh")));
    });

    it("grants no hooks statements to a fleet without hooks (Windows)", () => {
        const windows = fleetPolicyDocument(baseInput);
        assert.ok(!windows.Statement.some((s) => s.Sid.includes("Hooks")));
        assert.ok(!allows(windows, { action: "s3:GetObject", resource: `${BUCKET}/_ci-platform/hooks/${HASH}/x` }));
    });

    it("pulls only the platform's repositories of its region, and writes to no registry or bucket", () => {
        const pull = doc.Statement.find((s) => s.Sid === "EcrPull");
        assert.deepEqual(pull?.Resource, [
            "arn:aws:ecr:eu-west-1:123456789012:repository/ci-platform/buildkite-test",
            "arn:aws:ecr:eu-west-1:123456789012:repository/ci-platform/deb-builder",
        ]);
        const get = (repo: string) =>
            allows(doc, {
                action: "ecr:BatchGetImage",
                resource: `arn:aws:ecr:eu-west-1:123456789012:repository/${repo}`,
            });
        assert.ok(get("ci-platform/deb-builder"));
        assert.ok(!get("someone-elses/image"));
        const writes = doc.Statement.flatMap((s) => s.Action).filter((a) =>
            /^(s3:(Put|Delete)|ecr:(Put|Upload|Initiate|Complete|Create|Delete)|kms:(Encrypt|GenerateDataKey)|iam:)/.test(
                a,
            ),
        );
        assert.deepEqual(writes, []);
        assert.ok(doc.Statement.every((s) => s.Effect === "Allow"));
    });
});

describe("instanceTrustPolicy", () => {
    it("lets EC2 instances alone assume the role", () => {
        assert.deepEqual(instanceTrustPolicy().Statement, [
            { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
        ]);
    });
});

describe("secretsBucketPolicyDocument", () => {
    it("denies non-TLS access to the bucket and its objects, and uploads without KMS", () => {
        const policy = secretsBucketPolicyDocument("arn:aws:s3:::b");
        const tls = policy.Statement.find((s) => s.Sid === "DenyInsecureTransport");
        assert.equal(tls?.Effect, "Deny");
        assert.deepEqual(tls?.Resource, ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]);
        assert.deepEqual(tls?.Condition, { Bool: { "aws:SecureTransport": "false" } });
        const kms = policy.Statement.find((s) => s.Sid === "DenyUploadsWithoutKms");
        assert.deepEqual(kms?.Condition, { StringNotEquals: { "s3:x-amz-server-side-encryption": "aws:kms" } });
    });
});
