import { pipelinesServed } from "../../components/config/access-checks";
import type { PlatformConfig } from "../../components/config";
import type { Editable } from "./invariants/plan-resources";

/** The organisation-wide object keys at a bucket's root (elastic-ci-stack-s3-secrets-hooks v2.8.0 secrets.go). */
export const ROOT_OBJECT_PATTERNS = ["env", "environment", "private_ssh_key", "git-credentials", "secret-files/*"];

/**
 * `resources` (the prod plan) changed as the platform-owned role change would: each AWS fleet's stack gets an
 * InstanceRoleARN naming a new role whose inline policy reads `<bucket>/<slug>/*` of the pipelines the fleet serves
 * (the config's `pipelinesServed`, computed here from the config, not from the plan), the root objects when its
 * cluster takes the organisation's secrets, and decrypts with its region's keys. Mutates and returns `resources`.
 */
export function withScopedRoles(resources: Editable[], config: PlatformConfig): Editable[] {
    for (const stack of resources.filter((r) => r.type === "aws:cloudformation/stack:Stack")) {
        const fleet = config.fleets.find((f) => stack.name === `${f.name}-stack`);
        if (fleet === undefined || fleet.kind !== "aws") throw new Error(`no AWS fleet for ${stack.name}`);
        const parameters = stack.inputs.parameters as Record<string, string>;
        const bucket = parameters.SecretsBucket;
        const takesOrganization = config.clusters.find((c) => c.name === fleet.cluster)?.organizationSecrets !== false;
        const prefixes = [
            ...pipelinesServed(config, fleet).map((p) => `${p.slug}/*`),
            ...(takesOrganization ? ROOT_OBJECT_PATTERNS : []),
        ];
        const policy = {
            Version: "2012-10-17",
            Statement: [
                {
                    Effect: "Allow",
                    Action: "s3:GetObject",
                    Resource: prefixes.map((p) => `arn:aws:s3:::${bucket}/${p}`),
                },
                { Effect: "Allow", Action: "kms:Decrypt", Resource: `arn:aws:kms:${fleet.region}:123456789012:key/*` },
            ],
        };
        resources.push({
            urn: `urn:pulumi:prod::ci-platform::aws:iam/role:Role::${fleet.name}-role`,
            type: "aws:iam/role:Role",
            name: `${fleet.name}-role`,
            inputs: { inlinePolicies: [{ name: "secrets", policy: JSON.stringify(policy) }] },
            dependsOn: [],
        });
        parameters.InstanceRoleARN = `arn:aws:iam::123456789012:role/${fleet.name}-role-abcdef1`;
    }
    return resources;
}
