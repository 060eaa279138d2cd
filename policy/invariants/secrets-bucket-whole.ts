/*
 * A secrets bucket is kept or removed whole, never half. Removing a (region, cluster) from the config deletes every
 * child of its SecretsBucket component that is not retained and leaves in the account every child that is. If the
 * bucket and keys are retained but their guards are not, the versioning, the encryption default, the public-access
 * block, the TLS-only policy and the lifecycle rule are deleted and the bucket stays behind with every secret in it as
 * a noncurrent version that never expires, its key still able to decrypt them. So every child of the component has
 * the bucket's stance (protect, retainOnDelete): the program's is "nothing kept" (components/agents/secrets-bucket.ts
 * argues why), and a bucket that is deleted empties itself first (forceDestroy): S3 refuses to delete a bucket that
 * still holds object versions (terraform-provider-aws internal/service/s3/bucket.go resourceBucketDelete: only with
 * force_destroy does it empty the bucket and delete again), and its guards, which depend on it, would already be gone.
 *
 * One exception: an object (BucketObjectv2) may be retained on delete when the bucket is not retained and empties
 * itself (forceDestroy). Pulumi then leaves the object when the program drops it (a hooks bundle replaced by a new one,
 * kept so that a CloudFormation rollback still finds the bootstrap script and bundle it points at), and it goes when
 * the bucket goes: forceDestroy deletes every object version before the bucket. Its protect stance must still match.
 */
import type { PlanResource } from "../resource";
import type { StackFinding, StackRule } from "../rules";
import { typeOfUrn } from "./parents";

/** The SecretsBucket component's type (components/agents/naming.ts TYPES.secretsBucket). */
export const SECRETS_BUCKET_TYPE = "ci-platform:agents:SecretsBucket";

const BUCKET_TYPES = ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"];
const OBJECT_TYPES = ["aws:s3/bucketObjectv2:BucketObjectv2", "aws:s3/bucketObject:BucketObject"];

/** An object kept on delete inside a bucket that is deleted, and emptied first: it goes with the bucket. */
function retainedInEmptiedBucket(r: PlanResource, bucket: PlanResource): boolean {
    return (
        OBJECT_TYPES.includes(r.type) &&
        r.retainOnDelete === true &&
        bucket.retainOnDelete === false &&
        bucket.inputs.forceDestroy === true &&
        (r.protect === true) === (bucket.protect === true)
    );
}

/** Whether the resource's parent is a SecretsBucket component. */
export function isSecretsBucketChild(resource: Pick<PlanResource, "parent">): boolean {
    return typeof resource.parent === "string" && typeOfUrn(resource.parent) === SECRETS_BUCKET_TYPE;
}

const stance = (r: PlanResource) =>
    `${r.protect === true ? "protected" : "not protected"}, ${
        r.retainOnDelete === undefined ? "retention unknown" : r.retainOnDelete ? "retained" : "not retained"
    } on delete`;

export const secretsBucketWhole: StackRule = {
    kind: "stack",
    name: "secrets-bucket-whole",
    description:
        "Every child of a secrets bucket (keys, aliases, key policies, versioning, encryption, public-access block, TLS-only policy, lifecycle, objects) is protected and retained on delete exactly when the bucket is (objects may be retained in a bucket that empties itself: they go with it), and a bucket that is deleted empties itself (forceDestroy): removing a region removes or keeps its secrets bucket whole, never half.",
    enforcementLevel: "mandatory",
    severity: "high",
    types: [SECRETS_BUCKET_TYPE, ...BUCKET_TYPES],
    remediation:
        "Give every child of the SecretsBucket component the bucket's resource options (components/agents/secrets-bucket.ts SECRETS_BUCKET_STANCE), and set forceDestroy: true on a bucket that is not retained.",
    check(resources): StackFinding[] {
        const children = new Map<string, PlanResource[]>();
        for (const r of resources)
            if (isSecretsBucketChild(r) && r.parent) children.set(r.parent, [...(children.get(r.parent) ?? []), r]);
        return resources
            .filter((r) => r.type === SECRETS_BUCKET_TYPE)
            .flatMap((component): StackFinding[] => {
                const own = children.get(component.urn) ?? [];
                const bucket = own.find((r) => BUCKET_TYPES.includes(r.type));
                if (!bucket) return [];
                const findings: StackFinding[] = [];
                const differs = own.filter(
                    (r) =>
                        r !== bucket &&
                        !retainedInEmptiedBucket(r, bucket) &&
                        ((r.protect === true) !== (bucket.protect === true) ||
                            (r.retainOnDelete !== undefined &&
                                bucket.retainOnDelete !== undefined &&
                                r.retainOnDelete !== bucket.retainOnDelete)),
                );
                for (const r of differs)
                    findings.push({
                        urn: r.urn,
                        message: `${r.type.split(":").pop()} "${r.name}" of secrets bucket ${component.name} is ${stance(r)}, but the bucket is ${stance(bucket)}: removing the region would ${bucket.retainOnDelete === true ? "delete this guard and keep the bucket without it" : "keep this part and delete the rest"}. Fix: give every child of the SecretsBucket the bucket's protect and retainOnDelete (SECRETS_BUCKET_STANCE).`,
                    });
                if (bucket.retainOnDelete === false && bucket.inputs.forceDestroy !== true)
                    findings.push({
                        urn: bucket.urn,
                        message: `Bucket "${bucket.name}" of secrets bucket ${component.name} is deleted with the region but not emptied first (forceDestroy is not true): S3 refuses to delete a bucket holding object versions, so the delete fails after its guards are gone. Fix: set forceDestroy: true.`,
                    });
                return findings;
            });
    },
};
