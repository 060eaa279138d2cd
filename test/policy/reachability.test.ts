/**
 * policy/reachability.ts and the secrets-readable-only-by-serving-fleets invariant: on small synthetic plans (the
 * Elastic CI Stack's own role, a platform-owned prefix-scoped role, a bucket policy Deny, a key the role cannot use,
 * unknown values), and on the prod stack's offline plan.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { secretsReadableOnlyByServingFleets } from "../../policy/invariants/secrets-reachability";
import {
    actionMatches,
    mismatch,
    type Reach,
    reachability,
    resourceMatches,
    STACK_ROLE_SECRETS_ACTIONS,
} from "../../policy/reachability";
import type { PlanResource } from "../../policy/resource";
import { DEFAULT_PARAMS } from "../../policy/rules";
import { pipelinesServed } from "../../components/config/access-checks";
import { readPlatform } from "../../policy/platform";
import { servedPipelines } from "../../policy/reachability";
import { prodConfig } from "../fixtures/config";
import { prodResources } from "./invariants/plan-resources";
import { withScopedRoles } from "./scoped-roles";

const ACCOUNT = "111122223333";
const BUCKET = "secrets-bucket-abc1234";
const KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/0000-key`;
const urn = (type: string, name: string) => `urn:pulumi:t::p::${type}::${name}`;

/** Resources of a plan with one cluster, one secrets bucket and its objects, and fleets. */
class PlanBuilder {
    readonly resources: PlanResource[] = [];
    readonly provider = this.add("pulumi:providers:aws", "aws-us-east-1", { region: "us-east-1" });
    readonly cluster = this.add("buildkite:Cluster/cluster:Cluster", "cluster-default", { name: "default" });
    readonly secrets = this.add("ci-platform:agents:SecretsBucket", "secrets", { cluster: "default" });
    readonly key: PlanResource;
    readonly bucket: PlanResource;
    bucketPolicy?: PlanResource;

    constructor(keyPolicy?: unknown) {
        const child = { parent: this.secrets.urn, provider: this.provider.urn };
        this.key = this.add(
            "aws:kms/key:Key",
            "secrets-key",
            keyPolicy === undefined ? {} : { policy: keyPolicy },
            child,
        );
        this.bucket = this.add("aws:s3/bucket:Bucket", "secrets-bucket", {}, child);
        this.add(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "secrets-encryption",
            {
                bucket: BUCKET,
                rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: KEY_ARN } }],
            },
            { ...child, dependsOn: [this.key.urn, this.bucket.urn] },
        );
    }

    add(
        type: string,
        name: string,
        inputs: Record<string, unknown>,
        extra: Partial<Pick<PlanResource, "parent" | "provider" | "dependsOn">> = {},
    ): PlanResource {
        const resource: PlanResource = {
            urn: urn(extra.parent ? `${extra.parent.split("::")[2]}$${type}` : type, name),
            type,
            name,
            inputs,
            parent: extra.parent ?? null,
            provider: extra.provider ?? null,
            dependsOn: extra.dependsOn ?? [],
        };
        this.resources.push(resource);
        return resource;
    }

    pipeline(slug: string, queue: string): this {
        const steps = `steps:\n  - key: upload\n    command: buildkite-agent pipeline upload\n    agents:\n      queue: ${queue}\n`;
        this.add(
            "buildkite:Pipeline/pipeline:Pipeline",
            `${slug}-pipeline`,
            { slug, steps },
            { dependsOn: [this.cluster.urn] },
        );
        return this;
    }

    object(key: string): this {
        this.add(
            "aws:s3/bucketObjectv2:BucketObjectv2",
            `secrets-secret-${key}`,
            { bucket: BUCKET, key, content: "[secret]", serverSideEncryption: "aws:kms", kmsKeyId: KEY_ARN },
            { parent: this.secrets.urn, provider: this.provider.urn, dependsOn: [this.key.urn, this.bucket.urn] },
        );
        return this;
    }

    policy(document: unknown): this {
        this.bucketPolicy = this.add(
            "aws:s3/bucketPolicy:BucketPolicy",
            "secrets-policy",
            { bucket: BUCKET, policy: typeof document === "string" ? document : JSON.stringify(document) },
            { parent: this.secrets.urn, provider: this.provider.urn, dependsOn: [this.bucket.urn] },
        );
        return this;
    }

    /**
     * An AWS fleet on `queue`. `role`: omitted, the stack creates its own role (ManagedPolicyARNs carries the fleet's
     * policy, which reads nothing); given, a platform-owned role with that inline policy document, named by
     * InstanceRoleARN.
     */
    fleet(name: string, queue: string, role?: { document: unknown }): this {
        const component = this.add("ci-platform:agents:Fleet", name, {});
        const child = { parent: component.urn, provider: this.provider.urn };
        this.add(
            "buildkite:Cluster/clusterAgentToken:ClusterAgentToken",
            `${name}-token`,
            {},
            {
                ...child,
                dependsOn: [this.cluster.urn],
            },
        );
        const parameters: Record<string, string> = {
            BuildkiteQueue: queue,
            SecretsBucket: BUCKET,
            SecretsBucketRegion: "us-east-1",
            BuildkiteAgentTokenParameterStoreKMSKey: "0000-key",
            ECRAccessPolicy: "readonly",
        };
        const dependsOn = [this.bucket.urn];
        if (role === undefined) {
            const policy = this.add(
                "aws:iam/policy:Policy",
                `${name}-policy`,
                {
                    policy: JSON.stringify({
                        Version: "2012-10-17",
                        Statement: [{ Effect: "Allow", Action: "ecr:BatchGetImage", Resource: "*" }],
                    }),
                },
                child,
            );
            parameters.ManagedPolicyARNs = `arn:aws:iam::${ACCOUNT}:policy/${name}-policy-1234abc`;
            dependsOn.push(policy.urn);
        } else {
            const roleResource = this.add("aws:iam/role:Role", `${name}-role`, { name: `${name}-role` }, child);
            this.add(
                "aws:iam/rolePolicy:RolePolicy",
                `${name}-role-policy`,
                {
                    role: `${name}-role`,
                    policy: typeof role.document === "string" ? role.document : JSON.stringify(role.document),
                },
                { ...child, dependsOn: [roleResource.urn] },
            );
            parameters.InstanceRoleARN = `arn:aws:iam::${ACCOUNT}:role/${name}-role`;
            dependsOn.push(roleResource.urn);
        }
        this.add(
            "aws:cloudformation/stack:Stack",
            `${name}-stack`,
            { name: `buildkite-${name}`, parameters },
            { ...child, dependsOn },
        );
        return this;
    }
}

