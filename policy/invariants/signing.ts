/*
 * Signed pipelines (README, "Signed pipelines"; components/signing): in a cluster that signs, every fleet verifies
 * the steps it runs and blocks a job that fails; the fleets that run uploads hold the signing key; every command
 * step the stack stores is signed. Verification off, unset or only warning is a warning that carries the reason.
 * Facts: elastic-ci-stack-for-aws v6.71.1 bk-install-elastic-stack.sh writes `verification-jwks-file` only when
 * BuildkiteAgentVerificationKeySSMParameter is set (without it the agent verifies nothing), and
 * PipelineSigningVerificationFailureBehavior becomes `verification-failure-behavior` (template default block).
 */
import { parse } from "yaml";
import type { PlanResource } from "../resource";
import { isOpaque, isRecord, isSet } from "../resource";
import type { StackFinding, StackRule } from "../rules";
import { readPlatform, type DeployedFleet } from "../platform";

const FLEET_COMPONENT = "ci-platform:agents:Fleet";
const PIPELINE = "buildkite:Pipeline/pipeline:Pipeline";
const STACK = "aws:cloudformation/stack:Stack";

/** What a fleet component records of its signing (components/agents/agent-fleet.ts `signingDeclaration`). */
interface Declared {
    readonly mode: string;
    readonly failureBehavior: string;
    readonly signs: boolean;
    readonly reason?: string;
}

function declared(component: PlanResource | undefined): Declared {
    const s = component?.inputs.signing;
    if (!isRecord(s)) return { mode: "unset", failureBehavior: "block", signs: false };
    return {
        mode: typeof s.mode === "string" ? s.mode : "unset",
        failureBehavior: typeof s.failureBehavior === "string" ? s.failureBehavior : "block",
        signs: s.signs === true,
        ...(typeof s.reason === "string" ? { reason: s.reason } : {}),
    };
}

/** Command steps of a stored steps document (groups' members too) that carry no signature. */
export function unsignedCommandSteps(stepsYaml: string): string[] {
    let doc: unknown;
    try {
        doc = parse(stepsYaml);
    } catch {
        return [];
    }
    const steps = isRecord(doc) && Array.isArray(doc.steps) ? doc.steps : [];
    const out: string[] = [];
    const visit = (step: unknown) => {
        if (!isRecord(step)) return;
        if (Array.isArray(step.steps)) step.steps.forEach(visit);
        const isCommand = "command" in step || "commands" in step;
        if (isCommand && !isRecord(step.signature)) out.push(String(step.key ?? step.label ?? "(unnamed)"));
    };
    steps.forEach(visit);
    return out;
}

/** Whether a declared mode signs and verifies: a JWKS or a KMS key. */
const verifies = (mode: string) => mode === "jwks" || mode === "kms";

/**
 * A kms fleet: bk-install-elastic-stack.sh (v6.71.1) writes `signing-aws-kms-key=<PipelineSigningKMSKeyId>`, which the
 * agent verifies with (buildkite/agent v3.137.0 clicommand/agent_start.go); without it the agent verifies nothing.
 */
function kmsProblems(where: string, p: DeployedFleet["parameters"], signing: Declared): string[] {
    const problems: string[] = [];
    if (!isSet(p.PipelineSigningKMSKeyId))
        problems.push(
            `${where} signs its cluster's steps with KMS but its stack sets no PipelineSigningKMSKeyId, so its agents verify nothing. Fix: pass the cluster's key in the fleet's region (components/signing/fleets.ts kmsStackParameters).`,
        );
    if (signing.signs && p.PipelineSigningKMSAccess !== "sign-and-verify" && !isOpaque(p.PipelineSigningKMSAccess))
        problems.push(
            `${where} runs uploads but its PipelineSigningKMSAccess is ${JSON.stringify(p.PipelineSigningKMSAccess ?? "unset")}: the steps it uploads go unsigned and every verifying agent refuses them. Fix: sign-and-verify for a fleet that runs uploads.`,
        );
    return problems;
}

