import { TYPES } from "../../components/agents/naming";
import type { PlanResource } from "../plan/model";
import { urnGlobMatches } from "./urn-glob";

/*
 * What rebuilding one fleet, or every fleet of one region, means for the stack, derived from the offline plan alone
 * (every resource's parent, provider, protect and dependencies): no second description of the resource tree to keep
 * in sync with the components. Pure.
 */

/**
 * What a rebuild does to a resource:
 * - `retain`: protected (holds state: an image repository); never replaced; if it is gone, `pulumi up` recreates it
 *   empty and the `restore` resources refill what config holds;
 * - `replace`: a fleet's own resource recreated from scratch (agent token, its parameter, IAM role and policy,
 *   CloudFormation stack);
 * - `restore`: rewritten from the config if missing or drifted, never replaced (replacing an S3 object in place
 *   would create the new copy and then delete the same key).
 */
export type RecoveryAction = "retain" | "replace" | "restore";

/** One resource of a recovery scope. */
export interface ScopedResource {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    readonly action: RecoveryAction;
}

/** Everything the runbook needs to rebuild one fleet or one region. */
export interface RecoveryScope {
    /** One fleet, or every fleet of a region. */
    readonly kind: "fleet" | "region";
    /** The fleets rebuilt, sorted. */
    readonly fleets: readonly string[];
    /** The region concerned ("" for an on-premises fleet). */
    readonly region: string;
    /** Every resource of the scope, sorted by URN. */
    readonly resources: readonly ScopedResource[];
}

/** The children of `urn`, by parent, and every descendant. */
function tree(resources: readonly PlanResource[]) {
    const children = new Map<string, PlanResource[]>();
    for (const r of resources) if (r.parent) children.set(r.parent, [...(children.get(r.parent) ?? []), r]);
    const descendants = (urn: string): PlanResource[] =>
        (children.get(urn) ?? []).flatMap((c) => [c, ...descendants(c.urn)]);
    return { descendants };
}

const isProvider = (r: PlanResource) => r.type.startsWith("pulumi:providers:");
const isComponent = (r: PlanResource) => r.provider === null && !isProvider(r) && r.type !== "pulumi:pulumi:Stack";

/** How a rebuild treats `r`, a resource of the scope. */
function actionOf(r: PlanResource, byUrn: ReadonlyMap<string, PlanResource>): RecoveryAction {
    if (r.protect) return "retain";
    // A fleet's own resources are recreated; its S3 objects (bootstrap script, allow-list) are rewritten in place.
    const parent = r.parent ? byUrn.get(r.parent) : undefined;
    if (parent?.type === TYPES.fleet && !isComponent(r) && r.type !== TYPES.bucketObject) return "replace";
    return "restore";
}

function scoped(resources: readonly PlanResource[], chosen: Iterable<PlanResource>): ScopedResource[] {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const unique = new Map([...chosen].map((r) => [r.urn, r]));
    return [...unique.values()]
        .map((r) => ({ urn: r.urn, type: r.type, name: r.name, action: actionOf(r, byUrn) }))
        .sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
}

/** The fleets (Fleet components) of the plan: name, and region ("" for an on-premises fleet). */
export function planFleets(resources: readonly PlanResource[]): { readonly name: string; readonly region: string }[] {
    const { descendants } = tree(resources);
    const regionOf = new Map(
        resources.filter((r) => r.type === "pulumi:providers:aws").map((p) => [p.urn, String(p.inputs.region)]),
    );
    return resources
        .filter((r) => r.type === TYPES.fleet)
        .map((f) => ({
            name: f.name,
            region:
                descendants(f.urn).flatMap((d) =>
                    d.provider && regionOf.has(d.provider) ? [regionOf.get(d.provider) ?? ""] : [],
                )[0] ?? "",
        }));
}

/** The scope of one fleet: its component and everything under it (the region's bucket and keys stay as they are). */
export function fleetScope(resources: readonly PlanResource[], fleet: string): RecoveryScope | undefined {
    const component = resources.find((r) => r.type === TYPES.fleet && r.name === fleet);
    if (!component) return undefined;
    const region = planFleets(resources).find((f) => f.name === fleet)?.region ?? "";
    return {
        kind: "fleet",
        fleets: [fleet],
        region,
        resources: scoped(resources, [component, ...tree(resources).descendants(component.urn)]),
    };
}

/**
 * The region's providers: its AWS provider (`inputs.region`), and each docker provider whose every push depends on
 * a resource of that AWS provider (a push goes to a repository of the region).
 */
export function regionProviders(resources: readonly PlanResource[], region: string): string[] {
    const aws = new Set(
        resources.filter((r) => r.type === "pulumi:providers:aws" && r.inputs.region === region).map((r) => r.urn),
    );
    const inAws = new Set(resources.filter((r) => r.provider && aws.has(r.provider)).map((r) => r.urn));
    const docker = resources
        .filter((r) => r.type === "pulumi:providers:docker")
        .filter((p) => {
            const pushes = resources.filter((r) => r.provider === p.urn);
            return pushes.length > 0 && pushes.every((u) => u.dependsOn.some((d) => inAws.has(d)));
        })
        .map((p) => p.urn);
    return [...aws, ...docker].sort();
}