/** A platform-owned role's policy: read `<bucket>/<prefix>` for each prefix, decrypt with the secrets key. */
const scoped = (...prefixes: string[]) => ({
    Version: "2012-10-17",
    Statement: [
        { Effect: "Allow", Action: ["s3:GetObject"], Resource: prefixes.map((p) => `arn:aws:s3:::${BUCKET}/${p}`) },
        {
            Effect: "Allow",
            Action: "kms:Decrypt",
            Resource: KEY_ARN,
            Condition: { StringEquals: { "kms:ViaService": "s3.us-east-1.amazonaws.com" } },
        },
    ],
});

/** `fleet key readable expected` lines, sorted, for compact assertions. */
const table = (reaches: readonly Reach[]) =>
    reaches.map((r) => `${r.fleet} ${r.object.key} ${r.readable} ${r.expected}`).sort();
const findings = (resources: readonly PlanResource[]) =>
    secretsReadableOnlyByServingFleets.check(resources, DEFAULT_PARAMS);

/** Two pipelines on two queues of one cluster, their secrets and the organisation's in one bucket. */
const twoPipelines = () =>
    new PlanBuilder()
        .pipeline("app", "qa")
        .pipeline("billing", "qb")
        .object("env")
        .object("app/env")
        .object("billing/env");

