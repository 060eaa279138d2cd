import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import * as path from "node:path";
import { runPolicies } from "../../policy/offline";
import { RULES, configuresBucket, deniesInsecureTransport, pluginReferences } from "../../policy/rules";
import { UNKNOWN } from "../../policy/resource";
import {
    compliantStack,
    find,
    FLEET_URN,
    resource,
    urn,
    STEPS,
    TAGS,
    TLS_ONLY_POLICY,
    without,
    type MutableResource,
} from "./compliant-stack";

type Stack = MutableResource[];

const BUCKET = "aws:s3/bucket:Bucket";
const VERSIONING = "aws:s3/bucketVersioning:BucketVersioning";
const SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration";
const PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock";
const BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy";
const KEY = "aws:kms/key:Key";
const PARAMETER = "aws:ssm/parameter:Parameter";
const CFN = "aws:cloudformation/stack:Stack";
const ECR = "aws:ecr/repository:Repository";
const IAM_POLICY = "aws:iam/policy:Policy";
const WEBHOOK = "github:index/repositoryWebhook:RepositoryWebhook";
const PIPELINE = "buildkite:Pipeline/pipeline:Pipeline";

/** Change one resource of `type` in a fresh compliant stack. */
const edit =
    (type: string, change: (r: MutableResource) => void) =>
    (stack: Stack): Stack => {
        change(find(stack, type));
        return stack;
    };
const params = (r: MutableResource) => r.inputs.parameters as Record<string, unknown>;
const webhookConfig = (r: MutableResource) => r.inputs.configuration as Record<string, unknown>;
const withSteps = (steps: string) => edit(PIPELINE, (r) => (r.inputs.steps = steps));

const IMAGE = "docker:index/image:Image";
const TOKEN = "buildkite:Cluster/clusterAgentToken:ClusterAgentToken";
const EU_PROVIDER = urn("pulumi:providers:aws", "aws-eu-west-1");

/** The compliant stack with a second Elastic CI Stack, in eu-west-1, serving the same queue. */
function withSecondFleet(stack: Stack): Stack {
    const fleet = urn("ci-platform:agents:Fleet", "linux-eu-west-1");
    const token = structuredClone(find(stack, TOKEN));
    const cfn = structuredClone(find(stack, CFN));
    const bootstrap = stack.find(
        (r) =>
            r.parent === FLEET_URN &&
            r.type === "aws:s3/bucketObjectv2:BucketObjectv2" &&
            r.name.endsWith("-bootstrap"),
    );
    return [
        ...stack,
        resource("pulumi:providers:aws", "aws-eu-west-1", { region: "eu-west-1" }),
        resource(
            "ci-platform:agents:Fleet",
            "linux-eu-west-1",
            structuredClone(find(stack, "ci-platform:agents:Fleet").inputs),
        ),
        { ...token, urn: urn(TOKEN, "linux-eu-west-1-token"), name: "linux-eu-west-1-token", parent: fleet },
        {
            ...cfn,
            urn: urn(CFN, "linux-eu-west-1-stack"),
            name: "linux-eu-west-1-stack",
            parent: fleet,
            provider: EU_PROVIDER,
        },
        // Its agents' allow-list and its hook's allow-list object, like the first fleet's (policy/invariants/allowlist.ts,
        // allowlist-object.ts).
        ...stack
            .filter((r) => r.parent === FLEET_URN && (r.name.endsWith("-agent-env") || r.name.endsWith("-allowlist")))
            .map((r) => ({ ...structuredClone(r), urn: `${r.urn}-eu`, name: `${r.name}-eu`, parent: fleet })),
        // The same bootstrap script, as the second fleet's own object (the key the copied stack's URL names).
        ...(bootstrap ? [{ ...structuredClone(bootstrap), urn: `${bootstrap.urn}-eu`, parent: fleet }] : []),
    ];
}

