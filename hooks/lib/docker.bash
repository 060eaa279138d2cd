#!/bin/bash
# Docker cleanup between jobs, safe when several agents share the instance.
#
# The Elastic CI Stack runs AgentsPerInstance agents on one instance, one docker daemon for all
# of them: the template passes the parameter to the instance as BUILDKITE_AGENTS_PER_INSTANCE,
# which bk-install-elastic-stack.sh writes to the agent config as `spawn=` and to ~/cfn-env
# (buildkite/elastic-ci-stack-for-aws v6.71.1 templates/aws-stack.yml AgentLaunchTemplate;
# packer/linux/stack/conf/bin/bk-install-elastic-stack.sh). So a hook must never remove what
# another agent's running job created.
#
# Who owns a docker object: the job whose id one of these labels carries (compared without
# dashes, lowercase: the "job key"; an object whose labels name no job, or two, is nobody's):
#   com.buildkite.job-id=<id>   docker-buildkite-plugin v5.13.0 commands/run.sh (always)
#   com.buildkite.job_id=<id>   same file, and docker-compose-buildkite-plugin v5.14.0
#                               commands/run.sh (both with run-labels, their default)
#   com.docker.compose.project=buildkite<id without dashes>
#                               docker-compose-buildkite-plugin v5.14.0 lib/shared.bash
#                               (docker_compose_project_name); compose puts this label on every
#                               container, network and volume of the project.
#
# Exclusive host: only when the agent's own config says spawn=1 (buildkite/agent v3.137.0
# agent/job_runner.go gives every job BUILDKITE_CONFIG_PATH; clicommand/agent_start.go: spawn
# defaults to 1, spawn-per-cpu to 0) and no other claim says otherwise (BUILDKITE_AGENT_SPAWN,
# the stack's BUILDKITE_AGENTS_PER_INSTANCE from cfn-env, our fleet.env). Then one job runs at
# a time and everything on the host is this job's or left over. Anything else, including a
# config this hook cannot read, is a shared host: only objects this job owns (pre-exit), or that
# a finished job owns (pre-command), are removed. Objects nobody owns are left alone here, and
# the stack's hourly docker-gc reclaims only some of them: it prunes *stopped* containers and
# unused networks older than DOCKER_PRUNE_UNTIL, 4h (packer/linux/base/conf/docker/scripts/
# docker-gc); docker-low-disk-gc prunes unused images and build cache only when the disk is low
# (same directory). A running unlabelled container, and unowned volumes, stay until the
# instance is replaced.
#
# Finished jobs, under CI_PLATFORM_STATE_DIR (default /var/lib/buildkite-agent/ci-platform, in the
# agent user's home, where the stack writes cfn-env):
#   finished/<job key>  written by the job's own pre-exit, after its cleanup; and by pre-command
#                       for the job its agent ran before:
#   agents/<agent id>   the job key the agent runs now. An agent runs one job at a time, so when
#                       it starts another, the one it recorded is over. BUILDKITE_AGENT_ID is
#                       unique per registered agent (the docker plugin labels it as agent_id).
# A key is only marked finished when its job is over, so a running neighbour is never a leftover.

readonly DOCKER_LABEL_JOB_ID="com.buildkite.job-id"
readonly DOCKER_LABEL_JOB_ID_SNAKE="com.buildkite.job_id"
readonly DOCKER_LABEL_COMPOSE_PROJECT="com.docker.compose.project"
# Markers older than this (minutes) are forgotten: their objects have had a day of pre-commands.
readonly DOCKER_STATE_TTL_MINUTES=1440

docker_state_dir() {
    printf '%s\n' "${CI_PLATFORM_STATE_DIR:-/var/lib/buildkite-agent/ci-platform}"
}

# docker_job_key ID: prints the job key of a Buildkite job id (a UUID): 32 lowercase hex.
# Returns 1 for anything else.
docker_job_key() {
    local key="${1//-/}"
    key="${key,,}"
    [[ "$key" =~ ^[0-9a-f]{32}$ ]] || return 1
    printf '%s\n' "$key"
}

