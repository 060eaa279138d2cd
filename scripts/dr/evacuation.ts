import { TYPES } from "../../components/agents/naming";
import type { PlanResource } from "../plan/model";
import { regionProviders } from "./scope";
import { shellQuote as shellArg } from "../../components/hooks/bundle";

/*
 * Evacuating a lost region (`npm run dr -- --region R --lost`): its API is down, so no step may call it. Moving a fleet to
 * another region under the same name would keep its URNs and change their provider, which the engine plans as a
 * replacement that starts, for the stack and token parameter (deleteBeforeReplace, see agent-fleet.ts), with a delete
 * in the lost region: it fails. So the runbook declares NEW fleets (new names) in a healthy region, and first drops
 * every resource of the lost region from the state, and nothing else (the resources stay in the account). Then
 * `pulumi up` finds nothing of the lost region in the state: it creates the new fleets and deletes only what lives in
 * Buildkite (the old fleets' tokens and their queues if unused) or nowhere (components).
 *
 * Healthy resources depend on lost ones (a pipeline on the image pushes its steps pull, in every region that runs it;
 * the read role's policy on every token key). `pulumi state delete` refuses a resource others depend on unless
 * --target-dependents, which deletes the dependents too (pulumi/pulumi v3.259.0 pkg/resource/edit/operations.go
 * DeleteResource, OnlyDependsOn): a protected pipeline would leave the state and the next `pulumi up` would create a
 * duplicate. The CLI has no command that drops one edge, so the evacuation edits the exported state instead:
 * `pulumi stack export`, the jq filter below (removes the lost resources and every reference to them), then
 * `pulumi stack import`, which checks the result as a whole (pkg/cmd/pulumi/stack/io.go SaveSnapshot: VerifyIntegrity)
 * and calls no provider.
 *
 * The lost set is derived in the filter from the state itself (what the state holds is what matters): every resource
 * whose provider is one of the region's providers, and those providers. The providers come from the offline plan: the
 * region's AWS provider, and the docker provider whose pushes all go to the region's repositories.
 */

/** A resource of the offline plan. */
export type EvacuationResource = PlanResource;

/** What evacuating a lost region does to the state. */
export interface Evacuation {
    readonly region: string;
    /** The region's provider resources (AWS, and docker for its registry). */
    readonly providers: readonly string[];
    /** Every resource managed through those providers: in the lost region's account (IAM ones are global). */
    readonly lost: readonly string[];
    /**
     * Resources outside the region that refer to a lost one: they stay in the state, the filter drops only those
     * references (the read role's token-key policy, the pipelines that pull the region's image pushes).
     */
    readonly referrers: readonly string[];
    /** The protected lost ones: the filter refuses them until `pulumi state unprotect` (a deliberate act each). */
    readonly unprotect: readonly string[];
    /** The fleets (Fleet components) whose resources are lost. */
    readonly fleets: readonly string[];
}

/**
 * The jq program that takes the lost region's resources out of an exported deployment (`pulumi stack export`,
 * apitype.UntypedDeployment version 3: `{version, deployment: {manifest, resources, pending_operations}}`), given
 * `$providers`, the URNs of the region's providers. It removes every resource whose provider is one of them, and the
 * providers; from every other resource it removes the references to those: `dependencies`, `propertyDependencies`,
 * `deletedWith`, `replaceWith` (pulumi/pulumi v3.259.0 pkg/resource/state.go GetAllDependencies lists them, with
 * `parent` and `provider`; deploy/snapshot.go VerifyIntegrity rejects a reference to a missing resource). It stops
 * (jq exits 5, no output) rather than drop anything else: a lost resource still protected, a healthy one parented to
 * a lost one, a pending operation on a healthy one (`pulumi stack import` would clear it: io.go SaveSnapshot).
 * Order and every other field are kept. Written for jq 1.6 (Debian's). Single quotes never appear in it.
 */
