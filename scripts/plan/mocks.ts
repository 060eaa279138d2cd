import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";

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

/** The stack config key that turns default providers off, per package (`[aws, docker]`) or for all (`["*"]`). */
export const DISABLE_DEFAULT_PROVIDERS_KEY = "pulumi:disable-default-providers";

/**
 * The packages whose default provider the stack turns off, from the value Pulumi hands the program for
 * `pulumi:disable-default-providers` (a JSON list, as the plan's stack-file reader passes structured config). A
 * value that is not a list of strings turns nothing off here; the engine would reject it.
 */
export function disabledDefaultProviders(value: string | undefined): ReadonlySet<string> {
    if (value === undefined || value.trim() === "") return new Set();
    try {
        const parsed: unknown = JSON.parse(value);
        if (Array.isArray(parsed) && parsed.every((p) => typeof p === "string")) return new Set(parsed);
    } catch {
        // A bare word, as `pulumi config set pulumi:disable-default-providers aws` would store it.
    }
    return new Set([value.trim()]);
}

/** The package of a resource type or invoke token: `aws` for `aws:ecr/repository:Repository`. */
const packageOf = (token: string): string => token.split(":")[0];

/**
 * Remembers each provider's inputs so resources can be given their provider's region, and refuses, as the engine
 * does, a resource or invoke that would use a default provider the stack turned off with
 * `pulumi:disable-default-providers` (pulumi/pulumi#8829: a denied default provider fails the resource or invoke
 * that asks for it). Under the SDK's mock monitor a default provider shows as an empty provider reference.
 */
export class PlanMocks implements pulumi.runtime.Mocks {
    private readonly providerInputs = new Map<string, Inputs>();
    /**
     * By `<type>::<name>`, the name a resource had when it was created, for one registered with aliases (capture.ts
     * fills it in): the engine keeps a renamed resource's state, so its id, ARN and generated names stay those of
     * its first name, and so do the mock's.
     */
    public readonly stateNames = new Map<string, string>();
    private readonly disabled: ReadonlySet<string>;

    /** @param disabled Packages whose default provider is off; read from the stack config when omitted. */
    constructor(disabled?: ReadonlySet<string>) {
        this.disabled = disabled ?? disabledDefaultProviders(pulumi.runtime.getConfig(DISABLE_DEFAULT_PROVIDERS_KEY));
    }

    newResource(mocked: pulumi.runtime.MockResourceArgs): { id: string; state: Inputs } {
        const args = { ...mocked, name: this.stateNames.get(`${mocked.type}::${mocked.name}`) ?? mocked.name };
        const id = this.idFor(args);
        if (args.type.startsWith("pulumi:providers:")) {
            this.providerInputs.set(args.name, args.inputs);
            return { id, state: args.inputs };
        }
        if (args.custom !== false)
            this.refuseDefaultProvider(`resource ${args.type} "${args.name}"`, args.type, args.provider);
        const region = this.regionOf(args.provider);
        return { id, state: { ...args.inputs, ...computedOutputs(args.type, args.name, args.inputs, id, region) } };
    }

    call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
        this.refuseDefaultProvider(`invoke ${args.token}`, args.token, args.provider);
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

    /** Throws when `what` has no explicit provider and its package's default provider is turned off. */
    private refuseDefaultProvider(what: string, token: string, providerRef: string | undefined): void {
        const pkg = packageOf(token);
        if (providerRef || pkg === "pulumi") return;
        if (this.disabled.has(pkg) || this.disabled.has("*"))
            throw new Error(
                `${what} has no explicit provider, and the default ${pkg} provider is disabled (${DISABLE_DEFAULT_PROVIDERS_KEY}); pass { provider } (or the parent component's providers) when declaring it`,
            );
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