# docker_config_spawn CFG: prints how many agents the agent config CFG spawns ("1" when it sets
# none: the agent's default), or "per-cpu" for spawn-per-cpu. Returns 1 when CFG cannot be read.
# The file holds the agent token: only spawn lines are looked at, and nothing of it is printed.
docker_config_spawn() {
    local cfg="$1" line value spawn="1" per_cpu="0"
    local pattern='^[[:space:]]*(spawn|spawn-per-cpu)[[:space:]]*=[[:space:]]*"?([^"[:space:]]*)"?[[:space:]]*$'
    [[ -n "$cfg" && -r "$cfg" ]] || return 1
    while IFS= read -r line || [[ -n "$line" ]]; do
        [[ "$line" =~ $pattern ]] || continue
        value="${BASH_REMATCH[2]}"
        if [[ "${BASH_REMATCH[1]}" == "spawn" ]]; then spawn="$value"; else per_cpu="$value"; fi
    done <"$cfg"
    if [[ "$per_cpu" != "0" && -n "$per_cpu" ]]; then
        echo "per-cpu"
    else
        printf '%s\n' "$spawn"
    fi
}

# docker_host_exclusive: true only when the agent config could be read and every claim about the
# agents on this host says 1. Warns when the claims disagree with each other.
docker_host_exclusive() {
    local spawn claim exclusive=0
    local -a claims
    if ! spawn="$(docker_config_spawn "${BUILDKITE_CONFIG_PATH:-}")"; then
        echo "Cannot read the agent config (BUILDKITE_CONFIG_PATH); cleaning docker as on a shared host"
        return 1
    fi
    claims=("agent config spawn=$spawn")
    [[ -z "${BUILDKITE_AGENT_SPAWN:-}" ]] || claims+=("BUILDKITE_AGENT_SPAWN=$BUILDKITE_AGENT_SPAWN")
    [[ -z "${BUILDKITE_AGENTS_PER_INSTANCE:-}" ]] ||
        claims+=("BUILDKITE_AGENTS_PER_INSTANCE=$BUILDKITE_AGENTS_PER_INSTANCE")
    [[ -z "${CI_PLATFORM_AGENTS_PER_INSTANCE:-}" ]] ||
        claims+=("CI_PLATFORM_AGENTS_PER_INSTANCE=$CI_PLATFORM_AGENTS_PER_INSTANCE")
    for claim in "${claims[@]}"; do
        [[ "${claim##*=}" == "1" ]] || exclusive=1
        if [[ "${claim##*=}" != "$spawn" ]]; then
            ci_warn "agents per instance disagree (${claims[*]}); cleaning docker as on a shared host"
            return 1
        fi
    done
    [[ $exclusive -eq 0 ]] || echo "$spawn agents share this host: removing only objects of this job or of finished jobs"
    return "$exclusive"
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

# docker_owned KIND KEYFILE: lists containers|networks|volumes with their owner, then sets
# DOCKER_IDS to those whose owner is the job key given, or (with KEYFILE a directory) any key
# that has a file there. `|` separates the fields: ids, names and job keys never contain one.
docker_owned() {
    local kind="$1" owner="$2" line id a b c extra key format
    local -a list
    format="{{.Label \"$DOCKER_LABEL_JOB_ID\"}}|{{.Label \"$DOCKER_LABEL_JOB_ID_SNAKE\"}}|{{.Label \"$DOCKER_LABEL_COMPOSE_PROJECT\"}}"
    case "$kind" in
    containers) list=(ps --all --no-trunc --format "{{.ID}}|$format") ;;
    networks) list=(network ls --no-trunc --format "{{.ID}}|$format") ;;
    volumes) list=(volume ls --format "{{.Name}}|$format") ;;
    esac
    docker_ids "${list[@]}" || return 2
    local -a all=("${DOCKER_IDS[@]}")
    DOCKER_IDS=()
    for line in "${all[@]}"; do
        IFS='|' read -r id a b c extra <<<"$line"
        [[ -n "$id" && -z "${extra:-}" ]] || continue
        key="$(docker_owner_key "$a" "$b" "$c")" || continue
        if [[ -d "$owner" && -e "$owner/$key" ]] || [[ "$key" == "$owner" ]]; then
            DOCKER_IDS+=("$id")
        fi
    done
}