/**
 * The scope of a region, what removing its fleets removes: the region's providers and what they manage, each
 * component all of whose AWS and docker resources are the region's (its fleets, its secrets buckets) with
 * everything under it, and each cluster queue that only the region's fleets serve (their stacks are all that depend
 * on it). Not the components whose AWS resources are all IAM: IAM is global (the deploy roles go through the home
 * region's provider, but do not live in the region).
 */
export function regionScope(resources: readonly PlanResource[], region: string): RecoveryScope | undefined {
    const providers = new Set(regionProviders(resources, region));
    if (providers.size === 0) return undefined;
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const { descendants } = tree(resources);
    const regional = (r: PlanResource) =>
        r.provider !== null &&
        byUrn.get(r.provider)?.type !== undefined &&
        /^pulumi:providers:(aws|docker)$/.test(byUrn.get(r.provider)?.type ?? "");
    const global = (component: PlanResource) => {
        const inAws = descendants(component.urn).filter(regional);
        return inAws.length > 0 && inAws.every((d) => d.type.startsWith("aws:iam/"));
    };
    const components = resources.filter((c) => {
        if (!isComponent(c) || global(c)) return false;
        const under = descendants(c.urn).filter(regional);
        return under.length > 0 && under.every((d) => providers.has(d.provider ?? ""));
    });
    const chosen = new Map<string, PlanResource>();
    const add = (r: PlanResource) => chosen.set(r.urn, r);
    for (const p of providers) add(byUrn.get(p) as PlanResource);
    for (const c of components) [c, ...descendants(c.urn)].forEach(add);
    for (const r of resources) {
        const parent = r.parent ? byUrn.get(r.parent) : undefined;
        if (r.provider && providers.has(r.provider) && !(parent && isComponent(parent) && global(parent))) add(r);
    }
    // A queue goes with the region when the stacks of the region's fleets are all that depend on it.
    for (const q of resources.filter((r) => r.type === TYPES.clusterQueue)) {
        const users = resources.filter((r) => r.dependsOn.includes(q.urn));
        if (users.length > 0 && users.every((u) => chosen.has(u.urn))) add(q);
    }
    const fleets = components.filter((c) => c.type === TYPES.fleet).map((c) => c.name);
    if (fleets.length === 0) return undefined;
    return { kind: "region", fleets: fleets.sort(), region, resources: scoped(resources, chosen.values()) };
}

/**
 * The fewest `--target` patterns (urn-glob.ts) that together select exactly `wanted` among `universe` (the plan's
 * URNs): a greedy cover by candidate patterns, each kept only if it selects nothing outside `wanted`; a literal URN
 * is always a candidate, so every wanted URN is covered. `hints` (a fleet name, a region) seed name patterns.
 */
export function targetPatterns(
    wanted: readonly string[],
    universe: readonly string[],
    hints: readonly string[] = [],
): string[] {
    const want = new Set(wanted);
    const candidates = new Set<string>();
    for (const urn of wanted) {
        const parts = urn.split("::");
        const base = parts.slice(0, 2).join("::");
        const chain = parts.slice(2, -1).join("::");
        const name = parts.at(-1) ?? "";
        const root = chain.split("$")[0];
        for (const h of hints) {
            candidates.add(`${base}::**::*${h}*`);
            candidates.add(`${base}::**::${h}*`);
            if (!name.includes(h)) continue;
            candidates.add(`${base}::${chain}::*${h}*`);
            // The same provider module under the same parent, e.g. `…Fleet$aws:iam**::*eu-west-1*`.
            if (chain.includes("/")) candidates.add(`${base}::${chain.split("/")[0]}**::*${h}*`);
            candidates.add(`${base}::**::*${name.slice(name.indexOf(h))}`);
        }
        candidates.add(`${base}::${root}**::${name}*`);
        candidates.add(`${base}::**::${name}*`);
        candidates.add(`${base}::${chain}::*`);
        candidates.add(`${base}::**::${name}`);
        candidates.add(urn);
    }
    const valid = [...candidates]
        .map((pattern) => ({ pattern, selects: universe.filter((u) => urnGlobMatches(pattern, u)) }))
        .filter((c) => c.selects.length > 0 && c.selects.every((u) => want.has(u)));
    const left = new Set(wanted);
    const chosen: string[] = [];
    while (left.size > 0) {
        const gain = (c: { selects: string[] }) => c.selects.filter((u) => left.has(u)).length;
        const best = valid.reduce((a, b) => {
            const d = gain(b) - gain(a);
            return d > 0 || (d === 0 && b.pattern.length < a.pattern.length) ? b : a;
        });
        if (gain(best) === 0) break;
        chosen.push(best.pattern);
        for (const u of best.selects) left.delete(u);
    }
    // Not in the plan (never from dr itself): named literally.
    return [...chosen, ...left].sort();
}
