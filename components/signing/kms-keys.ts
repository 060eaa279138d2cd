/**
 * The KMS keys of clusters that sign with `mode: kms` (README, "Signed pipelines"): which key each fleet uses, where
 * the stack creates one, and the key policy. Pure: config in, plain values out.
 *
 * Facts: KMS keys are regional and an agent's KMS client uses its instance's region (buildkite/agent v3.137.0
 * internal/awslib/awsv2.go `GetConfigV2`); a multi-region key's replicas share its key id (`mrk-...`) and key material,
 * so a signature by one verifies with any (AWS KMS Developer Guide, "Multi-Region keys in AWS KMS"). What the agent
 * calls (internal/cryptosigner/aws/kms.go): kms:GetPublicKey when it starts and to verify each job (its `Public()`),
 * kms:Sign (ECDSA_SHA_256) for a `pipeline upload`; never kms:Verify.
 */
import { fleetRegions } from "../config/regions";
import type { PlatformConfig } from "../config/schema";
import type { KeyPolicyDocument, KeyPolicyStatement } from "../agents/key-policy";
import { accountRoot, administer, rootFor } from "../agents/key-policy";
import { KMS_SIGNING_ALGORITHM_SPEC } from "./kms";

/** One kms cluster's key: named in config, or created by the stack in `homeRegion` with replicas. */
export interface KmsKeyPlan {
    readonly cluster: string;
    /** The ARN `clusters[].signing.key` names; undefined: the stack creates the key. */
    readonly named?: string;
    /** Where the created key's primary lives: the stack's home region (components/config/regions.ts). */
    readonly homeRegion: string;
    /** The regions of the cluster's AWS fleets other than the home region: a replica in each. */
    readonly replicaRegions: readonly string[];
}

/** The key of each cluster whose signing is `mode: kms`, in config order. */
export function kmsKeyPlans(config: Pick<PlatformConfig, "clusters" | "fleets" | "homeRegion">): KmsKeyPlan[] {
    return config.clusters.flatMap((cluster): KmsKeyPlan[] => {
        const signing = cluster.signing;
        if (signing?.mode !== "kms") return [];
        return [
            {
                cluster: cluster.name,
                ...(signing.key !== undefined ? { named: signing.key } : {}),
                homeRegion: config.homeRegion,
                replicaRegions: fleetRegions(config, cluster.name).filter((r) => r !== config.homeRegion),
            },
        ];
    });
}

/** The ARN of a (multi-region) key in `region`: the same key id, the region swapped (a replica's ARN). */
export function kmsKeyArnIn(keyArn: string, region: string): string {
    return keyArn.replace(/^(arn:[^:]+:kms:)[^:]+(:)/, `$1${region}$2`);
}

/** Inputs of {@link signingKeyPolicy}. */
export interface SigningKeyPolicyInput {
    readonly accountId: string;
    /** Instance roles of the cluster's fleets that run uploads: they sign. */
    readonly signerRoleArns: readonly string[];
    /** Instance roles of every AWS fleet of the cluster: they read the public key to verify. */
    readonly verifierRoleArns: readonly string[];
    /** The deploy roles and key administrators: they administer the key and sign the stored steps. */
    readonly writers: readonly string[];
    /** Defaults to "aws". */
    readonly partition?: string;
}

/**
 * The signing key's policy, in the style of the secrets keys' (components/agents/key-policy.ts): the account root
 * administers it (narrowed to the writers when there are any), the writers sign (the stored steps, at deploy), the
 * upload fleets' roles sign, every fleet's role reads the public key. Signing only with ECDSA_SHA_256, the agent's.
 */
export function signingKeyPolicy(input: SigningKeyPolicyInput): KeyPolicyDocument {
    const partition = input.partition ?? "aws";
    const root = accountRoot(partition, input.accountId);
    const algorithm = { StringEquals: { "kms:SigningAlgorithm": KMS_SIGNING_ALGORITHM_SPEC } };
    const roles = (arns: readonly string[]) => [...new Set(arns)].sort();
    const statements: KeyPolicyStatement[] = [
        administer(partition, input.accountId, input.writers),
        ...rootFor(root, "WritersSignStoredSteps", ["kms:Sign"], input.writers, algorithm),
    ];
    if (input.signerRoleArns.length > 0)
        statements.push({
            Sid: "UploadFleetsSign",
            Effect: "Allow",
            Principal: { AWS: roles(input.signerRoleArns) },
            Action: ["kms:Sign"],
            Resource: "*",
            Condition: algorithm,
        });
    if (input.verifierRoleArns.length > 0)
        statements.push({
            Sid: "FleetsReadPublicKey",
            Effect: "Allow",
            Principal: { AWS: roles(input.verifierRoleArns) },
            Action: ["kms:GetPublicKey"],
            Resource: "*",
        });
    return { Version: "2012-10-17", Statement: statements };
}
