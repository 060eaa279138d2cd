/*
 * A small stack that complies with every rule: one of each resource the ci-platform program declares, shaped as the
 * offline plan records them. Tests copy it and break one thing at a time.
 */
import type { PlanResource } from "../../policy/resource";

const PREFIX = "urn:pulumi:test::ci-platform::";
export const urn = (type: string, name: string) => `${PREFIX}${type}::${name}`;

/** The provider the compliant stack declares for each package (the program declares every provider explicitly). */
const PROVIDER_NAMES: Readonly<Record<string, string>> = {
    aws: "aws-us-east-1",
    buildkite: "buildkite",
    github: "github-learningequality",
    docker: "docker-us-east-1",
};

/** The URN of the compliant stack's provider for a resource type; null for components and providers. */
export function providerFor(type: string): string | null {
    const pkg = type.split(":")[0];
    if (pkg === "pulumi" || pkg === "ci-platform") return null;
    return urn(`pulumi:providers:${pkg}`, PROVIDER_NAMES[pkg] ?? pkg);
}

/**
 * The component a resource of the compliant stack is declared in when the test names no other parent: every provider
 * and cloud resource of the program has a parent component (policy/invariants/parents.ts); components sit at the top.
 */
export const COMPONENT_URN = urn("ci-platform:test:Component", "compliant");
const defaultParent = (type: string) =>
    type.startsWith("ci-platform:") || type === "pulumi:pulumi:Stack" ? null : COMPONENT_URN;

/** A resource with the defaults the plan would record for one the program declared with its explicit provider. */
export function resource(
    type: string,
    name: string,
    inputs: Record<string, unknown>,
    extra: Partial<PlanResource> = {},
) {
    return {
        urn: urn(type, name),
        type,
        name,
        inputs,
        protect: false,
        retainOnDelete: false,
        parent: defaultParent(type) as string | null,
        provider: providerFor(type),
        dependsOn: [],
        ...extra,
    } satisfies PlanResource;
}

export type MutableResource = ReturnType<typeof resource>;

export const TAGS = { CostCenter: "engineering-ci", ManagedBy: "ci-platform" };
const STATEFUL = { protect: true, retainOnDelete: true };
const BUCKET = "ci-platform-secrets-us-east-1";
const KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

