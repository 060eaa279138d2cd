/**
 * What each fleet gets for signed pipelines: which fleets sign (they run the stored steps that upload), the SSM
 * parameters and Elastic CI Stack parameters of an AWS fleet, and a static fleet's agent config lines.
 *
 * Pure module. Facts:
 * - elastic-ci-stack-for-aws v6.71.1 packer/linux/stack/conf/bin/bk-install-elastic-stack.sh (and the .ps1): at
 *   boot, `aws ssm get-parameter --with-decryption` of BuildkiteAgentSigningKeySSMParameter into
 *   /etc/buildkite-agent/signing-key.json (`signing-jwks-file`), of BuildkiteAgentVerificationKeySSMParameter into
 *   verification-key.json (`verification-jwks-file`), both root:buildkite-agent 0640; BuildkiteAgentSigningKeyID
 *   becomes `signing-jwks-key-id`, PipelineSigningVerificationFailureBehavior `verification-failure-behavior`.
 * - The same template's IAMRole grants ssm:GetParameter on the agent token parameter only (ReadAgentToken), never
 *   on the signing or verification parameters; and with InstanceRoleARN set (ours) it creates no role at all, so
 *   our role's policy grants the reads (iam-policy.ts, ReadSigningKeys).
 * - buildkite/agent v3.137.0 agent/job_runner.go hands every job BUILDKITE_AGENT_JWKS_FILE (and _KEY_ID) from the
 *   agent's `signing-jwks-file`, and clicommand/pipeline_upload.go `jwks-file` (that variable) signs the command
 *   steps a `pipeline upload` uploads. Any job on a signing fleet can read the key: README, "Signed pipelines".
 *   Jobs are verified against
 *   `verification-jwks-file` (agent/verify_job.go), and `verification-failure-behavior` block refuses a job that
 *   fails (agent/run_job.go).
 */
import { createHash } from "node:crypto";
import type { FleetConfig, PlatformConfig, SigningConfig } from "../config/schema";
import type { Step } from "../steps/step-model";
import { publicJwks } from "./jws";

/** A fleet's part in signed pipelines. */
export interface FleetSigning {
    /**
     * `jwks` or `kms`: verifies (and signs uploads when {@link signs}) with the cluster's key set or KMS key; `off`:
     * declared off with a reason; `unset`: no config.
     */
    readonly mode: "jwks" | "kms" | "off" | "unset";
    /** `block` unless the cluster's config says `warn` (with a reason). */
    readonly failureBehavior: "block" | "warn";
    /** Why verification is off or only warns. */
    readonly reason?: string;
    /** Whether the fleet's agents hold the signing key: its queue runs stored steps that upload. */
    readonly signs: boolean;
    /** The kid of the signing key, when the config names one. */
    readonly signingKeyId?: string;
    /** The public JWKS agents verify with (text), for mode jwks. */
    readonly verificationJwks?: string;
}

/** Whether a stored command step uploads steps (`buildkite-agent pipeline upload`). */
function uploads(step: Step): boolean {
    if (step.kind === "group") return step.steps.some(uploads);
    return step.kind === "command" && step.commands.some((c) => /\bbuildkite-agent\s+pipeline\s+upload\b/.test(c));
}

/**
 * `cluster/queue` of every queue that runs a generated step that uploads: in a signing cluster the one stored step
 * (`storedUpload`, components/steps/stored-upload.ts), the steps of the document (stored elsewhere) that upload, and
 * the steps of the documents those upload that upload again.
 */
export function uploadQueues(
    config: Pick<PlatformConfig, "pipelines">,
    bySlug: Readonly<
        Record<
            string,
            {
                readonly storedSteps: readonly Step[];
                readonly storedUpload?: Step;
                readonly uploaded?: readonly { readonly steps: readonly Step[] }[];
            }
        >
    >,
): string[] {
    const queues = new Set<string>();
    for (const pipeline of config.pipelines) {
        const generated = bySlug[pipeline.slug];
        const steps = generated?.storedUpload !== undefined ? [generated.storedUpload] : [];
        // The documents the stored steps upload may upload again (none of the generator's do today).
        const nested = (generated?.uploaded ?? []).flatMap((u) => u.steps);
        for (const step of [...steps, ...(generated?.storedSteps ?? []), ...nested])
            if (uploads(step)) {
                const commands = step.kind === "group" ? step.steps : [step];
                for (const s of commands)
                    if (s.kind === "command" && uploads(s)) queues.add(`${pipeline.cluster}/${s.queue}`);
            }
    }
    return [...queues].sort();
}