/** For each rule, stacks that break it (and, by construction, no other rule). */
const VIOLATIONS: Record<string, [string, (stack: Stack) => Stack][]> = {
    "secrets-bucket-versioned": [
        ["no versioning resource", (s) => without(s, VERSIONING)],
        ["versioning suspended", edit(VERSIONING, (r) => (r.inputs.versioningConfiguration = { status: "Suspended" }))],
        ["versioning of another bucket", edit(VERSIONING, (r) => (r.inputs.bucket = "some-other-bucket"))],
    ],
    "secrets-bucket-kms-encrypted": [
        ["no encryption resource", (s) => without(s, SSE)],
        [
            "AES256",
            edit(SSE, (r) => (r.inputs.rules = [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }])),
        ],
        [
            "aws:kms without a key",
            edit(SSE, (r) => (r.inputs.rules = [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" } }])),
        ],
    ],
    "secrets-bucket-public-access-blocked": [
        ["no public access block", (s) => without(s, PAB)],
        ["one flag off", edit(PAB, (r) => (r.inputs.restrictPublicBuckets = false))],
        ["one flag missing", edit(PAB, (r) => delete r.inputs.ignorePublicAcls)],
    ],
    "secrets-bucket-tls-only": [
        ["no bucket policy", (s) => without(s, BUCKET_POLICY)],
        [
            "a policy that only allows",
            edit(
                BUCKET_POLICY,
                (r) =>
                    (r.inputs.policy = JSON.stringify({
                        Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "*" }],
                    })),
            ),
        ],
        ["a policy that is not JSON", edit(BUCKET_POLICY, (r) => (r.inputs.policy = "{not json"))],
    ],
    "agent-token-securestring": [
        ["a String parameter", edit(PARAMETER, (r) => (r.inputs.type = "String"))],
        ["insecureValue", edit(PARAMETER, (r) => (r.inputs.insecureValue = "bkct_notarealtoken"))],
    ],
    "elastic-stack-pinned-release": [
        [
            "latest",
            edit(
                CFN,
                (r) => (r.inputs.templateUrl = "https://s3.amazonaws.com/buildkite-aws-stack/latest/aws-stack.yml"),
            ),
        ],
        [
            "a branch",
            edit(
                CFN,
                (r) => (r.inputs.templateUrl = "https://s3.amazonaws.com/buildkite-aws-stack/main/aws-stack.yml"),
            ),
        ],
        [
            "plain http",
            edit(
                CFN,
                (r) => (r.inputs.templateUrl = "http://s3.amazonaws.com/buildkite-aws-stack/v6.71.1/aws-stack.yml"),
            ),
        ],
        [
            "an inline template",
            edit(CFN, (r) => {
                delete r.inputs.templateUrl;
                r.inputs.templateBody = "{}";
            }),
        ],
    ],
    "elastic-stack-imdsv2-required": [
        ["optional", edit(CFN, (r) => (params(r).IMDSv2Tokens = "optional"))],
        ["left to the default", edit(CFN, (r) => delete params(r).IMDSv2Tokens)],
    ],
    "elastic-stack-graceful-shutdown": [
        ["false", edit(CFN, (r) => (params(r).BuildkiteAgentEnableGracefulShutdown = "false"))],
        ["left to the default", edit(CFN, (r) => delete params(r).BuildkiteAgentEnableGracefulShutdown)],
    ],
    "elastic-stack-token-from-ssm": [
        [
            "a plain token parameter",
            edit(CFN, (r) => {
                delete params(r).BuildkiteAgentTokenParameterStorePath;
                params(r).BuildkiteAgentToken = "[secret]";
            }),
        ],
        ["no token at all", edit(CFN, (r) => delete params(r).BuildkiteAgentTokenParameterStorePath)],
    ],
    "ecr-immutable-tags": [
        ["MUTABLE", edit(ECR, (r) => (r.inputs.imageTagMutability = "MUTABLE"))],
        ["left to the default", edit(ECR, (r) => delete r.inputs.imageTagMutability)],
    ],
    "ecr-scan-on-push": [
        ["scanOnPush false", edit(ECR, (r) => (r.inputs.imageScanningConfiguration = { scanOnPush: false }))],
        ["no scanning configuration", edit(ECR, (r) => delete r.inputs.imageScanningConfiguration)],
    ],
    "ecr-kms-encrypted": [
        ["AES256", edit(ECR, (r) => (r.inputs.encryptionConfigurations = [{ encryptionType: "AES256" }]))],
        ["left to the default", edit(ECR, (r) => delete r.inputs.encryptionConfigurations)],
    ],
    "webhook-json-https-verified": [
        ["form content", edit(WEBHOOK, (r) => (webhookConfig(r).contentType = "form"))],
        ["content type left to the default", edit(WEBHOOK, (r) => delete webhookConfig(r).contentType)],
        ["SSL verification off", edit(WEBHOOK, (r) => (webhookConfig(r).insecureSsl = true))],
        ["plain http", edit(WEBHOOK, (r) => (webhookConfig(r).url = "http://webhook.buildkite.com/deliver/x"))],
        ["a configuration that is secret as a whole", edit(WEBHOOK, (r) => (r.inputs.configuration = "[secret]"))],
        ["no configuration", edit(WEBHOOK, (r) => delete r.inputs.configuration)],
    ],
    "pipeline-in-cluster": [["no clusterId", edit(PIPELINE, (r) => delete r.inputs.clusterId)]],
    "pipeline-owned-by-team": [["no defaultTeamId", edit(PIPELINE, (r) => delete r.inputs.defaultTeamId)]],
    "steps-no-credentials": [
        ["an AWS access key id", withSteps(STEPS.replace(".secrets/pypi-token", "AKIAIOSFODNN7EXAMPLE"))],
        ["a GitHub token", withSteps(STEPS + `env:\n  GH: ghp_${"a1B2c3D4e5".repeat(4)}\n`)],
        ["a Buildkite API token", withSteps(STEPS.replace("tox -e py", `curl --oauth2-bearer bkua_${"f".repeat(40)}`))],
        ["a private key", withSteps(STEPS + "env:\n  KEY: |\n    -----BEGIN OPENSSH PRIVATE KEY-----\n")],
        [
            "a literal password",
            withSteps(STEPS.replace("PYPI_PASSWORD_FILE: .secrets/pypi-token", "PYPI_PASSWORD: hunter2hunter2")),
        ],
        [
            "a password on the command line",
            withSteps(STEPS.replace("--password-file .secrets/pw", "--password s3cr3tpass")),
        ],
        ["a Slack token", withSteps(STEPS.replace("tox -e py", "notify xoxb-1234567890-abcdefghij"))],
    ],
    "steps-plugins-pinned": [
        ["a plugin without a version", withSteps(STEPS.replace("docker#v5.12.0", "docker"))],
        ["a plugin at a branch", withSteps(STEPS.replace("docker#v5.12.0", "docker#main"))],
        [
            "an unpinned plugin inside a group",
            withSteps(
                STEPS.replace(
                    "      - trigger: kolibri-installer-debian\n",
                    "      - command: notify\n        agents: { queue: default }\n        plugins: [ 'my-org/notify' ]\n        signature: { algorithm: EdDSA, signed_fields: [command], value: x }\n      - trigger: kolibri-installer-debian\n",
                ),
            ),
        ],
        ["steps that are not YAML", withSteps("steps:\n  - command: [unclosed\n")],
    ],
    "cost-tags": [
        ["a bucket without tags", edit(BUCKET, (r) => delete r.inputs.tags)],
        ["a stack whose tags lack CostCenter", edit(CFN, (r) => (r.inputs.tags = { ManagedBy: "ci-platform" }))],
        [
            "an AWS resource outside the list that takes tags",
            (s) => [...s, resource("aws:sns/topic:Topic", "alerts", { tags: {} })],
        ],
        [
            "a resource outside the list given incomplete tags",
            (s) => [...s, resource("aws:cloudwatch/metricAlarm:MetricAlarm", "queue-depth", { tags: { Owner: "x" } })],
        ],
    ],
    "stateful-resources-protected": [
        ["an unprotected bucket", edit(BUCKET, (r) => (r.protect = false))],
        ["a KMS key with neither", edit(KEY, (r) => Object.assign(r, { protect: false, retainOnDelete: false }))],
    ],
    "kms-key-rotation": [
        ["no rotation", edit(KEY, (r) => delete r.inputs.enableKeyRotation)],
        ["a 7-day deletion window", edit(KEY, (r) => (r.inputs.deletionWindowInDays = 7))],
    ],
    "explicit-providers": [
        ["a resource with no provider", edit(PIPELINE, (r) => (r.provider = null))],
        [
            "a resource on the engine's default provider",
            edit(
                ECR,
                (r) =>
                    (r.provider = `${urn("pulumi:providers:aws", "default_7_48_0")}::04da6b54-80e4-46f7-96ec-b56ff0331ba9`),
            ),
        ],
    ],
    "queues-served": [
        ["a step on a queue the cluster does not declare", withSteps(STEPS.replace("queue: default", "queue: gpu"))],
        ["a step naming no queue", withSteps(STEPS.replace("    agents:\n      queue: default\n", ""))],
        ["a declared queue no fleet serves", (s) => s.filter((r) => r.parent !== FLEET_URN)],
    ],
    "one-scaler-per-queue": [["two Elastic CI Stacks, in two regions, on one queue", withSecondFleet]],
    "images-in-every-region": [
        ["no push of the step's image", (s) => without(s, IMAGE)],
        [
            "a push of another tag",
            edit(IMAGE, (r) => (r.inputs.imageName = String(r.inputs.imageName).replace("1.4.0", "1.4.1"))),
        ],
    ],
    "iam-no-admin-wildcard": [
        [
            "Action * on Resource *",
            edit(
                IAM_POLICY,
                (r) =>
                    (r.inputs.policy = JSON.stringify({
                        Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }],
                    })),
            ),
        ],
        [
            "a role's inline policy",
            (s) => [
                ...s,
                resource("aws:iam/role:Role", "agent", {
                    assumeRolePolicy: "{}",
                    tags: TAGS,
                    inlinePolicies: [
                        {
                            name: "all",
                            policy: JSON.stringify({ Statement: { Effect: "Allow", Action: ["*"], Resource: ["*"] } }),
                        },
                    ],
                }),
            ],
        ],
    ],
    "hooks-agents-per-instance": [], // tested both ways in test/policy/invariants/hooks.test.ts
};

