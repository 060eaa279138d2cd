/*
 * The platform owns each AWS fleet's instance role, and KMS keys name who may use them.
 *
 * - elastic-stack-own-instance-role: every Elastic CI Stack is given InstanceRoleARN. Without it the stack creates
 *   its own role (elastic-ci-stack-for-aws v6.71.1 templates/aws-stack.yml IAMRole/IAMPolicies, `Condition:
 *   CreateIAMRole`), which grants `s3:Get*`/`s3:List*` on the whole SecretsBucket, an unconditional kms:Decrypt on
 *   BuildkiteAgentTokenParameterStoreKMSKey (DecryptAgentToken), and with ECRAccessPolicy other than `none` the AWS
 *   managed ECR policy (ECRManagedPolicy map: read on every repository of the account). With our role, none of that
 *   exists, and the prefix-scoped grants of components/agents/iam-policy.ts are the whole story.
 * - kms-key-policy-named-principals: no key policy allows everyone (`*`), and every statement that lets a principal
 *   use a key (Decrypt, Encrypt, GenerateDataKey*, ReEncrypt*) says through which service (kms:ViaService) and for
 *   what data (a kms:EncryptionContext:* key). Signing (kms:Sign, kms:Verify with an asymmetric SIGN_VERIFY key, the
 *   KMS mode of signed pipelines) goes through no service and has no encryption context: such a statement must fix
 *   the algorithm instead (kms:SigningAlgorithm; AWS KMS Developer Guide, "kms:SigningAlgorithm").
 *   Administration statements (no cryptographic action) are left alone.
 */
import { asList, isOpaque, isRecord, isSet, jsonDocument, type PlanResource, stackParameters } from "../resource";
import type { ResourceRule } from "../rules";

export const elasticStackOwnInstanceRole: ResourceRule = {
    kind: "resource",
    name: "elastic-stack-own-instance-role",
    description:
        "Every Elastic CI Stack runs on an instance role the platform owns (parameter InstanceRoleARN), so the stack creates none with its bucket-wide, unconditional grants.",
    enforcementLevel: "mandatory",
    severity: "critical",
    types: ["aws:cloudformation/stack:Stack"],
    remediation:
        "Create the fleet's aws.iam.Role (trusting ec2.amazonaws.com) with its scoped policy and pass its ARN as parameters.InstanceRoleARN.",
    check(resource) {
        const parameters = stackParameters(resource);
        // Only Elastic CI Stacks: they take a Buildkite queue.
        if (!("BuildkiteQueue" in parameters)) return [];
        const role = parameters.InstanceRoleARN;
        if (isSet(role)) return [];
        const ecr = parameters.ECRAccessPolicy;
        const ecrNote =
            typeof ecr === "string" && ecr !== "none"
                ? ` and, with ECRAccessPolicy "${ecr}", an AWS managed ECR policy that reads every repository of the account`
                : "";
        return [
            `Elastic CI Stack "${resource.name}" has no InstanceRoleARN, so it creates its own instance role: s3:Get* and s3:List* on the whole SecretsBucket (every pipeline's secrets), an unconditional kms:Decrypt on the token key${ecrNote}. Fix: pass the ARN of the fleet's own role, whose policy reads only the prefixes of the pipelines the fleet serves, as parameters.InstanceRoleARN.`,
        ];
    },
};

const USAGE_ACTION = /^kms:(\*|Decrypt|Encrypt|GenerateDataKey.*|ReEncrypt.*|Generate.*|Sign|Verify)$/;
/** Signing actions: conditioned on the algorithm, not on a service or an encryption context. */
const SIGNING_ACTION = /^kms:(Sign|Verify)$/;

/** The principals a statement names, as strings (`*` for Principal: "*"). */
function principalsOf(statement: Record<string, unknown>): string[] {
    const principal = statement.Principal;
    if (principal === "*") return ["*"];
    if (!isRecord(principal)) return [];
    return Object.values(principal).flatMap((v) => asList(v).map(String));
}

/** The condition keys a statement tests, whatever the operator. */
function conditionKeys(statement: Record<string, unknown>): string[] {
    const condition = statement.Condition;
    if (!isRecord(condition)) return [];
    return Object.values(condition).flatMap((byKey) => (isRecord(byKey) ? Object.keys(byKey) : []));
}

/** What is wrong with one key policy document; none when it complies. */
export function keyPolicyProblems(document: Record<string, unknown>): string[] {
    const problems: string[] = [];
    asList(document.Statement).forEach((value, i) => {
        if (!isRecord(value) || value.Effect !== "Allow") return;
        const sid = typeof value.Sid === "string" ? value.Sid : `#${i}`;
        if (principalsOf(value).includes("*"))
            problems.push(`statement ${sid} allows every principal ("*"); name the roles or the account instead`);
        const usage = asList(value.Action)
            .map(String)
            .filter((a) => USAGE_ACTION.test(a));
        if (usage.length === 0) return;
        const keys = conditionKeys(value);
        if (usage.every((a) => SIGNING_ACTION.test(a))) {
            if (!keys.includes("kms:SigningAlgorithm"))
                problems.push(
                    `statement ${sid} allows ${usage.join(", ")} without a condition on kms:SigningAlgorithm`,
                );
            return;
        }
        const missing = [
            ...(keys.includes("kms:ViaService") ? [] : ["kms:ViaService"]),
            ...(keys.some((k) => k.startsWith("kms:EncryptionContext:")) ? [] : ["a kms:EncryptionContext:* key"]),
        ];
        if (missing.length > 0)
            problems.push(
                `statement ${sid} allows ${usage.join(", ")} without a condition on ${missing.join(" and ")}`,
            );
    });
    return problems;
}

export const kmsKeyPolicyNamedPrincipals: ResourceRule = {
    kind: "resource",
    name: "kms-key-policy-named-principals",
    description:
        "Every KMS key policy names its principals, and each grant to use a key is conditioned on the service it goes through (kms:ViaService) and on the data it is for (an encryption context).",
    enforcementLevel: "mandatory",
    severity: "high",
    types: ["aws:kms/keyPolicy:KeyPolicy", "aws:kms/key:Key"],
    remediation:
        'Write the key policy with named principals only: the account root for administration, the fleet roles for kms:Decrypt with Condition StringEquals {"kms:ViaService": "<service>.<region>.amazonaws.com", "kms:EncryptionContext:...": ...}.',
    check(resource: PlanResource) {
        const value = resource.inputs.policy;
        // A key without a policy input gets the default (administration by the account); its KeyPolicy is judged.
        if (value === undefined || isOpaque(value)) return [];
        const document = jsonDocument(value);
        if (document === undefined) return [`KMS key policy of "${resource.name}" is not a JSON document.`];
        return keyPolicyProblems(document).map(
            (p) =>
                `KMS key policy of "${resource.name}": ${p}. Fix: name the principals, and add kms:ViaService and kms:EncryptionContext conditions to every grant that uses the key.`,
        );
    },
};
