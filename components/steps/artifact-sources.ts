/**
 * Artifacts between monorepo packages, when a package's step is skipped (issue 18; seed: monofo issue #249).
 *
 * A package may declare the artifacts its step produces (`packages[].artifacts`, globs relative to its directory)
 * and the packages whose artifacts it uses (`uses`, by default the producers of its dependency closure). Which
 * producers run is known only on the agent, when `buildkite-agent pipeline upload` applies `if_changed`; so the
 * upload step of such a pipeline runs {@link artifactSourcesScript}, which decides where each producer's artifacts
 * come from before the package steps are uploaded:
 *
 * - the producer runs in this build: its users wait for it (`depends_on`) and download from this build;
 * - it is skipped and a base build made its artifacts: its users download from that build (the per-package variable
 *   {@link packageBuildVar}, and `BUILDKITE_PLUGIN_ARTIFACTS_BUILD` when all of a step's producers come from one
 *   build), and the artifacts it opted out of (`copyArtifacts`) are copied into this build first;
 * - it is skipped and no base build has them (a first build, expired artifacts, a changed definition, a failed
 *   lookup, a failed copy): it runs after all.
 *
 * `BUILDKITE_PLUGIN_ARTIFACTS_BUILD` is the artifacts plugin's build for every download of the step
 * (artifacts-buildkite-plugin v1.9.4 hooks/pre-command `build_option`); a list entry's own `build`
 * (`BUILDKITE_PLUGIN_ARTIFACTS_DOWNLOAD_<i>_BUILD`, same file) overrides it for that entry, but plugin config is
 * fixed when the step is uploaded, before this script knows the build. So it is set only when all of a step's
 * producers come from one build; otherwise the generated per-producer download commands ({@link downloadCommands})
 * are what fetch them.
 *
 * The base build, for a branch build: the passed build of the branch the change merges into (the pull request's
 * base branch, else the default branch) at the MERGE BASE commit, in which the package ran. The agent decides
 * `if_changed` on the diff from that same merge base (buildkite/agent v3.137.0 clicommand/pipeline_upload.go
 * `gatherChangedPaths`: `git merge-base <diff base> HEAD`, the diff base being origin/ of
 * BUILDKITE_PULL_REQUEST_BASE_BRANCH, else of BUILDKITE_PIPELINE_DEFAULT_BRANCH), so a skipped package's sources
 * are exactly those of the merge base: only that build's artifacts are what this build would have made. The latest
 * build of the default branch may have been built from newer sources of the package (README, "Monorepos").
 * Default-branch and tag builds run every package (`EVERYTHING_IF`), so they never read a base build.
 *
 * Pure module: config in, plain data and script text out.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { PipelineConfig } from "../config/schema";

/** The env var a stored upload step carries its {@link ArtifactPlan} in (JSON). */
export const ARTIFACT_PLAN_VAR = "CI_PLATFORM_ARTIFACT_PLAN";

/** The first line of {@link artifactSourcesScript}: how the simulator recognises the step's script. */
export const ARTIFACT_SOURCES_MARKER = "# ci-platform: artifact sources";

/**
 * Build meta-data keys the script writes (buildkite/agent v3.137.0 clicommand/meta_data_set.go: `meta-data set
 * <key> <value>` on the job's build). `ran`: the package ran in this build (what the base-build lookup filters on,
 * Buildkite REST API "List builds for a pipeline" `meta_data[key]=value`); `artifact`: the build each artifact of
 * this build's packages comes from, keyed by artifact as the seed (monofo #249) describes.
 */
export const META_DATA = {
    /**
     * Keyed by the producer's definition ({@link producerDefinitionHash}) as well as its name: a change of its
     * artifacts, command, image or path is made in config, where no `if_changed` sees it, so a build made by the old
     * definition must not count as the base build of the new one.
     */
    ran: (pkg: string, definition: string): string => `ci-platform:ran:${pkg}:${definition}`,
    artifact: (path: string): string => `ci-platform:artifact:${path}`,
} as const;

