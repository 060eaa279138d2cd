import { artifactIssues } from "../steps/artifact-sources";
import { ELASTIC_STACK_PARAMETERS } from "../agents/elastic-stack-template";
import { MAX_AWS_FLEET_NAME_LENGTH, secretsBucketNameProblem } from "../agents/naming";
import { isLoadedSecretFileName, SECRET_FILE_SUFFIXES } from "../agents/secret-objects";
import { checkDeployRoles } from "../access/checks";
import { checkAccess, deliveredSecretNames, fleetsRunning } from "./access-checks";
import { checkReleaseReadToken, RELEASE_READ_TOKEN_VAR } from "./release-checks";
import { checkRenames } from "./renames";
import { signingIssues } from "../signing/config-checks";
import { ConfigIssue, didYouMean } from "./issues";
import { findCycle } from "../graph/order";
import { PlatformConfig } from "./schema";

/*
 * Checks that need the whole config: names that refer to other declarations, duplicates, and cycles.
 * Every check appends to one list so that every problem is reported at once.
 */

/** Reports every name that appears more than once in `items`, at the later occurrences. */
function duplicates<T>(
    items: readonly T[],
    keyOf: (item: T) => string | undefined,
    path: (index: number) => (string | number)[],
    what: string,
): ConfigIssue[] {
    const seen = new Map<string, number>();
    const issues: ConfigIssue[] = [];
    items.forEach((item, i) => {
        const key = keyOf(item);
        if (key === undefined) return;
        const first = seen.get(key);
        if (first === undefined) seen.set(key, i);
        else
            issues.push({
                path: path(i),
                message: `duplicate ${what} "${key}" (first declared at index ${first})`,
                fix: `give each ${what} a unique value, or remove one of them`,
            });
    });
    return issues;
}

/** "; did you mean "x"?" or nothing. */
function suggestion(name: string, candidates: readonly string[]): string {
    const guess = didYouMean(name, candidates).trim();
    return guess ? `; ${guess}` : "";
}

/**
 * Runs every cross-reference check and returns all problems found. `access: false` leaves out the checkout, secrets
 * and cross-cluster checks (access-checks.ts), for a config whose `secrets` or `fleets` did not parse: they would
 * report every credential as missing.
 */
