/**
 * A kms cluster's signing key (README, "Signed pipelines", mode kms): the key `clusters[].signing.key` names, or one
 * the stack creates in the home region, multi-region, with a replica in each other region of the cluster's AWS fleets,
 * an alias, and (once the fleets' roles exist) the key policy of kms-keys.ts on the key and each replica.
 *
 * The agent accepts only an ECC_NIST_P256 SIGN_VERIFY key (buildkite/agent v3.137.0 internal/cryptosigner/aws/kms.go
 * `NewKMS`). Unlike the secrets keys (which live and die with their bucket) the key and its replicas are protected and
 * retained on delete, as the policy pack's stateful-resources-protected asks of KMS keys: every running agent holds
 * the key id from boot (buildkite/agent v3.137.0 clicommand/agent_start.go) and asks KMS for its public key for each
 * job, so a deleted key blocks every job of the cluster until the fleets roll. Rotation is a new key (asymmetric keys
 * do not rotate automatically): README, "Signed pipelines".
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { childName } from "../agents/naming";
import { KEY_DELETION_WINDOW_DAYS } from "../agents/secrets-bucket";
import { KMS_KEY_SPEC } from "./kms";
import { kmsKeyArnIn, type KmsKeyPlan, signingKeyPolicy } from "./kms-keys";

/** The component's type token. */
export const CLUSTER_SIGNING_KEY_TYPE = "ci-platform:signing:ClusterSigningKey";

/** Inputs of {@link ClusterSigningKey}. */
export interface ClusterSigningKeyArgs {
    /** Which key, and where (kms-keys.ts `kmsKeyPlans`). */
    readonly plan: KmsKeyPlan;
    /** AWS providers by region: the home region's and each replica region's. */
    readonly providers: Readonly<Record<string, aws.Provider>>;
}

/** Who uses a created key, for its policy (kms-keys.ts `signingKeyPolicy`). */
export interface SigningKeyUsers {
    readonly accountId: pulumi.Input<string>;
    readonly signerRoleArns: readonly pulumi.Input<string>[];
    readonly verifierRoleArns: readonly pulumi.Input<string>[];
    readonly writers: readonly pulumi.Input<string>[];
}

/** One kms cluster's signing key. */
/** What the component records of its key plan, for the plan and the policy pack. */
const recordedKeyPlan = (plan: KmsKeyPlan) => ({
    cluster: plan.cluster,
    named: plan.named ?? null,
    replicaRegions: [...plan.replicaRegions],
});

export class ClusterSigningKey extends pulumi.ComponentResource {
    /** The key's ARN in the home region: what the stored steps are signed with. */
    public readonly homeArn: pulumi.Output<string>;
    private readonly arns: Readonly<Record<string, pulumi.Output<string>>>;
    private readonly keys: readonly { readonly region: string; readonly keyId: pulumi.Output<string> }[];
    private readonly componentName: string;

    constructor(name: string, args: ClusterSigningKeyArgs, opts?: pulumi.ComponentResourceOptions) {
        const { plan } = args;
        super(CLUSTER_SIGNING_KEY_TYPE, name, recordedKeyPlan(plan), opts);
        this.componentName = name;
        const regions = [plan.homeRegion, ...plan.replicaRegions];
        if (plan.named !== undefined) {
            const named = plan.named;
            this.arns = Object.fromEntries(regions.map((r) => [r, pulumi.output(kmsKeyArnIn(named, r))]));
            this.keys = [];
        } else {
            const child = (region: string) => ({ parent: this, provider: args.providers[region] });
            const kept = (region: string) => ({ ...child(region), protect: true, retainOnDelete: true });
            const description = `ci-platform pipeline signing key of cluster ${plan.cluster}`;
            const key = new aws.kms.Key(
                childName(name, "key"),
                {
                    description,
                    keyUsage: "SIGN_VERIFY",
                    customerMasterKeySpec: KMS_KEY_SPEC,
                    multiRegion: true,
                    deletionWindowInDays: KEY_DELETION_WINDOW_DAYS,
                },
                kept(plan.homeRegion),
            );
            new aws.kms.Alias(
                childName(name, "alias"),
                { namePrefix: `alias/ci-platform-signing-${plan.cluster}-`, targetKeyId: key.keyId },
                child(plan.homeRegion),
            );
            const replicas = plan.replicaRegions.map((region) => ({
                region,
                key: new aws.kms.ReplicaKey(
                    childName(name, `replica-${region}`),
                    { primaryKeyArn: key.arn, description, deletionWindowInDays: KEY_DELETION_WINDOW_DAYS },
                    kept(region),
                ),
            }));
            this.arns = Object.fromEntries([
                [plan.homeRegion, key.arn],
                ...replicas.map((r) => [r.region, r.key.arn] as const),
            ]);
            this.keys = [
                { region: plan.homeRegion, keyId: key.keyId },
                ...replicas.map((r) => ({ region: r.region, keyId: r.key.keyId })),
            ];
        }
        this.homeArn = this.arnIn(plan.homeRegion);
        // What it records is among its outputs too: a real preview's stack policy reads outputs.
        this.registerOutputs({ ...recordedKeyPlan(plan), homeArn: this.homeArn });
    }

    /** The key's ARN in `region` (the replica's of a multi-region key). */
    arnIn(region: string): pulumi.Output<string> {
        const arn = this.arns[region];
        if (arn === undefined) throw new pulumi.ResourceError(`the signing key has no replica in ${region}`, this);
        return arn;
    }

    /** Sets the policy of a created key and its replicas, once the fleets' roles exist. A named key's is its owner's. */
    grant(users: SigningKeyUsers, providers: Readonly<Record<string, aws.Provider>>): void {
        for (const { region, keyId } of this.keys)
            new aws.kms.KeyPolicy(
                childName(this.componentName, `key-policy-${region}`),
                {
                    keyId,
                    policy: pulumi
                        .all([
                            users.accountId,
                            pulumi.all([...users.signerRoleArns]),
                            pulumi.all([...users.verifierRoleArns]),
                            pulumi.all([...users.writers]),
                        ])
                        .apply(([accountId, signerRoleArns, verifierRoleArns, writers]) =>
                            JSON.stringify(signingKeyPolicy({ accountId, signerRoleArns, verifierRoleArns, writers })),
                        ),
                },
                { parent: this, provider: providers[region] },
            );
    }
}