/** The command a package's step runs: its own or the pipeline's, with `{name}` and `{path}` replaced. */
export function packageCommandOf(
    pipeline: Pick<PipelineConfig, "packageCommand">,
    pkg: Pick<PipelineConfig["packages"][number], "name" | "path" | "command">,
): string {
    return (pkg.command ?? pipeline.packageCommand).replace(/\{name\}/g, pkg.name).replace(/\{path\}/g, pkg.path);
}

/**
 * The sha256 (hex) of what defines a producer's artifacts: its path, artifact globs, command and image (the image
 * reference its step runs, e.g. a pinned ECR tag). Part of its `ran` meta-data key ({@link META_DATA}).
 */
export function producerDefinitionHash(definition: {
    readonly path: string;
    readonly artifacts: readonly string[];
    readonly command: string;
    readonly image: string;
}): string {
    const { path, artifacts, command, image } = definition;
    return createHash("sha256").update(JSON.stringify({ path, artifacts, command, image })).digest("hex");
}

/** The step key of a package's step. */
export const packageStepKey = (name: string): string => `package-${name}`;

/** `CI_PLATFORM_<PACKAGE>_BUILD_ID`: the build a package's artifacts are downloaded from (every step gets it). */
export function packageBuildVar(name: string): string {
    return `CI_PLATFORM_${name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_BUILD_ID`;
}

/** Repository-relative artifact globs of a package: its directory joined with each declared glob. */
export function artifactPaths(pkg: Pick<PipelineConfig["packages"][number], "path" | "artifacts">): string[] {
    return pkg.artifacts.map((a) => `${pkg.path}/${a}`);
}

type Package = Pick<
    PipelineConfig["packages"][number],
    "name" | "path" | "dependsOn" | "artifacts" | "uses" | "copyArtifacts"
>;

/** Every package `name` depends on, directly or not (cycles and unknown names tolerated: the checks name them). */
export function dependencyClosure(packages: readonly Pick<Package, "name" | "dependsOn">[], name: string): string[] {
    const byName = new Map(packages.map((p) => [p.name, p]));
    const seen = new Set<string>();
    const walk = (n: string) => {
        for (const d of byName.get(n)?.dependsOn ?? [])
            if (!seen.has(d) && d !== name) {
                seen.add(d);
                walk(d);
            }
    };
    walk(name);
    return [...seen];
}

/**
 * The producers whose artifacts `pkg` uses: its explicit `uses`, or else each package of its dependency closure
 * that declares artifacts; in the packages' config order.
 */
export function usedProducers(packages: readonly Package[], pkg: Package): string[] {
    const order = packages.map((p) => p.name);
    const names =
        pkg.uses ??
        dependencyClosure(packages, pkg.name).filter(
            (n) => (packages.find((p) => p.name === n)?.artifacts.length ?? 0) > 0,
        );
    return [...new Set(names)].sort((a, b) => order.indexOf(a) - order.indexOf(b));
}

