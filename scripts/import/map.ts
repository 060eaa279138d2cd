import { clusterQueueName } from "../../components/agents/naming";
import { GITHUB_WEBHOOK_EVENTS, nameFragment } from "../../components/buildkite/pipeline-settings";
import { AdoptEntry } from "../../components/config/adopt";
import { checkoutUrl } from "../../components/config/access-checks";
import {
    clusterSchema,
    fleetSchema,
    pipelineSchema,
    providerSettingsSchema,
    scheduleSchema,
    teamSchema,
} from "../../components/config/schema";
import { BkPipeline, BkQueue, GhHook, OrganizationSnapshot } from "./read";
import { classifyStoredSteps } from "./stored-steps";

/*
 * From a snapshot of a live organisation to this project's stack config (components/config/schema.ts) and the
 * `ci-platform:adopt` entries that make the first `pulumi up` import each existing object instead of creating it.
 * Pure: data in, data out. Every entry is checked against the schema here; what does not fit is left out and said in
 * the report, by the object it belongs to. Nothing is dropped silently, and no secret value is copied: env values
 * (pipeline and schedule) are never written, only their names, in the report.
 *
 * The logical names below are the ones the program gives (index.ts, components/buildkite/organization.ts and
 * pipeline.ts, components/agents/index.ts); an entry that names none is a config error of the plan itself
 * (adopt.ts), so the test's plan of the importer's output checks them.
 */

/** One thing the config cannot say, or a change the second `pulumi up` will make. */
export interface ReportItem {
    /** `pipeline hello`, `cluster Default`, `organisation`. */
    readonly subject: string;
    readonly message: string;
}

/** What {@link mapOrganization} needs besides the snapshot. */
export interface MapInput {
    readonly organization: string;
    readonly snapshot: OrganizationSnapshot;
    /** The images `agent-images/versions.json` pins, with every variant its history names. */
    readonly images: readonly { readonly name: string; readonly variants: readonly string[] }[];
    /** The AWS region of the stack's own state (`ci-platform:homeRegion`). */
    readonly homeRegion: string;
    /** The Elastic CI Stack release the project pins. */
    readonly elasticStackVersion: string;
}

/** The importer's result. */
export interface Mapped {
    /** The `config:` map of `Pulumi.<stack>.yaml`. */
    readonly config: Record<string, unknown>;
    readonly adopt: readonly AdoptEntry[];
    readonly report: readonly ReportItem[];
    /** What was declared, by kind. */
    readonly counts: Readonly<Record<"pipelines" | "clusters" | "queues" | "teams" | "schedules" | "webhooks", number>>;
}

/** `owner/name` and the checkout method of a GitHub clone URL, or undefined for any other host. */
export function githubRepository(url: string): { repository: string; checkout: "ssh" | "https" } | undefined {
    const ssh = /^(?:ssh:\/\/)?git@github\.com[:/]([^/]+)\/(.+?)(?:\.git)?\/?$/i.exec(url);
    if (ssh) return { repository: `${ssh[1]}/${ssh[2]}`, checkout: "ssh" };
    const https = /^https?:\/\/(?:[^@/]+@)?github\.com\/([^/]+)\/(.+?)(?:\.git)?\/?$/i.exec(url);
    if (https) return { repository: `${https[1]}/${https[2]}`, checkout: "https" };
    return undefined;
}

/** A config name (`[A-Za-z0-9][A-Za-z0-9._-]*`, 63 characters) from a Buildkite display name. */
function configName(text: string): string {
    return (
        text
            .replace(/[^A-Za-z0-9._-]+/g, "-")
            .replace(/^[^A-Za-z0-9]+|-+$/g, "")
            .slice(0, 63) || "unnamed"
    );
}

/** The first zod message of a failed parse, with its path. */
function zodProblem(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
    const [first] = error.issues;
    return first ? `${first.path.map(String).join(".") || "value"}: ${first.message}` : "invalid";
}

/** Drops undefined fields, so the YAML holds only what was read. */
function defined<T extends Record<string, unknown>>(o: T): T {
    return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as T;
}

/** Provider settings as the schema names them: the REST API's snake_case keys (pipelines.md, "provider.settings"). */
const SETTING_SCHEMAS: Readonly<Record<string, { safeParse(value: unknown): { success: boolean } }>> =
    providerSettingsSchema.shape;
