import * as buildkite from "@pulumiverse/buildkite";
import * as github from "@pulumi/github";
import { BuildkiteOrganization, BuildkitePipeline, splitRepository, uploadSteps } from "./components/buildkite";
import { loadStackConfig } from "./components/config";

// 1. Read and validate the whole config before a single resource is registered.
const config = loadStackConfig();

// 2. Providers: one Buildkite organization, one GitHub provider per repository owner.
const buildkiteProvider = new buildkite.Provider("buildkite", { organization: config.organization });
const owners = [...new Set([config.github.owner, ...config.pipelines.map((p) => splitRepository(p.repository).owner)])];
const githubProviders = Object.fromEntries(
    owners.sort().map((owner) => [owner, new github.Provider(`github-${owner.toLowerCase()}`, { owner })]),
);

// 3. Components.
const organization = new BuildkiteOrganization(
    config.organization,
    { clusters: config.clusters, teams: config.teams },
    { providers: [buildkiteProvider] },
);
const pipelines = config.pipelines.map(
    (pipeline) =>
        new BuildkitePipeline(
            pipeline.slug,
            {
                pipeline,
                clusterId: organization.clusterIds[pipeline.cluster],
                defaultTeamId: organization.teamIds[pipeline.team ?? config.teams[0].name],
                teamIds: organization.teamIds,
                steps: uploadSteps(pipeline),
            },
            { providers: [buildkiteProvider, githubProviders[splitRepository(pipeline.repository).owner]] },
        ),
);

// 4. Outputs.
export const pipelineSlugs = Object.fromEntries(pipelines.map((p, i) => [config.pipelines[i].slug, p.slug]));
