/**
 * The allow-list of one fleet: which jobs its agents accept. Pure: data in, data out.
 *
 * "Fleet F can run pipeline P" means exactly `pipelinesServed(config, F)` includes P (components/config/access-checks.ts).
 * The allow-list admits exactly those pipelines' jobs, in two layers:
 *
 * 1. The agent's own `allowed-repositories` (buildkite/agent v3.137.0 clicommand/agent_start.go: a comma-separated list
 *    of regular expressions, env BUILDKITE_ALLOWED_REPOSITORIES; agent/run_job.go validateConfigAllowlists: the job's raw
 *    `BUILDKITE_REPO` must match one of them with Go's regexp.MatchString, else the job is refused before any hook runs).
 *    MatchString is unanchored, so every pattern here is anchored at both ends. Each is one URL exactly as Buildkite hands
 *    it to the agent: the pipeline's configured repository URL, verbatim (`checkoutUrl`, what the pipeline resource is
 *    given). No other form of the right repository (another scheme, case, `.git` or not, a port, `user@`) is admitted:
 *    Buildkite never hands one out for a pipeline the platform declares.
 * 2. Per pipeline: the pre-bootstrap hook (hooks/pre-bootstrap) admits a job only if its (BUILDKITE_PIPELINE_SLUG,
 *    BUILDKITE_REPO) pair, read from the agent's JSON job env file, is one of {@link FleetAllowlist.pipelines}. Two
 *    pipelines of one repository are told apart by slug; the agent option alone cannot.
 *
 * A refusal by either layer ends the job with exit status -1 and signal reason `agent_refused` (run_job.go: both set
 * `exit.Status = -1`, `exit.SignalReason = SignalReasonAgentRefused`; the hook's own exit code is only logged). The
 * generated steps' retry rules must retry neither that nor {@link REFUSED_JOB_EXIT_STATUS}: see {@link retriesRefusal}.
 */
import { checkoutUrl, pipelinesServed } from "../config/access-checks";
import type { FleetConfig, PlatformConfig } from "../config/schema";

/**
 * Exit status of a ci-platform job hook that refuses a job once the job is running (a defence behind pre-bootstrap; see
 * hooks/lib/repository.bash, `CI_REFUSED_EXIT_STATUS`, which must equal it). 78 is sysexits.h EX_CONFIG: the platform's
 * configuration does not let this job run here. No generated retry rule may name it.
 */
export const REFUSED_JOB_EXIT_STATUS = 78;

/** How Buildkite records a job an agent refused (agent allow-list or pre-bootstrap hook): buildkite/agent v3.137.0 agent/run_job.go. */
export const AGENT_REFUSAL = { exitStatus: -1, signalReason: "agent_refused" } as const;

/** A job end as automatic retry rules see it. */
export interface JobEnd {
    readonly exitStatus: number;
    /** `undefined` for none. */
    readonly signalReason?: string;
}

/** An automatic retry rule as the generated steps write it (components/steps/step-model.ts AutomaticRetryRule). */
export interface RetryRuleLike {
    readonly exit_status?: number | readonly number[] | "*";
    readonly signal_reason?: string;
    readonly limit?: number;
}

/**
 * Whether Buildkite's automatic retry rule retries a job that ended so. Every attribute the rule names must match, an
 * absent one matches anything (Buildkite changelog 193, "Signal and signal reason in automatic retry rules": a rule
 * `exit_status: -1, signal_reason: none` catches lost agents only); `signal_reason: none` matches a job with no reason.
 */
export function retryRuleMatches(rule: RetryRuleLike, end: JobEnd): boolean {
    const status = rule.exit_status;
    const statusOk =
        status === undefined ||
        status === "*" ||
        (typeof status === "number" ? status === end.exitStatus : status.includes(end.exitStatus));
    const reason = rule.signal_reason;
    const reasonOk =
        reason === undefined ||
        reason === "*" ||
        (reason === "none" ? end.signalReason === undefined : reason === end.signalReason);
    return statusOk && reasonOk && (rule.limit === undefined || rule.limit > 0);
}

/** The refusals a step's retry rules must leave alone: the agent's (-1, agent_refused) and our job hooks' status. */
export const REFUSALS: readonly JobEnd[] = [AGENT_REFUSAL, { exitStatus: REFUSED_JOB_EXIT_STATUS }];

