/*
 * Signed pipelines (README, "Signed pipelines"; components/signing): in a cluster that signs, every fleet verifies
 * the steps it runs and blocks a job that fails; the fleets that run uploads hold the signing key; every command
 * step the stack stores is signed. Verification off, unset or only warning is a warning that carries the reason.
 * Which fleets run uploads is derived from the plan (the stored steps of each pipeline), not taken from the fleet
 * component's own `signs` claim.
 * Facts: elastic-ci-stack-for-aws v6.71.1 bk-install-elastic-stack.sh writes `verification-jwks-file` only when
 * BuildkiteAgentVerificationKeySSMParameter is set (without it the agent verifies nothing), and
 * PipelineSigningVerificationFailureBehavior becomes `verification-failure-behavior` (template default block).
 * Windows fleets get the same: packer/windows/stack/conf/bin/bk-install-elastic-stack.ps1 (v6.71.1, lines 178-218)
 * fetches both parameters into C:\buildkite-agent\signing-key.json and verification-key.json and writes the same
 * agent config lines, so the rules below hold for them unchanged.
 */
import { yamlStream, yamlValue } from "../../components/steps/parsed-yaml";
import type { PlanResource } from "../resource";
import { isOpaque, isRecord, isSet } from "../resource";
import type { StackFinding, StackRule } from "../rules";
import { readPlatform, type DeployedFleet } from "../platform";
import { MAX_UPLOAD_DEPTH, uploadedTexts } from "./step-schema";

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

/**
 * Whether a command runs `buildkite-agent pipeline upload`, however its document arrives (a file, the repository's
 * `.buildkite/pipeline.yml`, or standard input, e.g. `printenv CI_PLATFORM_PIPELINE | base64 --decode |
 * buildkite-agent pipeline upload`). buildkite/agent v3.137.0 clicommand/pipeline_upload.go signs what it uploads
 * with the agent's `signing-jwks-file` (BUILDKITE_AGENT_JWKS_FILE).
 */
const UPLOADS = /\bbuildkite-agent\s+pipeline\s+upload\b/;

/** The queue a stored step names: `agents: {queue: x}` or `agents: ["queue=x"]`. */
function stepQueue(step: Record<string, unknown>): string | undefined {
    const agents = step.agents;
    if (isRecord(agents)) return typeof agents.queue === "string" ? agents.queue : undefined;
    if (Array.isArray(agents))
        for (const tag of agents) if (typeof tag === "string" && tag.startsWith("queue=")) return tag.slice(6);
    return undefined;
}

/**
 * The queues of a stored steps document's command steps (groups' members too) that run an upload, sorted. A step
 * that names no queue goes to its cluster's default queue, which the platform never sets: it is left out.
 */
export function uploadingQueues(stepsYaml: string): string[] {
    let doc: unknown;
    try {
        doc = yamlValue(stepsYaml);
    } catch {
        return [];
    }
    return [...queuesOf(doc)].sort();
}

/** The queues of a parsed document's command steps (groups' members too) that run an upload. */
function queuesOf(doc: unknown): Set<string> {
    const queues = new Set<string>();
    for (const step of everyStep(
        isRecord(doc) && Array.isArray(doc.steps) ? doc.steps : Array.isArray(doc) ? doc : [],
    )) {
        const commands = [step.command, step.commands].flat().filter((c): c is string => typeof c === "string");
        const queue = stepQueue(step);
        if (queue !== undefined && commands.some((c) => UPLOADS.test(c))) queues.add(queue);
    }
    return queues;
}

/**
 * A stored steps document and every document uploaded from it, at any depth (a signing pipeline's stored step uploads
 * the document whose trigger and package steps upload theirs), each read as `steps-match-pipeline-schema` reads them:
 * every document of each stream, parsed once.
 */
function documentChain(stepsYaml: string): unknown[] {
    const out: unknown[] = [];
    let level = [stepsYaml];
    for (let depth = 0; depth <= MAX_UPLOAD_DEPTH && level.length > 0; depth++) {
        const parsed = level.flatMap((text) => {
            try {
                return yamlStream(text).flatMap((doc) => (doc.error !== undefined ? [] : [doc.value]));
            } catch {
                return [];
            }
        });
        out.push(...parsed);
        level = parsed.flatMap((value) => uploadedTexts(value).map((u) => u.text));
    }
    return out;
}

/** The queues that run an upload in a stored steps document or any document uploaded from it, sorted. */
export function chainUploadingQueues(stepsYaml: string): string[] {
    return [...new Set(documentChain(stepsYaml).flatMap((doc) => [...queuesOf(doc)]))].sort();
}

/**
 * A pipeline's stored steps as the plan has them, or, while a deploy-time KMS signature makes them unknown (a
 * preview that creates or replaces one), the same steps before signing, which its component records
 * (components/buildkite/pipeline.ts `stepsBeforeSigning`). Undefined when neither can be read.
 */
