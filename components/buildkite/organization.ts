import * as buildkite from "@pulumiverse/buildkite";
import * as pulumi from "@pulumi/pulumi";
import { ClusterConfig, TeamConfig } from "../config";
import { nameFragment } from "./pipeline-settings";
import { renamedAliases } from "./renames";

/** Inputs for {@link BuildkiteOrganization}. */
export interface BuildkiteOrganizationArgs {
    /** Clusters that pipelines and agent queues belong to. */
    readonly clusters: readonly ClusterConfig[];
    /** Teams that own pipelines. */
    readonly teams: readonly TeamConfig[];
}

/**
 * The organization-wide Buildkite objects pipelines refer to: clusters and teams.
 *
 * Both are protected: deleting a cluster deletes its queues and agent tokens with it, and deleting a team drops the
 * members managed outside this stack, neither of which comes back with a new object. The provider has no archive for
 * them (terraform-provider-buildkite v1.32.0 buildkite/resource_cluster.go, resource_team.go: Delete calls the
 * delete mutations). A removal from config (or `pulumi destroy`) therefore stops at them until someone runs
 * `pulumi state unprotect` on purpose (README, "Protected Buildkite objects"). Their names are updatable in place
 * (neither schema has a RequiresReplace), so a rename with `renamedFrom` keeps the object.
 */
export class BuildkiteOrganization extends pulumi.ComponentResource {
    /** Cluster id (GraphQL id) by cluster name. */
    public readonly clusterIds: Record<string, pulumi.Output<string>>;
    /** Cluster UUID by cluster name, for organization rules. */
    public readonly clusterUuids: Record<string, pulumi.Output<string>>;
    /** Team id by team name. */
    public readonly teamIds: Record<string, pulumi.Output<string>>;

    /**
     * @param name The _unique_ name of the organization component.
     * @param args The clusters and teams to declare.
     * @param opts A bag of options; pass the Buildkite provider in `providers`.
     */
    constructor(name: string, args: BuildkiteOrganizationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ci-platform:buildkite:Organization", name, {}, opts);
        this.clusterIds = {};
        this.clusterUuids = {};
        for (const cluster of args.clusters) {
            const resource = new buildkite.cluster.Cluster(
                `${name}-cluster-${nameFragment(cluster.name)}`,
                { name: cluster.name, description: cluster.description, emoji: cluster.emoji, color: cluster.color },
                {
                    parent: this,
                    protect: true,
                    aliases: renamedAliases(cluster.renamedFrom, (old) => `${name}-cluster-${nameFragment(old)}`),
                },
            );
            this.clusterIds[cluster.name] = resource.id;
            this.clusterUuids[cluster.name] = resource.uuid;
        }
        this.teamIds = {};
        for (const team of args.teams) {
            const resource = new buildkite.team.Team(
                `${name}-team-${nameFragment(team.name)}`,
                {
                    name: team.name,
                    description: team.description,
                    privacy: team.privacy,
                    defaultTeam: team.isDefaultTeam,
                    defaultMemberRole: team.defaultMemberRole,
                },
                {
                    parent: this,
                    protect: true,
                    aliases: renamedAliases(team.renamedFrom, (old) => `${name}-team-${nameFragment(old)}`),
                },
            );
            this.teamIds[team.name] = resource.id;
        }
        this.registerOutputs({ clusterIds: this.clusterIds, clusterUuids: this.clusterUuids, teamIds: this.teamIds });
    }
}