/** The rules among `rules` that would retry a refused job (empty when none does). */
export function retriesRefusal(rules: readonly RetryRuleLike[]): RetryRuleLike[] {
    return rules.filter((rule) => REFUSALS.some((end) => retryRuleMatches(rule, end)));
}

/** One pipeline a fleet admits, and the repository URLs its jobs may carry. */
export interface AllowedPipeline {
    /** Buildkite pipeline slug (BUILDKITE_PIPELINE_SLUG). */
    readonly slug: string;
    /** Exactly the BUILDKITE_REPO values Buildkite hands out for it: its configured URL. Sorted. */
    readonly repositoryUrls: readonly string[];
}

/** What a fleet's agents admit. */
export interface FleetAllowlist {
    /** The pipelines the fleet serves (`pipelinesServed`), sorted by slug. */
    readonly pipelines: readonly AllowedPipeline[];
}

/** Characters of a URL the allow-list can carry: no whitespace, no comma (the agent splits its list on commas), no quote. */
const URL_CHARS = /^[A-Za-z0-9@:/._~+-]+$/;
/** Buildkite pipeline slugs (components/config/schema.ts SLUG). */
const SLUG = /^[a-z0-9][a-z0-9-]*$/;
/**
 * An anchored pattern that matches nothing: in Go's RE2, `^` outside multi-line mode asserts the start of the text, and
 * the `.` before the second one needs a character there. The agent treats an empty list as "allow everything"
 * (run_job.go validateJobValue), so a fleet that serves no pipeline gets this instead.
 */
export const MATCH_NOTHING = "^.^$";

/** The allow-list of `fleet`: every pipeline it serves, each with its checkout URL. */
export function fleetAllowlist(
    config: Pick<PlatformConfig, "fleets" | "pipelines">,
    fleet: Pick<FleetConfig, "cluster" | "queue">,
): FleetAllowlist {
    return {
        pipelines: pipelinesServed(config, fleet).map((p) => ({
            slug: p.slug,
            repositoryUrls: [checkoutUrl(p.repository, p.checkout)],
        })),
    };
}

/** Problems with an allow-list's values (empty when it can be rendered into the agent config and the hook's file). */
export function allowlistProblems(allowlist: FleetAllowlist): string[] {
    const problems: string[] = [];
    allowlist.pipelines.forEach((p, i) => {
        if (!SLUG.test(p.slug)) problems.push(`allowlist.pipelines[${i}].slug "${p.slug}" is not a pipeline slug`);
        if (p.repositoryUrls.length === 0) problems.push(`allowlist.pipelines[${i}] "${p.slug}" has no repository URL`);
        p.repositoryUrls.forEach((url, j) => {
            if (!URL_CHARS.test(url))
                problems.push(
                    `allowlist.pipelines[${i}].repositoryUrls[${j}] "${url}" may only use [A-Za-z0-9@:/._~+-] (no space, comma or quote)`,
                );
        });
    });
    return problems;
}

/**
 * The anchored regular expression matching exactly `url`. Every character that is special to RE2 is put in a
 * one-character class (`.` becomes `[.]`): no backslash, so the value passes unchanged through the agent config file
 * (cliconfig/file.go only strips quotes), a systemd EnvironmentFile and nssm's environment on Windows.
 */
export function repositoryPattern(url: string): string {
    if (!URL_CHARS.test(url)) throw new Error(`repository URL "${url}" has characters the allow-list cannot carry`);
    return `^${url.replace(/[.+]/g, (c) => `[${c}]`)}$`;
}

/** The agent's `allowed-repositories` value: the anchored pattern of every URL, comma-separated, sorted, unique. */
export function allowedRepositoriesValue(allowlist: FleetAllowlist): string {
    const patterns = [...new Set(allowlist.pipelines.flatMap((p) => p.repositoryUrls.map(repositoryPattern)))].sort();
    return patterns.length === 0 ? MATCH_NOTHING : patterns.join(",");
}

/** The patterns of an `allowed-repositories` value, as the agent splits it (cliconfig/loader.go: on commas, trimmed). */
export function splitAllowedRepositories(value: string): string[] {
    return value
        .split(",")
        .filter((v) => v !== "")
        .map((v) => v.trim());
}

