import { ApiError, RestClient } from "./rest";

/*
 * What the importer reads from Buildkite's REST API v2 and GitHub's REST API: only the fields it maps, typed as the
 * public docs describe them (buildkite/docs pages/apis/rest_api/pipelines.md, clusters.md, clusters/queues.md,
 * teams.md, teams/pipelines.md, pipeline_schedules.md; GitHub REST "List repository webhooks").
 */

/** A pipeline as `GET /v2/organizations/{org}/pipelines` lists it (pipelines.md, "List pipelines"). */
export interface BkPipeline {
    readonly id: string;
    readonly graphql_id: string;
    readonly name: string;
    readonly slug: string;
    readonly description?: string | null;
    readonly repository: string;
    readonly default_branch?: string | null;
    readonly branch_configuration?: string | null;
    readonly cluster_id?: string | null;
    readonly archived_at?: string | null;
    readonly visibility?: string;
    readonly skip_queued_branch_builds?: boolean;
    readonly skip_queued_branch_builds_filter?: string | null;
    readonly cancel_running_branch_builds?: boolean;
    readonly cancel_running_branch_builds_filter?: string | null;
    readonly provider?: {
        readonly id: string;
        /** Carries the webhook's delivery token: compared in memory, never written or printed. */
        readonly webhook_url?: string;
        readonly settings?: Readonly<Record<string, unknown>>;
    };
    /** The YAML steps of a YAML pipeline. */
    readonly configuration?: string | null;
    /** The steps of a pipeline saved in the legacy step editor. */
    readonly steps?: readonly Readonly<Record<string, unknown>>[] | null;
    /** Pipeline environment, in clear: only its names are ever used. */
    readonly env?: Readonly<Record<string, unknown>> | null;
    readonly tags?: readonly string[] | null;
}

/** A cluster (clusters.md, "Cluster data model"). */
export interface BkCluster {
    readonly id: string;
    readonly graphql_id: string;
    readonly name: string;
    readonly description?: string | null;
    readonly emoji?: string | null;
    readonly color?: string | null;
    readonly default_queue_id?: string | null;
}

/** A cluster queue (clusters/queues.md, "Queue data model"). */
export interface BkQueue {
    readonly id: string;
    readonly graphql_id: string;
    readonly key: string;
    readonly description?: string | null;
    /** Buildkite hosted queues carry this; self-hosted ones do not. */
    readonly hosted_agents?: unknown;
}

/** A team (teams.md, "Team data model"). */
export interface BkTeam {
    readonly id: string;
    readonly graphql_id: string;
    readonly name: string;
    readonly description?: string | null;
    readonly privacy?: string;
    readonly default?: boolean;
}

/** One team's access to one pipeline (teams/pipelines.md). */
export interface BkTeamPipeline {
    readonly pipeline_id: string;
    readonly access_level: string;
}

/** A pipeline schedule (pipeline_schedules.md). */
export interface BkSchedule {
    readonly id: string;
    readonly graphql_id: string;
    readonly label?: string | null;
    readonly cronline: string;
    readonly message?: string | null;
    readonly branch?: string | null;
    /** Schedule environment, in clear: only its names are ever used. */
    readonly env?: Readonly<Record<string, unknown>> | null;
    readonly enabled?: boolean;
}

/** A repository webhook (GitHub REST `GET /repos/{owner}/{repo}/hooks`). */
export interface GhHook {
    readonly id: number;
    readonly name?: string;
    readonly active?: boolean;
    readonly events?: readonly string[];
    /** `url` is the delivery URL; for a Buildkite hook it holds the pipeline's webhook token. */
    readonly config?: { readonly url?: string; readonly content_type?: string };
}

/** The organisation as read. */
export interface OrganizationSnapshot {
    readonly pipelines: readonly BkPipeline[];
    readonly clusters: readonly (BkCluster & { readonly queues: readonly BkQueue[] })[];
    readonly teams: readonly (BkTeam & { readonly pipelines: readonly BkTeamPipeline[] })[];
    /** By pipeline slug. */
    readonly schedules: Readonly<Record<string, readonly BkSchedule[]>>;
    /** By `owner/name`: the repository's hooks, or undefined when GitHub was not read (no token). */
    readonly hooks: Readonly<Record<string, readonly GhHook[] | undefined>>;
    /** By `owner/name`: the status GitHub answered when the token could not list the repository's hooks. */
    readonly hookErrors?: Readonly<Record<string, number>>;
}

const seg = encodeURIComponent;

/** Reads the organisation `org` through Buildkite's REST API v2. */
export async function readBuildkite(
    client: RestClient,
    org: string,
    progress: (line: string) => void,
): Promise<Omit<OrganizationSnapshot, "hooks">> {
    const base = `v2/organizations/${seg(org)}`;
    progress(`Buildkite: reading the pipelines of ${org}`);
    const pipelines = await client.list<BkPipeline>(`${base}/pipelines`);
    progress(`Buildkite: ${pipelines.length} pipelines; reading clusters`);
    const clusters = [];
    for (const cluster of await client.list<BkCluster>(`${base}/clusters`))
        clusters.push({ ...cluster, queues: await client.list<BkQueue>(`${base}/clusters/${seg(cluster.id)}/queues`) });
    progress(`Buildkite: ${clusters.length} clusters; reading teams`);
    const teams = [];
    for (const team of await client.list<BkTeam>(`${base}/teams`))
        teams.push({
            ...team,
            pipelines: await client.list<BkTeamPipeline>(`${base}/teams/${seg(team.id)}/pipelines`),
        });
    progress(`Buildkite: ${teams.length} teams; reading schedules`);
    const schedules: Record<string, BkSchedule[]> = {};
    for (const pipeline of pipelines)
        if (!pipeline.archived_at)
            schedules[pipeline.slug] = await client.list<BkSchedule>(
                `${base}/pipelines/${seg(pipeline.slug)}/schedules`,
            );
    return { pipelines, clusters, teams, schedules };
}

/**
 * Reads the hooks of each repository through GitHub's REST API. A repository whose hooks the token cannot list (403:
 * no admin access; 404: GitHub's answer for a private repository the token cannot see — GitHub REST "List repository
 * webhooks" needs the repository's admin or `admin:repo_hook`) is recorded in `errors` and the others are still read;
 * a 401 (the token itself is bad) stops the run.
 */
export async function readGithubHooks(
    client: RestClient,
    repositories: readonly string[],
    progress: (line: string) => void,
): Promise<{ hooks: Record<string, readonly GhHook[]>; errors: Record<string, number> }> {
    const hooks: Record<string, readonly GhHook[]> = {};
    const errors: Record<string, number> = {};
    for (const repository of [...new Set(repositories)].sort()) {
        progress(`GitHub: reading the webhooks of ${repository}`);
        const [owner, name] = repository.split("/");
        try {
            hooks[repository] = await client.list<GhHook>(`repos/${seg(owner)}/${seg(name)}/hooks`);
        } catch (e) {
            if (!(e instanceof ApiError) || (e.status !== 403 && e.status !== 404)) throw e;
            errors[repository] = e.status;
            progress(`GitHub: ${e.message}; ${repository} is declared without its webhook`);
        }
    }
    return { hooks, errors };
}