describe("IAM wildcards", () => {
    it("matches actions case-insensitively with * and ?, resources case-sensitively", () => {
        assert.ok(STACK_ROLE_SECRETS_ACTIONS.some((p) => actionMatches(p, "s3:GetObject")));
        assert.ok(actionMatches("S3:get*", "s3:GetObject"));
        assert.ok(actionMatches("s3:GetObjec?", "s3:GetObject"));
        assert.ok(!actionMatches("s3:List*", "s3:GetObject"));
        assert.ok(resourceMatches("arn:aws:s3:::b/app/*", "arn:aws:s3:::b/app/env"));
        assert.ok(resourceMatches("arn:aws:s3:::b/ap?/env", "arn:aws:s3:::b/app/env"));
        assert.ok(!resourceMatches("arn:aws:s3:::b/app/*", "arn:aws:s3:::b/application/env"));
        assert.ok(!resourceMatches("arn:aws:s3:::b/App/*", "arn:aws:s3:::b/app/env"));
        assert.ok(resourceMatches("arn:aws:s3:::b/${aws:username}/*", "arn:aws:s3:::b/app/env"));
        assert.ok(resourceMatches("*", "arn:aws:s3:::b/app/env"));
        // One pattern read both ways (the compiled patterns are cached): each keeps its own case rule.
        assert.ok(actionMatches("arn:aws:s3:::B/*", "arn:aws:s3:::b/x"));
        assert.ok(!resourceMatches("arn:aws:s3:::B/*", "arn:aws:s3:::b/x"));
        assert.ok(!resourceMatches("arn:aws:s3:::C/*", "arn:aws:s3:::c/x"));
        assert.ok(actionMatches("arn:aws:s3:::C/*", "arn:aws:s3:::c/x"));
    });
});

describe("reachability: the Elastic CI Stack's own role", () => {
    it("reads every object of its SecretsBucket: a fleet reads the secrets of a pipeline it does not serve (violation)", () => {
        const plan = twoPipelines().fleet("fleet-a", "qa").fleet("fleet-b", "qb");
        const reaches = reachability(plan.resources);
        assert.deepEqual(table(reaches), [
            "fleet-a app/env yes must",
            "fleet-a billing/env yes must-not",
            "fleet-a env yes must",
            "fleet-b app/env yes must-not",
            "fleet-b billing/env yes must",
            "fleet-b env yes must",
        ]);
        assert.match(
            reaches.find((r) => r.fleet === "fleet-a" && r.object.key === "billing/env")?.why ?? "",
            /statement SecretsBucket/,
        );
        const found = findings(plan.resources);
        assert.equal(found.length, 2);
        assert.match(
            found[0].message,
            /AWS fleet "fleet-a" can read s3:\/\/secrets-bucket-abc1234\/billing\/env, a secret of pipeline "billing"/,
        );
        assert.match(found[1].message, /AWS fleet "fleet-b" can read .*app\/env/);
    });

    it("is registered as a mandatory rule", async () => {
        const { RULES } = await import("../../policy/rules");
        const rule = RULES.find((r) => r.name === "secrets-readable-only-by-serving-fleets");
        assert.equal(rule?.enforcementLevel, "mandatory");
    });
});

describe("reachability: a platform-owned, prefix-scoped role", () => {
    const scopedPlan = () =>
        twoPipelines()
            .fleet("fleet-a", "qa", { document: scoped("env", "app/*") })
            .fleet("fleet-b", "qb", { document: scoped("env", "billing/*") });

    it("reads exactly the expected pairs: no violation", () => {
        const plan = scopedPlan();
        assert.deepEqual(table(reachability(plan.resources)), [
            "fleet-a app/env yes must",
            "fleet-a billing/env no must-not",
            "fleet-a env yes must",
            "fleet-b app/env no must-not",
            "fleet-b billing/env yes must",
            "fleet-b env yes must",
        ]);
        assert.deepEqual(findings(plan.resources), []);
    });

    it("ignores ManagedPolicyARNs when InstanceRoleARN is set (the stack attaches nothing to a role it does not create)", () => {
        const plan = scopedPlan();
        const stack = plan.resources.find((r) => r.name === "fleet-a-stack");
        const broad = plan.add("aws:iam/policy:Policy", "broad", {
            policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*" }] }),
        });
        (stack?.inputs.parameters as Record<string, string>).ManagedPolicyARNs =
            `arn:aws:iam::${ACCOUNT}:policy/broad-7654fed`;
        assert.deepEqual(findings(plan.resources), []);
        // The same policy attached to the role itself is counted.
        plan.add(
            "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
            "attach-broad",
            {
                role: "fleet-a-role",
                policyArn: `arn:aws:iam::${ACCOUNT}:policy/broad-7654fed`,
            },
            { dependsOn: [broad.urn] },
        );
        assert.deepEqual(
            findings(plan.resources).map((f) => f.urn.split("::").pop()),
            ["secrets-secret-billing/env"],
        );
    });

    it("a too narrow role is a violation too: the fleet cannot read its own pipeline's secrets", () => {
        const plan = twoPipelines()
            .fleet("fleet-a", "qa", { document: scoped("env") })
            .fleet("fleet-b", "qb", { document: scoped("env", "billing/*") });
        const found = findings(plan.resources);
        assert.equal(found.length, 1);
        assert.match(
            found[0].message,
            /fleet "fleet-a" serves pipeline "app" but cannot read .*app\/env.*too little: no policy of its role allows s3:GetObject/,
        );
    });

    it("a NotResource Allow and a Deny in the role's own policy are evaluated", () => {
        const document = {
            Statement: [
                { Effect: "Allow", Action: "s3:GetObject", NotResource: `arn:aws:s3:::${BUCKET}/billing/*` },
                { Effect: "Allow", Action: "kms:Decrypt", Resource: "*" },
                { Effect: "Deny", NotAction: ["kms:*", "s3:List*"], Resource: `arn:aws:s3:::${BUCKET}/env` },
            ],
        };
        const plan = twoPipelines()
            .fleet("fleet-a", "qa", { document })
            .fleet("fleet-b", "qb", { document: scoped("env", "billing/*") });
        const a = table(reachability(plan.resources)).filter((l) => l.startsWith("fleet-a"));
        assert.deepEqual(a, ["fleet-a app/env yes must", "fleet-a billing/env no must-not", "fleet-a env no must"]);
    });
});