const policiesOf = (stack: Stack) => [...new Set(runPolicies(stack).map((v) => v.policy))];

describe("the compliant stack", () => {
    it("breaks no rule", () => {
        assert.deepEqual(runPolicies(compliantStack()), []);
    });
});

describe("each rule", () => {
    it("has violating cases in this test, and there are at least 12 rules", async () => {
        assert.ok(RULES.length >= 12);
        // Invariants exported by policy/invariants/ may instead be tested both ways in test/policy/invariants/.
        const invariantsDir = path.join(__dirname, "../../policy/invariants");
        const modules = await Promise.all(
            readdirSync(invariantsDir)
                .filter((f) => f.endsWith(".ts"))
                .map((f) => import(path.join(invariantsDir, f)) as Promise<Record<string, unknown>>),
        );
        const exported = new Set(modules.flatMap((m) => Object.values(m)));
        const names = RULES.map((r) => r.name);
        assert.deepEqual(
            Object.keys(VIOLATIONS).filter((n) => !names.includes(n)),
            [],
            "violating cases of unknown rules",
        );
        assert.deepEqual(
            RULES.filter((r) => !(r.name in VIOLATIONS) && !exported.has(r)).map((r) => r.name),
            [],
            "rules without violating cases",
        );
    });

    for (const rule of RULES) {
        describe(rule.name, () => {
            for (const [what, breakIt] of VIOLATIONS[rule.name] ?? []) {
                it(`is the only rule broken by ${what}`, () => {
                    const violations = runPolicies(breakIt(compliantStack()));
                    assert.deepEqual([...new Set(violations.map((v) => v.policy))], [rule.name]);
                    for (const v of violations) {
                        assert.equal(v.enforcementLevel, rule.enforcementLevel);
                        assert.match(v.message, /Fix: /, "every message says how to fix it");
                        assert.ok(v.urn.startsWith("urn:pulumi:test::ci-platform::"));
                    }
                });
            }
        });
    }
});

