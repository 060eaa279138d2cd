import * as buildkite from "@pulumiverse/buildkite";
import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";
import { PipelineConfig } from "../config";
import { GITHUB_WEBHOOK_EVENTS, nameFragment, pipelineInputs, splitRepository } from "./pipeline-settings";
import { renamedAliases, renamedChildAliases, renamedComponentAliases } from "./renames";

/** The component type of {@link BuildkitePipeline}. */
export const PIPELINE_COMPONENT_TYPE = "ci-platform:buildkite:Pipeline";

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
    /**
     * Earlier names of renamed teams (`teams[].renamedFrom`), by current team name: a team grant is named after its
     * team, so a renamed team's grants keep their objects through aliases too.
     */
    readonly teamsRenamedFrom?: Readonly<Record<string, readonly string[]>>;
    /** The pipeline's steps, as the YAML document Buildkite stores. */
    readonly steps: pulumi.Input<string>;
    /**
     * When `steps` are signed at deploy (a KMS cluster: components/signing/kms-step-signature.ts), the same YAML
     * without signatures. It is known in a preview that creates a signature, when `steps` is not: recorded on the
     * component so that the policy pack can still tell which queues upload (policy/invariants/signing.ts).
     */
    readonly stepsBeforeSigning?: string;
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
        // Earlier slugs (`renamedFrom`) become aliases of the component and of each child under the old component,
        // so a renamed pipeline keeps its id, webhook URL, build history and badges: Buildkite updates `slug` and
        // `name` in place (terraform-provider-buildkite v1.32.0 buildkite/resource_pipeline.go: neither attribute has
        // a RequiresReplace; Update PATCHes the slug over REST).
        const previous = args.pipeline.renamedFrom;
        const recorded = {
            ...(requiresSecrets.length > 0 ? { requiresSecrets } : {}),
            ...(args.stepsBeforeSigning !== undefined ? { stepsBeforeSigning: args.stepsBeforeSigning } : {}),
        };
        super(PIPELINE_COMPONENT_TYPE, name, recorded, {
            ...opts,
            aliases: [...(opts?.aliases ?? []), ...renamedComponentAliases(previous)],
        });
        const config = args.pipeline;
        const was = (childOf: (component: string) => string) =>
            renamedChildAliases({ type: PIPELINE_COMPONENT_TYPE, previous, parent: opts?.parent }, childOf);
        this.pipeline = new buildkite.pipeline.Pipeline(
            `${name}-pipeline`,
            {
                ...pipelineInputs(config),
                clusterId: args.clusterId,
                defaultTeamId: args.defaultTeamId,
                steps: args.steps,
            },
            {
                parent: this,
                additionalSecretOutputs: ["webhookUrl"],
                // Protected, and the provider archives rather than deletes (index.ts, archivePipelineOnDelete): a
                // removal from config stops here until `pulumi state unprotect`, and then keeps the history.
                protect: true,
                aliases: was((old) => `${old}-pipeline`),
                dependsOn: [...(args.waitsFor ?? [])],
            },
        );
        this.slug = this.pipeline.slug;
        this.webhookUrl = pulumi.secret(this.pipeline.webhookUrl);

        // A grant is named after (slug, team): it keeps its object when either is renamed, or both, through an alias
        // for every (earlier or current slug) × (earlier or current team) but the current pair. Otherwise a team
        // rename would plan a create of the same (pipeline, team) grant, which conflicts, and a delete of the live one.
        for (const access of config.teams) {
            const grant = (team: string) => `-team-${nameFragment(team)}`;
            const earlierTeams = args.teamsRenamedFrom?.[access.team] ?? [];
            new buildkite.pipeline.Team(
                `${name}${grant(access.team)}`,
                { pipelineId: this.pipeline.id, teamId: args.teamIds[access.team], accessLevel: access.access },
                {
                    parent: this,
                    aliases: [
                        ...renamedAliases(earlierTeams, (team) => `${name}${grant(team)}`),
                        ...[access.team, ...earlierTeams].flatMap((team) => was((old) => `${old}${grant(team)}`)),
                    ],
                },
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
                    // Nothing rather than {}: the provider reads an empty env back as null
                    // (terraform-provider-buildkite v1.32.0 buildkite/resource_pipeline_schedule.go envVarsArrayToMap
                    // returns MapNull for no variables), so {} would show as drift on every refresh.
                    env: Object.keys(schedule.env).length > 0 ? schedule.env : undefined,
                    enabled: schedule.enabled,
                },
                { parent: this, aliases: was((old) => `${old}-schedule-${nameFragment(schedule.label)}`) },
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
                { parent: this, aliases: was((old) => `${old}-webhook`) },
            );
        } else if (config.webhook === "github-app") {
            new buildkite.pipeline.Webhook(
                `${name}-webhook`,
                { pipelineId: this.pipeline.id, repository: this.pipeline.repository },
                { parent: this, aliases: was((old) => `${old}-webhook`) },
            );
        }
        // What it recorded for the policy pack is among its outputs too: a real preview's stack policy sees a
        // component's registered outputs, not its inputs (@pulumi/policy PolicyResource.props).
        this.registerOutputs({ ...recorded, pipeline: this.pipeline, slug: this.slug, webhookUrl: this.webhookUrl });
    }
}
