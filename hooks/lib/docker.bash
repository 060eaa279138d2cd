#!/bin/bash
# Docker cleanup between jobs.
# With one agent per instance (CI_PLATFORM_AGENTS_PER_INSTANCE=1, the default) every container
# on the host belongs to the running job, or is left over from an earlier one. With several
# agents per instance, only objects labelled com.buildkite.job-id are touched, so that a
# neighbouring job's containers survive.

docker_exclusive() {
    [[ "${CI_PLATFORM_AGENTS_PER_INSTANCE:-1}" == "1" ]]
}

# docker_rm_containers ID...: force-removes the containers with their anonymous volumes.
docker_rm_containers() {
    [[ $# -gt 0 ]] || return 0
    echo "Removing $# container(s)"
    docker rm --force --volumes "$@" >/dev/null
}

# docker_ids ARGS...: runs `docker ARGS...` and splits its output into the array DOCKER_IDS.
docker_ids() {
    local out
    out="$(docker "$@")" || return 2
    DOCKER_IDS=()
    if [[ -n "$out" ]]; then
        mapfile -t DOCKER_IDS <<<"$out"
    fi
}

# pre-command: containers left over from earlier jobs.
docker_remove_leftovers() {
    if docker_exclusive; then
        docker_ids ps --all --quiet || return 2
    else
        docker_ids ps --all --quiet --filter "label=com.buildkite.job-id" --filter "status=exited" || return 2
    fi
    docker_rm_containers "${DOCKER_IDS[@]}"
}

# pre-exit: the containers, networks and volumes this job created.
docker_cleanup_job() {
    local job="${BUILDKITE_JOB_ID:-}"
    if docker_exclusive; then
        docker_ids ps --all --quiet || return 2
        docker_rm_containers "${DOCKER_IDS[@]}" || return 2
        docker network prune --force >/dev/null || return 2
        docker volume prune --all --force >/dev/null || return 2
        return 0
    fi
    [[ -n "$job" ]] || return 0
    docker_ids ps --all --quiet --filter "label=com.buildkite.job-id=$job" || return 2
    docker_rm_containers "${DOCKER_IDS[@]}" || return 2
    docker_ids network ls --quiet --filter "label=com.buildkite.job-id=$job" || return 2
    if [[ ${#DOCKER_IDS[@]} -gt 0 ]]; then
        docker network rm "${DOCKER_IDS[@]}" >/dev/null || return 2
    fi
    docker_ids volume ls --quiet --filter "label=com.buildkite.job-id=$job" || return 2
    if [[ ${#DOCKER_IDS[@]} -gt 0 ]]; then
        docker volume rm --force "${DOCKER_IDS[@]}" >/dev/null || return 2
    fi
}
