/*
 * The cluster is the trust boundary, checked on what IAM and KMS would actually allow: for every AWS fleet and every
 * secrets object of the plan, the fleet's instance role can read (and decrypt) the object exactly when the fleet
 * serves the object's pipeline, or the object is organisation-wide and the fleet's cluster takes those
 * (policy/reachability.ts computes both sides from the resources alone).
 *
 * Too much: a role that reads a secret of a pipeline its fleet does not serve; any job on the fleet (and, without
 * the bootstrap's metadata block, any step container) can read it. Too little: a fleet that serves a pipeline but
 * cannot read that pipeline's secrets from its own region's bucket; its jobs run without them. Both are violations.
 * A pair the plan cannot decide (an unknown value during a real preview) is not reported.
 */
import type { StackFinding, StackRule } from "../rules";
import type { PlanResource } from "../resource";
import { mismatch, reachability } from "../reachability";

export const secretsReadableOnlyByServingFleets: StackRule = {
    kind: "stack",
    name: "secrets-readable-only-by-serving-fleets",
    description:
        "Every AWS fleet's instance role can read exactly the secrets objects of the pipelines the fleet serves (and the organisation's root objects when its cluster takes them): computed from the IAM policies, the Elastic CI Stack's own grants, the bucket policy and the KMS key policy.",
    enforcementLevel: "mandatory",
    severity: "critical",
    types: [
        "aws:s3/bucketObjectv2:BucketObjectv2",
        "aws:cloudformation/stack:Stack",
        "aws:iam/policy:Policy",
        "aws:iam/role:Role",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:s3/bucketPolicy:BucketPolicy",
        "aws:kms/key:Key",
    ],
    remediation:
        "Give each AWS fleet a platform-owned instance role (stack parameter InstanceRoleARN) whose policy grants s3:GetObject only on <bucket>/<slug>/* of the pipelines it serves (and the root objects when its cluster takes organisation secrets), and kms:Decrypt on the secrets key; serve a pipeline from the fleet whose queue it uses.",
    check(resources: readonly PlanResource[]): StackFinding[] {
        return reachability(resources).flatMap((reach): StackFinding[] => {
            const kind = mismatch(reach);
            if (kind === undefined) return [];
            const object = `s3://${reach.object.bucketName ?? "?"}/${reach.object.key}`;
            const owner =
                reach.object.pipeline === undefined
                    ? "an organisation-wide secret"
                    : `a secret of pipeline "${reach.object.pipeline}"`;
            return [
                kind === "too-much"
                    ? {
                          urn: reach.object.urn,
                          message: `AWS fleet "${reach.fleet}" can read ${object}, ${owner}, though it does not serve ${reach.object.pipeline === undefined ? "a cluster that takes organisation secrets" : "that pipeline"} (too much: ${reach.why}). Every job on the fleet can read it. Fix: give the fleet a platform-owned instance role (InstanceRoleARN) that reads only <bucket>/<slug>/* of the pipelines it serves, or move the pipeline to the fleet's queue.`,
                      }
                    : {
                          urn: reach.object.urn,
                          message: `AWS fleet "${reach.fleet}" serves ${reach.object.pipeline === undefined ? "a cluster that takes organisation secrets" : `pipeline "${reach.object.pipeline}"`} but cannot read ${object}, ${owner} in its own region's bucket (too little: ${reach.why}); its jobs run without it. Fix: grant the fleet's instance role s3:GetObject on ${object} and kms:Decrypt with the bucket's key.`,
                      },
            ];
        });
    },
};
