import type { ConfigIssue } from "./issues";
import type { FleetConfig, PipelineConfig, PlatformConfig, SecretSet } from "./schema";

/*
 * What a job needs from the machine it runs on, checked against the fleets that can run it: a way to check out the
 * repository and every secret the pipeline declares.
 *
 * How an AWS fleet gets them: the Elastic CI Stack's environment hook runs buildkite/elastic-ci-stack-s3-secrets-hooks
 * (v2.8.0 in stack v6.71.1: packer/linux/base/scripts/versions.sh S3_SECRETS_HELPER_VERSION) against the region's
 * secrets bucket, with the pipeline's slug as prefix (s3secrets-helper/main.go: prefix defaults to
 * BUILDKITE_PIPELINE_SLUG). An on-premises fleet runs no such hook and reads no bucket.
 */

/**
 * The queue a gated child's release steps run on: its own queue unless only Windows agents serve it (the steps are
 * POSIX shell scripts), then a queue of the same cluster with Linux agents (`default` first). A step can only
 * target queues of its own pipeline's cluster (buildkite docs "clusters": a pipeline's jobs run in its cluster).
 */
export function releaseQueue(
    pipeline: Pick<PipelineConfig, "cluster" | "queue">,
    fleets: readonly FleetConfig[],
): string {
    const serving = (queue: string) => fleets.filter((f) => f.cluster === pipeline.cluster && f.queue === queue);
    const posix = (queue: string) => serving(queue).some((f) => f.kind === "static" || f.os === "linux");
    if (serving(pipeline.queue).length === 0 || posix(pipeline.queue)) return pipeline.queue;
    const queues = [...new Set(fleets.filter((f) => f.cluster === pipeline.cluster).map((f) => f.queue))].sort(
        (a, b) => (a === "default" ? -1 : b === "default" ? 1 : a < b ? -1 : a > b ? 1 : 0),
    );
    return queues.find(posix) ?? pipeline.queue;
}

/**
 * Every queue a pipeline's generated jobs target (components/steps/pipeline-steps.ts): its own queue, and for a
 * gated child the queue of its release steps ({@link releaseQueue}), which differs when only Windows agents serve
 * its own queue. Sorted.
 */
export function pipelineQueues(
    pipeline: Pick<PipelineConfig, "cluster" | "queue" | "gate">,
    fleets: readonly FleetConfig[],
): string[] {
    return [
        ...new Set([pipeline.queue, ...(pipeline.gate === "release" ? [releaseQueue(pipeline, fleets)] : [])]),
    ].sort();
}

/**
 * Whether a fleet serves a pipeline: the pipeline is in the fleet's cluster and one of its jobs goes to the fleet's
 * queue ({@link pipelineQueues}). The one definition behind {@link pipelinesServed} and {@link fleetsRunning}.
 */
export function serves(
    fleet: Pick<FleetConfig, "cluster" | "queue">,
    pipeline: Pick<PipelineConfig, "cluster" | "queue" | "gate">,
    fleets: readonly FleetConfig[],
): boolean {
    return fleet.cluster === pipeline.cluster && pipelineQueues(pipeline, fleets).includes(fleet.queue);
}

/** The fleets that can take a pipeline's jobs: the fleets that serve it ({@link pipelinesServed} seen from the pipeline). */
export function fleetsRunning(config: Pick<PlatformConfig, "fleets">, pipeline: PipelineConfig): FleetConfig[] {
    return config.fleets.filter((f) => serves(f, pipeline, config.fleets));
}

/**
 * The pipelines a fleet serves: those of its cluster some of whose jobs go to its queue. This is what "the fleet can
 * run the pipeline" means throughout the platform: the fleet's allow-list admits exactly these pipelines' jobs, its
 * role reads exactly their secrets, and the plan is checked against it. Sorted by slug.
 */
export function pipelinesServed(
    config: Pick<PlatformConfig, "pipelines" | "fleets">,
    fleet: Pick<FleetConfig, "cluster" | "queue">,
): PipelineConfig[] {
    return config.pipelines
        .filter((p) => serves(fleet, p, config.fleets))
        .sort((a, b) => (a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0));
}

/** The clone URL agents are given for a pipeline (Buildkite hands it to the agent as BUILDKITE_REPO). */
export function checkoutUrl(repository: string, checkout: PipelineConfig["checkout"]): string {
    return checkout === "ssh" ? `git@github.com:${repository}.git` : `https://github.com/${repository}.git`;
}

/** Whether a secret set holds any value at all. */
function holdsValues(set: SecretSet | undefined): boolean {
    return (
        set !== undefined &&
        (Object.keys(set.env ?? {}).length > 0 ||
            Object.keys(set.files ?? {}).length > 0 ||
            set.privateSshKey !== undefined ||
            set.gitCredentials !== undefined)
    );
}