const camel = (key: string) => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
/** Settings the REST API returns that say nothing the config declares (the repository is declared already). */
const IGNORED_SETTINGS = new Set(["repository"]);

/** The access levels, weakest first (teams/pipelines.md). */
const ACCESS = ["READ_ONLY", "BUILD_AND_READ", "MANAGE_BUILD_AND_READ"] as const;

/** Maps a snapshot to the stack config; see the module comment. */
export function mapOrganization(input: MapInput): Mapped {
    const { organization: org, snapshot } = input;
    const report: ReportItem[] = [];
    const adopt: AdoptEntry[] = [];
    const note = (subject: string, message: string) => report.push({ subject, message });

    // Clusters, by their Buildkite id. A cluster name of ours is the Buildkite name itself (organization.ts passes it
    // as `name`), so a name the schema refuses is renamed on the second `pulumi up`: in place, the same cluster.
    const clusters: Record<string, unknown>[] = [];
    const clusterById = new Map<
        string,
        { name: string; uuid: string; queues: readonly BkQueue[]; defaultQueue?: string }
    >();
    const usedClusterFragments = new Set<string>();
    for (const cluster of [...snapshot.clusters].sort((a, b) => (a.name < b.name ? -1 : 1))) {
        const subject = `cluster ${cluster.name}`;
        const name = configName(cluster.name);
        const entry = defined({
            name,
            description: cluster.description || undefined,
            emoji: cluster.emoji || undefined,
            color: cluster.color || undefined,
        });
        const parsed = clusterSchema.safeParse(entry);
        const logical = `${org}-cluster-${nameFragment(name)}`;
        if (!parsed.success || usedClusterFragments.has(logical)) {
            note(
                subject,
                `not declared: ${parsed.success ? `its name gives the same resource name (${logical}) as another cluster's` : zodProblem(parsed.error)}; declare it by hand`,
            );
            continue;
        }
        usedClusterFragments.add(logical);
        // The live name is kept where the schema takes it; "Default cluster" (Buildkite's name for the cluster it
        // migrates an organisation's agents into) has a space the schema refuses, so the import ignores the name and
        // the rename waits for the update after the adopt entries are removed.
        const renamed = name !== cluster.name;
        if (renamed)
            note(
                subject,
                `declared as "${name}" (the schema's cluster names): renamed in place, updated on the second \`pulumi up\``,
            );
        clusters.push(entry);
        adopt.push(withIgnored({ resource: logical, id: cluster.graphql_id }, renamed ? ["name"] : []));
        clusterById.set(cluster.id, {
            name,
            uuid: cluster.id,
            queues: cluster.queues,
            defaultQueue: cluster.queues.find((q) => q.id === cluster.default_queue_id)?.key,
        });
    }

    // Queues: the program declares a cluster queue for each (cluster, queue) a fleet serves (components/agents), so
    // each live queue becomes a static fleet: machines this stack does not manage, as the live agents are.
    const fleets: Record<string, unknown>[] = [];
    const queueKeys = new Set<string>();
    let queueCount = 0;
    for (const cluster of clusterById.values()) {
        for (const queue of [...cluster.queues].sort((a, b) => (a.key < b.key ? -1 : 1))) {
            const subject = `queue ${cluster.name}/${queue.key}`;
            const fleet = {
                name: `${nameFragment(cluster.name)}-${nameFragment(queue.key)}`.slice(0, 100).replace(/-+$/, ""),
                kind: "static",
                description: `The agents of queue ${queue.key}, adopted from the live organisation`,
                cluster: cluster.name,
                queue: queue.key,
                // The live agents already check these repositories out; both methods, whichever each pipeline uses.
                checkoutCredentials: ["https", "ssh"],
            };
            const parsed = fleetSchema.safeParse(fleet);
            if (!parsed.success) {
                note(subject, `not declared: ${zodProblem(parsed.error)}; declare a fleet for it by hand`);
                continue;
            }
            if (queue.hosted_agents)
                note(
                    subject,
                    "a Buildkite hosted queue: its hosted-agent settings are not in the schema and are kept as they are",
                );
            if (queue.description)
                note(
                    subject,
                    "its description is replaced by the program's (`Queue <key> of cluster <name>, managed by ci-platform`), updated on the second `pulumi up`",
                );
            fleets.push(fleet);
            queueKeys.add(`${cluster.name}/${queue.key}`);
            queueCount++;
            // terraform-provider-buildkite v1.32.0 (and v1.38.0) buildkite/resource_cluster_queue.go ImportState: the
            // id is "<queue GraphQL id>,<cluster UUID>"; the REST cluster's `id` is its UUID (clusters.md).
            // The program always sets its own description (components/agents), never the live one.
            adopt.push({
                resource: clusterQueueName(cluster.name, queue.key),
                id: `${queue.graphql_id},${cluster.uuid}`,
                ignoreChanges: ["description"],
            });
            note(
                subject,
                "declared as a static fleet; the first `pulumi up` creates a cluster agent token for it (existing tokens stay)",
            );
        }
    }

    // Teams. The REST API gives privacy and the default flag; a team's default member role is not in it.
    const teams: Record<string, unknown>[] = [];
    const teamNameById = new Map<string, string>();
    const usedTeams = new Set<string>();
    for (const team of [...snapshot.teams].sort((a, b) => (a.name < b.name ? -1 : 1))) {
        const subject = `team ${team.name}`;
        const entry = defined({
            name: team.name,
            description: team.description || undefined,
            privacy: team.privacy === "secret" ? "SECRET" : "VISIBLE",
            isDefaultTeam: team.default === true,
        });
        const parsed = teamSchema.safeParse(entry);
        const logical = `${org}-team-${nameFragment(team.name)}`;
        if (!parsed.success || usedTeams.has(logical)) {
            note(
                subject,
                `not declared: ${parsed.success ? `its name gives the same resource name (${logical}) as another team's` : zodProblem(parsed.error)}`,
            );
            continue;
        }
        usedTeams.add(logical);
        teams.push(entry);
        teamNameById.set(team.id, team.name);
        // The REST API does not give the role, so the declared one may differ: ignored on import.
        adopt.push({ resource: logical, id: team.graphql_id, ignoreChanges: ["defaultMemberRole"] });
        note(
            subject,
            "its default member role is not in the REST API: declared as MEMBER (the schema's default), updated on the second `pulumi up` if it differs; check it",
        );
    }
    if (teams.length === 0) {
        teams.push({ name: "engineering", description: "Owns the pipelines" });
        note(
            "organisation",
            'no team could be read: declared a new team "engineering", which the first `pulumi up` creates',
        );
    }

    // Each pipeline's team access (teams/pipelines.md gives the pipeline's UUID and the level).
    const accessByPipeline = new Map<string, { team: string; access: (typeof ACCESS)[number] }[]>();
    for (const team of snapshot.teams) {
        const name = teamNameById.get(team.id);
        if (name === undefined) continue;
        for (const grant of team.pipelines) {
            const access = grant.access_level.toUpperCase() as (typeof ACCESS)[number];
            if (!ACCESS.includes(access)) continue;
            accessByPipeline.set(grant.pipeline_id, [
                ...(accessByPipeline.get(grant.pipeline_id) ?? []),
                { team: name, access },
            ]);
        }
    }

    const pipelines: Record<string, unknown>[] = [];
    let scheduleCount = 0;
    let webhookCount = 0;
    for (const pipeline of [...snapshot.pipelines].sort((a, b) => (a.slug < b.slug ? -1 : 1))) {
        const subject = `pipeline ${pipeline.slug}`;
        const skip = (why: string) => note(subject, `not declared: ${why}`);
        if (pipeline.archived_at) {
            skip("archived");
            continue;
        }
        const repo = githubRepository(pipeline.repository);
        if (!repo) {
            skip(
                `its repository ${pipeline.repository} is not on GitHub, and the schema declares GitHub repositories only`,
            );
            continue;
        }
        if (pipeline.provider && pipeline.provider.id !== "github") {
            skip(`its provider is ${pipeline.provider.id}, not github`);
            continue;
        }
        const cluster = pipeline.cluster_id ? clusterById.get(pipeline.cluster_id) : undefined;
        if (!cluster) {
            skip(
                pipeline.cluster_id
                    ? "its cluster was not declared (see the cluster's entry)"
                    : "it is in no cluster; move it into one in Buildkite (Pipeline Settings, Cluster) and import again",
            );
            continue;
        }
        const queue = cluster.defaultQueue ?? [...cluster.queues].sort((a, b) => (a.key < b.key ? -1 : 1))[0]?.key;
        if (queue === undefined || !queueKeys.has(`${cluster.name}/${queue}`)) {
            skip(`its cluster ${cluster.name} has no declared queue for its steps to run on`);
            continue;
        }
        // What this pipeline adds to the adopt list and the report, kept until its entry passes the schema: an adopt
        // entry for a schedule or webhook of an undeclared pipeline would name nothing the program declares.
        const pending: AdoptEntry[] = [];
        const notes: string[] = [];
        const later = (message: string) => notes.push(message);
        let schedulesHere = 0;
        let webhooksHere = 0;
        // Provider settings: the schema's keys, the rest reported.
        const settings: Record<string, unknown> = {};
        for (const [key, value] of Object.entries(pipeline.provider?.settings ?? {})) {
            if (IGNORED_SETTINGS.has(key) || value === null || value === undefined) continue;
            const ours = camel(key);
            const schema = SETTING_SCHEMAS[ours];
            if (schema === undefined)
                later(
                    `provider setting \`${key}\` is not in the schema and not managed by the program; check it after the second \`pulumi up\``,
                );
            else if (!schema.safeParse(value).success)
                later(
                    `provider setting \`${key}\`: ${JSON.stringify(value)} is not a value the schema takes; declared with the schema's default`,
                );
            else settings[ours] = value;
        }
        // Team access: the strongest grant owns the pipeline (`team`, the provider's default_team_id); the program
        // declares each other grant as a new object, which would collide with the live one, so those are reported.
        const grants = [...(accessByPipeline.get(pipeline.id) ?? [])].sort(
            (a, b) => ACCESS.indexOf(b.access) - ACCESS.indexOf(a.access) || (a.team < b.team ? -1 : 1),
        );
        for (const other of grants.slice(1))
            later(
                `team ${other.team} has ${other.access} access: left as it is, not declared (the REST API gives no id to import the grant by)`,
            );
        // The owner is the provider's default_team_id, which an import leaves empty in the state: the first update then
        // attaches the team with MANAGE_BUILD_AND_READ (terraform-provider-buildkite v1.32.0 buildkite/
        // resource_pipeline.go Update: a planned default_team_id other than the state's calls createTeamPipeline).
        later(
            grants[0]
                ? `owned by team ${grants[0].team} (its strongest grant, ${grants[0].access}): after the import the provider's state has no default team, so the second \`pulumi up\` attaches ${grants[0].team} again with MANAGE_BUILD_AND_READ; Buildkite may refuse the existing grant, see README "Adopting an existing organisation"`
                : `no declared team has access: the second \`pulumi up\` gives the stack's first team MANAGE_BUILD_AND_READ access`,
        );
        // Schedules.
        const schedules: Record<string, unknown>[] = [];
        const scheduleNames = new Set<string>();
        for (const schedule of snapshot.schedules[pipeline.slug] ?? []) {
            const label = schedule.label || schedule.cronline;
            const entry = defined({
                label,
                cronline: schedule.cronline,
                branch: schedule.branch || undefined,
                message: schedule.message || undefined,
                enabled: schedule.enabled,
            });
            const parsed = scheduleSchema.safeParse(entry);
            const logical = `${pipeline.slug}-schedule-${nameFragment(label)}`;
            if (!parsed.success || scheduleNames.has(logical)) {
                later(
                    `schedule "${label}" not declared: ${parsed.success ? "another schedule's label gives the same resource name" : zodProblem(parsed.error)}`,
                );
                continue;
            }
            scheduleNames.add(logical);
            const envNames = Object.keys(schedule.env ?? {});
            if (envNames.length > 0)
                later(
                    `schedule "${label}" sets env ${envNames.join(", ")}: values not copied (they may be secrets); add the non-secret ones under its \`env\``,
                );
            schedules.push(entry);
            pending.push(
                withIgnored({ resource: logical, id: schedule.graphql_id }, envNames.length > 0 ? ["env"] : []),
            );
            schedulesHere++;
        }
        // The GitHub webhook that delivers to this pipeline: its URL carries the pipeline's token, compared here
        // and never written (pipelines.md: `provider.webhook_url`; GitHub: a hook's `config.url`).
        const hooks = snapshot.hooks[repo.repository];
        const webhookUrl = pipeline.provider?.webhook_url ?? "";
        const hook: GhHook | undefined =
            webhookUrl && hooks ? hooks.find((h) => h.config?.url === webhookUrl) : undefined;
        let webhook: "github" | "none" = "none";
        if (hook) {
            webhook = "github";
            // @pulumi/github 6.15.0 repositoryWebhook.d.ts "Import": `<repository name>/<hook id>`.
            webhooksHere++;
            // The program declares the hook's events, JSON payloads and active flag (components/buildkite/pipeline.ts).
            const events = [...(hook.events ?? [])].sort();
            const ours = [...GITHUB_WEBHOOK_EVENTS].sort();
            const changes = [
                ...(events.join() !== ours.join()
                    ? [`events ${events.join(", ") || "none"} → ${ours.join(", ")}`]
                    : []),
                ...(hook.config?.content_type !== "json"
                    ? [`content type ${hook.config?.content_type ?? "unset"} → json`]
                    : []),
                ...(hook.active === false ? ["inactive → active"] : []),
            ];
            if (changes.length > 0)
                later(`its GitHub webhook (${hook.id}) is updated on the second \`pulumi up\`: ${changes.join("; ")}`);
            // @pulumi/github 6.15.0 repositoryWebhook.d.ts "Import": `<repository name>/<hook id>`. The inputs that
            // differ (the program's events, JSON payloads, active flag) are ignored on import.
            pending.push(
                withIgnored(
                    { resource: `${pipeline.slug}-webhook`, id: `${repo.repository.split("/")[1]}/${hook.id}` },
                    [
                        ...(events.join() !== ours.join() ? ["events"] : []),
                        ...(hook.config?.content_type !== "json" ? ["configuration"] : []),
                        ...(hook.active === false ? ["active"] : []),
                    ],
                ),
            );
        } else if (hooks === undefined && snapshot.hookErrors?.[repo.repository] !== undefined)
            later(
                `GitHub answered ${snapshot.hookErrors[repo.repository]} for the webhooks of ${repo.repository} (the token cannot list them): declared with \`webhook: none\`; give GITHUB_TOKEN admin:repo_hook on it and import again`,
            );
        else if (hooks === undefined)
            later(
                "GitHub was not read (no GITHUB_TOKEN): declared with `webhook: none`; set `webhook: github` and add its adopt entry by hand, or import again with GITHUB_TOKEN",
            );
        else if (!webhookUrl)
            later(
                "the Buildkite token cannot see the pipeline's webhook URL (it needs write_pipelines): declared with `webhook: none`",
            );
        else
            later(
                `no webhook of ${repo.repository} delivers to this pipeline: declared with \`webhook: none\` (set \`github-app\` if it builds through the Buildkite GitHub App)`,
            );

        const entry = defined({
            slug: pipeline.slug,
            // Always: the program derives a missing name from the slug, which need not be the live name.
            name: pipeline.name,
            description: pipeline.description || undefined,
            repository: repo.repository,
            checkout: repo.checkout,
            cluster: cluster.name,
            queue,
            defaultBranch: pipeline.default_branch || undefined,
            branches: pipeline.branch_configuration || undefined,
            webhook,
            team: grants[0]?.team,
            schedules: schedules.length > 0 ? schedules : undefined,
            provider: Object.keys(settings).length > 0 ? settings : undefined,
            skipIntermediateBuilds: pipeline.skip_queued_branch_builds,
            cancelIntermediateBuilds: pipeline.cancel_running_branch_builds,
        });
        const parsed = pipelineSchema.safeParse(entry);
        if (!parsed.success) {
            skip(zodProblem(parsed.error));
            continue;
        }
        pipelines.push(entry);
        // The pipeline's inputs the import cannot match (pipeline-settings.ts declares them): its team (the state has
        // none after an import, see above), allowRebuilds and the provider settings (the program sets every one; the
        // REST API gives some), the stored steps (the program's upload step), tags (`repo:<owner/name>`), and the
        // repository URL when the schema's form differs from the live one.
        // The program always names an owning team (the stack's first when no declared team has access).
        const ignored = ["allowRebuilds", "defaultTeamId", "providerSettings", "steps"];
        const liveTags = [...(pipeline.tags ?? [])].sort().join();
        if (liveTags !== `repo:${repo.repository}`) ignored.push("tags");
        const url = checkoutUrl(repo.repository, repo.checkout);
        if (url !== pipeline.repository) {
            ignored.push("repository");
            note(
                subject,
                `repository ${pipeline.repository} is declared as ${repo.repository} (${repo.checkout}): its URL becomes ${url}, updated on the second \`pulumi up\``,
            );
        }
        adopt.push(...pending, {
            resource: `${pipeline.slug}-pipeline`,
            id: pipeline.graphql_id,
            ignoreChanges: ignored.sort(),
        });
        for (const message of notes) note(subject, message);
        scheduleCount += schedulesHere;
        webhookCount += webhooksHere;
        reportPipeline(pipeline, subject, note);
    }

    const repositoryOwners = pipelines.map((p) => String(p.repository).split("/")[0]);
    const owner = mostCommon(repositoryOwners) ?? org;
    const config = {
        "pulumi:disable-default-providers": ["aws", "buildkite", "docker", "github"],
        "aws:region": input.homeRegion,
        "ci-platform:organization": org,
        "ci-platform:github": { owner },
        "ci-platform:homeRegion": input.homeRegion,
        "ci-platform:elasticStack": { version: input.elasticStackVersion },
        // The policy pack requires a cost centre on every AWS resource (policy/, cost-tags): set your own.
        "ci-platform:tags": { CostCenter: "ci" },
        "ci-platform:clusters": clusters,
        "ci-platform:teams": teams,
        "ci-platform:fleets": fleets,
        "ci-platform:pipelines": pipelines,
        "ci-platform:images": input.images.map((i) => ({ name: i.name, variants: [...i.variants] })),
        "ci-platform:adopt": adopt,
    };
    if (clusters.length === 0)
        note("organisation", "no cluster could be declared: the stack file does not plan until one is");
    return {
        config,
        adopt,
        report,
        counts: {
            pipelines: pipelines.length,
            clusters: clusters.length,
            queues: queueCount,
            teams: teams.length,
            schedules: scheduleCount,
            webhooks: webhookCount,
        },
    };
}

