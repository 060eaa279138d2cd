/*
 * Runs the ci-platform policies over the resources of an offline plan, with no Pulumi CLI and no engine. The offline
 * plan (scripts/plan.ts) prints the violations and exits non-zero when one is mandatory.
 */
import type { PlanResource } from "./resource";
import {
    appliesTo,
    DEFAULT_PARAMS,
    type EnforcementLevel,
    type PolicyParams,
    type Rule,
    RULES,
    type Severity,
} from "./rules";

export type { PlanResource } from "./resource";
export { DEFAULT_PARAMS, RULES, type PolicyParams } from "./rules";

/** One policy violation. */
export interface Violation {
    /** The rule's name, e.g. `ecr-immutable-tags`. */
    readonly policy: string;
    readonly enforcementLevel: EnforcementLevel;
    readonly severity: Severity;
    /** The resource it is about. */
    readonly urn: string;
    /** What is wrong and how to fix it (never a secret value). */
    readonly message: string;
}

/** Options for {@link runPolicies}. */
export interface RunOptions {
    /** Overrides of the default settings, e.g. `{ requiredTags: ["CostCenter", "ManagedBy"] }`. */
    readonly params?: Partial<PolicyParams>;
    /** The rules to run. Defaults to every rule of the pack. */
    readonly rules?: readonly Rule[];
}

/**
 * A resource's provider, from the `provider` reference the plan records. A reference may be the provider's URN or
 * `<urn>::<id>`, as the engine writes provider references.
 */
export function findProvider(
    resource: PlanResource,
    byUrn: ReadonlyMap<string, PlanResource>,
): PlanResource | undefined {
    const reference = resource.provider;
    if (!reference) return undefined;
    return byUrn.get(reference) ?? byUrn.get(reference.slice(0, reference.lastIndexOf("::")));
}

/**
 * Every violation of the rules by the given resources, in rule order, then by URN. Pure: the same resources give the
 * same list.
 */
export function runPolicies(resources: readonly PlanResource[], options: RunOptions = {}): Violation[] {
    const params: PolicyParams = { ...DEFAULT_PARAMS, ...options.params };
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const sorted = [...resources].sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
    const violations: Violation[] = [];
    for (const rule of options.rules ?? RULES) {
        const base = { policy: rule.name, enforcementLevel: rule.enforcementLevel, severity: rule.severity };
        if (rule.kind === "stack") {
            const findings = rule.check(sorted, params);
            violations.push(...findings.map(({ urn, message }) => ({ ...base, urn, message })));
            continue;
        }
        for (const resource of sorted) {
            if (!appliesTo(rule, resource)) continue;
            const messages = rule.check(resource, { params, provider: findProvider(resource, byUrn) });
            violations.push(...messages.map((message) => ({ ...base, urn: resource.urn, message })));
        }
    }
    return violations;
}

/** Whether any violation must stop a deployment. */
export function hasMandatoryViolation(violations: readonly Violation[]): boolean {
    return violations.some((v) => v.enforcementLevel === "mandatory");
}

/** One violation as two lines: `[mandatory/high] policy-name <urn>` and the indented message. */
export function formatViolation(violation: Violation): string {
    return `[${violation.enforcementLevel}/${violation.severity}] ${violation.policy} ${violation.urn}\n    ${violation.message}`;
}