/** The signing part of a fleet, from its cluster's config and the queues that upload. */
export function fleetSigning(
    signing: SigningConfig | undefined,
    fleet: Pick<FleetConfig, "cluster" | "queue">,
    signingUploadQueues: readonly string[],
): FleetSigning {
    if (signing === undefined) return { mode: "unset", failureBehavior: "block", signs: false };
    if (signing.mode === "off") return { mode: "off", failureBehavior: "block", reason: signing.reason, signs: false };
    if (signing.mode === "kms")
        return {
            mode: "kms",
            failureBehavior: signing.failureBehavior,
            ...(signing.reason !== undefined ? { reason: signing.reason } : {}),
            signs: signingUploadQueues.includes(`${fleet.cluster}/${fleet.queue}`),
        };
    return {
        mode: "jwks",
        failureBehavior: signing.failureBehavior,
        ...(signing.reason !== undefined ? { reason: signing.reason } : {}),
        signs: signingUploadQueues.includes(`${fleet.cluster}/${fleet.queue}`),
        ...(signing.signingKeyId !== undefined ? { signingKeyId: signing.signingKeyId } : {}),
        verificationJwks: JSON.stringify(publicJwks(signing.verificationKeys ?? [])),
    };
}

/** Hex digits of the key-set digest in a fleet's signing parameter paths. */
const DIGEST_HEX_DIGITS = 16;

/**
 * A short digest of PUBLIC signing material (a verification set, and for the signing path the kid signed with too).
 * The private set is never hashed (the name is visible in the plan, the stack parameters and CloudTrail); a new
 * private key is either a new kid or a new public key in the verification set (the agent verifies with that set
 * only, so a signing key whose public key is not in it signs nothing useful), and both change the signing path.
 */
function publicDigest(material: Record<string, string | null>): string {
    return createHash("sha256").update(JSON.stringify(material)).digest("hex").slice(0, DIGEST_HEX_DIGITS);
}

/**
 * SSM Parameter Store paths of a fleet's signing and verification key sets (the template's AllowedPattern
 * `^$|^/[a-zA-Z0-9_.\-/]+$`), named by a digest of their public material. The Elastic CI Stack reads both once, at boot
 * (elastic-ci-stack-for-aws v6.71.1 packer/linux/stack/conf/bin/bk-install-elastic-stack.sh lines 405-443, `aws ssm
 * get-parameter` into signing-key.json and verification-key.json; packer/windows/stack/conf/bin/
 * bk-install-elastic-stack.ps1 lines 183-218 the same), so a changed key set under a fixed path would reach new
 * instances only. A new digest is a new path, so a new BuildkiteAgentVerificationKeySSMParameter (and
 * BuildkiteAgentSigningKeySSMParameter), which the template writes into AgentLaunchTemplate's user data
 * (templates/aws-stack.yml, pinned copy lines 2376-2384 and 2478-2485): a new launch template, and the group's
 * AutoScalingReplacingUpdate replaces every instance (scripts/plan/consequences.ts INSTANCE_REPLACING_PARAMETERS).
 */
export function signingParameterPaths(
    physicalName: string,
    signing: Pick<FleetSigning, "signingKeyId" | "verificationJwks">,
): { signing: string; verification: string } {
    const verification = signing.verificationJwks ?? "";
    const kid = signing.signingKeyId ?? null;
    return {
        signing: `/ci-platform/${physicalName}/signing-jwks-${publicDigest({ kid, verification })}`,
        // The verification set alone: a new signing kid rolls only the fleets that sign.
        verification: `/ci-platform/${physicalName}/verification-jwks-${publicDigest({ verification })}`,
    };
}

/**
 * IAM resource patterns for every version of a fleet's key set paths ({@link signingParameterPaths}): a
 * CloudFormation rollback of a rotation boots instances with the previous path, which is retained
 * (agent-fleet.ts), so the role must still read it. IAM's `?` matches exactly one character, so
 * `<fleet>/verification-jwks-` and 16 of them match no other fleet's parameters (components/hooks/bundle.ts
 * fleetVersionedKeyPattern does the same for bootstrap scripts).
 */
