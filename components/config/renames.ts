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

/**
 * Every problem with the `renamedFrom` lists of clusters, teams, fleets and pipelines. (Fleets' physical names:
 * agents/config-checks.ts `physicalNameIssues`.)
 */
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
    return issues;
}
