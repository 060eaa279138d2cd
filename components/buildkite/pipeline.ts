import * as buildkite from "@pulumiverse/buildkite";
import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";
import { PipelineConfig } from "../config";
import { GITHUB_WEBHOOK_EVENTS, nameFragment, pipelineInputs, splitRepository } from "./pipeline-settings";

/** Inputs for {@link BuildkitePipeline}. */
export interface BuildkitePipelineArgs {
    /** The validated pipeline config. */
    readonly pipeline: PipelineConfig;
    /** Id of the Buildkite cluster the pipeline runs in. */
    readonly clusterId: pulumi.Input<string>;
    /** Id of the team that owns the pipeline (its default team). */
    readonly defaultTeamId: pulumi.Input<string>;
    /** Ids of the other teams given access, by team name; must hold every team in `pipeline.teams`. */
    readonly teamIds: Readonly<Record<string, pulumi.Input<string>>>;
    /** The pipeline's steps, as the YAML document Buildkite stores. */
    readonly steps: pulumi.Input<string>;
    /**
     * What the pipeline resource waits for: the image pushes its steps (stored and uploaded) pull, so that a build
     * started once the steps are stored never pulls a tag that is not pushed yet.
     */
    readonly waitsFor?: readonly pulumi.Resource[];
}

/**
 * One Buildkite pipeline: the pipeline in its cluster, its team access, its schedules, and the webhook that
 * starts its builds (a GitHub repository webhook, or the GitHub App's pipeline webhook). Pass the Buildkite and
 * GitHub providers (the latter for the repository's owner) in `providers`.
 */
export class BuildkitePipeline extends pulumi.ComponentResource {
    /** The Buildkite pipeline resource. */
    public readonly pipeline: buildkite.pipeline.Pipeline;
    /** The pipeline's slug. */
    public readonly slug: pulumi.Output<string>;
    /** The URL that starts a build. Carries a delivery token, so it is a secret. */
    public readonly webhookUrl: pulumi.Output<string>;

    /**
     * @param name The _unique_ name of this pipeline component (the pipeline's slug).
     * @param args The pipeline's inputs.
     * @param opts A bag of options that control this resource's behavior.
     */
    constructor(name: string, args: BuildkitePipelineArgs, opts?: pulumi.ComponentResourceOptions) {
        // The secret names the pipeline's jobs need beyond its own ci-platform:secrets (names only, never values),
        // recorded on the component so the policy pack can check from the plan that each reaches its fleets.
        const requiresSecrets = args.pipeline.requiresSecrets;
        super("ci-platform:buildkite:Pipeline", name, requiresSecrets.length > 0 ? { requiresSecrets } : {}, opts);
        const config = args.pipeline;
        this.pipeline = new buildkite.pipeline.Pipeline(
            `${name}-pipeline`,
            {
                ...pipelineInputs(config),
                clusterId: args.clusterId,
                defaultTeamId: args.defaultTeamId,
                steps: args.steps,
            },
            { parent: this, additionalSecretOutputs: ["webhookUrl"], dependsOn: [...(args.waitsFor ?? [])] },
        );
        this.slug = this.pipeline.slug;
        this.webhookUrl = pulumi.secret(this.pipeline.webhookUrl);

        for (const access of config.teams) {
            new buildkite.pipeline.Team(
                `${name}-team-${nameFragment(access.team)}`,
                { pipelineId: this.pipeline.id, teamId: args.teamIds[access.team], accessLevel: access.access },
                { parent: this },
            );
        }
        for (const schedule of config.schedules) {
            new buildkite.pipeline.Schedule(
                `${name}-schedule-${nameFragment(schedule.label)}`,
                {
                    pipelineId: this.pipeline.id,
                    label: schedule.label,
                    cronline: schedule.cronline,
                    branch: schedule.branch ?? config.defaultBranch,
                    message: schedule.message,
                    env: schedule.env,
                    enabled: schedule.enabled,
                },
                { parent: this },
            );
        }

        if (config.webhook === "github") {
            new github.RepositoryWebhook(
                `${name}-webhook`,
                {
                    repository: splitRepository(config.repository).name,
                    active: true,
                    events: [...GITHUB_WEBHOOK_EVENTS],
                    configuration: { url: this.webhookUrl, contentType: "json", insecureSsl: false },
                },
                { parent: this },
            );
        } else if (config.webhook === "github-app") {
            new buildkite.pipeline.Webhook(
                `${name}-webhook`,
                { pipelineId: this.pipeline.id, repository: this.pipeline.repository },
                { parent: this },
            );
        }
        this.registerOutputs({ pipeline: this.pipeline, slug: this.slug, webhookUrl: this.webhookUrl });
    }
}
