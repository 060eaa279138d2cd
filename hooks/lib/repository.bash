#!/bin/bash
# The fleet's allow-list: which pipelines' jobs it admits, read against the job's identity in the agent's JSON job
# env file. The list is the fleet's allow-list object (components/hooks/allowlist.ts allowlistObjectContent: a header
# line, then one `slug url` a line), which the pre-bootstrap hook reads at job time, into a variable: the pipelines the fleet serves
# (fleetAllowlist, from pipelinesServed), each with the repository URL Buildkite hands its jobs (the pipeline's
# configured URL, verbatim).

# First line of an allow-list object; must equal ALLOWLIST_OBJECT_HEADER in components/hooks/allowlist.ts.
CI_ALLOWLIST_HEADER="# ci-platform allow-list v1"

# allowlist_valid TEXT: true when TEXT (the object's body, read by lib/s3-read.bash into a variable, never a file) is
# a well-formed allow-list object: the header line, then only `slug url` lines (slug [a-z0-9][a-z0-9-]*, URL of
# [A-Za-z0-9@:/._~+-], one space between), each ending in a newline. Anything else (an empty or truncated download,
# another object, an HTML error page) is false, and the hook refuses every job.
allowlist_valid() {
    local text="$1" line first=1
    [[ -n "$text" && "$text" == *$'\n' ]] || return 1
    while IFS= read -r line; do
        if [[ $first -eq 1 ]]; then
            [[ "$line" == "$CI_ALLOWLIST_HEADER" ]] || return 1
            first=0
            continue
        fi
        [[ "$line" =~ ^[a-z0-9][a-z0-9-]*\ [A-Za-z0-9@:/._~+-]+$ ]] || return 1
    done < <(printf '%s' "$text")
    [[ $first -eq 0 ]]
}

# Exit status of a refusal. Must equal REFUSED_JOB_EXIT_STATUS in components/hooks/allowlist.ts (a test reads both):
# 78, sysexits.h EX_CONFIG, which no generated retry rule retries. From pre-bootstrap the agent only logs it and ends
# the job as exit -1, signal reason agent_refused (buildkite/agent v3.137.0 agent/run_job.go).
# shellcheck disable=SC2034 # read by the hooks that source this file
CI_REFUSED_EXIT_STATUS=78

# job_identity FILE: prints the job's BUILDKITE_PIPELINE_SLUG, then its BUILDKITE_REPO, one a line, each as a JSON
# string literal (quotes included; newlines, quotes and every control character escaped by jq, so each is one printable
# line and a crafted value can never equal a plain one). FILE is the agent's BUILDKITE_ENV_JSON_FILE: one JSON object of
# the job's environment, written with Go's encoding/json (buildkite/agent v3.137.0 agent/job_runner.go
# createEnvironment), so a name appears once. Nothing else is read from it (it holds the job's secrets) but the names
# of its variables, for the check below.
# Returns 1 when FILE is not exactly one JSON object; 3 when the job sets a variable whose name starts with
# BUILDKITE_PLUGIN_S3_SECRETS_ (in any case), printing those names instead, comma-separated JSON literals; 2 when
# either value is missing or not a string.
#
# Why the names: they steer the Elastic CI Stack's secrets hook, which runs with the instance role, and so can read the
# secrets of every pipeline the fleet serves. elastic-ci-stack-s3-secrets-hooks v2.8.0 s3secrets-helper/main.go takes
# the key prefix from BUILDKITE_PLUGIN_S3_SECRETS_BUCKET_PREFIX (the pipeline's slug only when it is unset), and its
# hooks/environment prints every secret it loaded when BUILDKITE_PLUGIN_S3_SECRETS_DUMP_ENV is true. The stack's
# environment hook (v6.71.1 packer/linux/stack/conf/buildkite-agent/hooks/environment) overwrites _BUCKET, _REGION and
# _SKIP_SSH_KEY_NOT_FOUND_WARNING but passes the job's _BUCKET_PREFIX and _DUMP_ENV through. A plugin's configuration
# reaches only that plugin's own hooks (buildkite/agent v3.137.0 internal/job/plugin.go: ConfigurationToEnvironment is
# the plugin hook's Env), so the job environment is where such a variable can come from before the stack's hook runs.
job_identity() {
    local file="$1" out
    # -s: a file of two JSON values (a crafted `{}{...}`) is one array of length 2, and refused.
    # HOME=/: jq sources $HOME/.jq into every program (jq 1.6 and 1.7 manual, "~/.jq"), and the hook runs as the jobs'
    # user, whose home an earlier job could have given a .jq that redefines keys, select or length; / is root's.
    out="$(HOME=/ jq -r -s '
        if length != 1 or (.[0] | type) != "object" then "malformed"
        else .[0]
            | [keys[] | select(ascii_upcase | startswith("BUILDKITE_PLUGIN_S3_SECRETS_")) | @json] as $steer
            | if ($steer | length) > 0 then "secrets-hook", ($steer | join(","))
              else [.BUILDKITE_PIPELINE_SLUG, .BUILDKITE_REPO]
                | if all(type == "string") then .[] | @json else "missing" end
              end
        end' <"$file" 2>/dev/null)" || return 1
    case "$out" in
    malformed) return 1 ;;
    missing) return 2 ;;
    secrets-hook$'\n'*)
        printf '%s\n' "${out#*$'\n'}"
        return 3
        ;;
    esac
    printf '%s\n' "$out"
}

# allowlist_admits LIST SLUG_JSON REPO_JSON: true when a `slug url` line of the text LIST is exactly this pair. The arguments
# are job_identity's JSON literals; a slug or URL of the list has no character JSON escapes (renderBootstrapScript
# allows [A-Za-z0-9@:/._~+-] only), so its literal is the text in quotes. Exact comparison: no case folding, no `.git`
# or trailing-slash variants, no other scheme, since Buildkite hands a pipeline's jobs its configured URL only.
allowlist_admits() {
    local list="$1" slug_json="$2" repo_json="$3" slug url rest
    while IFS=' ' read -r slug url rest || [[ -n "$slug" ]]; do
        [[ -n "$slug" && "$slug" != \#* && -n "$url" && -z "$rest" ]] || continue
        if [[ "\"$slug\"" == "$slug_json" && "\"$url\"" == "$repo_json" ]]; then
            return 0
        fi
    done < <(printf '%s' "$list")
    return 1
}

# allowlist_repositories LIST SLUG_JSON: the URLs the text LIST admits for this slug, comma-separated (for messages).
allowlist_repositories() {
    local list="$1" slug_json="$2" slug url rest out=""
    while IFS=' ' read -r slug url rest || [[ -n "$slug" ]]; do
        [[ "\"$slug\"" == "$slug_json" && -n "$url" ]] && out="${out:+$out, }$url"
    done < <(printf '%s' "$list")
    printf '%s\n' "$out"
}

# repository_redact URL: URL without any user:password@ part, safe to print.
repository_redact() {
    local url="$1"
    if [[ "$url" =~ ^([A-Za-z+.-]+://)[^/@]*@(.*)$ ]]; then
        url="${BASH_REMATCH[1]}***@${BASH_REMATCH[2]}"
    fi
    printf '%s\n' "$url"
}
