/*
 * Invariant: every Linux fleet's pre-bootstrap hook has an allow-list object to read, at a fixed key, well formed.
 *
 * The per-pipeline list is not in a Linux fleet's bootstrap script (a change there would change BootstrapScriptUrl and
 * replace every instance: Elastic CI Stack v6.71.1 AutoScalingReplacingUpdate WillReplace). The script renders only
 * where the list is, `CI_PLATFORM_ALLOWLIST_KEY`, and the hook reads that object for every job, refusing every job when
 * it is missing or malformed (hooks/pre-bootstrap). So the plan must hold, beside each such stack, the object of that
 * key in the bucket the script names, under `_ci-platform/allowlist/` with no hash in it (a key that followed the
 * content would be a replacement, and would change the script), with a content the hook accepts.
 */
import type { StackRule } from "../rules";
import { isOpaque, type PlanResource, stackParameters } from "../resource";
import { BUCKET_OBJECTS, CLOUDFORMATION_STACK, fleetStackFindings, renderedSetting } from "./fleet-stack";

/** ALLOWLIST_OBJECT_HEADER (components/hooks/allowlist.ts), CI_ALLOWLIST_HEADER in hooks/lib/repository.bash. */
export const ALLOWLIST_OBJECT_HEADER = "# ci-platform allow-list v1";
/** ALLOWLIST_KEY_PREFIX (components/hooks/bundle.ts). The policy pack reads plans only, so it keeps its own copy. */
export const ALLOWLIST_KEY_PREFIX = "_ci-platform/allowlist";
/** Same rule as allowlist_valid in hooks/lib/repository.bash, for each line after the header. */
const LINE = /^[a-z0-9][a-z0-9-]* [A-Za-z0-9@:/._~+-]+$/;

/** Why `content` would make the hook refuse every job, or undefined when it reads it. */
export function allowlistContentProblem(content: string): string | undefined {
    if (!content.endsWith("\n")) return "does not end with a newline (a truncated upload)";
    const [header, ...lines] = content.slice(0, -1).split("\n");
    if (header !== ALLOWLIST_OBJECT_HEADER) return `does not start with "${ALLOWLIST_OBJECT_HEADER}"`;
    const bad = lines.filter((l) => !LINE.test(l));
    return bad.length > 0
        ? `has lines that are not "slug url": ${bad.map((l) => JSON.stringify(l)).join(", ")}`
        : undefined;
}

function checkStack(stack: PlanResource, siblings: readonly PlanResource[]): string | undefined {
    const url = stackParameters(stack).BootstrapScriptUrl;
    if (isOpaque(url) || typeof url !== "string" || url === "") return undefined;
    const key = /^s3:\/\/[^/]+\/(.+)$/.exec(url)?.[1];
    const script = siblings.find((r) => BUCKET_OBJECTS.includes(r.type) && r.inputs.key === key);
    const content = script?.inputs.content;
    if (script === undefined || typeof content !== "string" || isOpaque(content)) return undefined;
    const fix = "Fix: declare the fleet's allow-list object in AgentFleet (components/agents/agent-fleet.ts).";
    const listKey = renderedSetting(content, "CI_PLATFORM_ALLOWLIST_KEY");
    if (listKey === undefined)
        return `Elastic CI Stack "${stack.name}": its bootstrap script "${script.name}" renders no CI_PLATFORM_ALLOWLIST_KEY, so its pre-bootstrap hook has no list and refuses every job. Fix: render it with renderBootstrapScript (components/hooks/bundle.ts).`;
    if (!new RegExp(`^${ALLOWLIST_KEY_PREFIX}/[A-Za-z0-9._-]+$`).test(listKey))
        return `Elastic CI Stack "${stack.name}": allow-list key "${listKey}" is not a fixed "${ALLOWLIST_KEY_PREFIX}/<fleet>" key. Fix: use allowlistObjectKey (components/hooks/bundle.ts).`;
    const list = siblings.find((r) => BUCKET_OBJECTS.includes(r.type) && r.inputs.key === listKey);
    if (list === undefined)
        return `Elastic CI Stack "${stack.name}": no object "${listKey}" beside it, which its pre-bootstrap hook reads for every job: every job would be refused. ${fix}`;
    if (!isOpaque(list.inputs.bucket) && !isOpaque(script.inputs.bucket) && list.inputs.bucket !== script.inputs.bucket)
        return `Elastic CI Stack "${stack.name}": allow-list object "${list.name}" is in bucket "${String(list.inputs.bucket)}", but the hook reads "${String(script.inputs.bucket)}". ${fix}`;
    const listContent = list.inputs.content;
    if (typeof listContent !== "string" || isOpaque(listContent)) return undefined;
    const problem = allowlistContentProblem(listContent);
    return problem === undefined
        ? undefined
        : `Elastic CI Stack "${stack.name}": allow-list object "${list.name}" ${problem}, so its pre-bootstrap hook refuses every job. Fix: write it with allowlistObjectContent (components/hooks/allowlist.ts).`;
}

/** Every Linux fleet's hook finds a well-formed allow-list object at a fixed key beside its stack. */
export const linuxFleetAllowlistObject: StackRule = {
    kind: "stack",
    name: "linux-fleet-allowlist-object",
    description:
        "Every Linux fleet's bootstrap script names a fixed-key allow-list object (_ci-platform/allowlist/<fleet>) that the plan declares beside its stack, in the same bucket, in the form the pre-bootstrap hook accepts.",
    enforcementLevel: "mandatory",
    severity: "high",
    types: [CLOUDFORMATION_STACK, ...BUCKET_OBJECTS],
    remediation:
        "Declare the fleet's allow-list object at allowlistObjectKey(fleet) with allowlistObjectContent, and render CI_PLATFORM_ALLOWLIST_KEY into its bootstrap script.",
    check: (resources) => fleetStackFindings(resources, checkStack),
};
