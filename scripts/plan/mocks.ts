import { createHash } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";

/*
 * Mock provider behaviour for the offline plan: every resource gets the computed outputs a real provider would
 * give it (ids, ARNs, URLs, slugs), derived deterministically from its type and name so that the same config
 * always gives the same plan, and so that code depending on those outputs is exercised.
 */

/** The AWS account id the offline plan pretends to deploy to. */
export const MOCK_ACCOUNT_ID = "123456789012";
const DEFAULT_REGION = "us-east-1";

const hex = (text: string, length = 12) => createHash("sha256").update(text).digest("hex").slice(0, length);
const uuid = (text: string) => {
    const h = hex(text, 32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

type Inputs = Record<string, unknown>;

/** Remembers each provider's inputs so resources can be given their provider's region. */
export class PlanMocks implements pulumi.runtime.Mocks {
    private readonly providerInputs = new Map<string, Inputs>();

    newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Inputs } {
        const id = this.idFor(args);
        if (args.type.startsWith("pulumi:providers:")) {
            this.providerInputs.set(args.name, args.inputs);
            return { id, state: args.inputs };
        }
        const region = this.regionOf(args.provider);
        return { id, state: { ...args.inputs, ...computedOutputs(args.type, args.name, args.inputs, id, region) } };
    }

    call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
        const region = this.regionOf(args.provider);
        switch (args.token) {
            case "aws:index/getCallerIdentity:getCallerIdentity":
                return {
                    accountId: MOCK_ACCOUNT_ID,
                    arn: `arn:aws:iam::${MOCK_ACCOUNT_ID}:user/ci-platform`,
                    userId: "AIDAMOCKUSER",
                    id: MOCK_ACCOUNT_ID,
                };
            case "aws:index/getRegion:getRegion":
                return { name: region, region, id: region, endpoint: `ec2.${region}.amazonaws.com` };
            case "aws:index/getPartition:getPartition":
                return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" };
            case "aws:ecr/getAuthorizationToken:getAuthorizationToken":
                return {
                    authorizationToken: Buffer.from("AWS:offline-plan").toString("base64"),
                    userName: "AWS",
                    password: "offline-plan",
                    proxyEndpoint: `https://${MOCK_ACCOUNT_ID}.dkr.ecr.${region}.amazonaws.com`,
                    expiresAt: "2030-01-01T00:00:00Z",
                    id: region,
                };
            default:
                throw new Error(
                    `the offline plan has no mock for the invoke ${args.token}; add one in scripts/plan/mocks.ts`,
                );
        }
    }

    private idFor(args: pulumi.runtime.MockResourceArgs): string {
        if (args.type.startsWith("pulumi:providers:")) return uuid(`provider::${args.name}`);
        return `${args.name}-${hex(`${args.type}::${args.name}`, 8)}`;
    }

    private regionOf(providerRef: string | undefined): string {
        if (!providerRef) return DEFAULT_REGION;
        // A provider reference is "<urn>::<id>"; the URN's last segment is the provider's name.
        const urn = providerRef.slice(0, providerRef.lastIndexOf("::"));
        const name = urn.slice(urn.lastIndexOf("::") + 2);
        const region = this.providerInputs.get(name)?.region;
        return typeof region === "string" ? region : DEFAULT_REGION;
    }
}

