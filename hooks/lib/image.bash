#!/bin/bash
# The step's own image, for the environment hook. Image versions are not in the hooks bundle (an
# image bump must not roll every fleet); the job names its image instead. Our references have the
# form components/images/image-ref.ts writes:
#   ${CI_PLATFORM_ECR_REGISTRY}/ci-platform/<image>:<variant>-<version>   (version: YYYY.MM.N)
#
# Where the job names it: the docker plugin's `image` setting. The agent exports a plugin's settings
# as BUILDKITE_PLUGIN_<PLUGIN>_<SETTING> (so BUILDKITE_PLUGIN_DOCKER_IMAGE) only while that plugin's
# own hooks run; the agent's environment hook runs before any plugin (buildkite/agent
# internal/job/executor.go: setUp, then the plugin phase; internal/job/plugin.go passes
# ConfigurationToEnvironment to the plugin's hooks only). So BUILDKITE_PLUGIN_DOCKER_IMAGE is used when
# it is set, and otherwise the `image` values in BUILDKITE_PLUGINS, the job's plugin configuration
# as JSON, are searched for one reference of the form above.

# image_ref_parse REF: true when REF is one of our image references; sets _ci_image_name,
# _ci_image_variant and _ci_image_version.
image_ref_parse() {
    local ref="$1" registry rest tag
    local host='[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?'
    local slug='[a-z0-9][a-z0-9._-]*'
    [[ "$ref" =~ ^([^/]+)/ci-platform/($slug):(.+)$ ]] || return 1
    registry="${BASH_REMATCH[1]}"
    rest="${BASH_REMATCH[2]}"
    tag="${BASH_REMATCH[3]}"
    # shellcheck disable=SC2016 # the literal, unexpanded variable reference is what a step holds
    if [[ "$registry" != '${CI_PLATFORM_ECR_REGISTRY}' && "$registry" != '$CI_PLATFORM_ECR_REGISTRY' ]] &&
        ! [[ "$registry" =~ ^$host$ ]]; then
        return 1
    fi
    [[ "$tag" =~ ^($slug)-([0-9]{4}\.(0[1-9]|1[0-2])\.[1-9][0-9]*)$ ]] || return 1
    _ci_image_name="$rest"
    _ci_image_variant="${BASH_REMATCH[1]}"
    _ci_image_version="${BASH_REMATCH[2]}"
}

# image_ref_from_job: prints the step's image reference and returns 0, or returns 1 when the job
# names none of ours, or names more than one (then it cannot tell which the step runs in).
image_ref_from_job() {
    local plugins rest value found=""
    local pattern='"image"[[:space:]]*:[[:space:]]*"([^"\\]*)"(.*)$'
    if [[ -n "${BUILDKITE_PLUGIN_DOCKER_IMAGE:-}" ]]; then
        image_ref_parse "$BUILDKITE_PLUGIN_DOCKER_IMAGE" || return 1
        printf '%s\n' "$BUILDKITE_PLUGIN_DOCKER_IMAGE"
        return 0
    fi
    plugins="${BUILDKITE_PLUGINS:-}"
    rest="${plugins//\\\//\/}"
    while [[ "$rest" =~ $pattern ]]; do
        value="${BASH_REMATCH[1]}"
        rest="${BASH_REMATCH[2]}"
        image_ref_parse "$value" || continue
        if [[ -n "$found" && "$found" != "$value" ]]; then
            return 1
        fi
        found="$value"
    done
    [[ -n "$found" ]] || return 1
    printf '%s\n' "$found"
}

# image_version_variable NAME: CI_IMAGE_VERSION_<NAME>, NAME uppercased, other characters as `_`.
image_version_variable() {
    local name="${1^^}"
    name="${name//[^A-Z0-9]/_}"
    printf 'CI_IMAGE_VERSION_%s\n' "$name"
}