export function crossCheck(config: PlatformConfig, options: { access?: boolean } = {}): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    const clusterNames = config.clusters.map((c) => c.name);
    const teamNames = config.teams.map((t) => t.name);
    const slugs = config.pipelines.map((p) => p.slug);
    const imagesByName = new Map(config.images.map((i) => [i.name, i]));

    issues.push(...checkRenames(config));
    issues.push(...signingIssues(config));
    issues.push(
        ...duplicates(
            config.clusters,
            (c) => c.name,
            (i) => ["clusters", i, "name"],
            "cluster name",
        ),
        ...duplicates(
            config.teams,
            (t) => t.name,
            (i) => ["teams", i, "name"],
            "team name",
        ),
        ...duplicates(
            config.fleets,
            (f) => f.name,
            (i) => ["fleets", i, "name"],
            "fleet name",
        ),
        ...duplicates(
            config.images,
            (m) => m.name,
            (i) => ["images", i, "name"],
            "image name",
        ),
        ...duplicates(
            config.pipelines,
            (p) => p.slug,
            (i) => ["pipelines", i, "slug"],
            "pipeline slug",
        ),
        ...duplicates(
            config.pipelines,
            (p) => p.name,
            (i) => ["pipelines", i, "name"],
            "pipeline name",
        ),
    );

    const checkCluster = (cluster: string, path: (string | number)[]) => {
        if (!clusterNames.includes(cluster))
            issues.push({
                path,
                unknownName: cluster,
                message: `unknown cluster "${cluster}"; ${didYouMean(cluster, clusterNames)}declared clusters: ${clusterNames.join(", ")}`,
                fix: "use the name of a cluster in ci-platform:clusters, or declare it there",
            });
    };
    const checkImage = (ref: { name: string; variant: string } | undefined, path: (string | number)[]) => {
        if (!ref) return;
        const image = imagesByName.get(ref.name);
        if (!image) {
            issues.push({
                path: [...path, "name"],
                unknownName: ref.name,
                message: `unknown image "${ref.name}"; ${didYouMean(ref.name, imagesByName.keys())}declared images: ${[...imagesByName.keys()].join(", ") || "none"}`,
                fix: "use the name of an image in ci-platform:images, or declare it there",
            });
        } else if (!image.variants.includes(ref.variant)) {
            issues.push({
                path: [...path, "variant"],
                message: `image "${ref.name}" has no variant "${ref.variant}"; ${didYouMean(ref.variant, image.variants)}its variants: ${image.variants.join(", ")}`,
                fix: `use one of its variants, or add "${ref.variant}" to the image's variants`,
            });
        }
    };

    // Fleets: clusters, sizes, one autoscaling fleet per queue.
    // Each Elastic CI Stack's scaler sizes its group from the whole queue's scheduled and running jobs
    // (buildkite/buildkite-agent-scaler v1.12.0 buildkite/buildkite.go `/metrics/queue?name=<queue>`, scaler/scaler.go
    // `totalJobs := ScheduledJobs + RunningJobs`), so two stacks on one queue would each scale to the whole backlog.
    const queueFleets = new Map<string, { name: string; region: string }>();
    const bucketNamesReported = new Set<string>();
    config.fleets.forEach((fleet, i) => {
        checkCluster(fleet.cluster, ["fleets", i, "cluster"]);
        if (fleet.kind !== "aws") return;
        if (fleet.minSize > fleet.maxSize)
            issues.push({
                path: ["fleets", i, "minSize"],
                message: `minSize ${fleet.minSize} is above maxSize ${fleet.maxSize}`,
                fix: "lower minSize or raise maxSize so that minSize <= maxSize",
            });
        const queueKey = `${fleet.cluster}/${fleet.queue}`;
        const other = queueFleets.get(queueKey);
        if (other !== undefined)
            issues.push({
                path: ["fleets", i, "queue"],
                message:
                    `queue "${fleet.queue}" of cluster "${fleet.cluster}" is already served by AWS fleet "${other.name}" in ${other.region}; ` +
                    "each fleet's scaler sizes itself to the whole queue's backlog, so two fleets on one queue would each start instances for every job",
                fix: `give this fleet a queue of its own (for example "${fleet.queue}-${fleet.region}") and point the pipelines that should run in ${fleet.region} at it, or merge the two fleets`,
            });
        else queueFleets.set(queueKey, { name: fleet.name, region: fleet.region });
        // Each (region, cluster) with AWS fleets gets its own secrets bucket, named after both.
        const bucketProblem = secretsBucketNameProblem(fleet.region, fleet.cluster);
        if (bucketProblem !== undefined && !bucketNamesReported.has(`${fleet.region} ${fleet.cluster}`)) {
            bucketNamesReported.add(`${fleet.region} ${fleet.cluster}`);
            issues.push({
                path: ["fleets", i, "cluster"],
                message: `AWS fleet "${fleet.name}" runs cluster "${fleet.cluster}"'s jobs in ${fleet.region}: ${bucketProblem}`,
                fix: "give the cluster a shorter name of lowercase letters, digits and hyphens in ci-platform:clusters (and in the fleets and pipelines that name it)",
            });
        }
        if (fleet.name.length > MAX_AWS_FLEET_NAME_LENGTH)
            issues.push({
                path: ["fleets", i, "name"],
                message: `fleet name "${fleet.name}" is ${fleet.name.length} characters; the Elastic CI Stack names its IAM role buildkite-<fleet>-Role, which must fit in 64`,
                fix: `shorten the name to at most ${MAX_AWS_FLEET_NAME_LENGTH} characters`,
            });
        const retention = ELASTIC_STACK_PARAMETERS.LogRetentionDays.allowedValues ?? [];
        if (!retention.includes(String(fleet.logRetentionDays)))
            issues.push({
                path: ["fleets", i, "logRetentionDays"],
                message: `${fleet.logRetentionDays} days is not a retention CloudWatch Logs (and the Elastic CI Stack) accepts`,
                fix: `use one of ${retention.join(", ")}`,
            });
        if (fleet.subnets && !fleet.vpcId)
            issues.push({
                path: ["fleets", i, "subnets"],
                message: "subnets are given without vpcId",
                fix: "set vpcId to the VPC the subnets belong to, or remove subnets to let the stack create its network",
            });
        if (fleet.vpcId && (!fleet.subnets || fleet.subnets.length === 0))
            issues.push({
                path: ["fleets", i, "vpcId"],
                message: "vpcId is given without subnets",
                fix: "list the subnets the agents run in",
            });
    });

    // Pipelines.
    config.pipelines.forEach((pipeline, i) => {
        const at = (...rest: (string | number)[]) => ["pipelines", i, ...rest];
        checkCluster(pipeline.cluster, at("cluster"));
        // A fleet naming an unknown cluster is reported on its own; do not report its queue as unserved too.
        const servingFleets = config.fleets.filter(
            (f) => f.queue === pipeline.queue && (f.cluster === pipeline.cluster || !clusterNames.includes(f.cluster)),
        );
        if (clusterNames.includes(pipeline.cluster) && servingFleets.length === 0) {
            const queues = [
                ...new Set(config.fleets.filter((f) => f.cluster === pipeline.cluster).map((f) => f.queue)),
            ];
            issues.push({
                path: at("queue"),
                unknownName: pipeline.queue,
                message: `no fleet serves queue "${pipeline.queue}" in cluster "${pipeline.cluster}"; ${didYouMean(pipeline.queue, queues)}queues served there: ${queues.join(", ") || "none"}`,
                fix: "use a queue a fleet of that cluster serves, or add a fleet for it in ci-platform:fleets",
            });
        }
        for (const [path, team] of [
            [at("team"), pipeline.team] as const,
            ...pipeline.teams.map((t, j) => [at("teams", j, "team"), t.team] as const),
        ]) {
            if (team !== undefined && !teamNames.includes(team))
                issues.push({
                    path,
                    unknownName: team,
                    message: `unknown team "${team}"; ${didYouMean(team, teamNames)}declared teams: ${teamNames.join(", ")}`,
                    fix: "use the name of a team in ci-platform:teams, or declare it there",
                });
        }
        issues.push(
            ...duplicates(
                pipeline.teams,
                (t) => t.team,
                (j) => at("teams", j, "team"),
                "team",
            ),
        );
        issues.push(
            ...duplicates(
                pipeline.schedules,
                (s) => s.label,
                (j) => at("schedules", j, "label"),
                "schedule label",
            ),
        );
        checkImage(pipeline.image, at("image"));

        // Triggers: targets, keys, dependsOn.
        const keys = pipeline.triggers.map((t) => t.key).filter((k): k is string => k !== undefined);
        issues.push(
            ...duplicates(
                pipeline.triggers,
                (t) => t.key,
                (j) => at("triggers", j, "key"),
                "trigger key",
            ),
        );
        pipeline.triggers.forEach((trigger, j) => {
            if (trigger.pipeline === pipeline.slug)
                issues.push({
                    path: at("triggers", j, "pipeline"),
                    message: `pipeline "${pipeline.slug}" triggers itself`,
                    fix: "remove the trigger; a pipeline cannot trigger its own builds",
                });
            else if (!slugs.includes(trigger.pipeline))
                issues.push({
                    path: at("triggers", j, "pipeline"),
                    unknownName: trigger.pipeline,
                    message: `unknown pipeline "${trigger.pipeline}"${suggestion(trigger.pipeline, slugs)}`,
                    fix: "set it to the slug of a pipeline declared in ci-platform:pipelines",
                });
            trigger.dependsOn.forEach((dep, k) => {
                if (!keys.includes(dep))
                    issues.push({
                        path: at("triggers", j, "dependsOn", k),
                        message: `no trigger of "${pipeline.slug}" has the key "${dep}"; ${didYouMean(dep, keys)}keys: ${keys.join(", ") || "none"}`,
                        fix: "set `key` on the trigger this one waits for, and name that key here",
                    });
                else if (dep === trigger.key)
                    issues.push({
                        path: at("triggers", j, "dependsOn", k),
                        message: `trigger "${dep}" depends on itself`,
                        fix: "remove the dependency",
                    });
            });
        });
        const triggerCycle = findCycle(keys, (key) => pipeline.triggers.find((t) => t.key === key)?.dependsOn ?? []);
        if (triggerCycle)
            issues.push({
                path: at("triggers"),
                message: `trigger dependencies form a cycle: ${[...triggerCycle, triggerCycle[0]].join(" -> ")}`,
                fix: "remove one dependsOn from the cycle",
            });

        // Monorepo packages.
        const packageNames = pipeline.packages.map((p) => p.name);
        issues.push(
            ...duplicates(
                pipeline.packages,
                (p) => p.name,
                (j) => at("packages", j, "name"),
                "package name",
            ),
        );
        issues.push(
            ...duplicates(
                pipeline.packages,
                (p) => p.path,
                (j) => at("packages", j, "path"),
                "package path",
            ),
        );
        pipeline.packages.forEach((pkg, j) => {
            checkImage(pkg.image, at("packages", j, "image"));
            pkg.dependsOn.forEach((dep, k) => {
                if (dep === pkg.name)
                    issues.push({
                        path: at("packages", j, "dependsOn", k),
                        message: `package "${pkg.name}" depends on itself`,
                        fix: "remove it from its own dependsOn",
                    });
                else if (!packageNames.includes(dep))
                    issues.push({
                        path: at("packages", j, "dependsOn", k),
                        message: `unknown package "${dep}"; ${didYouMean(dep, packageNames)}packages of "${pipeline.slug}": ${packageNames.join(", ")}`,
                        fix: "name a package declared in this pipeline's packages",
                    });
            });
        });
        // Producers and users of artifacts (components/steps/artifact-sources.ts).
        for (const issue of artifactIssues(pipeline.packages)) issues.push({ ...issue, path: at(...issue.path) });
        // The base build lookup reads Buildkite's REST API with the pipeline's read token: without it on an AWS
        // fleet, no skipped producer ever finds its base build and every one runs, silently.
        const producer = pipeline.packages.findIndex((p) => p.artifacts.length > 0);
        const fleets = fleetsRunning(config, pipeline);
        if (
            producer >= 0 &&
            fleets.some((f) => f.kind === "aws") &&
            !deliveredSecretNames(config, pipeline).has(RELEASE_READ_TOKEN_VAR)
        )
            issues.push({
                path: at("packages", producer, "artifacts"),
                message: `pipeline "${pipeline.slug}" has packages that produce artifacts, and a skipped producer finds the build that made them through Buildkite's REST API with ${RELEASE_READ_TOKEN_VAR}, but ci-platform:secrets holds no value for it: every producer would run in every build`,
                fix: `create a Buildkite API access token with only the read_builds scope and pulumi config set --secret --path 'ci-platform:secrets.pipelines.${pipeline.slug}.env.${RELEASE_READ_TOKEN_VAR}' <token>`,
            });
        if (pipeline.publish !== undefined) {
            if (pipeline.packages.length === 0)
                issues.push({
                    path: at("publish"),
                    message: `pipeline "${pipeline.slug}" has a publish step but no packages: it publishes the packages' artifacts`,
                    fix: "declare packages, or remove publish",
                });
            const delivered = deliveredSecretNames(config, pipeline);
            pipeline.publish.secrets.forEach((name, k) => {
                if (fleets.some((f) => f.kind === "aws") && !delivered.has(name))
                    issues.push({
                        path: at("publish", "secrets", k),
                        message: `pipeline "${pipeline.slug}" publishes with ${name}, but ci-platform:secrets holds no value for it`,
                        fix: `pulumi config set --secret --path 'ci-platform:secrets.pipelines.${pipeline.slug}.env.${name}' <value>`,
                    });
            });
        }
        const packageCycle = findCycle(
            packageNames,
            (n) => pipeline.packages.find((p) => p.name === n)?.dependsOn.filter((d) => d !== n) ?? [],
        );
        if (packageCycle)
            issues.push({
                path: at("packages"),
                message: `package dependencies form a cycle: ${[...packageCycle, packageCycle[0]].join(" -> ")}`,
                fix: "remove one dependsOn from the cycle",
            });
        if (pipeline.packages.length > 0 && pipeline.image === undefined && pipeline.packages.some((p) => !p.image))
            issues.push({
                path: at("image"),
                message: `pipeline "${pipeline.slug}" has packages but no image for their steps`,
                fix: "set image: { name, variant } on the pipeline or on every package",
            });
    });

    // The trigger graph across pipelines must be acyclic.
    const bySlug = new Map(config.pipelines.map((p) => [p.slug, p]));
    const graphCycle = findCycle(slugs, (s) =>
        (bySlug.get(s)?.triggers ?? []).map((t) => t.pipeline).filter((t) => t !== s && bySlug.has(t)),
    );
    if (graphCycle) {
        const first = config.pipelines.findIndex((p) => p.slug === graphCycle[0]);
        issues.push({
            path: ["pipelines", first, "triggers"],
            message: `pipelines trigger each other in a cycle: ${[...graphCycle, graphCycle[0]].join(" -> ")}`,
            fix: "remove one trigger from the cycle; a build must not be able to trigger itself again",
        });
    }

    // Secret files: the stack's secrets hooks load only some names, and hand values to bash in double quotes.
    const scopes: [(string | number)[], typeof config.secrets.organization][] = [
        [["secrets", "organization"], config.secrets.organization],
        ...Object.entries(config.secrets.pipelines).map(
            ([slug, set]) => [["secrets", "pipelines", slug], set] as [(string | number)[], typeof set],
        ),
    ];
    for (const [at, set] of scopes) {
        for (const [name, value] of Object.entries(set?.files ?? {})) {
            if (!isLoadedSecretFileName(name))
                issues.push({
                    path: [...at, "files", name],
                    message: `secret file "${name}" would never be loaded: the Elastic CI Stack's secrets hooks only load secret-files/ names ending in ${SECRET_FILE_SUFFIXES.join(", ")}`,
                    fix: `rename it to end in one of those suffixes (e.g. ${name}_TOKEN), or put it in env`,
                });
            if (/[$`]/.test(value) || [...value].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f))
                issues.push({
                    path: [...at, "files", name],
                    message: `the value of secret file "${name}" holds $, a backquote, a newline or another control character; the stack's secrets hooks pass secret files to bash in double quotes, so it would not arrive intact`,
                    fix: "put this value in env instead (env values are quoted safely), or encode it (e.g. base64)",
                });
        }
    }

    // Secrets may only name declared pipelines.
    for (const slug of Object.keys(config.secrets.pipelines)) {
        if (!slugs.includes(slug))
            issues.push({
                path: ["secrets", "pipelines", slug],
                unknownName: slug,
                message: `secrets for unknown pipeline "${slug}"${suggestion(slug, slugs)}`,
                fix: "use the slug of a pipeline in ci-platform:pipelines (pulumi config set --secret --path 'ci-platform:secrets.pipelines.<slug>.env.NAME' ...), or remove them",
            });
    }

    // Checkout, secrets that reach their fleets, and the rules cross-cluster triggers need.
    if (options.access !== false) issues.push(...checkAccess(config));
    if (options.access !== false) issues.push(...checkReleaseReadToken(config));
    issues.push(...checkDeployRoles(config));
    return issues;
}