/** Variable names a secret set exports into a job (its env file and its secret files). */
function variableNames(set: SecretSet | undefined): string[] {
    return [...Object.keys(set?.env ?? {}), ...Object.keys(set?.files ?? {})];
}

/**
 * The secret variable names the secrets hooks export into a pipeline's jobs on its AWS fleets: those of its own
 * `ci-platform:secrets.pipelines.<slug>` env and files, and of the organisation's where its cluster takes them
 * (`clusters[].organizationSecrets`).
 */
export function deliveredSecretNames(
    config: Pick<PlatformConfig, "clusters" | "secrets">,
    pipeline: Pick<PipelineConfig, "slug" | "cluster">,
): Set<string> {
    const takesOrg = config.clusters.find((c) => c.name === pipeline.cluster)?.organizationSecrets !== false;
    return new Set([
        ...variableNames(config.secrets.pipelines[pipeline.slug]),
        ...(takesOrg ? variableNames(config.secrets.organization) : []),
    ]);
}

/**
 * The secret variable names a pipeline's jobs need: its `requiresSecrets`, and the names of its own
 * `ci-platform:secrets.pipelines.<slug>` env and files. Sorted, without duplicates.
 */
export function requiredSecretNames(config: Pick<PlatformConfig, "secrets">, pipeline: PipelineConfig): string[] {
    return [
        ...new Set([...pipeline.requiresSecrets, ...variableNames(config.secrets.pipelines[pipeline.slug])]),
    ].sort();
}

const list = (names: readonly string[]) => names.map((n) => `"${n}"`).join(", ");

/**
 * Checkout and secrets for every pipeline; one issue per problem. (Triggers across clusters: graph/config-checks.ts
 * `crossClusterTriggerIssues`.)
 */
