import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
    MANAGED_POLICIES,
    STS_AUDIENCE,
    issuerHost,
    issuerOf,
    previewDenyPolicy,
    readRoleTokenKeysPolicy,
    trustPolicy,
} from "./policy-documents";
import { DeployRoleConfig } from "../config/deploy-roles";

/** Inputs for {@link DeployRoles}. */
export interface DeployRolesArgs {
    /** The validated roles (`ci-platform:deployRoles`). */
    readonly roles: readonly DeployRoleConfig[];
    /** The Buildkite organization slug: the `organization:` part of the subjects the roles trust. */
    readonly organization: string;
    /** The AWS account the roles and providers are in (the provider ARNs are built from it, so that the trust
     * policies are known at preview, before the providers exist). */
    readonly accountId: pulumi.Input<string>;
    /** Pipeline slug to the pipeline's UUID (`buildkite:Pipeline/pipeline:Pipeline` output `uuid`): the
     * `pipeline_id` session tag a Buildkite-trusted role requires. Needed for every pipeline a role trusts. */
    readonly pipelineIds: Readonly<Record<string, pulumi.Input<string>>>;
    /** ARNs of the platform's agent-token keys, which `read` roles may use through SSM to refresh the SecureString
     * token parameters. */
    readonly tokenKeyArns: readonly pulumi.Input<string>[];
}

/** An IAM OIDC provider's ARN: `arn:aws:iam::ACCOUNT:oidc-provider/HOST` (AWS IAM User Guide, "IAM ARNs"). */
export const oidcProviderArn = (accountId: string, issuer: string): string =>
    `arn:aws:iam::${accountId}:oidc-provider/${issuerHost(issuer)}`;

/** The child name of an issuer's OIDC provider: `agent.buildkite.com` → `oidc-agent-buildkite-com`. */
export const providerKey = (issuer: string): string => `oidc-${issuerHost(issuer).replace(/[^a-z0-9]+/g, "-")}`;

/**
 * The roles that deploy and preview this stack, each assumed per job with an OIDC token (Buildkite's or GitHub
 * Actions'), never held by an agent: one IAM OIDC provider per issuer, and per role its trust policy, its access
 * level's managed policies, for `read` the agent-token keys through SSM (drift checks refresh the token parameters),
 * and for `preview` the deny of secret values. The OIDC providers and the `deploy` roles
 * are protected: deleting them would leave CI unable to deploy the fix (README, "Deploy roles").
 */
export class DeployRoles extends pulumi.ComponentResource {
    /** Role name to role ARN (what `CI_PLATFORM_AWS_*_ROLE_ARN` and the repository variable are set to). */
    public readonly roleArns: pulumi.Output<Record<string, string>>;

    /**
     * @param name The _unique_ name of the component; children are named `${name}-<issuer or role>`.
     * @param args The roles and the organization.
     * @param opts Options; pass the home region's AWS provider in `providers`.
     */
    constructor(name: string, args: DeployRolesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ci-platform:access:DeployRoles", name, {}, opts);
        const issuers = [...new Set(args.roles.map(issuerOf))].sort();
        const providers = new Map(
            issuers.map((issuer) => [
                issuer,
                new aws.iam.OpenIdConnectProvider(
                    `${name}-${providerKey(issuer)}`,
                    { url: issuer, clientIdLists: [STS_AUDIENCE] },
                    { parent: this, protect: true },
                ),
            ]),
        );
        const arns: Record<string, pulumi.Output<string>> = {};
        const pipelineIdOf = (role: DeployRoleConfig): pulumi.Input<string | undefined> => {
            if (role.buildkite === undefined) return undefined;
            const id = args.pipelineIds[role.buildkite.pipeline];
            if (id === undefined)
                throw new Error(`deploy role "${role.name}": no UUID for pipeline "${role.buildkite.pipeline}"`);
            return id;
        };
        for (const config of args.roles) {
            const provider = providers.get(issuerOf(config)) as aws.iam.OpenIdConnectProvider;
            const role = new aws.iam.Role(
                `${name}-${config.name}`,
                {
                    name: config.name,
                    description: `ci-platform ${config.access} role, assumed per job through ${issuerHost(issuerOf(config))} OIDC`,
                    assumeRolePolicy: pulumi
                        .all([args.accountId, pipelineIdOf(config)])
                        .apply(([account, pipelineId]) =>
                            JSON.stringify(
                                trustPolicy(config, {
                                    organization: args.organization,
                                    providerArn: oidcProviderArn(account, issuerOf(config)),
                                    pipelineId,
                                }),
                            ),
                        ),
                    maxSessionDuration: config.maxSessionDurationSeconds,
                },
                { parent: this, protect: config.access === "deploy", dependsOn: [provider] },
            );
            for (const policyArn of MANAGED_POLICIES[config.access])
                new aws.iam.RolePolicyAttachment(
                    `${name}-${config.name}-${policyArn.slice(policyArn.lastIndexOf("/") + 1)}`,
                    { role: role.name, policyArn },
                    { parent: this },
                );
            if (config.access === "preview")
                new aws.iam.RolePolicy(
                    `${name}-${config.name}-no-secrets`,
                    { role: role.name, policy: JSON.stringify(previewDenyPolicy()) },
                    { parent: this },
                );
            if (config.access === "read" && args.tokenKeyArns.length > 0)
                new aws.iam.RolePolicy(
                    `${name}-${config.name}-token-parameters`,
                    {
                        role: role.name,
                        policy: pulumi
                            .all([...args.tokenKeyArns])
                            .apply((keys) => JSON.stringify(readRoleTokenKeysPolicy(keys))),
                    },
                    { parent: this },
                );
            arns[config.name] = role.arn;
        }
        this.roleArns = pulumi.output(arns);
        this.registerOutputs({ roleArns: this.roleArns });
    }
}
