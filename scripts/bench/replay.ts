/*
 * The SDK's own floor for a plan (npm run bench runs this file in a fresh process): loads the five provider SDKs, as
 * the SDK-loading baseline does, then registers exactly the resources of a plan document (`--json` of npm run plan:
 * the same types, names, parents, providers, dependencies and inputs) under the SDK's mocks, with nothing of the
 * program: no config, no rendering, no policy pack, no plan document. What the plan costs above this is ours; what
 * this costs above the baseline is the SDK's per-resource work (serialising inputs, the mock monitor's protobuf round
 * trip, outputs and their promises), which no change of the program can remove.
 *
 *   node --max-semi-space-size=32 --import tsx scripts/bench/replay.ts PLAN.json
 *
 * It runs under the plan's own settings (scripts/plan.ts, scripts/plan/capture.ts): source maps off, and no stack
 * traces while the resources register.
 */
import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import type { PlanDocument, PlanResource } from "../plan/model";
import { PROVIDER_TYPE_PREFIX, STACK_TYPE, isProvider } from "../plan/model";
import { oneLine } from "../cli";
import { PROVIDER_SDKS } from "./sdks";

/** How a resource of the plan is registered again: a component, a provider, or a custom resource. */
export type ReplayKind = "component" | "provider" | "custom";

/**
 * A resource's kind, from the plan record alone: providers by their `pulumi:providers:` type; components are the
 * records with neither a provider nor a provider type (a custom resource always has a default or explicit provider in
 * the plan, scripts/plan/model.ts `provider`).
 */
export function replayKind(resource: Pick<PlanResource, "type" | "provider">): ReplayKind {
    if (isProvider(resource)) return "provider";
    return resource.provider === null ? "component" : "custom";
}

/**
 * The plan's resources without the Stack (the SDK registers its own), each after its parent, its provider and what it
 * depends on, and otherwise in the plan's order. Pure. Throws on a resource the plan does not hold, or a cycle.
 */
export function replayOrder(resources: readonly PlanResource[]): PlanResource[] {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const placed = new Set<string>();
    const visiting = new Set<string>();
    const order: PlanResource[] = [];
    const place = (r: PlanResource): void => {
        if (placed.has(r.urn) || r.type === STACK_TYPE) return;
        if (visiting.has(r.urn)) throw new Error(`replay: ${r.urn} is its own ancestor`);
        visiting.add(r.urn);
        for (const before of [r.parent, r.provider, ...r.dependsOn]) {
            if (before === null) continue;
            const first = byUrn.get(before);
            if (first === undefined) throw new Error(`replay: ${r.urn} names ${before}, which the plan does not hold`);
            place(first);
        }
        visiting.delete(r.urn);
        placed.add(r.urn);
        order.push(r);
    };
    resources.forEach(place);
    return order;
}

/** A component of the plan, registered again with its inputs; it has no outputs of its own to register. */
class ReplayedComponent extends pulumi.ComponentResource {
    constructor(type: string, name: string, inputs: pulumi.Inputs, opts: pulumi.ComponentResourceOptions) {
        super(type, name, inputs, opts);
        this.registerOutputs({});
    }
}

/** A provider of the plan (`pulumi:providers:<pkg>`), registered again with its inputs. */
class ReplayedProvider extends pulumi.ProviderResource {}

/** A custom resource of the plan, registered again by its type token (as the provider SDKs' classes do). */
class ReplayedResource extends pulumi.CustomResource {}

/**
 * Registers the plan's `resources` again (in {@link replayOrder}), inside the stack under way: each with its type,
 * name, parent, provider, dependencies and inputs. Returns what it registered; the caller awaits their URNs.
 */
export function replayResources(resources: readonly PlanResource[]): pulumi.Resource[] {
    const made = new Map<string, pulumi.Resource>();
    const providers = new Map<string, pulumi.ProviderResource>();
    for (const r of replayOrder(resources)) {
        const parent = r.parent === null ? undefined : made.get(r.parent);
        const dependsOn = r.dependsOn.flatMap((urn) => made.get(urn) ?? []);
        let resource: pulumi.Resource;
        switch (replayKind(r)) {
            case "component":
                resource = new ReplayedComponent(r.type, r.name, r.inputs, { parent, dependsOn });
                break;
            case "provider": {
                const provider = new ReplayedProvider(r.type.slice(PROVIDER_TYPE_PREFIX.length), r.name, r.inputs, {
                    parent,
                    dependsOn,
                });
                providers.set(r.urn, provider);
                resource = provider;
                break;
            }
            case "custom":
                resource = new ReplayedResource(r.type, r.name, r.inputs, {
                    parent,
                    dependsOn,
                    provider: r.provider === null ? undefined : providers.get(r.provider),
                });
        }
        made.set(r.urn, resource);
    }
    return [...made.values()];
}

async function main(file: string): Promise<void> {
    process.setSourceMapsEnabled(false);
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the same loading as the baseline's
    for (const sdk of PROVIDER_SDKS) require(sdk);
    const plan = JSON.parse(readFileSync(file, "utf8")) as PlanDocument;
    await pulumi.runtime.setMocks(
        {
            newResource: (args) => ({ id: `${args.name}-id`, state: args.inputs }),
            call: (args) => args.inputs,
        },
        plan.project,
        plan.stack,
        false,
    );
    Error.stackTraceLimit = 0;
    await pulumi.runtime.runInPulumiStack(async () => {
        const made = replayResources(plan.resources);
        // Every registration answered: each resource's URN resolves once the mock has answered it.
        await new Promise<void>((resolve) => pulumi.all(made.map((r) => r.urn)).apply(() => resolve()));
        return undefined;
    });
    await pulumi.runtime.disconnect();
}

if (require.main === module) {
    const file = process.argv[2];
    if (file === undefined) {
        process.stderr.write("usage: replay.ts PLAN.json\n");
        process.exitCode = 2;
    } else
        main(file).catch((error: unknown) => {
            process.stderr.write(`replay: ${oneLine(error)}\n`);
            process.exitCode = 1;
        });
}
