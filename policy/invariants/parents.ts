/*
 * Every resource has a parent component (issue 15). A provider or a cloud object at the stack's top level belongs to
 * no component, so nothing groups it with what uses it: `--target` patterns by component miss it, the dr scopes
 * (scripts/dr) cannot place it, and a later move under a component is a new URN, which the engine takes for a delete
 * and a create unless the move carries an alias (components/buildkite/renames.ts FROM_STACK_TOP_LEVEL). Components
 * (`ci-platform:*`) may sit at the top level; every other resource's parent is one of them. Default providers, which
 * the engine creates at the top level, are left to `explicit-providers`.
 */
import type { StackFinding, StackRule } from "../rules";
import type { PlanResource } from "../resource";
import { isDefaultProvider } from "./platform";

/** The stack's own type, the one resource without a parent. */
const STACK_TYPE = "pulumi:pulumi:Stack";

/** Whether a type is one of the program's components. */
const isComponentType = (type: string) => type.startsWith("ci-platform:");

export const everyResourceHasParentComponent: StackRule = {
    kind: "stack",
    name: "every-resource-has-parent-component",
    description:
        "Every provider and every cloud resource is the child of one of the program's components (ci-platform:*); only components sit at the stack's top level.",
    enforcementLevel: "mandatory",
    severity: "low",
    types: [],
    remediation:
        "Declare the resource with `parent` set to the component it belongs to (providers in components/providers.ts); when it existed at the top level before, add the alias of its old URN (`aliases: [{ parent: pulumi.rootStackResource }]`) so the engine keeps it.",
    check(resources: readonly PlanResource[]): StackFinding[] {
        return resources
            .filter((r) => r.type !== STACK_TYPE && !isComponentType(r.type) && !isDefaultProvider(r.urn))
            .flatMap((r) => {
                const parentType = r.parent ? typeOfUrn(r.parent) : undefined;
                if (parentType !== undefined && isComponentType(parentType)) return [];
                const where =
                    parentType === undefined
                        ? "no parent"
                        : parentType === STACK_TYPE
                          ? "the stack as parent"
                          : `a ${parentType} as parent`;
                return [
                    {
                        urn: r.urn,
                        message: `${r.type} ${r.name} has ${where}, not a component: give it the component it belongs to as parent, with the alias of its old URN if it exists already.`,
                    },
                ];
            });
    },
};

/**
 * The type of the resource a URN names: the last of its qualified type chain
 * (`urn:pulumi:prod::ci-platform::ci-platform:providers:Providers$pulumi:providers:aws::ci-platform-aws-eu-west-1`
 * names a `pulumi:providers:aws`). Read from the URN, so a parent missing from the resources at hand still counts.
 */
export function typeOfUrn(urn: string): string {
    return (urn.split("::")[2] ?? "").split("$").pop() ?? "";
}