# docker_owner_key JOB_ID JOB_ID_SNAKE COMPOSE_PROJECT: prints the one job key the labels name;
# returns 1 when they name none, or more than one.
docker_owner_key() {
    local key="" k label
    for label in "$1" "$2"; do
        [[ -n "$label" ]] || continue
        k="$(docker_job_key "$label")" || return 1
        [[ -z "$key" || "$key" == "$k" ]] || return 1
        key="$k"
    done
    if [[ -n "$3" ]]; then
        # Only the plugin's own project name, "buildkite" + the key, names a job.
        if [[ "$3" =~ ^buildkite([0-9a-f]{32})$ ]]; then
            k="${BASH_REMATCH[1]}"
            [[ -z "$key" || "$key" == "$k" ]] || return 1
            key="$k"
        elif [[ -z "$key" ]]; then
            return 1
        fi
    fi
    [[ -n "$key" ]] || return 1
    printf '%s\n' "$key"
}

# docker_remove_owned OWNER: removes the containers, then networks, then volumes that OWNER (a
# job key, or the finished/ directory) owns. Containers go first: docker refuses to remove a
# network or volume still in use.
docker_remove_owned() {
    local owner="$1"
    docker_owned containers "$owner" || return 2
    docker_rm_containers "${DOCKER_IDS[@]}" || return 2
    docker_owned networks "$owner" || return 2
    if [[ ${#DOCKER_IDS[@]} -gt 0 ]]; then
        echo "Removing ${#DOCKER_IDS[@]} network(s)"
        docker network rm "${DOCKER_IDS[@]}" >/dev/null || return 2
    fi
    docker_owned volumes "$owner" || return 2
    if [[ ${#DOCKER_IDS[@]} -gt 0 ]]; then
        echo "Removing ${#DOCKER_IDS[@]} volume(s)"
        docker volume rm --force "${DOCKER_IDS[@]}" >/dev/null || return 2
    fi
}

# docker_mark_finished KEY: records that job KEY is over.
docker_mark_finished() {
    local dir
    dir="$(docker_state_dir)/finished"
    mkdir -p -- "$dir" && : >"$dir/$1"
}

# docker_record_job KEY: records KEY as the job of this agent, and marks the job it ran before
# as finished. Without BUILDKITE_AGENT_ID nothing is recorded (nothing is then marked either).
docker_record_job() {
    local key="$1" agent="${BUILDKITE_AGENT_ID:-}" dir previous=""
    [[ "$agent" =~ ^[A-Za-z0-9-]+$ ]] || return 0
    dir="$(docker_state_dir)/agents"
    mkdir -p -- "$dir" || return 2
    if [[ -f "$dir/$agent" ]]; then
        previous="$(<"$dir/$agent")"
    fi
    if [[ -n "$previous" && "$previous" != "$key" ]] && docker_job_key "$previous" >/dev/null; then
        docker_mark_finished "$previous" || return 2
    fi
    printf '%s\n' "$key" >"$dir/$agent.tmp" && mv -f -- "$dir/$agent.tmp" "$dir/$agent"
}

# docker_forget_old: drops markers older than DOCKER_STATE_TTL_MINUTES.
docker_forget_old() {
    local dir
    dir="$(docker_state_dir)"
    [[ -d "$dir" ]] || return 0
    find "$dir/finished" "$dir/agents" -type f -mmin "+$DOCKER_STATE_TTL_MINUTES" -delete 2>/dev/null || true
}

# pre-command: records this job, then removes what jobs that are over left behind.
docker_remove_leftovers() {
    local key
    if key="$(docker_job_key "${BUILDKITE_JOB_ID:-}")"; then
        docker_record_job "$key" || ci_warn "cannot record this job under $(docker_state_dir)"
    fi
    if docker_host_exclusive; then
        docker_ids ps --all --quiet --no-trunc || return 2
        docker_rm_containers "${DOCKER_IDS[@]}"
        return
    fi
    docker_forget_old
    [[ -d "$(docker_state_dir)/finished" ]] || return 0
    docker_remove_owned "$(docker_state_dir)/finished"
}

# pre-exit: removes the containers, networks and volumes this job created, then marks it finished.
docker_cleanup_job() {
    local key rc=0
    if docker_host_exclusive; then
        docker_ids ps --all --quiet --no-trunc || return 2
        docker_rm_containers "${DOCKER_IDS[@]}" || return 2
        docker network prune --force >/dev/null || return 2
        docker volume prune --all --force >/dev/null || return 2
    elif key="$(docker_job_key "${BUILDKITE_JOB_ID:-}")"; then
        docker_remove_owned "$key" || rc=2
    fi
    if key="$(docker_job_key "${BUILDKITE_JOB_ID:-}")"; then
        docker_mark_finished "$key" || ci_warn "cannot mark this job finished under $(docker_state_dir)"
    fi
    return "$rc"
}