/**
 * The per-pipeline list the pre-bootstrap hook reads, as one line: `slug=url` pairs separated by spaces. Kept for the
 * tests of older renderings; the fleet's list now lives in its allow-list object ({@link allowlistObjectContent}).
 */
export function allowedPipelinesSetting(allowlist: FleetAllowlist): string {
    return allowlist.pipelines.flatMap((p) => p.repositoryUrls.map((url) => `${p.slug}=${url}`)).join(" ");
}

/**
 * First line of a fleet's allow-list object. The pre-bootstrap hook refuses every job when the object does not start
 * with it (hooks/lib/repository.bash allowlist_valid): an object that is not ours, or a truncated read, admits nothing.
 */
export const ALLOWLIST_OBJECT_HEADER = "# ci-platform allow-list v1";

/**
 * The content of a Linux fleet's allow-list object (components/hooks/bundle.ts allowlistObjectKey): the header, then one
 * `slug url` line per (pipeline, repository URL), sorted. The pre-bootstrap hook reads it at job time, so the set of
 * pipelines reaches the agents without touching the bootstrap script or the stack. A fleet that serves nothing gets
 * the header alone, and its hook admits nothing. Throws on values {@link allowlistProblems} rejects.
 */
export function allowlistObjectContent(allowlist: FleetAllowlist): string {
    const problems = allowlistProblems(allowlist);
    if (problems.length > 0) throw new Error(`cannot write the allow-list object:\n- ${problems.join("\n- ")}`);
    const lines = allowlist.pipelines.flatMap((p) => p.repositoryUrls.map((url) => `${p.slug} ${url}`));
    return [ALLOWLIST_OBJECT_HEADER, ...[...new Set(lines)].sort()].map((l) => `${l}\n`).join("");
}

/**
 * The anchored pattern of every repository of `url`'s owner: the URL up to its last `/` (or, for an scp-like URL
 * without one, up to its `:`), then one path segment. `https://github.com/org/app.git` gives
 * `^https://github[.]com/org/[A-Za-z0-9._-]+$`. Same escaping as {@link repositoryPattern}.
 */
export function ownerPattern(url: string): string {
    if (!URL_CHARS.test(url)) throw new Error(`repository URL "${url}" has characters the allow-list cannot carry`);
    const cut = Math.max(url.lastIndexOf("/"), url.indexOf("@") >= 0 ? url.lastIndexOf(":") : -1);
    const base = url.slice(0, cut + 1);
    return `^${base.replace(/[.+]/g, (c) => `[${c}]`)}[A-Za-z0-9._-]+$`;
}

/**
 * A Linux fleet's agent `allowed-repositories`: coarse, one anchored pattern per repository owner (and URL form) the
 * fleet serves, sorted, unique; {@link MATCH_NOTHING} when it serves nothing. The agent reads it once, at start
 * (buildkite/agent v3.137.0 clicommand/agent_start.go), so it is in the bootstrap script, and a change rolls the fleet:
 * per owner, it changes only when the fleet starts serving a new owner (a cluster holds one owner:
 * policy/invariants/repository-owners.ts), not when a pipeline or repository of a served owner is added, removed or
 * renamed. The exact per-pipeline check is the pre-bootstrap hook's, against the allow-list object.
 */
export function coarseAllowedRepositoriesValue(allowlist: FleetAllowlist): string {
    const patterns = [...new Set(allowlist.pipelines.flatMap((p) => p.repositoryUrls.map(ownerPattern)))].sort();
    return patterns.length === 0 ? MATCH_NOTHING : patterns.join(",");
}

/**
 * The agent env file of a Windows fleet (the Elastic CI Stack's `AgentEnvFileUrl`): `BUILDKITE_ALLOWED_REPOSITORIES`
 * for the agent process. elastic-ci-stack-for-aws v6.71.1 packer/windows/stack/conf/bin/bk-install-elastic-stack.ps1
 * fetches it and passes each line verbatim to `nssm set buildkite-agent AppEnvironmentExtra "+<line>"`, so the value is
 * written unquoted (quotes would become part of it).
 */
export function agentEnvFileContent(allowlist: FleetAllowlist): string {
    return `BUILDKITE_ALLOWED_REPOSITORIES=${allowedRepositoriesValue(allowlist)}\n`;
}