export function checkAccess(config: PlatformConfig): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    // The organisation's secrets reach only clusters that take them (clusters[].organizationSecrets).
    const orgFor = (cluster: string) =>
        config.clusters.find((c) => c.name === cluster)?.organizationSecrets === false
            ? undefined
            : config.secrets.organization;
    const fleetIndex = (fleet: FleetConfig) => config.fleets.indexOf(fleet);

    config.pipelines.forEach((pipeline, i) => {
        const at = (...rest: (string | number)[]) => ["pipelines", i, ...rest];
        const own = config.secrets.pipelines[pipeline.slug];
        const org = orgFor(pipeline.cluster);
        const fleets = fleetsRunning(config, pipeline);
        const awsFleets = fleets.filter((f) => f.kind === "aws");
        const staticFleets = fleets.filter((f) => f.kind === "static");
        const awsNames = list(awsFleets.map((f) => f.name));
        const url = checkoutUrl(pipeline.repository, pipeline.checkout);

        // Checkout. elastic-ci-stack-s3-secrets-hooks v2.8.0 s3secrets-helper/secrets/secrets.go: getSSHKeys loads
        // <slug>/private_ssh_key and private_ssh_key into ssh-agent, which only an SSH (git@) clone uses;
        // getGitCredentials installs git-credentials and <slug>/git-credentials as git credential helpers, which git
        // asks only for HTTP(S) remotes (git-credential-s3-secrets answers protocol/host/username/password).
        // GitHub accepts no anonymous SSH clone, even of a public repository; an HTTPS clone of one needs nothing.
        if (pipeline.checkout === "ssh") {
            if (awsFleets.length > 0 && own?.privateSshKey === undefined && org?.privateSshKey === undefined)
                issues.push({
                    path: at("checkout"),
                    message: `pipeline "${pipeline.slug}" checks out ${url} over SSH, but no SSH key reaches its AWS fleets (${awsNames}): the secrets hooks load only <slug>/private_ssh_key or private_ssh_key into ssh-agent, so the clone fails (exit 128)`,
                    fix: `add the repository's deploy key with pulumi config set --secret --path 'ci-platform:secrets.pipelines.${pipeline.slug}.privateSshKey' < key (or the organisation's privateSshKey), or use checkout: https`,
                });
            for (const fleet of staticFleets)
                if (fleet.kind === "static" && !fleet.checkoutCredentials.includes("ssh"))
                    issues.push({
                        path: at("checkout"),
                        message: `pipeline "${pipeline.slug}" checks out ${url} over SSH on static fleet "${fleet.name}", which reads no secrets bucket and does not declare an SSH key of its own`,
                        fix: `give the machines a key GitHub accepts for ${pipeline.repository} and add ssh to ci-platform:fleets[${fleetIndex(fleet)}].checkoutCredentials, or use checkout: https`,
                    });
        } else if (!pipeline.publicRepository) {
            if (awsFleets.length > 0 && own?.gitCredentials === undefined && org?.gitCredentials === undefined)
                issues.push({
                    path: at("checkout"),
                    message: `pipeline "${pipeline.slug}" checks out ${url} over HTTPS, but no git-credentials reach its AWS fleets (${awsNames}): git asks the credential helper the secrets hooks install only when git-credentials is in the bucket, so a private repository fails to clone (exit 128)`,
                    fix: `set ci-platform:secrets.organization.gitCredentials (or the pipeline's) to https://x-access-token:<token>@github.com, set publicRepository: true if ${pipeline.repository} is public, or use checkout: ssh with a deploy key`,
                });
            for (const fleet of staticFleets)
                if (fleet.kind === "static" && !fleet.checkoutCredentials.includes("https"))
                    issues.push({
                        path: at("checkout"),
                        message: `pipeline "${pipeline.slug}" checks out ${url} over HTTPS on static fleet "${fleet.name}", which reads no secrets bucket and does not declare git credentials of its own`,
                        fix: `set publicRepository: true if ${pipeline.repository} is public, or give the machines a git credential helper for github.com and add https to ci-platform:fleets[${fleetIndex(fleet)}].checkoutCredentials`,
                    });
        }

        // Secrets that reach no fleet: a pipeline only static fleets serve gets nothing from a bucket (its cluster's
        // buckets exist only where its AWS fleets run), and the platform declares no other delivery to on-premises
        // machines, so the value would reach no job. Refused, with the means the machines have: their own values.
        if (fleets.length > 0 && awsFleets.length === 0 && holdsValues(own)) {
            const where = `ci-platform:secrets.pipelines.${pipeline.slug}`;
            const statics = staticFleets.map((f) => `ci-platform:fleets[${fleetIndex(f)}]`).join(", ");
            const reason = `pipeline "${pipeline.slug}" runs only on static fleets (${list(staticFleets.map((f) => f.name))}), which read no secrets bucket, and ci-platform declares no other delivery to on-premises machines: no job of the pipeline would get the value`;
            const at2 = (...rest: string[]) => ["secrets", "pipelines", pipeline.slug, ...rest];
            for (const name of Object.keys(own?.env ?? {}))
                issues.push({
                    path: at2("env", name),
                    message: reason,
                    fix: `remove it (pulumi config rm --path '${where}.env.${name}'), set ${name} on the machines, and list it in ${statics}.providesSecrets and the pipeline's requiresSecrets`,
                });
            for (const name of Object.keys(own?.files ?? {}))
                issues.push({
                    path: at2("files", name),
                    message: reason,
                    fix: `remove it (pulumi config rm --path '${where}.files.${name}'), set ${name} on the machines, and list it in ${statics}.providesSecrets and the pipeline's requiresSecrets`,
                });
            for (const key of ["privateSshKey", "gitCredentials"] as const)
                if (own?.[key] !== undefined)
                    issues.push({
                        path: at2(key),
                        message: reason,
                        fix: `remove it (pulumi config rm --path '${where}.${key}'), give the machines the credential, and list ${key === "privateSshKey" ? "ssh" : "https"} in ${statics}.checkoutCredentials`,
                    });
        }

        // Every secret the pipeline needs reaches every fleet that runs it.
        const required = requiredSecretNames(config, pipeline);
        for (const fleet of staticFleets) {
            if (fleet.kind !== "static") continue;
            const missing = required.filter((name) => !fleet.providesSecrets.includes(name));
            if (missing.length > 0)
                issues.push({
                    path: ["fleets", fleetIndex(fleet), "providesSecrets"],
                    message: `static fleet "${fleet.name}" runs pipeline "${pipeline.slug}", which needs ${list(missing)}; an on-premises fleet reads no secrets bucket, so its machines must set ${missing.length === 1 ? "it" : "them"} themselves`,
                    fix: `set ${missing.join(", ")} on the machines (keychain or the agent's environment) and add ${missing.length === 1 ? "it" : "them"} here, or run the pipeline on a queue an AWS fleet serves`,
                });
        }
        if (awsFleets.length > 0) {
            const delivered = deliveredSecretNames(config, pipeline);
            pipeline.requiresSecrets.forEach((name, k) => {
                if (!delivered.has(name))
                    issues.push({
                        path: at("requiresSecrets", k),
                        message: `pipeline "${pipeline.slug}" needs ${name}, but ci-platform:secrets holds no value for it, so its AWS fleets (${awsNames}) never get it`,
                        fix: `pulumi config set --secret --path 'ci-platform:secrets.pipelines.${pipeline.slug}.env.${name}' <value>`,
                    });
            });
        }
    });
    return issues;
}