export const TLS_ONLY_POLICY = JSON.stringify({
    Version: "2012-10-17",
    Statement: [
        {
            Sid: "DenyInsecureTransport",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
    ],
});

export const STEPS = [
    "steps:",
    "  - key: tests",
    "    label: ':pytest: Tests'",
    "    command: tox -e py --password-file .secrets/pw",
    "    env:",
    // No `$` in a signed step (policy/invariants/signing.ts dollarCommandSteps).
    "      PYPI_PASSWORD_FILE: .secrets/pypi-token",
    "    agents:",
    "      queue: default",
    "    plugins:",
    "      - docker#v5.12.0:",
    "          image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/ci-platform/buildkite-test:py3.11-1.4.0",
    // Its cluster signs (policy/invariants/signing.ts): a stored command step carries a signature.
    "    signature:",
    "      algorithm: EdDSA",
    "      signed_fields: [command, env, plugins, matrix, repository_url]",
    "      value: eyJhbGciOiJFZERTQSIsImtpZCI6ImRlZmF1bHQtMjAyNiJ9..c2lnbmF0dXJl",
    "  - group: Installers",
    "    steps:",
    "      - trigger: kolibri-installer-debian",
    "        key: deb-build",
    "",
].join("\n");

/** Types and URNs that link the stack's Buildkite cluster, fleet and pipeline. */
export const CLUSTER_URN = urn("buildkite:Cluster/cluster:Cluster", "cluster-default");
export const FLEET_URN = urn("ci-platform:agents:Fleet", "linux-us-east-1");

/** A fresh copy of the compliant stack (deep: tests may mutate it). */
export function compliantStack(): MutableResource[] {
    const stack: MutableResource[] = [
        resource("buildkite:Cluster/cluster:Cluster", "cluster-default", { name: "default" }),
        resource(
            "buildkite:Cluster/clusterQueue:ClusterQueue",
            "queue-default/default",
            { clusterId: "Q2x1c3Rlci0tLWRlZmF1bHQ=", key: "default" },
            { dependsOn: [CLUSTER_URN] },
        ),
        // Its cluster signs; no stored step of its queue uploads, so it only verifies (policy/invariants/signing.ts).
        resource("ci-platform:agents:Fleet", "linux-us-east-1", {
            signing: { mode: "jwks", failureBehavior: "block", signs: false },
        }),
        resource(
            "buildkite:Cluster/clusterAgentToken:ClusterAgentToken",
            "linux-us-east-1-token",
            { clusterId: "Q2x1c3Rlci0tLWRlZmF1bHQ=", description: "ci-platform fleet linux-us-east-1 (queue default)" },
            { parent: FLEET_URN, dependsOn: [CLUSTER_URN] },
        ),
        resource("docker:index/image:Image", "buildkite-test-py3.11-us-east-1", {
            imageName: "123456789012.dkr.ecr.us-east-1.amazonaws.com/ci-platform/buildkite-test:py3.11-1.4.0",
            registry: { server: "123456789012.dkr.ecr.us-east-1.amazonaws.com", username: "AWS", password: "[secret]" },
        }),
        resource("pulumi:providers:aws", "aws-us-east-1", { region: "us-east-1" }),
        resource("pulumi:providers:buildkite", "buildkite", { organization: "learningequality" }),
        resource("pulumi:providers:github", "github-learningequality", { owner: "learningequality" }),
        resource("aws:s3/bucket:Bucket", "secrets-us-east-1", { bucket: BUCKET, tags: TAGS }, STATEFUL),
        resource("aws:s3/bucketVersioning:BucketVersioning", "secrets-us-east-1-versioning", {
            bucket: BUCKET,
            versioningConfiguration: { status: "Enabled" },
        }),
        resource(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "secrets-us-east-1-sse",
            {
                bucket: BUCKET,
                rules: [
                    {
                        applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: KEY_ARN },
                        bucketKeyEnabled: true,
                    },
                ],
            },
        ),
        resource("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "secrets-us-east-1-pab", {
            bucket: BUCKET,
            blockPublicAcls: true,
            blockPublicPolicy: true,
            ignorePublicAcls: true,
            restrictPublicBuckets: true,
        }),
        resource("aws:s3/bucketPolicy:BucketPolicy", "secrets-us-east-1-policy", {
            bucket: BUCKET,
            policy: TLS_ONLY_POLICY,
        }),
        resource(
            "aws:kms/key:Key",
            "secrets-key",
            { description: "ci-platform secrets", enableKeyRotation: true, deletionWindowInDays: 30, tags: TAGS },
            STATEFUL,
        ),
        resource("aws:ssm/parameter:Parameter", "linux-us-east-1-agent-token", {
            name: "/ci-platform/linux-us-east-1/agent-token",
            type: "SecureString",
            value: "[secret]",
            keyId: KEY_ARN,
            tags: TAGS,
        }),
        resource(
            "aws:cloudformation/stack:Stack",
            "linux-us-east-1-stack",
            {
                templateUrl: "https://s3.amazonaws.com/buildkite-aws-stack/v6.71.1/aws-stack.yml",
                capabilities: ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
                parameters: {
                    BuildkiteAgentTokenParameterStorePath: "/ci-platform/linux-us-east-1/agent-token",
                    BuildkiteQueue: "default",
                    BuildkiteAgentVerificationKeySSMParameter:
                        "/ci-platform/linux-us-east-1/verification-jwks-0123456789abcdef",
                    IMDSv2Tokens: "required",
                    BuildkiteAgentEnableGracefulShutdown: "true",
                    SecretsBucket: BUCKET,
                    InstanceRoleARN: "arn:aws:iam::123456789012:role/linux-us-east-1-role",
                    AgentEnvFileUrl: `s3://${BUCKET}/_ci-platform/bootstrap/linux-us-east-1-0123456789abcdef.env`,
                    BootstrapScriptUrl: `s3://${BUCKET}/_ci-platform/bootstrap/linux-us-east-1-0123456789abcdef.sh`,
                },
                tags: TAGS,
            },
            { parent: FLEET_URN },
        ),
        // The agents' allow-list (policy/invariants/allowlist.ts), in the agent env file the stack names.
        resource(
            "aws:s3/bucketObjectv2:BucketObjectv2",
            "linux-us-east-1-agent-env",
            {
                bucket: BUCKET,
                key: "_ci-platform/bootstrap/linux-us-east-1-0123456789abcdef.env",
                content: "BUILDKITE_ALLOWED_REPOSITORIES=^https://github[.]com/learningequality/kolibri[.]git$\n",
                serverSideEncryption: "aws:kms",
                kmsKeyId: KEY_ARN,
            },
            { parent: FLEET_URN },
        ),
        // The per-pipeline allow-list its pre-bootstrap hook reads for every job (linux-fleet-allowlist-object).
        resource(
            "aws:s3/bucketObjectv2:BucketObjectv2",
            "linux-us-east-1-allowlist",
            {
                bucket: BUCKET,
                key: "_ci-platform/allowlist/linux-us-east-1",
                content: "# ci-platform allow-list v1\nkolibri https://github.com/learningequality/kolibri.git\n",
                serverSideEncryption: "aws:kms",
                kmsKeyId: KEY_ARN,
            },
            { parent: FLEET_URN },
        ),
        // The fleet's bootstrap script, as renderBootstrapScript renders it (trimmed): it blocks step containers
        // from the instance role (step-containers-no-instance-role).
        resource(
            "aws:s3/bucketObjectv2:BucketObjectv2",
            "linux-us-east-1-bootstrap",
            {
                bucket: BUCKET,
                key: "_ci-platform/bootstrap/linux-us-east-1-0123456789abcdef.sh",
                content: [
                    "#!/bin/bash",
                    "# >>> ci-platform:settings (rendered by renderBootstrapScript)",
                    "readonly CI_PLATFORM_AGENTS_PER_INSTANCE='1'",
                    "readonly CI_PLATFORM_STEPS_USE_INSTANCE_ROLE='false'",
                    "readonly CI_PLATFORM_ALLOWLIST_KEY='_ci-platform/allowlist/linux-us-east-1'",
                    "# <<< ci-platform:settings",
                    "block_container_imds() {",
                    "}",
                    "bootstrap_main() {",
                    "    block_container_imds",
                    "}",
                    "",
                ].join("\n"),
                serverSideEncryption: "aws:kms",
                kmsKeyId: KEY_ARN,
            },
            { parent: FLEET_URN },
        ),
        resource(
            "aws:ecr/repository:Repository",
            "buildkite-test",
            {
                name: "buildkite-test",
                imageTagMutability: "IMMUTABLE",
                imageScanningConfiguration: { scanOnPush: true },
                encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: KEY_ARN }],
                forceDelete: true,
                tags: TAGS,
            },
            // Deleted with its images, not retained (policy/invariants/ecr-repositories.ts).
            { protect: true, retainOnDelete: false },
        ),
        resource("aws:iam/policy:Policy", "linux-us-east-1-secrets", {
            policy: JSON.stringify({
                Version: "2012-10-17",
                Statement: [{ Effect: "Allow", Action: ["s3:GetObject"], Resource: `arn:aws:s3:::${BUCKET}/*` }],
            }),
            tags: TAGS,
        }),
        resource("github:index/repositoryWebhook:RepositoryWebhook", "kolibri-python-package", {
            repository: "kolibri",
            events: ["push", "pull_request"],
            active: true,
            configuration: { url: "[secret]", contentType: "json", insecureSsl: false },
        }),
        resource(
            "buildkite:Pipeline/pipeline:Pipeline",
            "kolibri-python-package",
            {
                name: "Kolibri Python Package",
                // A public repository over HTTPS: its clone needs no credential (checkout-on-every-fleet).
                repository: "https://github.com/learningequality/kolibri.git",
                tags: ["repo:learningequality/kolibri", "public-repository"],
                clusterId: "Q2x1c3Rlci0tLWRlZmF1bHQ=",
                defaultTeamId: "VGVhbS0tLWtvbGlicmk=",
                steps: STEPS,
            },
            { dependsOn: [CLUSTER_URN] },
        ),
    ];
    return structuredClone(stack);
}

/** The resource of `type` in `stack` (the first, when there are several). */
export function find(stack: MutableResource[], type: string): MutableResource {
    const found = stack.find((r) => r.type === type);
    if (found === undefined) throw new Error(`no ${type} in the compliant stack`);
    return found;
}

/** The stack without the resources of `type`. */
export function without(stack: MutableResource[], type: string): MutableResource[] {
    return stack.filter((r) => r.type !== type);
}
