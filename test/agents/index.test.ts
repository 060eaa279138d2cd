import * as pulumi from "@pulumi/pulumi";
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type * as agentsModule from "../../components/agents";
import { continentOf } from "../../components/config/regions";
import type { AwsRegion } from "../../components/config/regions";
import { checkParameters } from "../../components/agents/stack-parameters";
import { secretsBucketName } from "../../components/agents/naming";
import { pipelinesServed } from "../../components/config/access-checks";
import { FAKE_BUNDLE, fleetProviders, prodConfig, SENTINEL } from "./fixtures";
import { installMocks, isSecret, leaks, Registered, reveal } from "./mocks";

const { registered, settle, install } = installMocks();
let agents: typeof agentsModule;
let declared: agentsModule.DeclaredFleets;
const config = prodConfig();
const rendered: agentsModule.BootstrapRequest[] = [];
const renderBootstrap: agentsModule.RenderBootstrap = (req) => {
    rendered.push(req);
    return {
        key: `_ci-platform/bootstrap/${req.fleet.name}-${req.bundleHash}.sh`,
        content: `#!/bin/bash\n# ${req.fleet.name} ${req.fleet.ecrRegistry} s3://${req.bucket}/${req.bundlePrefix}\n`,
    };
};

before(async () => {
    install();
    agents = await import("../../components/agents");
    declared = agents.declareFleets({
        config,
        secretValues: pulumi.secret(config.secrets),
        clusterIds: {
            default: "cluster-default-id",
            macos: "cluster-macos-id",
            platform: "cluster-platform-id",
            deploy: "cluster-deploy-id",
            dagster: "cluster-dagster-id",
        },
        hooksBundle: FAKE_BUNDLE,
        providers: await fleetProviders(config),
        renderBootstrap,
    });
    await settle();
});

const ofType = (type: string) => registered.filter((r) => r.type === type);
const one = (type: string, name: string): Registered => {
    const found = registered.filter((r) => r.type === type && r.name === name);
    assert.equal(found.length, 1, `${type} ${name}`);
    return found[0];
};
const providerUrn = (region: string) => one("pulumi:providers:aws", `ci-platform-aws-${region}`).urn;