describe("reachability: the bucket policy", () => {
    it("an unconditional Deny for everyone but the serving fleet's role stops the stack role's s3:Get*", () => {
        const plan = twoPipelines()
            .policy({
                Statement: [
                    {
                        Effect: "Deny",
                        Principal: "*",
                        Action: "s3:*",
                        Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`],
                        Condition: { Bool: { "aws:SecureTransport": "false" } },
                    },
                    {
                        Effect: "Deny",
                        Principal: { AWS: "*" },
                        Action: "s3:GetObject",
                        Resource: `arn:aws:s3:::${BUCKET}/billing/*`,
                        Condition: {
                            ArnNotLike: { "aws:PrincipalArn": `arn:aws:iam::${ACCOUNT}:role/buildkite-fleet-b-Role` },
                        },
                    },
                ],
            })
            .fleet("fleet-a", "qa")
            .fleet("fleet-b", "qb");
        const reaches = reachability(plan.resources);
        const aBilling = reaches.find((r) => r.fleet === "fleet-a" && r.object.key === "billing/env");
        assert.equal(aBilling?.readable, "no");
        assert.match(aBilling?.why ?? "", /denied by bucket policy secrets-policy/);
        // The TLS-only Deny does not apply to the agents' HTTPS requests; fleet-b keeps billing/env.
        assert.equal(reaches.find((r) => r.fleet === "fleet-b" && r.object.key === "billing/env")?.readable, "yes");
        // fleet-b still reads app/env through the stack role: one violation left.
        const left = findings(plan.resources);
        assert.equal(left.length, 1);
        assert.match(left[0].message, /^AWS fleet "fleet-b" can read s3:\/\/secrets-bucket-abc1234\/app\/env,/);
    });

    it("an Allow in the bucket policy naming a role grants it (same account), with no identity policy", () => {
        const plan = twoPipelines()
            .policy({
                Statement: [
                    {
                        Effect: "Allow",
                        Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/fleet-a-role` },
                        Action: "s3:GetObject",
                        Resource: `arn:aws:s3:::${BUCKET}/billing/*`,
                    },
                ],
            })
            .fleet("fleet-a", "qa", { document: scoped("env", "app/*") })
            .fleet("fleet-b", "qb", { document: scoped("env", "billing/*") });
        const found = findings(plan.resources);
        assert.equal(found.length, 1);
        assert.match(
            found[0].message,
            /^AWS fleet "fleet-a" can read s3:\/\/secrets-bucket-abc1234\/billing\/env,.*bucket policy secrets-policy/,
        );
    });
});

describe("reachability: KMS", () => {
    it("a key policy that neither names the role nor delegates to IAM makes the objects unreadable (too little)", () => {
        const keyPolicy = JSON.stringify({
            Statement: [
                {
                    Effect: "Allow",
                    Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/admin` },
                    Action: "kms:*",
                    Resource: "*",
                },
            ],
        });
        const plan = new PlanBuilder(keyPolicy)
            .pipeline("app", "qa")
            .object("app/env")
            .fleet("fleet-a", "qa", { document: scoped("app/*") });
        const [reach] = reachability(plan.resources);
        assert.equal(reach.readable, "no");
        assert.match(reach.why, /key policy of secrets-key neither names the role nor delegates/);
        assert.match(findings(plan.resources)[0]?.message ?? "", /too little/);
    });

    it("the default key policy delegates to IAM: without kms:Decrypt in its policies the role cannot read", () => {
        const document = {
            Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: `arn:aws:s3:::${BUCKET}/app/*` }],
        };
        const plan = new PlanBuilder().pipeline("app", "qa").object("app/env").fleet("fleet-a", "qa", { document });
        const [reach] = reachability(plan.resources);
        assert.equal(reach.readable, "no");
        assert.match(reach.why, /no policy of its role allows kms:Decrypt/);
    });

    it("a key policy naming the role directly is enough, and a Deny in it wins", () => {
        const role = `arn:aws:iam::${ACCOUNT}:role/fleet-a-role`;
        const document = {
            Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: `arn:aws:s3:::${BUCKET}/app/*` }],
        };
        const allow = { Effect: "Allow", Principal: { AWS: role }, Action: "kms:Decrypt", Resource: "*" };
        const build = (statements: unknown[]) =>
            new PlanBuilder(JSON.stringify({ Statement: statements }))
                .pipeline("app", "qa")
                .object("app/env")
                .fleet("fleet-a", "qa", { document });
        assert.equal(reachability(build([allow]).resources)[0].readable, "yes");
        const deny = { Effect: "Deny", Principal: { AWS: role }, Action: "kms:Decrypt", Resource: "*" };
        assert.equal(reachability(build([allow, deny]).resources)[0].readable, "no");
    });
});

describe("reachability: KMS key policy and grant resources", () => {
    const adminOnly = JSON.stringify({
        Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/admin` }, Action: "kms:*" }],
    });

    it("a KeyPolicy resource replaces the key's own (default) policy", () => {
        const plan = new PlanBuilder()
            .pipeline("app", "qa")
            .object("app/env")
            .fleet("fleet-a", "qa", { document: scoped("app/*") });
        assert.equal(reachability(plan.resources)[0].readable, "yes");
        plan.add(
            "aws:kms/keyPolicy:KeyPolicy",
            "secrets-key-policy",
            { keyId: "0000-key", policy: adminOnly },
            { dependsOn: [plan.key.urn] },
        );
        assert.equal(reachability(plan.resources)[0].readable, "no");
    });

    it("a grant of Decrypt to the role lets it decrypt under a key policy that does not name it", () => {
        const plan = new PlanBuilder(adminOnly)
            .pipeline("app", "qa")
            .object("app/env")
            .fleet("fleet-a", "qa", { document: scoped("app/*") });
        assert.equal(reachability(plan.resources)[0].readable, "no");
        plan.add(
            "aws:kms/grant:Grant",
            "secrets-key-grant",
            {
                keyId: "0000-key",
                granteePrincipal: `arn:aws:iam::${ACCOUNT}:role/fleet-a-role`,
                operations: ["Decrypt"],
            },
            { dependsOn: [plan.key.urn] },
        );
        const [reach] = reachability(plan.resources);
        assert.equal(reach.readable, "yes");
        assert.match(reach.why, /grant secrets-key-grant allows kms:Decrypt/);
    });
});

describe("reachability: unknown values", () => {
    it("an unknown policy document leaves the pair undecided and unreported, never readable=no", () => {
        const plan = twoPipelines()
            .fleet("fleet-a", "qa", { document: "[unknown]" })
            .fleet("fleet-b", "qb", { document: scoped("env", "billing/*") });
        const a = reachability(plan.resources).filter((r) => r.fleet === "fleet-a");
        assert.deepEqual(
            a.map((r) => r.readable),
            ["unknown", "unknown", "unknown"],
        );
        assert.match(a[0].why, /the document of role policy fleet-a-role-policy is not known/);
        assert.deepEqual(findings(plan.resources), []);
    });

    it("an undeclared managed policy ARN on the stack role is unknown, a known AWS ECR policy is not", () => {
        const plan = new PlanBuilder().pipeline("app", "qa").object("app/env").fleet("fleet-a", "qa");
        const stack = plan.resources.find((r) => r.type === "aws:cloudformation/stack:Stack");
        const parameters = stack?.inputs.parameters as Record<string, string>;
        // Without SecretsBucket (and with the AWS ECR policy only) nothing reads the object.
        parameters.SecretsBucket = "";
        parameters.ManagedPolicyARNs = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly";
        assert.equal(reachability(plan.resources)[0].readable, "no");
        parameters.ManagedPolicyARNs = `arn:aws:iam::${ACCOUNT}:policy/someone-elses`;
        const [reach] = reachability(plan.resources);
        assert.equal(reach.readable, "unknown");
        assert.match(reach.why, /someone-elses is not declared in the plan/);
    });
});

describe("reachability: the prod stack's offline plan", () => {
    it("every AWS fleet's role reads exactly the secrets of the pipelines it serves (and the organisation's where its cluster takes them)", async () => {
        const reaches = reachability(await prodResources());
        assert.ok(reaches.length > 0);
        const undecided = reaches.filter((r) => r.readable === "unknown");
        assert.deepEqual(
            undecided.map((r) => `${r.fleet} ${r.object.key}: ${r.why}`),
            [],
            "the offline plan decides every pair",
        );
        const wrong = reaches
            .filter((r) => mismatch(r) !== undefined)
            .map((r) => `${mismatch(r)}: ${r.fleet} ${r.object.bucketName}/${r.object.key}`);
        assert.deepEqual(wrong, []);
        // Every fleet reads its own pipelines' secrets: there is at least one `must` per fleet serving secrets.
        assert.ok(reaches.some((r) => r.expected === "must" && r.readable === "yes"));
    });
});

describe("reachability: the prod plan with platform-owned roles built from the config", () => {
    it("reads a fleet's served pipelines from the plan exactly as pipelinesServed does from the config", async () => {
        const config = prodConfig();
        const platform = readPlatform(await prodResources());
        for (const fleet of platform.fleets.filter((f) => f.kind === "aws")) {
            const configured = config.fleets.find((f) => f.name === fleet.name);
            assert.ok(configured, fleet.name);
            assert.deepEqual(
                servedPipelines(platform, fleet),
                pipelinesServed(config, configured).map((p) => p.slug),
                fleet.name,
            );
        }
    });

    it("counts a pipeline as served by every fleet of its cluster on a queue any of its jobs targets", async () => {
        // kolibri-installer-windows runs its POSIX release steps on a Linux queue of its cluster (releaseQueue): the
        // fleet there must admit those jobs and read the pipeline's secrets, or the release step is refused.
        const config = prodConfig();
        const platform = readPlatform(await prodResources());
        let crossQueue = 0;
        for (const pipeline of platform.pipelines) {
            const queues = new Set(pipeline.steps.flatMap((s) => (s.kind === "command" && s.queue ? [s.queue] : [])));
            for (const fleet of config.fleets.filter((f) => f.cluster === pipeline.cluster && queues.has(f.queue))) {
                if (config.pipelines.find((p) => p.slug === pipeline.slug)?.queue !== fleet.queue) crossQueue++;
                assert.ok(
                    pipelinesServed(config, fleet).some((p) => p.slug === pipeline.slug),
                    `${fleet.name} runs jobs of ${pipeline.slug} but does not serve it`,
                );
            }
        }
        assert.ok(crossQueue > 0, "the prod stack has a pipeline whose jobs use a queue besides its own");
    });

    it("equals the expectation for every pair once each fleet's role reads only <bucket>/<slug>/* of the pipelines it serves", async () => {
        // What the platform-owned role change builds, written here from the config (test/policy/scoped-roles.ts).
        const resources = withScopedRoles(await prodResources(), prodConfig());
        const reaches = reachability(resources);
        assert.deepEqual(
            reaches.filter((r) => r.readable === "unknown").map((r) => `${r.fleet} ${r.object.key}: ${r.why}`),
            [],
        );
        assert.deepEqual(
            reaches.filter((r) => mismatch(r) !== undefined).map((r) => `${mismatch(r)}: ${r.fleet} ${r.object.key}`),
            [],
        );
        assert.deepEqual(findings(resources), []);
        // Not vacuous: each AWS fleet that serves a pipeline with secrets reads them, and no fleet reads another's.
        assert.ok(reaches.filter((r) => r.readable === "yes").length >= 10);
        assert.ok(reaches.every((r) => r.expected !== "must-not" || r.readable === "no"));
    });
});