describe("compliance by other means", () => {
    const compliant = (what: string, change: (stack: Stack) => Stack) =>
        it(what, () => assert.deepEqual(policiesOf(change(compliantStack())), []));

    compliant("inline versioning, encryption and policy on the bucket itself", (s) => {
        const bucket = find(s, BUCKET);
        Object.assign(bucket.inputs, {
            versioning: { enabled: true },
            serverSideEncryptionConfiguration: {
                rule: { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: "key" } },
            },
            policy: TLS_ONLY_POLICY,
        });
        return without(without(without(s, VERSIONING), SSE), BUCKET_POLICY);
    });
    compliant("companions that point at the bucket through a dependency, with the name unknown", (s) => {
        const bucket = find(s, BUCKET);
        for (const type of [VERSIONING, SSE, PAB, BUCKET_POLICY]) {
            Object.assign(find(s, type), {
                inputs: { ...find(s, type).inputs, bucket: UNKNOWN },
                dependsOn: [bucket.urn],
            });
        }
        return s;
    });
    compliant("a companion naming the bucket by its logical name (mocks that use the name as id)", (s) => {
        find(s, VERSIONING).inputs.bucket = "secrets-us-east-1";
        return s;
    });
    compliant("cost tags from the provider's defaultTags", (s) => {
        const provider = find(s, "pulumi:providers:aws");
        provider.inputs.defaultTags = JSON.stringify({ tags: { CostCenter: "engineering-ci" } });
        for (const r of s) {
            if (r.type.startsWith("aws:")) {
                delete r.inputs.tags;
                r.provider = `${provider.urn}::04da6b54-80e4-46f7-96ec-b56ff0331ba9`;
            }
        }
        return s;
    });
    compliant("values not known until the resources exist", (s) => {
        find(s, CFN).inputs.templateUrl = UNKNOWN;
        find(s, ECR).inputs.imageTagMutability = UNKNOWN;
        find(s, PIPELINE).inputs.clusterId = UNKNOWN;
        find(s, BUCKET_POLICY).inputs.policy = UNKNOWN;
        return s;
    });
    compliant("retainOnDelete not known (CrossGuard does not show it)", (s) => {
        for (const r of s) if (r.protect) (r as { retainOnDelete?: boolean }).retainOnDelete = undefined;
        return s;
    });
    compliant("plugins pinned to a commit SHA or a URL with a tag", (s) => {
        find(s, PIPELINE).inputs.steps = STEPS.replace(
            "docker#v5.12.0",
            `https://github.com/my-org/my-plugin.git#${"a".repeat(40)}`,
        );
        return s;
    });
});

