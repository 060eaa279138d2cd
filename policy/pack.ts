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
import { type PlanResource, UNKNOWN } from "./resource";
import { appliesTo, DEFAULT_PARAMS, type PolicyParams, type Rule, RULES } from "./rules";

/** The pack's name, as `pulumi preview --policy-pack policy` reports it. */
export const PACK_NAME = "ci-platform";

/**
 * The values @pulumi/policy puts where a value is not known yet during a preview (its `unknown*Value` sentinels in
 * proxy.js, not exported from the package's index).
 */
const UNKNOWN_SENTINELS: ReadonlySet<string> = new Set([
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
    "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
    "030794c1-ac77-496b-92df-f27374a8bd58",
    "e48ece36-62e2-4504-bad9-02848725956a",
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
]);

/** @pulumi/policy's proxy hands back the object it wraps when asked for this property. */
const PROXY_TARGET = "__getSpecialProxyTarget";

/**
 * Plain data from the props CrossGuard passes: its proxy throws on reading an unknown value, which would make a whole
 * stack policy give up during preview; here an unknown becomes `"[unknown]"`, which every rule accepts.
 */
export function plainProps(props: unknown): unknown {
    const target = (value: unknown): unknown =>
        typeof value === "object" && value !== null
            ? ((value as Record<string, unknown>)[PROXY_TARGET] ?? value)
            : value;
    const copy = (value: unknown): unknown => {
        const raw = target(value);
        if (typeof raw === "string") return UNKNOWN_SENTINELS.has(raw) ? UNKNOWN : raw;
        if (Array.isArray(raw)) return raw.map(copy);
        if (typeof raw === "object" && raw !== null) {
            return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, copy(v)]));
        }
        return raw;
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
