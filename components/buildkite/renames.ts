import * as pulumi from "@pulumi/pulumi";

/*
 * Pulumi aliases from a config entry's `renamedFrom` (components/config/schema.ts). The engine matches a resource to
 * the state entry of any of its alias URNs, so a rename is an update of the same object, not a delete and a create.
 * Children are named after their component, so each child gets its own old name under its component's old URN
 * (the engine would also infer these from the parent's aliases, pulumi/pulumi pkg/resource/deploy/step_generator.go
 * generateAliases; naming them keeps the program correct whatever the child's name looks like).
 */

/** The aliases of a component that was called each of `previous` before: the same type, each old name. */
export function renamedComponentAliases(previous: readonly string[]): pulumi.Alias[] {
    return previous.map((name) => ({ name }));
}

/**
 * The aliases of a child of a renamed component: for each old component name, the child's old name (`childOf`
 * applied to it) under the component's old URN. `parent` is the component's own parent, if any (else the stack).
 */
export function renamedChildAliases(
    component: { readonly type: string; readonly previous: readonly string[]; readonly parent?: pulumi.Resource },
    childOf: (componentName: string) => string,
): pulumi.Alias[] {
    return component.previous.map((old) => ({
        name: childOf(old),
        parent: pulumi.createUrn(old, component.type, component.parent),
    }));
}

/** The aliases of a resource whose own name derives from an entry that was called each of `previous`. */
export function renamedAliases(previous: readonly string[], nameOf: (entryName: string) => string): pulumi.Alias[] {
    return previous.map((old) => ({ name: nameOf(old) }));
}

/**
 * The alias of a resource that moved under a component from the stack's top level (issue 15: the providers and the
 * cluster queues had no parent component). A new parent is a new URN, which the engine would take for a delete and a
 * create, and a provider replaced is a replacement of every resource it manages; with this alias the engine finds the
 * old state under the old URN (pulumi/pulumi pkg/resource/deploy/step_generator.go: the old state is looked up by
 * each alias; `providerChanged` counts a provider reference whose old URN is aliased to the new one as no change).
 * `{ parent: rootStackResource }` is the SDK's spelling of "no parent" (@pulumi/pulumi 3.276.0 resource.d.ts Alias).
 */
export const FROM_STACK_TOP_LEVEL: pulumi.Alias = { parent: pulumi.rootStackResource };