describe("rule helpers", () => {
    it("a bucket policy must deny every action to everyone without TLS", () => {
        const deny = (statement: Record<string, unknown>) =>
            deniesInsecureTransport(JSON.stringify({ Statement: [statement] }));
        const base = {
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Condition: { Bool: { "aws:SecureTransport": "false" } },
        };
        assert.equal(deny(base), true);
        assert.equal(deny({ ...base, Principal: { AWS: "*" } }), true);
        assert.equal(deny({ ...base, Principal: { AWS: "arn:aws:iam::123456789012:root" } }), false);
        assert.equal(deny({ ...base, Action: "s3:GetObject" }), false);
        assert.equal(deny({ ...base, Condition: { Bool: { "aws:SecureTransport": "true" } } }), false);
        assert.equal(deniesInsecureTransport(JSON.parse(TLS_ONLY_POLICY)), true, "a document given as an object");
    });

    it("a companion is matched to its own bucket only", () => {
        const stack = compliantStack();
        const other = resource(BUCKET, "other", { bucket: "other-bucket" });
        assert.equal(configuresBucket(find(stack, VERSIONING), find(stack, BUCKET)), true);
        assert.equal(configuresBucket(find(stack, VERSIONING), other), false);
    });

    it("a second bucket without companions is reported by each bucket rule, for that bucket", () => {
        const stack = [
            ...compliantStack(),
            resource(BUCKET, "hooks", { bucket: "hooks", tags: TAGS }, { protect: true, retainOnDelete: true }),
        ];
        const violations = runPolicies(stack);
        assert.deepEqual(
            violations.map((v) => v.policy),
            [
                "secrets-bucket-versioned",
                "secrets-bucket-kms-encrypted",
                "secrets-bucket-public-access-blocked",
                "secrets-bucket-tls-only",
            ],
        );
        assert.ok(violations.every((v) => v.urn.endsWith("::hooks")));
    });

    it("finds plugins in top-level and group steps, in list and map form", () => {
        assert.deepEqual(
            pluginReferences({
                steps: [
                    { key: "a", plugins: ["x#v1.0.0", { "y#v2.0.0": { a: 1 } }] },
                    { group: "g", steps: [{ label: "b", plugins: { "z#main": null } }] },
                    "wait",
                ],
            }),
            [
                { step: "a", plugin: "x#v1.0.0" },
                { step: "a", plugin: "y#v2.0.0" },
                { step: "b", plugin: "z#main" },
            ],
        );
    });

    it("never repeats a credential in a message", () => {
        const token = `ghp_${"Zq9".repeat(13)}`;
        const stack = withSteps(`steps:\n  - command: echo ${token}\n`)(compliantStack());
        const [violation] = runPolicies(stack);
        assert.ok(violation);
        assert.match(violation.message, /GitHub token in its steps \(line 2\)/);
        assert.ok(!violation.message.includes(token.slice(4, 20)));
    });

    it("takes the required tag keys as a parameter", () => {
        const violations = runPolicies(compliantStack(), { params: { requiredTags: ["CostCenter", "Team"] } });
        assert.ok(violations.length > 0);
        assert.ok(violations.every((v) => v.policy === "cost-tags" && /Team/.test(v.message)));
    });
});