function fleetProblems(fleet: DeployedFleet, signing: Declared): string[] {
    if (!verifies(signing.mode)) return [];
    const where = `fleet "${fleet.name}" (cluster ${fleet.cluster ?? "unknown"})`;
    if (fleet.kind !== "aws") return [];
    const p = fleet.parameters;
    const problems: string[] = signing.mode === "kms" ? kmsProblems(where, p, signing) : [];
    if (signing.mode === "jwks" && !isSet(p.BuildkiteAgentVerificationKeySSMParameter))
        problems.push(
            `${where} signs its cluster's steps but its stack sets no BuildkiteAgentVerificationKeySSMParameter, so its agents verify nothing. Fix: pass the fleet's verification key set (components/signing/fleets.ts signingStackParameters).`,
        );
    const behavior = p.PipelineSigningVerificationFailureBehavior ?? "block";
    const warnDeclared = signing.failureBehavior === "warn" && signing.reason !== undefined;
    if (behavior !== "block" && !isOpaque(behavior) && !warnDeclared)
        problems.push(
            `${where}: PipelineSigningVerificationFailureBehavior is ${JSON.stringify(behavior)}, so a job that fails verification still runs. Fix: leave clusters[].signing.failureBehavior at block, or set warn with a reason.`,
        );
    if (signing.mode === "jwks" && signing.signs && !isSet(p.BuildkiteAgentSigningKeySSMParameter))
        problems.push(
            `${where} runs uploads but gets no BuildkiteAgentSigningKeySSMParameter: the steps it uploads go unsigned and every verifying agent refuses them. Fix: give the fleet its cluster's signing key set.`,
        );
    return problems;
}

export const signedPipelinesVerified: StackRule = {
    kind: "stack",
    name: "signed-pipelines-verified",
    description:
        "In a cluster that signs its pipelines (a JWKS or a KMS key), every AWS fleet verifies job signatures and blocks a job that fails (unless the config says warn, with a reason), the fleets that run uploads sign, and every stored command step carries a signature.",
    enforcementLevel: "mandatory",
    severity: "high",
    types: [FLEET_COMPONENT, STACK, PIPELINE],
    remediation:
        "Keep clusters[].signing at mode jwks or kms with failureBehavior block; the program passes each fleet its key parameters and signs the stored steps.",
    check(resources): StackFinding[] {
        const platform = readPlatform(resources);
        const byUrn = new Map(resources.map((r) => [r.urn, r]));
        const findings: StackFinding[] = [];
        const signingClusters = new Set<string>();
        for (const fleet of platform.fleets) {
            const signing = declared(byUrn.get(fleet.urn));
            if (verifies(signing.mode) && fleet.cluster !== undefined) signingClusters.add(fleet.cluster);
            for (const message of fleetProblems(fleet, signing))
                findings.push({ urn: fleet.stack?.urn ?? fleet.urn, message });
        }
        for (const pipeline of platform.pipelines) {
            if (pipeline.cluster === undefined || !signingClusters.has(pipeline.cluster)) continue;
            const steps = byUrn.get(pipeline.urn)?.inputs.steps;
            if (typeof steps !== "string" || isOpaque(steps)) continue;
            const unsigned = unsignedCommandSteps(steps);
            if (unsigned.length > 0)
                findings.push({
                    urn: pipeline.urn,
                    message: `Buildkite pipeline "${pipeline.slug}" is in cluster ${pipeline.cluster}, whose agents verify signatures, but its stored steps ${unsigned.join(", ")} carry none: every build fails at them. Fix: store the steps signed (index.ts storedSteps, components/signing/stored-steps.ts).`,
                });
        }
        return findings;
    },
};

export const signingOffDeclared: StackRule = {
    kind: "stack",
    name: "signing-off-declared",
    description:
        "A fleet whose cluster turned signing off, or that runs jobs that fail verification (warn), is reported with the config's reason.",
    enforcementLevel: "advisory",
    severity: "medium",
    types: [FLEET_COMPONENT],
    remediation:
        'Set clusters[].signing to mode jwks (README, "Signed pipelines"); keep off or warn only with a reason in config.',
    check(resources): StackFinding[] {
        const platform = readPlatform(resources);
        const byUrn = new Map(resources.map((r) => [r.urn, r]));
        return platform.fleets.flatMap((fleet): StackFinding[] => {
            const s = declared(byUrn.get(fleet.urn));
            const where = `fleet "${fleet.name}" (cluster ${fleet.cluster ?? "unknown"})`;
            // A cluster without `signing` is left alone: the example stack plans clean without keys (README).
            if (s.mode === "off")
                return [{ urn: fleet.urn, message: `${where}: signing is off (${s.reason ?? "no reason given"}).` }];
            if (s.failureBehavior === "warn")
                return [
                    {
                        urn: fleet.urn,
                        message: `${where} runs jobs that fail verification (failureBehavior warn: ${s.reason ?? "no reason given"}).`,
                    },
                ];
            return [];
        });
    },
};
