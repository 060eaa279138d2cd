/*
 * One repository owner per cluster. The cluster is the trust boundary: every job of a cluster can target any of its
 * queues (buildkite.com/docs/agent/queues: a step picks its queue with its `queue` agent tag; docs/pipelines/glossary,
 * "Cluster": a cluster is an isolated set of agents and pipelines, so the isolation ends at its edge), so pipelines of two GitHub owners in one cluster share agents, and what one owner's code leaves on an
 * agent (or reads from it) the other owner's jobs meet. Another organisation's repository gets a cluster of its own.
 *
 * Advisory: the config may knowingly put two owners together (a fork, a vendored mirror), and the allow-list and
 * the per-pipeline secrets still hold; the warning makes the choice visible in every plan.
 */
import type { StackFinding, StackRule } from "../rules";
import { PLATFORM_TYPES, readPlatform } from "../platform";
import { isOpaque, type PlanResource } from "../resource";

/**
 * The owner of a repository URL, as `host/owner`, lower case (GitHub owners are case-insensitive): from
 * `https://github.com/Owner/repo.git`, `ssh://git@github.com:22/owner/repo`, `git@github.com:owner/repo.git`, or an
 * `owner/repo` shorthand (taken as GitHub). Undefined when the URL names no owner.
 */
export function repositoryOwner(url: string): string | undefined {
    const text = url.trim();
    if (text === "" || isOpaque(text)) return undefined;
    const scheme = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?([^/:]+)(?::\d*)?\/+([^/]+)\/+[^/]/i.exec(text);
    const scp = /^(?:[^@/:]+@)?([^/:]+):\/*([^/]+)\/+[^/]/.exec(text);
    const short = /^([A-Za-z0-9][A-Za-z0-9-]*)\/[A-Za-z0-9._-]+$/.exec(text);
    const [host, owner] = scheme
        ? [scheme[1], scheme[2]]
        : scp
          ? [scp[1], scp[2]]
          : short
            ? ["github.com", short[1]]
            : [];
    return host === undefined || owner === undefined ? undefined : `${host}/${owner}`.toLowerCase();
}

export const repositoryOwnersPerCluster: StackRule = {
    kind: "stack",
    name: "repository-owners-per-cluster",
    description:
        "The pipelines of one Buildkite cluster check out repositories of one owner: a cluster's jobs can reach each other's agents, so another organisation's repositories belong in a cluster of their own.",
    enforcementLevel: "advisory",
    severity: "medium",
    types: [PLATFORM_TYPES.pipeline, PLATFORM_TYPES.cluster],
    remediation:
        "Give each repository owner's pipelines their own cluster (ci-platform:clusters, the pipelines' cluster) with fleets of its own, and set organizationSecrets: false on a cluster whose owner must not get the organisation's secrets.",
    check(resources: readonly PlanResource[]): StackFinding[] {
        const platform = readPlatform(resources);
        const byCluster = new Map<string, Map<string, string[]>>();
        for (const pipeline of platform.pipelines) {
            const owner = repositoryOwner(pipeline.repository);
            if (pipeline.cluster === undefined || owner === undefined) continue;
            const owners = byCluster.get(pipeline.cluster) ?? new Map<string, string[]>();
            owners.set(owner, [...(owners.get(owner) ?? []), pipeline.slug]);
            byCluster.set(pipeline.cluster, owners);
        }
        const clusterUrn = (name: string) =>
            resources.find((r) => r.type === PLATFORM_TYPES.cluster && r.inputs.name === name)?.urn;
        return [...byCluster.entries()]
            .filter(([, owners]) => owners.size > 1)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
            .map(([cluster, owners]) => {
                const listed = [...owners.entries()]
                    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
                    .map(([owner, slugs]) => `${owner} (${slugs.sort().join(", ")})`)
                    .join("; ");
                const slugs = [...owners.values()].flat();
                const urn =
                    clusterUrn(cluster) ?? platform.pipelines.find((p) => slugs.includes(p.slug))?.urn ?? cluster;
                return {
                    urn,
                    message: `Cluster "${cluster}" runs pipelines of ${owners.size} repository owners: ${listed}. Any job of the cluster can target any of its queues, so each owner's code runs on agents the others' jobs use. Fix: give each owner's pipelines a cluster of their own (ci-platform:clusters and the pipelines' cluster), with their own fleets.`,
                };
            });
    },
};