function readableSteps(byUrn: ReadonlyMap<string, PlanResource>, urn: string): string | undefined {
    const resource = byUrn.get(urn);
    const steps = resource?.inputs.steps;
    if (typeof steps === "string" && !isOpaque(steps)) return steps;
    const before = byUrn.get(resource?.parent ?? "")?.inputs.stepsBeforeSigning;
    return typeof before === "string" && !isOpaque(before) ? before : undefined;
}

/** `cluster/queue` of every queue of a signing cluster whose pipelines' stored steps, or the documents they upload, run an upload. */
function planUploadQueues(
    platform: ReturnType<typeof readPlatform>,
    byUrn: ReadonlyMap<string, PlanResource>,
    clusters: ReadonlySet<string>,
) {
    const out = new Set<string>();
    for (const pipeline of platform.pipelines) {
        // Only a signing cluster's fleets are judged on it (fleetProblems).
        if (pipeline.cluster === undefined || !clusters.has(pipeline.cluster)) continue;
        const steps = readableSteps(byUrn, pipeline.urn);
        if (steps === undefined) continue;
        // The stored steps, and the document a signing pipeline's one stored step uploads: its own upload steps
        // (the repository's pipeline.yml, trigger and package uploads) run on their queues and sign there too.
        for (const queue of chainUploadingQueues(steps)) out.add(`${pipeline.cluster}/${queue}`);
    }
    return out;
}

/** Every step of a list, groups' members (before their group) too, in document order; non-objects left out. */
function everyStep(steps: readonly unknown[]): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    const visit = (step: unknown) => {
        if (!isRecord(step)) return;
        if (Array.isArray(step.steps)) step.steps.forEach(visit);
        out.push(step);
    };
    steps.forEach(visit);
    return out;
}

/** A stored steps document parsed, or undefined when it is not YAML (another rule's finding). */
function parsedSteps(stepsYaml: string): unknown {
    try {
        return yamlValue(stepsYaml);
    } catch {
        return undefined;
    }
}

/** A parsed stored document's command steps (groups' members too). */
function commandSteps(doc: unknown): Record<string, unknown>[] {
    const steps = isRecord(doc) && Array.isArray(doc.steps) ? doc.steps : [];
    return everyStep(steps).filter((step) => "command" in step || "commands" in step);
}

const stepName = (step: Record<string, unknown>) => String(step.key ?? step.label ?? "(unnamed)");

/** Command steps of a stored steps document (groups' members too) that carry no signature. */
export function unsignedCommandSteps(stepsYaml: string): string[] {
    return unsignedOf(parsedSteps(stepsYaml));
}

function unsignedOf(doc: unknown): string[] {
    return commandSteps(doc)
        .filter((step) => !isRecord(step.signature))
        .map(stepName);
}

/**
 * Stored command steps (groups' members too) whose signed wire form (command, env, plugins) or the document's env
 * holds a `$`: signed as Buildkite's interpolation would leave them, which buildkite/agent v3.137.0
 * clicommand/tool_sign.go `validateNoInterpolations` refuses to sign. `(env)` names the document's env.
 */
export function dollarCommandSteps(stepsYaml: string): string[] {
    return dollarOf(parsedSteps(stepsYaml));
}

function dollarOf(doc: unknown): string[] {
    const env = isRecord(doc) && JSON.stringify(doc.env ?? null).includes("$") ? ["(env)"] : [];
    const wire = (step: Record<string, unknown>) =>
        JSON.stringify([step.command ?? null, step.commands ?? null, step.env ?? null, step.plugins ?? null]);
    return [
        ...env,
        ...commandSteps(doc)
            .filter((step) => wire(step).includes("$"))
            .map(stepName),
    ];
}

/** Whether a declared mode signs and verifies: a JWKS or a KMS key. */
const verifies = (mode: string) => mode === "jwks" || mode === "kms";

/**
 * A kms fleet: bk-install-elastic-stack.sh (v6.71.1) writes `signing-aws-kms-key=<PipelineSigningKMSKeyId>`, which the
 * agent verifies with (buildkite/agent v3.137.0 clicommand/agent_start.go); without it the agent verifies nothing.
 */
function kmsProblems(where: string, p: DeployedFleet["parameters"], runsUploads: boolean): string[] {
    const problems: string[] = [];
    if (!isSet(p.PipelineSigningKMSKeyId))
        problems.push(
            `${where} signs its cluster's steps with KMS but its stack sets no PipelineSigningKMSKeyId, so its agents verify nothing. Fix: pass the cluster's key in the fleet's region (components/signing/fleets.ts kmsStackParameters).`,
        );
    if (runsUploads && p.PipelineSigningKMSAccess !== "sign-and-verify" && !isOpaque(p.PipelineSigningKMSAccess))
        problems.push(
            `${where} runs uploads but its PipelineSigningKMSAccess is ${JSON.stringify(p.PipelineSigningKMSAccess ?? "unset")}: the steps it uploads go unsigned and every verifying agent refuses them. Fix: sign-and-verify for a fleet that runs uploads.`,
        );
    return problems;
}