describe("declareFleets on the prod config", () => {
    const awsFleets = config.fleets.filter((f) => f.kind === "aws");

    it("creates one CloudFormation stack per AWS fleet, in three regions on two continents", () => {
        const stacks = ofType("aws:cloudformation/stack:Stack");
        assert.deepEqual(stacks.map((s) => s.name).sort(), awsFleets.map((f) => `${f.name}-stack`).sort());
        const regions = new Set(awsFleets.map((f) => f.region));
        assert.ok(regions.size >= 3);
        assert.ok(new Set([...regions].map((r) => continentOf(r as AwsRegion))).size >= 2);
    });

    it("creates every AWS resource through its own region's provider", () => {
        for (const fleet of awsFleets) {
            const expected = providerUrn(fleet.region);
            const children = registered.filter(
                (r) => r.custom && r.type.startsWith("aws:") && r.parent.endsWith(`::${fleet.name}`),
            );
            // token parameter, role, policy, its attachment, stack, and the bootstrap object (Linux) or the agent env
            // file with the agent's allow-list (Windows, which installs no hooks); one attachment more per extra
            // managed policy of the config.
            // A Linux fleet has its allow-list object too (the pre-bootstrap hook reads it at job time).
            // A fleet of a signing cluster has its verification key set, and the signing set when its queue runs the
            // stored upload steps (components/signing/fleets.ts).
            const signing = children.filter((c) => /-(verification|signing)-jwks$/.test(c.name)).length;
            assert.ok(
                children.some((c) => c.name === `${fleet.name}-verification-jwks`),
                fleet.name,
            );
            const expectedCount =
                6 + (fleet.os === "windows" ? 0 : 1) + new Set(fleet.managedPolicyArns).size + signing;
            assert.equal(children.length, expectedCount, fleet.name);
            assert.ok(
                children.some((c) => c.name === `${fleet.name}-${fleet.os === "windows" ? "agent-env" : "bootstrap"}`),
                fleet.name,
            );
            for (const child of children) assert.ok(child.provider.startsWith(`${expected}::`), child.name);
        }
        for (const [name, component] of Object.entries(declared.buckets)) {
            const bucket = one("aws:s3/bucket:Bucket", `${name}-bucket`);
            assert.ok(bucket.provider.startsWith(`${providerUrn(component.region)}::`), name);
        }
        for (const p of ofType("pulumi:providers:aws"))
            assert.equal(p.inputs.region, p.name.replace("ci-platform-aws-", ""));
    });

    it("passes the stack only parameters the pinned template accepts, with the pinned URL and capabilities", () => {
        for (const stack of ofType("aws:cloudformation/stack:Stack")) {
            const params = stack.inputs.parameters as Record<string, string>;
            assert.deepEqual(checkParameters(params), [], stack.name);
            assert.equal(
                stack.inputs.templateUrl,
                "https://s3.amazonaws.com/buildkite-aws-stack/v6.71.1/aws-stack.yml",
            );
            assert.deepEqual(stack.inputs.capabilities, [
                "CAPABILITY_IAM",
                "CAPABILITY_NAMED_IAM",
                "CAPABILITY_AUTO_EXPAND",
            ]);
            const fleet = stack.name.replace(/-stack$/, "");
            assert.equal(params.BuildkiteAgentTokenParameterStorePath, `/ci-platform/${fleet}/buildkite-agent-token`);
            if (awsFleets.find((f) => f.name === fleet)?.os === "windows")
                assert.equal(params.BootstrapScriptUrl, "", `${fleet} runs Windows: no bash bootstrap`);
            else
                assert.match(
                    params.BootstrapScriptUrl,
                    new RegExp(`^s3://secrets-[a-z0-9-]+-bucket-0a1b2c/_ci-platform/bootstrap/${fleet}-abc123\\.sh$`),
                );
            assert.equal(params.InstanceRoleARN, `arn:aws:iam::123456789012:role/${fleet}-role-1234567`);
            assert.equal(params.ManagedPolicyARNs, undefined, "ignored with InstanceRoleARN: attached to our role");
            const cfg = awsFleets.find((f) => f.name === fleet);
            assert.ok(cfg, fleet);
            assert.equal(
                params.BuildkiteAgentTokenParameterStoreKMSKey,
                `key-${secretsBucketName(cfg.region, cfg.cluster)}-token-key`,
                `${fleet}: its own (region, cluster) token key, by id`,
            );
        }
    });

    it("lets the scaler of every autoscaled fleet decrypt its own token: key id passed, key policy admits its role", () => {
        // elastic-ci-stack-for-aws v6.71.1 templates/aws-stack.yml: a scaler exists when MinSize != MaxSize.
        const scaled = awsFleets.filter((f) => f.minSize < f.maxSize);
        assert.ok(
            scaled.some((f) => f.minSize === 0),
            "the prod config has fleets that scale up from 0",
        );
        for (const fleet of scaled) {
            const bucket = secretsBucketName(fleet.region, fleet.cluster);
            const params = one("aws:cloudformation/stack:Stack", `${fleet.name}-stack`).inputs.parameters as Record<
                string,
                string
            >;
            assert.equal(params.BuildkiteAgentTokenParameterStoreKMSKey, `key-${bucket}-token-key`, fleet.name);
            const policy = one("aws:kms/keyPolicy:KeyPolicy", `${bucket}-token-key-policy`);
            assert.equal(policy.inputs.keyId, params.BuildkiteAgentTokenParameterStoreKMSKey, fleet.name);
            const doc = JSON.parse(policy.inputs.policy as string) as {
                Statement: { Sid: string; Action: string[]; Condition?: Record<string, Record<string, unknown>> }[];
            };
            const parameter = `arn:aws:ssm:${fleet.region}:123456789012:parameter/ci-platform/${fleet.name}/buildkite-agent-token`;
            const statement = doc.Statement.find(
                (s) =>
                    s.Condition?.ArnLike?.["aws:PrincipalArn"] ===
                    `arn:aws:iam::123456789012:role/${`buildkite-${fleet.name}-Autoscaling`.slice(0, 36)}*-ExecutionRole-*`,
            );
            assert.ok(statement, `${fleet.name}: a statement for its scaler's role`);
            assert.deepEqual(statement.Action, ["kms:Decrypt"]);
            assert.deepEqual(statement.Condition?.StringEquals, {
                "kms:ViaService": `ssm.${fleet.region}.amazonaws.com`,
                "kms:CallerAccount": "123456789012",
                "kms:EncryptionContext:PARAMETER_ARN": parameter,
            });
        }
    });

    it("lets only the configured deploy and read roles use the keys through the account", () => {
        const deploy = config.deployRoles.filter((r) => r.access === "deploy").map((r) => r.name);
        const read = config.deployRoles.filter((r) => r.access === "read").map((r) => r.name);
        assert.ok(deploy.length > 0 && read.length > 0, "the prod config has deploy and read roles");
        const arns = (names: string[]) => names.map((n) => `arn:aws:iam::123456789012:role/${n}`).sort();
        for (const name of Object.keys(declared.buckets)) {
            for (const [policyName, sids] of [
                [`${name}-key-policy`, ["DeployWritesThroughS3"]],
                [`${name}-token-key-policy`, ["DeployWritesTokensThroughSsm"]],
            ] as const) {
                const doc = JSON.parse(one("aws:kms/keyPolicy:KeyPolicy", policyName).inputs.policy as string) as {
                    Statement: { Sid: string; Principal: { AWS: unknown }; Condition?: Record<string, unknown> }[];
                };
                for (const s of doc.Statement.filter((st) => st.Principal.AWS === "arn:aws:iam::123456789012:root"))
                    if (s.Sid !== "AccountAdministersKey")
                        assert.ok(s.Condition?.ArnLike, `${policyName} ${s.Sid}: narrowed to named principals`);
                for (const sid of sids)
                    assert.deepEqual(
                        (doc.Statement.find((s) => s.Sid === sid)?.Condition?.ArnLike as Record<string, unknown>)[
                            "aws:PrincipalArn"
                        ],
                        [...arns(deploy), ...config.kmsAdministrators].sort(),
                        `${policyName} ${sid}`,
                    );
            }
            const tokenDoc = JSON.parse(
                one("aws:kms/keyPolicy:KeyPolicy", `${name}-token-key-policy`).inputs.policy as string,
            ) as { Statement: { Sid: string; Condition?: { ArnLike?: Record<string, unknown> } }[] };
            assert.deepEqual(
                tokenDoc.Statement.find((s) => s.Sid === "ReadRolesDecryptTokensThroughSsm")?.Condition?.ArnLike,
                { "aws:PrincipalArn": arns(read) },
                name,
            );
        }
    });

    it("gives each AWS fleet its own role: EC2 trust, its policy and the config's managed policies attached", () => {
        for (const fleet of awsFleets) {
            const role = one("aws:iam/role:Role", `${fleet.name}-role`);
            assert.ok(role.parent.endsWith(`::${fleet.name}`), "a child of the fleet");
            assert.deepEqual(JSON.parse(role.inputs.assumeRolePolicy as string).Statement, [
                { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
            ]);
            assert.equal(role.inputs.permissionsBoundary, fleet.permissionsBoundary, "the config's boundary");
            const attached = registered
                .filter((r) => r.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                .filter((r) => r.inputs.role === `${fleet.name}-role-1234567`)
                .map((r) => r.inputs.policyArn)
                .sort();
            assert.deepEqual(
                attached,
                [`arn:aws:iam::123456789012:policy/${fleet.name}-policy-1234567`, ...fleet.managedPolicyArns].sort(),
                fleet.name,
            );
        }
    });

    it("lets each fleet's role read exactly the secrets of the pipelines it serves", () => {
        for (const fleet of awsFleets) {
            const policy = JSON.parse(one("aws:iam/policy:Policy", `${fleet.name}-policy`).inputs.policy as string) as {
                Statement: { Sid: string; Resource: string | string[] }[];
            };
            const bucket = `arn:aws:s3:::${secretsBucketName(fleet.region, fleet.cluster)}-bucket-0a1b2c`;
            const read = policy.Statement.find((s) => s.Sid === "ReadSecretsObjects")?.Resource ?? [];
            const slugs = pipelinesServed(config, fleet).map((p) => p.slug);
            const takesOrg =
                config.secrets.organization !== undefined &&
                config.clusters.find((c) => c.name === fleet.cluster)?.organizationSecrets !== false;
            assert.deepEqual(
                read,
                [
                    ...(takesOrg
                        ? ["env", "private_ssh_key", "git-credentials", "secret-files/*"].map((k) => `${bucket}/${k}`)
                        : []),
                    ...slugs.map((slug) => `${bucket}/${slug}/*`),
                ],
                fleet.name,
            );
        }
    });

    it("sets each key's policy: the fleet roles of its (region, cluster) by name, through S3 or SSM only", () => {
        for (const [name, bucket] of Object.entries(declared.buckets)) {
            const fleets = awsFleets.filter((f) => secretsBucketName(f.region, f.cluster) === name);
            const roles = fleets.map((f) => `arn:aws:iam::123456789012:role/${f.name}-role-1234567`).sort();
            const secretsPolicy = one("aws:kms/keyPolicy:KeyPolicy", `${name}-key-policy`);
            assert.equal(secretsPolicy.inputs.keyId, `key-${name}-key`);
            const doc = JSON.parse(secretsPolicy.inputs.policy as string) as {
                Statement: { Sid: string; Principal: { AWS: string | string[] }; Condition?: unknown }[];
            };
            const fleetStatement = doc.Statement.find((s) => s.Sid === "FleetRolesDecryptThroughS3");
            assert.deepEqual(fleetStatement?.Principal.AWS, roles, name);
            assert.deepEqual(fleetStatement?.Condition, {
                StringEquals: {
                    "kms:ViaService": `s3.${bucket.region}.amazonaws.com`,
                    "kms:EncryptionContext:aws:s3:arn": `arn:aws:s3:::${name}-bucket-0a1b2c`,
                },
            });
            const tokenPolicy = one("aws:kms/keyPolicy:KeyPolicy", `${name}-token-key-policy`);
            assert.equal(tokenPolicy.inputs.keyId, `key-${name}-token-key`);
            const tokenDoc = JSON.parse(tokenPolicy.inputs.policy as string) as {
                Statement: { Sid: string; Principal: { AWS: string | string[] } }[];
            };
            assert.deepEqual(
                tokenDoc.Statement.filter((s) => /^Fleet\w+(?<!Scaler)DecryptsOwnToken$/.test(s.Sid))
                    .map((s) => s.Principal.AWS)
                    .sort(),
                roles,
                name,
            );
        }
    });

    it("installs our bash hooks on Linux fleets only: a Windows fleet gets no bootstrap script", () => {
        const windows = awsFleets.filter((f) => f.os === "windows");
        assert.ok(windows.length > 0, "the prod config has a Windows fleet");
        assert.deepEqual(
            rendered.map((r) => r.fleet.name).sort(),
            awsFleets
                .filter((f) => f.os === "linux")
                .map((f) => f.name)
                .sort(),
        );
        const bootstraps = registered.filter((r) => r.name.endsWith("-bootstrap")).map((r) => r.name);
        for (const fleet of windows) assert.ok(!bootstraps.includes(`${fleet.name}-bootstrap`), fleet.name);
        for (const fleet of windows) {
            const policy = JSON.parse(one("aws:iam/policy:Policy", `${fleet.name}-policy`).inputs.policy as string);
            assert.ok(!JSON.stringify(policy).includes("_ci-platform/hooks/"), "no hooks access without hooks");
        }
    });

    it("lets each Linux fleet list and read its bundle and bootstrap script, under the prefix the bucket uploads", () => {
        for (const fleet of awsFleets.filter((f) => f.os === "linux")) {
            const policy = JSON.parse(one("aws:iam/policy:Policy", `${fleet.name}-policy`).inputs.policy as string);
            const list = policy.Statement.find((s: { Sid: string }) => s.Sid === "ListHooksBundle");
            // Every bundle of the bucket, the current one among them (a rollback installs an older one).
            assert.ok(
                declared.buckets[secretsBucketName(fleet.region, fleet.cluster)].hooksPrefix.startsWith(
                    "_ci-platform/hooks/",
                ),
            );
            assert.deepEqual(list.Condition, { StringLike: { "s3:prefix": ["_ci-platform/hooks/*"] } });
            const read = policy.Statement.find((s: { Sid: string }) => s.Sid === "ReadHooksBundle");
            // Every version of its own script (a rollback points at an older one): the name, then 16 characters.
            assert.ok(read.Resource[1].endsWith(`/_ci-platform/bootstrap/${fleet.name}-${"?".repeat(16)}.sh`));
            // Its own allow-list object, by its exact key (the pre-bootstrap hook reads it for every job), and no other
            // fleet's: no wildcard reaches `_ci-platform/allowlist/`.
            const allowlist = one("aws:s3/bucketObjectv2:BucketObjectv2", `${fleet.name}-allowlist`);
            assert.equal(allowlist.inputs.key, `_ci-platform/allowlist/${fleet.name}`);
            assert.deepEqual(
                (read.Resource as string[]).filter((r) => r.includes("/_ci-platform/allowlist")),
                [`arn:aws:s3:::${String(allowlist.inputs.bucket)}/_ci-platform/allowlist/${fleet.name}`],
            );
            const everything = JSON.stringify(policy.Statement);
            assert.ok(!/_ci-platform\/allowlist\/\*|_ci-platform\/\*/.test(everything), everything);
        }
        // A Windows fleet has none: its agent reads its list from its agent env file.
        for (const fleet of awsFleets.filter((f) => f.os === "windows"))
            assert.ok(!registered.some((r) => r.name === `${fleet.name}-allowlist`), fleet.name);
    });

    it("stores each token in SSM as a SecureString under its (region, cluster) token key, as a secret", () => {
        for (const fleet of awsFleets) {
            const parameter = one("aws:ssm/parameter:Parameter", `${fleet.name}-token-parameter`);
            assert.equal(parameter.inputs.type, "SecureString");
            assert.equal(
                parameter.inputs.keyId,
                `arn:aws:kms:us-east-1:123456789012:key/key-${secretsBucketName(fleet.region, fleet.cluster)}-token-key`,
                "not the secrets key: decrypting one must not decrypt the other",
            );
            assert.ok(isSecret(parameter.inputs.value));
            assert.equal(reveal(parameter.inputs.value), `${SENTINEL}:agent-token:${fleet.name}-token`);
        }
    });

    it("creates one cluster queue per queue the fleets serve", () => {
        const queues = ofType("buildkite:Cluster/clusterQueue:ClusterQueue");
        assert.deepEqual(queues.map((q) => q.name).sort(), [
            "queue-dagster/dagster",
            "queue-default/default",
            "queue-default/default-ap-southeast-1",
            "queue-default/default-eu-west-1",
            "queue-default/large",
            "queue-default/windows",
            "queue-deploy/deploy",
            "queue-macos/macos",
            "queue-platform/platform",
        ]);
        assert.equal(
            one("buildkite:Cluster/clusterQueue:ClusterQueue", "queue-default/default").inputs.clusterId,
            "cluster-default-id",
        );
    });

    it("keeps nothing of a removed region: no bucket, key or guard is protected or retained, buckets empty first", () => {
        // The secrets bucket lives and dies whole (components/agents/secrets-bucket.ts): what it holds is regenerated
        // from config, and a bucket kept without its guards would hold every secret unguarded. Only the hooks bundle, the
        // bootstrap scripts and the Windows agent env files are kept when the program drops them (a CloudFormation rollback points at them); they
        // are objects of a bucket that empties itself, so they go with it.
        // So are the fleets' signing key-set parameters (a rollback of a rotation boots with the old path), which
        // the README's region removal deletes by hand.
        const rollbackTargets = (r: (typeof registered)[number]) =>
            (r.type === "aws:s3/bucketObjectv2:BucketObjectv2" &&
                (r.name.includes("-hook-") || r.name.endsWith("-bootstrap") || r.name.endsWith("-agent-env"))) ||
            (r.type === "aws:ssm/parameter:Parameter" && /-(signing|verification)-jwks$/.test(r.name));
        for (const r of registered) {
            assert.equal(r.protect, false, `${r.type} ${r.name} protect`);
            assert.equal(r.retainOnDelete, rollbackTargets(r), `${r.type} ${r.name} retainOnDelete`);
        }
        assert.ok(registered.filter(rollbackTargets).length > 0);
        for (const bucket of ofType("aws:s3/bucket:Bucket"))
            assert.equal(bucket.inputs.forceDestroy, true, bucket.name);
        for (const key of ofType("aws:kms/key:Key")) assert.equal(key.inputs.deletionWindowInDays, 30, key.name);
        assert.equal(ofType("aws:s3/bucket:Bucket").length, 6);
        assert.equal(ofType("aws:kms/key:Key").length, 12, "two keys per bucket: secrets and agent tokens");
    });

    it("secures each bucket: versioning, SSE-KMS with its own key, public access blocked, TLS only, expiry", () => {
        const region = "eu-west-1";
        const n = `secrets-${region}`;
        const keyArn = `arn:aws:kms:us-east-1:123456789012:key/key-${n}-key`;
        assert.deepEqual(
            one("aws:s3/bucketVersioning:BucketVersioning", `${n}-versioning`).inputs.versioningConfiguration,
            { status: "Enabled" },
        );
        const sse = one(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            `${n}-encryption`,
        );
        assert.deepEqual((sse.inputs.rules as unknown[])[0], {
            applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: keyArn },
            bucketKeyEnabled: true,
        });
        const pab = one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", `${n}-public-access`).inputs;
        assert.deepEqual(
            [pab.blockPublicAcls, pab.blockPublicPolicy, pab.ignorePublicAcls, pab.restrictPublicBuckets],
            [true, true, true, true],
        );
        const policy = JSON.parse(one("aws:s3/bucketPolicy:BucketPolicy", `${n}-policy`).inputs.policy as string);
        assert.equal(policy.Statement[0].Condition.Bool["aws:SecureTransport"], "false");
        const lifecycle = one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", `${n}-lifecycle`);
        assert.equal(
            (lifecycle.inputs.rules as { noncurrentVersionExpiration: { noncurrentDays: number } }[])[0]
                .noncurrentVersionExpiration.noncurrentDays,
            90,
        );
    });

    it("gives each (region, cluster) with AWS fleets its own bucket, and each fleet its own cluster's, only", () => {
        assert.deepEqual(Object.keys(declared.buckets).sort(), [
            "secrets-ap-southeast-1",
            "secrets-dagster-eu-west-1",
            "secrets-deploy-us-east-1",
            "secrets-eu-west-1",
            "secrets-platform-us-east-1",
            "secrets-us-east-1",
        ]);
        for (const fleet of awsFleets) {
            const name = secretsBucketName(fleet.region, fleet.cluster);
            const stack = one("aws:cloudformation/stack:Stack", `${fleet.name}-stack`);
            const parameters = stack.inputs.parameters as Record<string, string>;
            assert.equal(parameters.SecretsBucket, `${name}-bucket-0a1b2c`, fleet.name);
            const policy = one("aws:iam/policy:Policy", `${fleet.name}-policy`).inputs.policy as string;
            const buckets = new Set([...policy.matchAll(/arn:aws:s3:::([a-z0-9-]+)/g)].map((m) => m[1]));
            assert.deepEqual([...buckets], [`${name}-bucket-0a1b2c`], `${fleet.name} reads one bucket`);
        }
    });

    it("writes each bucket the secrets of its cluster's pipelines its fleets run, with SSE-KMS, contents secret", () => {
        const keys = (region: string, cluster = "default") =>
            agents
                .secretObjects(agents.secretsForBucket(config, { region, cluster }))
                .map((o) => o.key)
                .sort();
        assert.ok(keys("us-east-1", "deploy").includes("ci-platform-deploy/env"));
        assert.ok(!keys("us-east-1").some((k) => k.startsWith("ci-platform")), "no deploy token where Kolibri runs");
        // Where pull requests run: only ci-platform's own read-only checkout credential, no organisation secret.
        assert.deepEqual(keys("us-east-1", "platform"), ["ci-platform/git-credentials"], "nor where PRs run");
        const android = "kolibri-installer-android/secret-files/ANDROID_KEYSTORE_PASSWORD";
        // Queue large (the Android installer's) is served in us-east-1 only.
        assert.ok(keys("us-east-1").includes(android) && !keys("eu-west-1").includes(android));
        assert.ok(keys("us-east-1").includes("kolibri-python-package/env"));
        // dagster-io's pipeline, in a cluster of its own: its deploy key and its env (read token, PyPI token), none of
        // the organisation's secrets.
        assert.deepEqual(keys("eu-west-1", "dagster"), ["dagster/env", "dagster/private_ssh_key"]);
        assert.ok(!keys("eu-west-1").some((k) => k.startsWith("dagster/")), "nor in the default cluster's bucket");
        for (const region of ["us-east-1", "eu-west-1", "ap-southeast-1"]) {
            const expected = keys(region);
            assert.ok(expected.includes("git-credentials"), "the organisation's secrets are in every bucket");
            const objects = ofType("aws:s3/bucketObjectv2:BucketObjectv2").filter((o) =>
                o.name.startsWith(`secrets-${region}-secret-`),
            );
            assert.deepEqual(objects.map((o) => o.inputs.key).sort(), expected);
            for (const o of objects) {
                assert.ok(isSecret(o.inputs.content), o.name);
                assert.equal(o.inputs.serverSideEncryption, "aws:kms");
                assert.equal(o.inputs.bucket, `secrets-${region}-bucket-0a1b2c`);
            }
        }
    });

    it("uploads the hooks under the bundle's content-addressed prefix", () => {
        const hooks = ofType("aws:s3/bucketObjectv2:BucketObjectv2").filter((o) =>
            o.name.startsWith("secrets-eu-west-1-hook-"),
        );
        assert.deepEqual(hooks.map((h) => h.inputs.key).sort(), [
            "_ci-platform/hooks/abc123/hooks/environment",
            "_ci-platform/hooks/abc123/hooks/pre-exit",
        ]);
    });

    it("never lets a token or secret value out of a secret", () => {
        const found = registered.flatMap((r) => leaks(r.inputs, SENTINEL).map((p) => `${r.type} ${r.name}${p}`));
        assert.deepEqual(found, []);
    });

    it("gives a static fleet a queue and a secret token, no AWS resources, and the bundle location", async () => {
        const macos = declared.fleets["macos-office"];
        assert.equal(macos.kind, "static");
        assert.ok(registered.every((r) => !(r.parent.endsWith("::macos-office") && r.type.startsWith("aws:"))));
        assert.equal(
            one("buildkite:Cluster/clusterAgentToken:ClusterAgentToken", "macos-office-token").inputs.clusterId,
            "cluster-macos-id",
        );
        if (macos.kind !== "static") return;
        assert.equal(await pulumi.isSecret(macos.token), true);
        assert.equal(macos.hooksBundle?.region, "us-east-1");
        assert.equal(macos.hooksBundle?.prefix, "_ci-platform/hooks/abc123");
    });

    it("exports stack name, region, queue, bucket and token parameter per AWS fleet", async () => {
        const out = declared.fleets["linux-ap-southeast-1"];
        assert.equal(out.kind, "aws");
        if (out.kind !== "aws") return;
        const value = <T>(o: import("@pulumi/pulumi").Output<T>) => new Promise<T>((r) => o.apply(r));
        assert.equal(await value(out.stackName), "buildkite-linux-ap-southeast-1");
        assert.equal(out.region, "ap-southeast-1");
        assert.equal(out.queue, "default-ap-southeast-1");
        assert.equal(await value(out.secretsBucket), "secrets-ap-southeast-1-bucket-0a1b2c");
        assert.equal(out.tokenParameter, "/ci-platform/linux-ap-southeast-1/buildkite-agent-token");
    });
});

describe("declareFleets input errors (issue 15)", () => {
    it("names every region without a provider and every cluster without an id in one InputPropertiesError", () => {
        assert.throws(
            () =>
                agents.declareFleets({
                    config,
                    secretValues: pulumi.secret(config.secrets),
                    clusterIds: { default: "cluster-default-id" },
                    hooksBundle: FAKE_BUNDLE,
                    renderBootstrap,
                    providers: {},
                }),
            (e: unknown) => {
                assert.ok(pulumi.InputPropertiesError.isInstance(e), String(e));
                const regions = [...new Set(config.fleets.flatMap((f) => (f.kind === "aws" ? [f.region] : [])))];
                const clusters = [...new Set(config.fleets.map((f) => f.cluster))].filter((c) => c !== "default");
                assert.deepEqual(
                    e.errors.map((x) => x.propertyPath),
                    [...regions.sort().map((r) => `providers.${r}`), ...clusters.sort().map((c) => `clusterIds.${c}`)],
                );
                return true;
            },
        );
    });
});