export const EVACUATION_JQ = [
    'def purl: if . then split("::") | .[:-1] | join("::") else null end;',
    "($providers | map({key: ., value: true}) | from_entries) as $p",
    "| .deployment.resources as $all",
    '| ([$all[] | select($p[.urn] or $p[.provider | purl // ""]) | .urn] | map({key: ., value: true}) | from_entries) as $gone',
    "| ([$all[] | select($gone[.urn] and .protect == true) | .urn]) as $prot",
    '| if ($prot | length) > 0 then error("still protected, run pulumi state unprotect first: \\($prot | join(", "))") else . end',
    '| ([$all[] | select(($gone[.urn] | not) and $gone[.parent // ""]) | .urn]) as $orph',
    '| if ($orph | length) > 0 then error("healthy children of lost resources, resolve by hand: \\($orph | join(", "))") else . end',
    '| ([(.deployment.pending_operations // [])[] | select(($gone[.resource.urn] or $p[.resource.provider | purl // ""]) | not) | .resource.urn]) as $pend',
    '| if ($pend | length) > 0 then error("pending operations on healthy resources, resolve them first: \\($pend | join(", "))") else . end',
    "| def keep: map(select($gone[.] | not));",
    "def clean: if .dependencies then .dependencies |= keep else . end",
    "| if .propertyDependencies then .propertyDependencies |= map_values(keep) else . end",
    '| if $gone[.deletedWith // ""] then del(.deletedWith) else . end',
    "| if .replaceWith then .replaceWith |= keep else . end;",
    ".deployment.resources |= [.[] | select($gone[.urn] | not) | clean]",
    "| if .deployment.pending_operations then .deployment.pending_operations |= [] else . end",
].join(" ");

/** The shell command that runs {@link EVACUATION_JQ} on `input` into `output`. */
export function evacuationFilterCommand(providers: readonly string[], input: string, output: string): string {
    return `jq --argjson providers ${shellArg(JSON.stringify(providers))} ${shellArg(EVACUATION_JQ)} ${shellArg(input)} > ${shellArg(output)}`;
}

/** The evacuation of `region` from the offline plan of the current config (the one that still declares it). Pure. */
export function evacuation(resources: readonly EvacuationResource[], region: string): Evacuation {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const providers = regionProviders(resources, region);
    const providerSet = new Set(providers);
    const lost = resources.filter((r) => r.provider && providerSet.has(r.provider)).map((r) => r.urn);
    const gone = new Set([...lost, ...providers]);
    const referrers = resources
        .filter((r) => !gone.has(r.urn) && r.dependsOn.some((d) => gone.has(d)))
        .map((r) => r.urn)
        .sort();
    const orphans = resources.filter((r) => !gone.has(r.urn) && r.parent !== null && gone.has(r.parent));
    if (orphans.length > 0)
        throw new Error(
            `resources outside ${region} are children of its resources: ${orphans.map((r) => r.urn).join(", ")}`,
        );
    const fleets = [
        ...new Set(
            lost.flatMap((u) => {
                const parent = byUrn.get(u)?.parent;
                const component = parent ? byUrn.get(parent) : undefined;
                return component?.type === TYPES.fleet ? [component.name] : [];
            }),
        ),
    ].sort();
    const all = [...gone].sort();
    return {
        region,
        providers,
        lost: [...lost].sort(),
        referrers,
        unprotect: all.filter((u) => byUrn.get(u)?.protect === true),
        fleets,
    };
}

/**
 * A fleet's name in another region: the region in its name replaced (`linux-eu-west-1` to `linux-eu-central-1`), or
 * the region appended. A new name, so that nothing of the new fleet shares a name with what the lost one left in the
 * account (its stack `buildkite-<fleet>`, its token parameter, and, global, its roles: the token key policy admits
 * the scaler role by the pattern `buildkite-<fleet>-Autoscal…`, naming.ts scalerRolePattern), and so that the old
 * fleet's agent token is deleted with it: if the region comes back, its instances cannot take jobs.
 */
export function evacuatedFleetName(fleet: string, from: string, to: string): string {
    return fleet.includes(from) ? fleet.split(from).join(to) : `${fleet}-${to}`;
}
