/**
 * The config checks of agent fleets: sizes, one AWS fleet per queue, the names AWS derives from a fleet (secrets
 * bucket, IAM role, CloudFormation stack), log retention, network, physical names, and the secret files the stack's
 * secrets hooks load. Pure: a config in, its problems out; components/platform-config.ts runs them with every other
 * check.
 *
 * @module
 */
import { ConfigIssue } from "../config/issues";
import { PlatformConfig } from "../config/schema";
import { ELASTIC_STACK_PARAMETERS } from "./elastic-stack-template";
import {
    cloudFormationStackName,
    fleetPhysicalName,
    MAX_AWS_FLEET_NAME_LENGTH,
    secretsBucketNameProblem,
} from "./naming";
import { isLoadedSecretFileName, SECRET_FILE_SUFFIXES } from "./secret-objects";

/**
 * Each AWS fleet's sizes, queue, derived names, log retention and network, in fleet order. (A fleet's cluster is a
 * reference: config/cross-checks.ts.)
 */
export function fleetIssues(config: Pick<PlatformConfig, "fleets">): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    // Each Elastic CI Stack's scaler sizes its group from the whole queue's scheduled and running jobs
    // (buildkite/buildkite-agent-scaler v1.12.0 buildkite/buildkite.go `/metrics/queue?name=<queue>`, scaler/scaler.go
    // `totalJobs := ScheduledJobs + RunningJobs`), so two stacks on one queue would each scale to the whole backlog.
    const queueFleets = new Map<string, { name: string; region: string }>();
    const bucketNamesReported = new Set<string>();
    const retention = ELASTIC_STACK_PARAMETERS.LogRetentionDays.allowedValues ?? [];
    config.fleets.forEach((fleet, i) => {
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
    return issues;
}

/**
 * Problems with fleets' physical names (config/schema.ts `physicalName`): a renamed fleet must say which name its
 * stack, SSM parameter and bootstrap key carry (deriving it from `renamedFrom` made a rename back, a dropped oldest
 * name or a list newest first replace the stack, deleting it first); two fleets must not share one; and an AWS
 * fleet's must fit the stack's IAM role name (naming.ts MAX_AWS_FLEET_NAME_LENGTH).
 */
export function physicalNameIssues(config: Pick<PlatformConfig, "fleets">): ConfigIssue[] {
    const { fleets } = config;
    const issues: ConfigIssue[] = [];
    const owners = new Map<string, number>();
    fleets.forEach((fleet, i) => {
        if (fleet.renamedFrom.length > 0 && fleet.physicalName === undefined)
            issues.push({
                path: ["fleets", i, "physicalName"],
                message: `fleet "${fleet.name}" has renamedFrom but no physicalName: its CloudFormation stack, SSM token parameter and bootstrap key keep the name it was first deployed under, and a new one would replace them`,
                fix: `set physicalName: <the name the fleet was first deployed under> (its stack is ${cloudFormationStackName("<that name>")}; the earlier names here are ${fleet.renamedFrom.map((n) => `"${n}"`).join(", ")})`,
            });
        const physical = fleetPhysicalName(fleet);
        const owner = owners.get(physical);
        // Two fleets of one name are reported where names are checked; here, only a collision a physicalName makes.
        if (owner !== undefined && (fleet.physicalName !== undefined || fleets[owner].physicalName !== undefined))
            issues.push({
                path: ["fleets", i, fleet.physicalName === undefined ? "name" : "physicalName"],
                message: `fleet "${fleet.name}" would carry the physical name "${physical}" of fleets[${owner}] (${fleets[owner].name}): their stacks and token parameters would collide`,
                fix: "give each fleet its own physicalName (the name it was first deployed under)",
            });
        if (owner === undefined) owners.set(physical, i);
        if (fleet.kind === "aws" && fleet.physicalName !== undefined && physical.length > MAX_AWS_FLEET_NAME_LENGTH)
            issues.push({
                path: ["fleets", i, "physicalName"],
                message: `physicalName "${physical}" is ${physical.length} characters; the Elastic CI Stack names its IAM role buildkite-<fleet>-Role, which must fit in 64`,
                fix: `use the name the fleet was first deployed under (at most ${MAX_AWS_FLEET_NAME_LENGTH} characters)`,
            });
    });
    return issues;
}

/**
 * Secret files the stack's secrets hooks would not deliver intact: they load only some names, and hand values to bash
 * in double quotes (see secret-objects.ts for the hooks' rules).
 */
export function secretFileIssues(config: Pick<PlatformConfig, "secrets">): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
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
    return issues;
}
