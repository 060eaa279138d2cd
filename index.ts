import * as buildkite from "@pulumiverse/buildkite";
import * as github from "@pulumi/github";
import {
    BuildkiteOrganization,
    BuildkitePipeline,
    PipelineTriggerRules,
    splitRepository,
} from "./components/buildkite";
import { loadStackConfig } from "./components/config";
import { generateSteps } from "./components/steps";

// 1. Read and validate the whole config before a single resource is registered.
const config = loadStackConfig();

// 2. Providers: one Buildkite organization, one GitHub provider per repository owner.
const buildkiteProvider = new buildkite.Provider("buildkite", { organization: config.organization });
const owners = [...new Set([config.github.owner, ...config.pipelines.map((p) => splitRepository(p.repository).owner)])];
const githubProviders = Object.fromEntries(
    owners.sort().map((owner) => [owner, new github.Provider(`github-${owner.toLowerCase()}`, { owner })]),
);

// Every pipeline's steps, from the config. TEMPORARY image resolver: the lead replaces it with
// components/images' resolveStepImage (which adds the pinned version from agent-images/versions.json).
const steps = generateSteps(config, (ref) => `\${CI_PLATFORM_ECR_REGISTRY}/ci-platform/${ref.name}:${ref.variant}`);

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
                steps: steps.bySlug[pipeline.slug].stored,
            },
            { providers: [buildkiteProvider, githubProviders[splitRepository(pipeline.repository).owner]] },
        ),
);

new PipelineTriggerRules(
    `${config.organization}-trigger-rules`,
    {
        triggers: steps.crossClusterTriggers,
        pipelineUuids: Object.fromEntries(pipelines.map((p, i) => [config.pipelines[i].slug, p.pipeline.uuid])),
    },
    { providers: [buildkiteProvider] },
);

// 4. Outputs.
export const pipelineSlugs = Object.fromEntries(pipelines.map((p, i) => [config.pipelines[i].slug, p.slug]));
