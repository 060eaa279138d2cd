/*
 * The rules of rules.ts as CrossGuard policies. index.ts hands these to `new PolicyPack(...)`, which starts the
 * analyzer server, so this module is kept apart from it: tests import this one.
 *
 * What CrossGuard cannot see: `retainOnDelete` is not among the resource options it passes to a policy
 * (@pulumi/policy 1.21 `PolicyResourceOptions` has protect, ignoreChanges, aliases... but not retainOnDelete), so under
 * `pulumi preview` the stateful-resources-protected rule checks `protect` only. The offline plan checks both.
 */
import type {
    PolicyPackArgs,
    PolicyProviderResource,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationPolicy,
} from "@pulumi/policy";
import { UnknownValueError } from "@pulumi/policy";
import { type PlanResource, UNKNOWN } from "./resource";
import { appliesTo, DEFAULT_PARAMS, type PolicyParams, type Rule, RULES } from "./rules";

/** The pack's name, as `pulumi preview --policy-pack policy` reports it. */
export const PACK_NAME = "ci-platform";

/**
 * Plain data from the props CrossGuard passes: its proxy throws `UnknownValueError` on reading an unknown value, which
 * would make a whole stack policy give up during preview; here an unknown becomes `"[unknown]"`, which every rule
 * accepts. Read through the proxy with the package's public error, so none of its private sentinels is copied here.
 */
export function plainProps(props: unknown): unknown {
    const read = (get: () => unknown): unknown => {
        try {
            return copy(get());
        } catch (error) {
            if (error instanceof UnknownValueError) return UNKNOWN;
            throw error;
        }
    };
    const copy = (value: unknown): unknown => {
        if (Array.isArray(value)) return Array.from({ length: value.length }, (_, i) => read(() => value[i]));
        if (typeof value === "object" && value !== null) {
            const record = value as Record<string, unknown>;
            return Object.fromEntries(Object.keys(record).map((k) => [k, read(() => record[k])]));
        }
        return value;
    };
    return copy(props);
}

const inputsOf = (props: unknown): Record<string, unknown> => {
    const plain = plainProps(props);
    return typeof plain === "object" && plain !== null && !Array.isArray(plain)
        ? (plain as Record<string, unknown>)
        : {};
};

function providerResource(provider: PolicyProviderResource | undefined): PlanResource | undefined {
    if (provider === undefined) return undefined;
    return { urn: provider.urn, type: provider.type, name: provider.name, inputs: inputsOf(provider.props) };
}

/** The record the rules read, from a resource-level CrossGuard call. */
export function fromResourceArgs(args: ResourceValidationArgs): PlanResource {
    return {
        urn: args.urn,
        type: args.type,
        name: args.name,
        inputs: inputsOf(args.props),
        protect: args.opts.protect,
        parent: args.opts.parent ?? null,
        provider: args.provider?.urn ?? null,
    };
}

/** The record the rules read, from a resource of a stack-level CrossGuard call (its props are its outputs). */
export function fromPolicyResource(resource: PolicyResource): PlanResource {
    const dependsOn = [
        ...resource.dependencies.map((d) => d.urn),
        ...Object.values(resource.propertyDependencies).flatMap((ds) => ds.map((d) => d.urn)),
    ];
    return {
        urn: resource.urn,
        type: resource.type,
        name: resource.name,
        inputs: inputsOf(resource.props),
        protect: resource.opts.protect,
        parent: resource.parent?.urn ?? null,
        provider: resource.provider?.urn ?? null,
        dependsOn: [...new Set(dependsOn)],
    };
}

/** The pack's settings from policy config (`pulumi policy enable ... --config`), over the defaults. */
function paramsFrom(config: { requiredTags?: unknown }): PolicyParams {
    const tags = config.requiredTags;
    return Array.isArray(tags) && tags.every((t) => typeof t === "string")
        ? { ...DEFAULT_PARAMS, requiredTags: tags }
        : DEFAULT_PARAMS;
}

/** One CrossGuard policy for one rule. */
export function toPolicy(rule: Rule): ResourceValidationPolicy | StackValidationPolicy {
    const info = {
        name: rule.name,
        description: rule.description,
        enforcementLevel: rule.enforcementLevel,
        severity: rule.severity,
        remediationSteps: rule.remediation,
        ...(rule.name === "cost-tags"
            ? {
                  configSchema: {
                      properties: {
                          requiredTags: {
                              type: "array" as const,
                              items: { type: "string" as const },
                              default: [...DEFAULT_PARAMS.requiredTags],
                              description: "Tag keys every taggable AWS resource must carry.",
                          },
                      },
                  },
              }
            : {}),
    };
    if (rule.kind === "stack") {
        return {
            ...info,
            validateStack: (args, reportViolation) => {
                const params = paramsFrom(args.getConfig<{ requiredTags?: unknown }>());
                for (const { urn, message } of rule.check(args.resources.map(fromPolicyResource), params)) {
                    reportViolation(message, urn);
                }
            },
        };
    }
    return {
        ...info,
        validateResource: (args, reportViolation) => {
            const resource = fromResourceArgs(args);
            if (!appliesTo(rule, resource)) return;
            const params = paramsFrom(args.getConfig<{ requiredTags?: unknown }>());
            for (const message of rule.check(resource, { params, provider: providerResource(args.provider) })) {
                reportViolation(message);
            }
        },
    };
}

/** Everything `new PolicyPack(PACK_NAME, ...)` needs: one policy per rule. */
export function packArgs(rules: readonly Rule[] = RULES): PolicyPackArgs {
    return {
        description:
            "Guardrails for the ci-platform stack: secrets buckets, agent tokens, Elastic CI Stack, ECR, webhooks, pipelines, tags.",
        enforcementLevel: "mandatory",
        policies: rules.map(toPolicy),
    };
}
