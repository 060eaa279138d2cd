import type { PlanResource as PolicyResource } from "../../policy/resource";

/*
 * The plan's record and its placeholders are the policy pack's (policy/resource.ts, which must stand alone when
 * `pulumi preview --policy-pack policy` loads it): one definition, the plan's with every field always present.
 */
export { SECRET, UNKNOWN } from "../../policy/resource";

/**
 * One resource the program declares, as the offline plan reports it (the DESIGN.md contract): the policy pack's
 * record with every field present, and the two only the plan knows.
 */
export interface PlanResource extends Required<PolicyResource> {
    /** URN of the parent, or null for the stack itself. */
    readonly parent: string | null;
    /** URN of the explicit or default provider, or null (components, providers, the stack). */
    readonly provider: string | null;
    /**
     * The provider's id of the existing resource the engine imports instead of creating (the `import` resource option,
     * set from `ci-platform:adopt`), or null.
     */
    readonly importId: string | null;
    /** URNs this resource depends on, sorted. */
    readonly dependsOn: readonly string[];
    /**
     * The URNs the engine would also match this resource to in the state (its `aliases`, and those it inherits from
     * its parent's), sorted; [] when none. A rename with aliases is an update of the same object (diff.ts).
     */
    readonly aliases: readonly string[];
    /** Inputs with every secret, at any depth, replaced by {@link SECRET}. */
    readonly inputs: Readonly<Record<string, unknown>>;
}

/** The plan document written by `--json`. */
export interface PlanDocument {
    readonly project: string;
    readonly stack: string;
    readonly resources: readonly PlanResource[];
    /**
     * Per resource URN (sorted), the input paths that hold secrets of the stack file, each with the versions of the
     * secrets it carries: digests of their ciphertexts, never of their values (stack-file.ts `securePlaceholder`). A
     * secret set again gets a new ciphertext, so the diff shows an update of exactly the resources that carry it.
     * Absent from plans written before it existed.
     */
    readonly secretVersions?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** The stack resource type. */
export const STACK_TYPE = "pulumi:pulumi:Stack";

/** The type of a provider resource is this prefix and its package's name (`pulumi:providers:aws`). */
export const PROVIDER_TYPE_PREFIX = "pulumi:providers:";

/** Whether the resource is a provider (`pulumi:providers:<pkg>`). */
export function isProvider(resource: Pick<PlanResource, "type">): boolean {
    return resource.type.startsWith(PROVIDER_TYPE_PREFIX);
}
