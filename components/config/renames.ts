import { cloudFormationStackName, fleetPhysicalName, MAX_AWS_FLEET_NAME_LENGTH } from "../agents/naming";
import { ConfigIssue } from "./issues";
import { PlatformConfig } from "./schema";

/*
 * Checks of `renamedFrom` (schema.ts): each earlier name becomes a Pulumi alias, so it must point at one object only.
 * An earlier name that is some entry's current name would make two resources claim one object in the state; one
 * listed twice (in one entry or in two) would let two entries adopt the same object.
 */

type Renameable = Pick<PlatformConfig, "clusters" | "teams" | "fleets" | "pipelines">;

/** One entry's current name and earlier names. */
interface Named {
    readonly current: string;
    readonly renamedFrom: readonly string[];
}

/** The kinds of config entries that can be renamed: their key, their names, and what to call a name. */
const RENAMEABLE: readonly { key: keyof Renameable; what: string; names: (c: Renameable) => Named[] }[] = [
    { key: "clusters", what: "cluster name", names: (c) => c.clusters.map((e) => ({ current: e.name, ...e })) },
    { key: "teams", what: "team name", names: (c) => c.teams.map((e) => ({ current: e.name, ...e })) },
    { key: "fleets", what: "fleet name", names: (c) => c.fleets.map((e) => ({ current: e.name, ...e })) },
    { key: "pipelines", what: "pipeline slug", names: (c) => c.pipelines.map((e) => ({ current: e.slug, ...e })) },
];

/** Every problem with the `renamedFrom` lists of clusters, teams, fleets and pipelines. */
export function checkRenames(config: Renameable): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    for (const { key, what, names } of RENAMEABLE) {
        const entries = names(config);
        const current = new Map<string, number>();
        entries.forEach((e, i) => current.set(e.current, i));
        const earlier = new Map<string, string>();
        entries.forEach((entry, i) => {
            entry.renamedFrom.forEach((old, j) => {
                const path = [key, i, "renamedFrom", j];
                const owner = current.get(old);
                if (owner !== undefined)
                    issues.push({
                        path,
                        message:
                            owner === i
                                ? `"${old}" is this entry's current ${what}, not an earlier one`
                                : `"${old}" is the current ${what} of ${key}[${owner}]; an earlier name must not be in use`,
                        fix: `remove "${old}" from renamedFrom, or rename ${key}[${owner}] first and deploy that`,
                    });
                const first = earlier.get(old);
                if (first !== undefined)
                    issues.push({
                        path,
                        message: `"${old}" is already listed as an earlier ${what} at ci-platform:${first}`,
                        fix: "list each earlier name once, on the entry that now holds the object",
                    });
                else earlier.set(old, `${key}[${i}].renamedFrom[${j}]`);
            });
        });
    }
    issues.push(...checkPhysicalNames(config.fleets));
    return issues;
}

/**
 * Problems with fleets' physical names (schema.ts `physicalName`): a renamed fleet must say which name its stack,
 * SSM parameter and bootstrap key carry (deriving it from `renamedFrom` made a rename back, a dropped oldest name or
 * a list newest first replace the stack, deleting it first); two fleets must not share one; and an AWS fleet's must
 * fit the stack's IAM role name (naming.ts MAX_AWS_FLEET_NAME_LENGTH).
 */
function checkPhysicalNames(fleets: Renameable["fleets"]): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    const owners = new Map<string, number>();
    fleets.forEach((fleet, i) => {
        if (fleet.renamedFrom.length > 0 && fleet.physicalName === undefined)
            issues.push({
                path: ["fleets", i, "physicalName"],
                message: `fleet "${fleet.name}" has renamedFrom but no physicalName: its CloudFormation stack, SSM token parameter and bootstrap key keep the name it was first deployed under, and a new one would replace them`,
                fix: `set physicalName: <the name the fleet was first deployed under> (its stack is ${cloudFormationStackName("<that name>")}; the earlier names here are ${fleet.renamedFrom.map((n) => `"${n}"`).join(", ")})`,
            });
        const physical = fleetPhysicalName(fleet);
        const owner = owners.get(physical);
        // Two fleets of one name are reported where names are checked; here, only a collision a physicalName makes.
        if (owner !== undefined && (fleet.physicalName !== undefined || fleets[owner].physicalName !== undefined))
            issues.push({
                path: ["fleets", i, fleet.physicalName === undefined ? "name" : "physicalName"],
                message: `fleet "${fleet.name}" would carry the physical name "${physical}" of fleets[${owner}] (${fleets[owner].name}): their stacks and token parameters would collide`,
                fix: "give each fleet its own physicalName (the name it was first deployed under)",
            });
        if (owner === undefined) owners.set(physical, i);
        if (fleet.kind === "aws" && fleet.physicalName !== undefined && physical.length > MAX_AWS_FLEET_NAME_LENGTH)
            issues.push({
                path: ["fleets", i, "physicalName"],
                message: `physicalName "${physical}" is ${physical.length} characters; the Elastic CI Stack names its IAM role buildkite-<fleet>-Role, which must fit in 64`,
                fix: `use the name the fleet was first deployed under (at most ${MAX_AWS_FLEET_NAME_LENGTH} characters)`,
            });
    });
    return issues;
}