/** Characters a path or glob cannot hold inside the generated shell's double quotes (P2-11 of the review). */
const SHELL_UNSAFE = /["`$;\\\n]/;

/** A problem with the packages' artifacts; `path` is relative to the pipeline (`packages[2].uses[0]`). */
export interface ArtifactIssue {
    readonly path: readonly (string | number)[];
    readonly message: string;
    readonly fix: string;
}

/**
 * The producer/user checks: every used package exists, produces artifacts (so each used artifact has a producer)
 * and is in the user's dependency closure (so its change reruns the user), no artifact path has two producers,
 * opted-out artifacts are declared, producers' paths and globs are safe in shell double quotes, and the
 * per-package variables of producers are distinct.
 */
export function artifactIssues(packages: readonly Package[]): ArtifactIssue[] {
    const issues: ArtifactIssue[] = [];
    const byName = new Map(packages.map((p) => [p.name, p]));
    const producerOf = new Map<string, number>();
    const varOf = new Map<string, number>();
    packages.forEach((pkg, j) => {
        (pkg.uses ?? []).forEach((u, k) => {
            const used = byName.get(u);
            const path = ["packages", j, "uses", k];
            if (u === pkg.name)
                issues.push({ path, message: `package "${pkg.name}" uses its own artifacts`, fix: "remove it" });
            else if (used === undefined)
                issues.push({
                    path,
                    message: `package "${pkg.name}" uses "${u}", which is not a package of this pipeline`,
                    fix: "name a package declared in this pipeline's packages",
                });
            else if (used.artifacts.length === 0)
                issues.push({
                    path,
                    message: `package "${pkg.name}" uses the artifacts of "${u}", which produces none: no step would make them`,
                    fix: `declare them in the artifacts of "${u}" (e.g. artifacts: ["dist/*.whl"]), or remove "${u}" from uses`,
                });
            // The step's if_changed covers its dependency closure only (components/steps/monorepo.ts): a change under
            // a used producer outside it would rebuild the producer and not this user, which would then test the
            // new artifacts nowhere (or, skipped, keep a result made with the old ones).
            else if (!dependencyClosure(packages, pkg.name).includes(u))
                issues.push({
                    path,
                    message: `package "${pkg.name}" uses the artifacts of "${u}", which is not among its dependencies: a change to "${u}" would not run "${pkg.name}" again`,
                    fix: `add "${u}" to the dependsOn of "${pkg.name}" (directly or through one of its dependencies), or remove it from uses`,
                });
        });
        // The upload-time script and the steps quote globs and paths with "..." in bash and POSIX sh.
        const unsafe = (value: string, path: (string | number)[], what: string) => {
            // The scripts read each path and glob with bash's `read -r`, which drops leading and trailing blanks
            // (IFS): one read that way and one not would name two different files (bash(1), `read`).
            if (value !== value.trim())
                issues.push({
                    path,
                    message: `${what} "${value}" begins or ends with white space, which the generated shell commands drop`,
                    fix: "remove the spaces at its ends",
                });
            const found = SHELL_UNSAFE.exec(value);
            if (found !== null)
                issues.push({
                    path,
                    message: `${what} "${value.replace(/\n/g, "\\n")}" holds ${found[0] === "\n" ? "a newline" : `'${found[0]}'`}, which the generated shell commands cannot quote`,
                    fix: 'remove the characters " ` $ ; \\ and newlines from it',
                });
        };
        // Every package's path: it is also substituted into the package's command ({path}).
        unsafe(pkg.path, ["packages", j, "path"], "package path");
        pkg.artifacts.forEach((a, k) => unsafe(a, ["packages", j, "artifacts", k], "artifact glob"));
        pkg.copyArtifacts.forEach((c, k) => {
            if (!pkg.artifacts.includes(c))
                issues.push({
                    path: ["packages", j, "copyArtifacts", k],
                    message: `"${c}" is not one of the artifacts of package "${pkg.name}" (${pkg.artifacts.join(", ") || "none"})`,
                    fix: "name an entry of its artifacts, exactly as written there",
                });
        });
        artifactPaths(pkg).forEach((a, k) => {
            const other = producerOf.get(a);
            if (other !== undefined)
                issues.push({
                    path: ["packages", j, "artifacts", k],
                    message: `artifact "${a}" is produced by packages[${other}] ("${packages[other].name}") too: a user could not tell which build to download it from`,
                    fix: "give each artifact exactly one producer",
                });
            else producerOf.set(a, j);
        });
        if (pkg.artifacts.length > 0) {
            const v = packageBuildVar(pkg.name);
            const other = varOf.get(v);
            if (other !== undefined)
                issues.push({
                    path: ["packages", j, "name"],
                    message: `packages "${packages[other].name}" and "${pkg.name}" both produce artifacts and would share the variable ${v}`,
                    fix: "rename one of them",
                });
            else varOf.set(v, j);
        }
    });
    return issues;
}

/** What the upload-time script needs: producers, users, variables. Keys sorted, so the JSON is stable. */
export interface ArtifactPlan {
    /** Producing package → its step key, `ran` meta-data key, repository-relative globs, and those copied when skipped. */
    readonly producers: Readonly<
        Record<
            string,
            {
                readonly step: string;
                readonly ran: string;
                readonly artifacts: readonly string[];
                readonly copy: readonly string[];
            }
        >
    >;
    /** User step key → the producers whose artifacts it uses. */
    readonly users: Readonly<Record<string, readonly string[]>>;
    /** Producer → its {@link packageBuildVar}. */
    readonly vars: Readonly<Record<string, string>>;
}

/**
 * The pipeline's {@link ArtifactPlan}, or null when no package produces artifacts.
 *
 * @param imageOf the image reference a package's step runs ("" for none): part of its definition's hash.
 */
export function artifactPlanOf(
    pipeline: Pick<PipelineConfig, "packages" | "packageCommand">,
    imageOf: (pkg: PipelineConfig["packages"][number]) => string,
): ArtifactPlan | null {
    const packages = pipeline.packages;
    const producers = packages.filter((p) => p.artifacts.length > 0);
    if (producers.length === 0) return null;
    const sorted = <T>(entries: [string, T][]) =>
        Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    return {
        producers: sorted(
            producers.map((p) => [
                p.name,
                {
                    step: packageStepKey(p.name),
                    ran: META_DATA.ran(
                        p.name,
                        producerDefinitionHash({
                            path: p.path,
                            artifacts: p.artifacts,
                            command: packageCommandOf(pipeline, p),
                            image: imageOf(p),
                        }),
                    ),
                    artifacts: artifactPaths(p),
                    copy: p.copyArtifacts.map((c) => `${p.path}/${c}`),
                },
            ]),
        ),
        users: sorted(
            packages
                .map((p): [string, string[]] => [packageStepKey(p.name), usedProducers(packages, p)])
                .filter(([, used]) => used.length > 0),
        ),
        vars: sorted(producers.map((p) => [p.name, packageBuildVar(p.name)])),
    };
}

/** The commands a user step starts with: download each used producer's artifacts from the build its variable names. */
export function downloadCommands(pipeline: Pick<PipelineConfig, "packages">, pkg: Package): string[] {
    return usedProducers(pipeline.packages, pkg).flatMap((name) => {
        const producer = pipeline.packages.find((p) => p.name === name);
        // buildkite/agent v3.137.0 clicommand/artifact_download.go: `--build` takes the build's UUID (default
        // BUILDKITE_BUILD_ID, this build), another build's too (buildkite/docs pages/pipelines/configure/artifacts.md
        // "download an artifact from a triggering build"); internal/artifact/downloader.go: the destination must
        // exist, "." does, and each file lands at its own path below it.
        return producer === undefined
            ? []
            : artifactPaths(producer).map(
                  (a) => `buildkite-agent artifact download "${a}" . --build "$${packageBuildVar(name)}"`,
              );
    });
}

/** Pages of the builds list the upload reads at most (100 builds each: buildkite/docs pages/apis/rest_api.md `per_page`). */
export const MAX_BUILD_PAGES = 5;
/** Attempts of one page when the REST API answers 429, and the longest wait between them, in seconds. */
export const RATE_LIMIT_ATTEMPTS = 3;
export const RATE_LIMIT_MAX_WAIT_SECONDS = 60;

/**
 * The upload step's script for a pipeline with producing packages: decide each producer's source, record it in
 * this build's meta-data, and upload the package steps (module doc). Needs `jq` and `curl` 7.55+ (both on the
 * Elastic CI Stack v6.71.1 Linux AMI: packer/linux/base/scripts/install-utils.sh installs jq). Without the read
 * token ({@link readTokenVar}) or a merge base, no base build is found and every producer runs: slower, never wrong.
 *
 * - One request per upload (plus its pages): "List builds for a pipeline" filtered by `branch` and `commit`
 *   (buildkite/docs pages/apis/rest_api/_pipeline_builds_list_query_strings.md), each build with its `meta_data`
 *   and `jobs` (pages/apis/rest_api/builds.md); the producer is picked in jq, so the per-user limit of the REST API
 *   (pages/apis/rest_api/rate_limits.md) is spent once, not once per skipped producer.
 * - A base build must hold `ran` (this producer's definition ran there) and the producer's own job passed
 *   (`jobs[].step_key`/`state`): a flaky test elsewhere that failed that build does not lose it.
 * - Its artifacts must still exist: `buildkite-agent artifact search GLOB --build UUID` exits 1 when nothing matches
 *   (buildkite/agent v3.137.0 clicommand/artifact_search.go, `--allow-empty-results` off). Artifact retention is
 *   shorter than build retention, and a glob may have matched nothing: such a build is not taken, nor one whose
 *   copy (the `copyArtifacts` opt-out) fails; the producer then runs.
 * - Every HTTP status is logged; anything but 200 is a warning (stderr and an annotation) and means no base build.
 *   A 429 is retried after `RateLimit-Reset` or `Retry-After` seconds (pages/apis/rest_api/rate_limits.md), at most
 *   {@link RATE_LIMIT_ATTEMPTS} times and {@link RATE_LIMIT_MAX_WAIT_SECONDS} s each. Pages follow the `Link`
 *   header's `rel="next"` (pages/apis/rest_api.md "Pagination"), only below the API's own URL.
 * - The token goes to curl on stdin (`-H @-`), never on a command line (where /proc/<pid>/cmdline shows it to
 *   every process of the host), and curl runs under `env -i` (no proxy or .curlrc of the job), as the release
 *   check does (components/steps/pipeline-steps.ts `releaseCheckScript`).
 *
 * @param target the organisation and pipeline slug whose builds are searched (baked in, not read from the env),
 *   the REST API's base URL, the env var holding the YAML to upload and the read token's env var.
 */
export function artifactSourcesScript(target: {
    readonly organization: string;
    readonly pipeline: string;
    readonly apiUrl: string;
    readonly yamlVar: string;
    readonly readTokenVar: string;
}): string {
    const token = target.readTokenVar;
    return `${ARTIFACT_SOURCES_MARKER}
set -euo pipefail
ci_org='${target.organization}'
ci_pipeline='${target.pipeline}'
ci_api='${target.apiUrl}'
plan="$${ARTIFACT_PLAN_VAR}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
warn() {
  echo "Warning: $1" >&2
  buildkite-agent annotate --style warning --context ci-platform-artifact-sources "$1" >/dev/null 2>&1 || true
}
# buildkite/agent v3.137.0 clicommand/pipeline_upload.go: --dry-run prints the interpolated pipeline with if_changed
# applied (a step it skips carries "skip"), and uploads nothing.
printf '%s\\n' "$${target.yamlVar}" | buildkite-agent pipeline upload --dry-run --format json >"$work/pipeline.json"
# The diff base the agent uses for if_changed (same file, ifChangedApplicator.diffBase), and its merge base with HEAD
# (gatherChangedPaths: "git merge-base <diff base> HEAD"; when HEAD is the diff base, HEAD's first parent, and the
# merge base is HEAD). A diff base or a changed-files list given to the agent names no branch: no base build then.
base_branch="\${BUILDKITE_PULL_REQUEST_BASE_BRANCH:-\${BUILDKITE_PIPELINE_DEFAULT_BRANCH:-}}"
merge_base=""
if [ -n "$base_branch" ] && [ -z "\${BUILDKITE_GIT_DIFF_BASE:-}" ] && [ -z "\${BUILDKITE_CHANGED_FILES_PATH:-}" ]; then
  merge_base="$(git merge-base "origin/$base_branch" HEAD 2>/dev/null || true)"
fi
skipped="$(jq -c '[.steps[]? | objects | select(has("skip")) | .key // empty]' "$work/pipeline.json")"
wanted="$(jq -r --argjson skipped "$skipped" '[.producers[] | select(.step as $s | $skipped | index($s))] | length' <<<"$plan")"
# The builds of the base branch at the merge base, with their meta-data and jobs: one request (and its pages).
echo '[]' >"$work/builds.json"
builds_of_base() {
  local url attempt status wait page=0
  url="$ci_api/organizations/$ci_org/pipelines/$ci_pipeline/builds?branch=$(jq -rn --arg b "$base_branch" '$b | @uri')&commit=$merge_base&per_page=100&exclude_pipeline=true"
  while [ -n "$url" ] && [ "$page" -lt ${MAX_BUILD_PAGES} ]; do
    page=$((page + 1))
    attempt=0
    while :; do
      attempt=$((attempt + 1))
      : >"$work/headers"
      status="$(printf 'Authorization: Bearer %s\\n' "$${token}" | /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin:/opt/homebrew/bin HOME=/nonexistent curl -q -sS --max-time 30 -H @- -D "$work/headers" -o "$work/page.json" -w '%{http_code}' "$url" 2>"$work/curl.log")" || status="000"
      echo "Buildkite REST API, builds of $ci_pipeline on $base_branch at $merge_base, page $page: HTTP $status"
      if [ "$status" != 429 ] || [ "$attempt" -ge ${RATE_LIMIT_ATTEMPTS} ]; then break; fi
      wait="$(tr -d '\\r' <"$work/headers" | awk -F': *' 'tolower($1) == "ratelimit-reset" || tolower($1) == "retry-after" { print $2; exit }')"
      case "$wait" in '' | *[!0-9]*) wait=10 ;; esac
      if [ "$wait" -gt ${RATE_LIMIT_MAX_WAIT_SECONDS} ]; then wait=${RATE_LIMIT_MAX_WAIT_SECONDS}; fi
      echo "Rate limited: retrying in $wait s."
      sleep "$wait"
    done
    if [ "$status" != 200 ]; then
      warn "Buildkite's REST API answered HTTP $status ($(cat "$work/curl.log" "$work/page.json" 2>/dev/null | head -c 300 | tr -d '\\n' || true)) to the base build lookup of $ci_pipeline: skipped producers without a base build run in this build."
      return 0
    fi
    if ! jq -s '.[0] + (.[1] | if type == "array" then . else [] end)' "$work/builds.json" "$work/page.json" >"$work/merged.json" 2>/dev/null; then
      warn "Buildkite's REST API answered the base build lookup with no JSON list: skipped producers without a base build run in this build."
      return 0
    fi
    mv "$work/merged.json" "$work/builds.json"
    url="$(tr -d '\\r' <"$work/headers" | grep -i '^link:' | grep -o '<[^>]*>; *rel="next"' | sed 's/^<\\([^>]*\\)>.*/\\1/' | head -n 1 || true)"
    case "$url" in "$ci_api"/*) ;; *) url="" ;; esac
  done
}
if [ "$wanted" -gt 0 ]; then
  if [ -z "\${${token}:-}" ]; then
    warn "No ${token} in this job: no base build can be looked up, so every skipped producer runs in this build."
  elif [ -z "$merge_base" ]; then
    echo "No merge base with origin/\${base_branch:-the base branch}: every skipped producer runs in this build."
  else
    builds_of_base
  fi
fi
# Whether every artifact glob of producer $1 still has files in build $2.
has_artifacts() {
  local glob
  while read -r glob; do
    if ! buildkite-agent artifact search "$glob" --build "$2" >/dev/null 2>&1; then
      echo "Build $2 holds no artifact $glob (expired, or never made): not taken."
      return 1
    fi
  done < <(jq -r --arg p "$1" '.producers[$p].artifacts[]' <<<"$plan")
}
sources='{}'
# Each producer as four lines (name, step key, ran key, whether the dry run skipped its step), from one jq, not three
# per producer (jq 1.6 costs ~30 ms to start). jqlang/jq 1.6 src/builtin.jq: index($i) is indices($i) | .[0], a
# number or null.
while read -r pkg && read -r step && read -r ran && read -r step_skipped; do
  from=""
  if [ "$step_skipped" = true ]; then
    while read -r candidate; do
      if [ -n "$candidate" ] && has_artifacts "$pkg" "$candidate"; then from="$candidate"; break; fi
    done < <(jq -r --arg s "$step" --arg ran "$ran" '.[] | objects | select((.meta_data // {})[$ran] == "true" and any(.jobs[]? | objects; .step_key == $s and .state == "passed")) | .id // empty' "$work/builds.json")
    # The opt-out: these artifacts are copied into this build (downloaded from the base build, uploaded again); a
    # copy that fails makes the producer run instead.
    if [ -n "$from" ]; then
      while read -r pattern; do
        set +e
        buildkite-agent artifact download "$pattern" . --build "$from"
        copied=$?
        if [ "$copied" -eq 0 ]; then buildkite-agent artifact upload "$pattern"; copied=$?; fi
        set -e
        if [ "$copied" -ne 0 ]; then
          warn "Copying $pattern from build $from failed: $pkg runs in this build."
          from=""
          break
        fi
      done < <(jq -r --arg p "$pkg" '.producers[$p].copy[]' <<<"$plan")
    fi
    if [ -z "$from" ]; then
      echo "No build of \${base_branch:-the base branch} at \${merge_base:-the merge base} holds the artifacts of $pkg as it is defined now: it runs in this build."
    else
      echo "$pkg is skipped: its artifacts come from build $from."
    fi
  fi
  sources="$(jq -c --arg p "$pkg" --arg from "$from" '.[$p] = $from' <<<"$sources")"
done < <(jq -r --argjson skipped "$skipped" '.producers as $ps | $ps | keys[] | . as $p | $ps[$p].step as $s
  | $p, $s, $ps[$p].ran, ($skipped | index($s) != null)' <<<"$plan")
# Every step gets each producer's variable; users wait for the producers that run; a skipped producer that has no
# base build runs after all ("skip" removed).
jq --argjson plan "$plan" --argjson sources "$sources" --arg self "$BUILDKITE_BUILD_ID" '
  def holder($p): if $sources[$p] == "" or (($plan.producers[$p].copy | length) == ($plan.producers[$p].artifacts | length)) then $self else $sources[$p] end;
  ($plan.producers | keys) as $ps
  | ([$ps[] | {key: $plan.vars[.], value: holder(.)}] | from_entries) as $vars
  | .steps |= map(
      if type != "object" then . else
        (.key // "") as $k
        | ([$ps[] | select($plan.producers[.].step == $k)] | first) as $producer
        | (if $producer != null and $sources[$producer] == "" then del(.skip) else . end)
        | .env = ((.env // {}) + $vars)
        | ($plan.users[$k] // []) as $uses
        | if ($uses | length) == 0 then . else
            (((.depends_on // []) + [$uses[] | select($sources[.] == "") | $plan.producers[.].step]) | unique) as $deps
            | (if ($deps | length) > 0 then .depends_on = $deps else . end)
            | ([$uses[] | holder(.)] | unique) as $builds
            | if ($builds | length) == 1 then .env.BUILDKITE_PLUGIN_ARTIFACTS_BUILD = $builds[0] else . end
          end
      end)
' "$work/pipeline.json" >"$work/upload.json"
# This build's meta-data, now that every decision is final (a retried upload overwrites the last one's): which
# producers ran here (true/false, under their definition's key), and the build each artifact comes from. One jq for
# every pair (a key line, then its value line), not several per producer and artifact: jq 1.6 costs ~30 ms to start.
while read -r key && read -r value; do
  buildkite-agent meta-data set "$key" "$value"
done < <(jq -r --argjson sources "$sources" --arg self "$BUILDKITE_BUILD_ID" '
  .producers as $ps
  | $ps | keys[] | . as $p | $ps[$p] as $v | $sources[$p] as $from
  | $v.ran, (if $from == "" then "true" else "false" end),
    (($v.artifacts // [])[] | . as $a | ("${META_DATA.artifact("")}" + $a), (if $from == "" or ($v.copy | index($a)) then $self else $from end))
' <<<"$plan")
# Interpolated already by the dry run: uploaded as it is.
buildkite-agent pipeline upload --no-interpolation "$work/upload.json"`;
}