export function signingParameterPatterns(physicalName: string, signs: boolean): string[] {
    const version = "?".repeat(DIGEST_HEX_DIGITS);
    return [
        ...(signs ? [`/ci-platform/${physicalName}/signing-jwks-${version}`] : []),
        `/ci-platform/${physicalName}/verification-jwks-${version}`,
    ];
}

/** The Elastic CI Stack parameters of a fleet's signing (none for a fleet that neither signs nor verifies). */
export function signingStackParameters(
    signing: FleetSigning,
    paths: { readonly signing: string; readonly verification: string },
): Record<string, string> {
    if (signing.mode !== "jwks") return {};
    return {
        BuildkiteAgentVerificationKeySSMParameter: paths.verification,
        PipelineSigningVerificationFailureBehavior: signing.failureBehavior,
        ...(signing.signs ? { BuildkiteAgentSigningKeySSMParameter: paths.signing } : {}),
        ...(signing.signs && signing.signingKeyId !== undefined
            ? { BuildkiteAgentSigningKeyID: signing.signingKeyId }
            : {}),
    };
}

/**
 * The Elastic CI Stack parameters of a kms fleet: `keyArn` is the key's ARN in the fleet's region (the replica's for a
 * multi-region key). With our InstanceRoleARN the template creates no role, so PipelineSigningKMSAccess grants nothing
 * (templates/aws-stack.yml: the PipelineSigningKMSKeyAccess policy is on its own IAMRole); it is set for what it says,
 * and our role's policy grants (iam-policy.ts, PipelineSigningKMS). elastic-ci-stack-for-aws v6.71.1
 * bk-install-elastic-stack.sh writes `signing-aws-kms-key=<PipelineSigningKMSKeyId>` into the agent config whatever
 * the access, and buildkite/agent v3.137.0 clicommand/agent_start.go makes that key the ONLY verification key (no
 * verification JWKS then) and agent/job_runner.go hands it to every job (BUILDKITE_AGENT_AWS_KMS_KEY), whose
 * `pipeline upload` then signs through KMS (clicommand/pipeline_upload.go): a fleet without kms:Sign cannot upload.
 * PipelineSigningKMSKeySpec stays `none`: the template refuses a key id and a spec together (its
 * HasPipelineSigningKMSKey rule).
 */
export function kmsStackParameters(signing: FleetSigning, keyArn: string): Record<string, string> {
    if (signing.mode !== "kms") return {};
    return {
        PipelineSigningKMSKeyId: keyArn,
        PipelineSigningKMSAccess: signing.signs ? "sign-and-verify" : "verify",
        PipelineSigningVerificationFailureBehavior: signing.failureBehavior,
    };
}

/**
 * The agent config lines a static fleet's machines need (buildkite-agent.cfg; buildkite/agent v3.137.0
 * clicommand/agent_start.go flags `verification-jwks-file`, `verification-failure-behavior`, `signing-jwks-file`,
 * `signing-jwks-key-id`). The files' paths are the machine's; the verification set is the stack output beside them.
 */
export function staticAgentConfigLines(signing: FleetSigning, kmsKeyArn?: string): string[] {
    // clicommand/agent_start.go `signing-aws-kms-key`: the key verifies, and signs the uploads of a machine whose AWS
    // credentials may kms:Sign; the machine's own credentials and region are the AWS SDK's defaults (awslib/awsv2.go).
    if (signing.mode === "kms")
        return [`signing-aws-kms-key=${kmsKeyArn ?? ""}`, `verification-failure-behavior=${signing.failureBehavior}`];
    if (signing.mode !== "jwks") return [];
    return [
        "verification-jwks-file=/etc/buildkite-agent/verification-key.json",
        `verification-failure-behavior=${signing.failureBehavior}`,
        ...(signing.signs
            ? [
                  "signing-jwks-file=/etc/buildkite-agent/signing-key.json",
                  ...(signing.signingKeyId !== undefined ? [`signing-jwks-key-id=${signing.signingKeyId}`] : []),
              ]
            : []),
    ];
}
