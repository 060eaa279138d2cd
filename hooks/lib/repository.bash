#!/bin/bash
# The job's repository, and the platform's allow-list (allowed-repositories.txt, generated
# from ci-platform:pipelines[].repository into the bundle: one lowercase owner/name a line).

# repository_from_env_file FILE: prints BUILDKITE_REPO from the agent's job env file, and
# nothing else from that file (it holds the job's secrets). Surrounding quotes are removed.
repository_from_env_file() {
    local file="$1" line value
    line="$(grep -m 1 -E '^(export )?BUILDKITE_REPO=' -- "$file")" || return 1
    value="${line#*=}"
    if [[ "$value" =~ ^\"(.*)\"$ || "$value" =~ ^\'(.*)\'$ ]]; then
        value="${BASH_REMATCH[1]}"
    fi
    echo "$value"
}

# repository_redact URL: URL without any user:password@ part, safe to print.
repository_redact() {
    local url="$1"
    if [[ "$url" =~ ^([a-z+]+://)[^/@]*@(.*)$ ]]; then
        url="${BASH_REMATCH[1]}***@${BASH_REMATCH[2]}"
    fi
    echo "$url"
}

# repository_slug URL: prints the lowercase owner/name of a GitHub repository URL in one of
# the forms git@github.com:o/n(.git), https://github.com/o/n(.git)(/), ssh://git@github.com/o/n(.git).
# Returns 1 for any other URL.
repository_slug() {
    local url="$1" path
    if [[ "$url" =~ ^git@github\.com:(.+)$ ]]; then
        path="${BASH_REMATCH[1]}"
    elif [[ "$url" =~ ^(https|ssh)://([^/@]*@)?github\.com(:[0-9]+)?/(.+)$ ]]; then
        path="${BASH_REMATCH[4]}"
    else
        return 1
    fi
    path="${path%/}"
    path="${path%.git}"
    [[ "$path" =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]] || return 1
    echo "${path,,}"
}

# repository_allowed SLUG LIST: true when SLUG is a line of LIST.
repository_allowed() {
    local slug="$1" list="$2"
    grep -Fxq -- "$slug" "$list"
}
