import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { BuildkiteOrganization } from "../../components/buildkite/organization";
import type { ClusterConfig, TeamConfig } from "../../components/config";
import { captureStack } from "../../scripts/plan/capture";
import { TEST_STACK } from "../fixtures/plan";
import type { PlanResource } from "../../scripts/plan/model";

/*
 * components/buildkite/organization.ts under the SDK mocks (scripts/plan/capture.ts captureStack, the plan's seam):
 * the clusters and teams, each protected, each renamed in place through its `renamedFrom`.
 */

const clusters: ClusterConfig[] = [
    { name: "default", renamedFrom: [], organizationSecrets: true },
    {
        name: "Mac OS",
        renamedFrom: ["macos-old"],
        description: "Apple builds",
        emoji: ":apple:",
        color: "#14CC80",
        organizationSecrets: true,
    },
];
const teams: TeamConfig[] = [
    { name: "Platform Team", renamedFrom: [], privacy: "SECRET", isDefaultTeam: true, defaultMemberRole: "MAINTAINER" },
    {
        name: "app",
        renamedFrom: ["apps", "application"],
        privacy: "VISIBLE",
        isDefaultTeam: false,
        defaultMemberRole: "MEMBER",
    },
];

let resources: PlanResource[] = [];
let org: BuildkiteOrganization | undefined;
const CLUSTER = "buildkite:Cluster/cluster:Cluster";
const TEAM = "buildkite:Team/team:Team";
const find = (type: string, name: string) => {
    const found = resources.find((r) => r.type === type && r.name === name);
    assert.ok(found, `no ${type} ${name}; have ${resources.map((r) => r.name).join(", ")}`);
    return found;
};
const valueOf = <T>(output: pulumi.Output<T>): Promise<T> => new Promise((resolve) => output.apply(resolve));

before(async () => {
    ({ resources } = await captureStack({
        ...TEST_STACK,
        run: () => {
            org = new BuildkiteOrganization("org", { clusters, teams });
        },
    }));
});

describe("BuildkiteOrganization", () => {
    it("declares one cluster and one team per config entry, named after the entry, under the component", () => {
        const component = find("ci-platform:buildkite:Organization", "org");
        assert.deepEqual(
            resources
                .filter((r) => r.type === CLUSTER)
                .map((r) => r.name)
                .sort(),
            ["org-cluster-default", "org-cluster-mac-os"],
        );
        assert.deepEqual(
            resources
                .filter((r) => r.type === TEAM)
                .map((r) => r.name)
                .sort(),
            ["org-team-app", "org-team-platform-team"],
        );
        for (const r of resources.filter((x) => x.type === CLUSTER || x.type === TEAM))
            assert.equal(r.parent, component.urn);
    });

    it("protects every cluster and team: the provider's delete has no archive (terraform-provider-buildkite v1.32.0)", () => {
        for (const r of resources.filter((x) => x.type === CLUSTER || x.type === TEAM))
            assert.equal(r.protect, true, r.name);
    });

    it("passes the cluster's settings and the team's, under the provider's names", () => {
        const mac = find(CLUSTER, "org-cluster-mac-os").inputs;
        assert.equal(mac.name, "Mac OS");
        assert.equal(mac.description, "Apple builds");
        assert.equal(mac.emoji, ":apple:");
        assert.equal(mac.color, "#14CC80");
        const team = find(TEAM, "org-team-platform-team").inputs;
        assert.equal(team.name, "Platform Team");
        assert.equal(team.privacy, "SECRET");
        assert.equal(team.defaultTeam, true);
        assert.equal(team.defaultMemberRole, "MAINTAINER");
    });

    it("aliases a renamed cluster or team to the name each earlier name gave it, so the rename is an update", () => {
        assert.deepEqual(find(CLUSTER, "org-cluster-default").aliases, []);
        assert.deepEqual(
            find(CLUSTER, "org-cluster-mac-os").aliases.map((u) => u.split("::").pop()),
            ["org-cluster-macos-old"],
        );
        assert.deepEqual(
            find(TEAM, "org-team-app")
                .aliases.map((u) => u.split("::").pop())
                .sort(),
            ["org-team-application", "org-team-apps"],
        );
    });

    it("gives each cluster's id and UUID and each team's id by its config name", async () => {
        assert.ok(org);
        assert.deepEqual(Object.keys(org.clusterIds).sort(), ["Mac OS", "default"]);
        assert.deepEqual(Object.keys(org.clusterUuids).sort(), ["Mac OS", "default"]);
        assert.deepEqual(Object.keys(org.teamIds).sort(), ["Platform Team", "app"]);
        const ids = await Promise.all([org.clusterIds["Mac OS"], org.clusterIds.default].map(valueOf));
        const uuids = await Promise.all([org.clusterUuids["Mac OS"], org.clusterUuids.default].map(valueOf));
        const teamIds = await Promise.all([org.teamIds["Platform Team"], org.teamIds.app].map(valueOf));
        for (const pair of [ids, uuids, teamIds]) {
            assert.ok(
                pair.every((v) => typeof v === "string" && v !== ""),
                JSON.stringify(pair),
            );
            assert.notEqual(pair[0], pair[1]);
        }
    });
});