/** Outputs a real provider computes for a resource of this type. */
function computedOutputs(type: string, name: string, inputs: Inputs, id: string, region: string): Inputs {
    const [pkg, module] = type.split(":");
    const physical = `${name}-${hex(type + name, 7)}`;
    if (pkg === "aws") {
        const service = module.split("/")[0];
        const base: Inputs = {
            arn: `arn:aws:${service}:${region}:${MOCK_ACCOUNT_ID}:${name}`,
            tagsAll: inputs.tags ?? {},
        };
        switch (type) {
            case "aws:s3/bucket:Bucket": {
                const bucket = (inputs.bucket as string | undefined) ?? physical;
                return {
                    ...base,
                    bucket,
                    arn: `arn:aws:s3:::${bucket}`,
                    region,
                    bucketRegionalDomainName: `${bucket}.s3.${region}.amazonaws.com`,
                };
            }
            case "aws:kms/key:Key":
                return {
                    ...base,
                    keyId: uuid(name),
                    arn: `arn:aws:kms:${region}:${MOCK_ACCOUNT_ID}:key/${uuid(name)}`,
                };
            case "aws:kms/alias:Alias":
                return { ...base, arn: `arn:aws:kms:${region}:${MOCK_ACCOUNT_ID}:${inputs.name ?? `alias/${name}`}` };
            case "aws:iam/policy:Policy":
            case "aws:iam/role:Role": {
                const kind = type.endsWith("Policy") ? "policy" : "role";
                const physicalName = (inputs.name as string | undefined) ?? physical;
                return { ...base, name: physicalName, arn: `arn:aws:iam::${MOCK_ACCOUNT_ID}:${kind}/${physicalName}` };
            }
            case "aws:ssm/parameter:Parameter":
                return {
                    ...base,
                    arn: `arn:aws:ssm:${region}:${MOCK_ACCOUNT_ID}:parameter${String(inputs.name ?? `/${name}`)}`,
                    version: 1,
                };
            case "aws:cloudformation/stack:Stack": {
                const stackName = (inputs.name as string | undefined) ?? physical;
                return {
                    ...base,
                    id: `arn:aws:cloudformation:${region}:${MOCK_ACCOUNT_ID}:stack/${stackName}/${uuid(name)}`,
                    outputs: {
                        AutoScalingGroupName: `${stackName}-AgentAutoScaleGroup-${hex(name, 8).toUpperCase()}`,
                        InstanceRoleName: `${stackName}-Role`,
                        InstanceRoleArn: `arn:aws:iam::${MOCK_ACCOUNT_ID}:role/${stackName}-Role`,
                        ManagedSecretsBucket: "Undefined",
                        Vpc: `vpc-${hex(name, 17)}`,
                    },
                };
            }
            case "aws:ecr/repository:Repository": {
                const repo = (inputs.name as string | undefined) ?? physical;
                return {
                    ...base,
                    arn: `arn:aws:ecr:${region}:${MOCK_ACCOUNT_ID}:repository/${repo}`,
                    registryId: MOCK_ACCOUNT_ID,
                    repositoryUrl: `${MOCK_ACCOUNT_ID}.dkr.ecr.${region}.amazonaws.com/${repo}`,
                };
            }
            case "aws:s3/bucketObjectv2:BucketObjectv2":
                return { ...base, etag: hex(String(inputs.content ?? name), 32), versionId: hex(name, 32) };
            default:
                return base;
        }
    }
    if (pkg === "buildkite") {
        const graphId = Buffer.from(`${module}---${uuid(name)}`).toString("base64");
        const base: Inputs = { uuid: uuid(name) };
        switch (type) {
            case "buildkite:Pipeline/pipeline:Pipeline": {
                const slug = (inputs.slug as string | undefined) ?? name;
                return {
                    ...base,
                    slug,
                    badgeUrl: `https://badge.buildkite.com/${hex(name, 40)}.svg`,
                    webhookUrl: `https://webhook.buildkite.com/deliver/${hex(`webhook::${name}`, 40)}`,
                };
            }
            case "buildkite:Team/team:Team":
                return {
                    ...base,
                    slug: String(inputs.name ?? name)
                        .toLowerCase()
                        .replace(/[^a-z0-9]+/g, "-"),
                };
            case "buildkite:Pipeline/webhook:Webhook":
                return { ...base, webhookUrl: `https://webhook.buildkite.com/deliver/${hex(`app::${name}`, 40)}` };
            case "buildkite:Cluster/clusterAgentToken:ClusterAgentToken":
                return { ...base, token: `bkct_${hex(`token::${name}`, 40)}` };
            default:
                return { ...base, ...(id ? { graphqlId: graphId } : {}) };
        }
    }
    if (pkg === "docker" && module.startsWith("index/image")) {
        return { repoDigest: `${String(inputs.imageName ?? name)}@sha256:${hex(JSON.stringify(inputs), 64)}` };
    }
    if (pkg === "github" && type === "github:index/repositoryWebhook:RepositoryWebhook") {
        return { url: `https://api.github.com/hooks/${parseInt(hex(name, 8), 16)}` };
    }
    return {};
}