function fleetProblems(fleet: DeployedFleet, signing: Declared, runsUploads: boolean): string[] {
    if (!verifies(signing.mode)) return [];
    const where = `fleet "${fleet.name}" (cluster ${fleet.cluster ?? "unknown"})`;
    if (fleet.kind !== "aws") return [];
    const p = fleet.parameters;
    const problems: string[] = signing.mode === "kms" ? kmsProblems(where, p, runsUploads) : [];
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
    // Derived from the plan: its queue runs stored steps that upload, whatever the component claims (`signs`).
    if (signing.mode === "jwks" && runsUploads && !isSet(p.BuildkiteAgentSigningKeySSMParameter))
        problems.push(
            `${where} runs uploads (queue ${fleet.queue ?? "unknown"} runs stored steps that call buildkite-agent pipeline upload) but gets no BuildkiteAgentSigningKeySSMParameter${signing.signs ? "" : " (its component declares signs: false)"}: the steps it uploads go unsigned and every verifying agent refuses them. Fix: give the fleet its cluster's signing key set (components/signing/fleets.ts uploadQueues).`,
        );
    return problems;
}

export const signedPipelinesVerified: StackRule = {
    kind: "stack",
    name: "signed-pipelines-verified",
    description:
        "In a cluster that signs its pipelines (a JWKS or a KMS key), every AWS fleet verifies job signatures and blocks a job that fails (unless the config says warn, with a reason), the fleets that run uploads sign, and every stored command step carries a signature over text with no `$`.",
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
        for (const fleet of platform.fleets)
            if (verifies(declared(byUrn.get(fleet.urn)).mode) && fleet.cluster !== undefined)
                signingClusters.add(fleet.cluster);
        const uploads = planUploadQueues(platform, byUrn, signingClusters);
        for (const fleet of platform.fleets) {
            const signing = declared(byUrn.get(fleet.urn));
            const runsUploads = uploads.has(`${fleet.cluster ?? ""}/${fleet.queue ?? ""}`);
            for (const message of fleetProblems(fleet, signing, runsUploads))
                findings.push({ urn: fleet.stack?.urn ?? fleet.urn, message });
        }
        for (const pipeline of platform.pipelines) {
            if (pipeline.cluster === undefined || !signingClusters.has(pipeline.cluster)) continue;
            const stored = byUrn.get(pipeline.urn)?.inputs.steps;
            const steps = readableSteps(byUrn, pipeline.urn);
            if (steps === undefined) continue;
            // Steps read before signing (their signature is made at deploy) carry none yet: only the `$` check holds.
            const doc = parsedSteps(steps);
            const unsigned = steps === stored ? unsignedOf(doc) : [];
            if (unsigned.length > 0)
                findings.push({
                    urn: pipeline.urn,
                    message: `Buildkite pipeline "${pipeline.slug}" is in cluster ${pipeline.cluster}, whose agents verify signatures, but its stored steps ${unsigned.join(", ")} carry none: every build fails at them. Fix: store the steps signed (index.ts storedSteps, components/signing/stored-steps.ts).`,
                });
            const dollar = dollarOf(doc);
            if (dollar.length > 0)
                findings.push({
                    urn: pipeline.urn,
                    message: `Buildkite pipeline "${pipeline.slug}" is in cluster ${pipeline.cluster}, which signs, but its stored steps ${dollar.join(", ")} hold a \`$\` in what is signed: the signature is over text Buildkite interpolates first, which buildkite-agent's own signing refuses. Fix: store one step that uploads the document (components/steps/stored-upload.ts).`,
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
            // A cluster without `signing` is signing-unset's (below).
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

export const signingUnset: StackRule = {
    kind: "stack",
    name: "signing-unset",
    description:
        "A cluster with fleets (AWS or on-premises) and no signing config verifies no job: anyone who can edit a pipeline's steps, or holds an API token, runs any command on its agents.",
    enforcementLevel: "advisory",
    severity: "medium",
    types: [FLEET_COMPONENT],
    remediation:
        'Set clusters[].signing: mode jwks with the cluster\'s public key (README, "Signed pipelines"), or mode off with a reason.',
    check(resources): StackFinding[] {
        const platform = readPlatform(resources);
        const byUrn = new Map(resources.map((r) => [r.urn, r]));
        const unset = new Map<string, DeployedFleet[]>();
        for (const fleet of platform.fleets)
            if (declared(byUrn.get(fleet.urn)).mode === "unset") {
                const cluster = fleet.cluster ?? "unknown";
                unset.set(cluster, [...(unset.get(cluster) ?? []), fleet]);
            }
        return [...unset.entries()]
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
            .map(([cluster, fleets]) => {
                const names = fleets.map((f) => f.name).sort();
                return {
                    urn: fleets.find((f) => f.name === names[0])?.urn ?? fleets[0].urn,
                    message: `cluster "${cluster}" has fleets (${names.join(", ")}) but no signing config, so its agents verify nothing: anyone who can edit a pipeline's steps in Buildkite, or holds an API token, runs any command on them. Fix: set signing on cluster "${cluster}" in ci-platform:clusters (mode: jwks with verificationKeys and the private set in ci-platform:secrets.signing.${cluster}; README, "Signed pipelines"), or mode: off with a reason.`,
                };
            });
    },
};