/** The parts of a declared pipeline the config does not carry. */
function reportPipeline(pipeline: BkPipeline, subject: string, note: (subject: string, message: string) => void) {
    const steps = classifyStoredSteps(pipeline.configuration, pipeline.steps);
    if (steps.kind === "custom")
        note(
            subject,
            `stored steps (${steps.steps} step(s), ${steps.lines} line(s) of YAML) not expressible: ${steps.why}. The second \`pulumi up\` replaces them with the program's upload step: move them into the repository's .buildkite/pipeline.yml first`,
        );
    else if (steps.kind === "none")
        note(subject, "stores no steps; the second `pulumi up` stores the program's upload step");
    const envNames = Object.keys(pipeline.env ?? {});
    if (envNames.length > 0)
        note(
            subject,
            `pipeline env ${envNames.join(", ")}: values not copied (the API returns them in clear and some may be secrets); put secret ones in ci-platform:secrets and the others under the pipeline's \`env\``,
        );
    const tags = (pipeline.tags ?? []).filter((t) => !t.startsWith("repo:"));
    if (tags.length > 0)
        note(
            subject,
            `tags ${tags.join(", ")} are not in the schema; the second \`pulumi up\` sets the program's (\`repo:<owner/name>\`)`,
        );
    if (pipeline.skip_queued_branch_builds_filter)
        note(
            subject,
            "its skip-intermediate-builds branch filter is not in the schema; the second `pulumi up` clears it",
        );
    if (pipeline.cancel_running_branch_builds_filter)
        note(
            subject,
            "its cancel-intermediate-builds branch filter is not in the schema; the second `pulumi up` clears it",
        );
    if (pipeline.visibility === "public")
        note(
            subject,
            "the pipeline is public in Buildkite; the schema has no visibility setting, so it stays as it is",
        );
}

function mostCommon(values: readonly string[]): string | undefined {
    const counts = new Map<string, number>();
    for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
    return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0];
}

/** An adopt entry with `ignoreChanges` only when some input differs. */
function withIgnored(entry: AdoptEntry, ignoreChanges: readonly string[]): AdoptEntry {
    return ignoreChanges.length > 0 ? { ...entry, ignoreChanges: [...ignoreChanges] } : entry;
}
