/*
 * What the fleet invariants share: the resource types they read, and how they find a fleet's Elastic CI Stack with the
 * objects beside it (children of the same ci-platform:agents:Fleet component) and a rendered bootstrap script's
 * settings (components/hooks/bundle.ts renderBootstrapScript writes them between the settings markers).
 */
import type { StackFinding } from "../rules";
import type { PlanResource } from "../resource";

export const CLOUDFORMATION_STACK = "aws:cloudformation/stack:Stack";
export const BUCKET_OBJECTS: readonly string[] = [
    "aws:s3/bucketObjectv2:BucketObjectv2",
    "aws:s3/bucketObject:BucketObject",
];
export const FLEET_COMPONENT = "ci-platform:agents:Fleet";
/** The first line of the rendered settings block (components/hooks/bundle.ts, renderBootstrapScript). */
export const SETTINGS_MARKER = "# >>> ci-platform:settings";

/**
 * The value of a rendered bootstrap script's `readonly NAME='...'` line inside its settings block; undefined when the
 * text is not a rendered bootstrap script or the block has no such line.
 */
export function renderedSetting(script: string, name: string): string | undefined {
    const block = /# >>> ci-platform:settings[^\n]*\n([\s\S]*?)# <<< ci-platform:settings/.exec(script)?.[1];
    return block === undefined ? undefined : new RegExp(`^readonly ${name}='([^'\\n]*)'$`, "m").exec(block)?.[1];
}

/** The findings of `check` over every fleet's stack, given the other children of its fleet component. */
export function fleetStackFindings(
    resources: readonly PlanResource[],
    check: (stack: PlanResource, siblings: readonly PlanResource[]) => string | undefined,
): StackFinding[] {
    const findings: StackFinding[] = [];
    for (const stack of resources.filter((r) => r.type === CLOUDFORMATION_STACK)) {
        if (!stack.parent?.includes(`::${FLEET_COMPONENT}::`)) continue;
        const siblings = resources.filter((r) => r.parent === stack.parent && r !== stack);
        const message = check(stack, siblings);
        if (message !== undefined) findings.push({ urn: stack.urn, message });
    }
    return findings;
}
