#!/bin/bash
# The fake docker CLI of the hook tests (test/hooks/harness.ts writeFakes puts it on PATH as `docker`), in bash: a
# daemon state in $FAKE_STATE/docker.state, changed under a lock so hooks of concurrent jobs can call it at the same
# time. It knows the subcommands the hooks and the tests use, with docker's semantics for them: `ps`/`network
# ls`/`volume ls` with `--quiet`, `--filter label=K[=V]` (filters ANDed), `--filter status=S` and `--format` with
# `{{.ID}}`, `{{.Name}}` and `{{.Label "K"}}`; `rm --force` (a running container too), `network rm`/`volume rm`
# (refused while a container uses it), the prunes (only what no container uses), `run -d`/`create` with `--label`,
# `--network`, `--volume`, `stop`, and `network create`/`volume create` with `--label`. Anything else fails loudly.
# Bash, not node: the hooks call it ~90 times in test/hooks/shared-host.test.ts, and a node process costs ~35 ms CPU.
#
# The state file, one object a line, fields separated by \x1f (not whitespace, so empty fields stay fields):
#   KIND ID STATUS NETWORKS VOLUMES LABELS   (KIND containers|networks|volumes; lists joined by \x1e, labels K=V)
# harness.ts Machine.setDocker and Machine.docker write and read it.
set -euo pipefail
echo "docker $*" >>"$FAKE_LOG"
file="$FAKE_STATE/docker.state"
lock="$file.lock"
tries=0
until mkdir "$lock" 2>/dev/null; do
    ((++tries <= 2000)) || { echo "fake docker: $lock held for 10 s" >&2; exit 1; }
    sleep 0.005
done
trap 'rmdir "$lock"' EXIT
US=$'\x1f' RS=$'\x1e'
# The state in memory: the ids of each kind in order; a container's status, networks and volumes (joined by RS); each
# object's labels (RAW[kind:id]: K=V joined by RS, as stored; LABEL[kind:id:K]: one label's value).
containers=() networks=() volumes=()
declare -A STATUS=() NETS=() VOLS=() RAW=() LABEL=()
add_labels() { # KIND ID RAWLABELS
    local rest=$3 pair
    RAW[$1:$2]=$3
    while [[ -n "$rest" ]]; do
        pair=${rest%%"$RS"*}
        [[ "$rest" == *"$RS"* ]] && rest=${rest#*"$RS"} || rest=
        [[ "$pair" == *=* ]] && LABEL[$1:$2:${pair%%=*}]=${pair#*=} || LABEL[$1:$2:$pair]=
    done
}
if [[ -f "$file" ]]; then
    while IFS="$US" read -r kind id status nets vols labels; do
        case "$kind" in
        containers) containers+=("$id") STATUS[$id]=$status NETS[$id]=$nets VOLS[$id]=$vols ;;
        networks) networks+=("$id") ;;
        volumes) volumes+=("$id") ;;
        esac
        add_labels "$kind" "$id" "$labels"
    done <"$file"
fi
save() {
    local kind id
    {
        for kind in containers networks volumes; do
            local -n ids=$kind
            for id in "${ids[@]}"; do
                if [[ $kind == containers ]]; then
                    printf '%s\n' "$kind$US$id$US${STATUS[$id]}$US${NETS[$id]}$US${VOLS[$id]}$US${RAW[$kind:$id]}"
                else
                    printf '%s\n' "$kind$US$id$US$US$US$US${RAW[$kind:$id]}"
                fi
            done
            unset -n ids
        done
    } >"$file.tmp"
    mv -f "$file.tmp" "$file"
}
code=0
fail() { echo "fake docker: $1" >&2; code=1; }
options() {
    O_FLAGS=" " O_FILTERS=() O_LABELS='' O_NETS='' O_VOLS='' O_POS=() O_FORMAT='' O_HASFORMAT='' O_NAME=''
    local a
    while (($# > 0)); do
        a=$1
        case "$a" in
        --filter) O_FILTERS+=("$2") && shift ;;
        --format) O_FORMAT=$2 O_HASFORMAT=1 && shift ;;
        --label) O_LABELS+="${O_LABELS:+$RS}$2" && shift ;;
        --network) O_NETS+="${O_NETS:+$RS}$2" && shift ;;
        --volume | -v) O_VOLS+="${O_VOLS:+$RS}${2%%:*}" && shift ;;
        --name) O_NAME=$2 && shift ;;
        -*) O_FLAGS+="$a " ;;
        *) O_POS+=("$a") ;;
        esac
        shift
    done
}
matches() { # KIND ID: whether the object passes every --filter
    local f rest k
    for f in ${O_FILTERS[@]+"${O_FILTERS[@]}"}; do
        rest=${f#*=}
        case "${f%%=*}" in
        label)
            k=${rest%%=*}
            if [[ "$rest" == *=* ]]; then
                [[ -v LABEL["$1:$2:$k"] && "${LABEL["$1:$2:$k"]}" == "${rest#*=}" ]] || return 1
            else
                [[ -v LABEL["$1:$2:$k"] ]] || return 1
            fi
            ;;
        status) [[ "${STATUS[$2]-}" == "$rest" ]] || return 1 ;;
        *) echo "fake docker: unknown filter $f" >&2 && exit 1 ;;
        esac
    done
}
list() { # KIND
    local -n ids=$1
    local id line m
    for id in ${ids[@]+"${ids[@]}"}; do
        matches "$1" "$id" || continue
        if [[ -z "$O_HASFORMAT" || "$O_FLAGS" == *" --quiet "* || "$O_FLAGS" == *" -q "* ]]; then
            line=$id
        else
            line=$O_FORMAT
            line=${line//'{{.ID}}'/"$id"}
            line=${line//'{{.Name}}'/"$id"}
            while [[ "$line" =~ \{\{\.Label\ \"([^\"]+)\"\}\} ]]; do
                m=${BASH_REMATCH[0]}
                line=${line/"$m"/"${LABEL["$1:$id:${BASH_REMATCH[1]}"]-}"}
            done
        fi
        printf '%s\n' "$line"
    done
}
in_use() { # KIND ID: whether a container uses the network or volume
    local c uses
    for c in ${containers[@]+"${containers[@]}"}; do
        [[ $1 == networks ]] && uses=${NETS[$c]} || uses=${VOLS[$c]}
        [[ "$RS$uses$RS" == *"$RS$2$RS"* ]] && return 0
    done
    return 1
}
remove() { # KIND FORCE ID...
    local kind=$1 force=$2 id x found kept
    local -n ids=$kind
    shift 2
    for id in "$@"; do
        found='' kept=()
        for x in ${ids[@]+"${ids[@]}"}; do [[ -z "$found" && "$x" == "$id" ]] && found=1 || kept+=("$x"); done
        if [[ -z "$found" ]]; then
            fail "No such object: $id"
        elif [[ $kind == containers && "${STATUS[$id]}" == running && -z "$force" ]]; then
            fail "container is running: $id"
        elif [[ $kind != containers ]] && in_use "$kind" "$id"; then
            fail "$kind $id is in use"
        else
            ids=(${kept[@]+"${kept[@]}"})
        fi
    done
}
cmd=${1-} sub=${2-}
case "$cmd" in
ps)
    options "${@:2}"
    list containers
    exit 0
    ;;
rm)
    options "${@:2}"
    force=
    [[ "$O_FLAGS" == *" --force "* || "$O_FLAGS" == *" -f "* ]] && force=1
    remove containers "$force" ${O_POS[@]+"${O_POS[@]}"}
    ;;
stop)
    for id in "${@:2}"; do [[ -v STATUS[$id] ]] && STATUS[$id]=exited; done
    ;;
run | create)
    options "${@:2}"
    id=$O_NAME
    [[ -n "$id" ]] || printf -v id 'c%04x%04x%04x' "$RANDOM" "$RANDOM" "$RANDOM"
    containers+=("$id")
    [[ $cmd == run ]] && STATUS[$id]=running || STATUS[$id]=created
    NETS[$id]=$O_NETS VOLS[$id]=$O_VOLS
    add_labels containers "$id" "$O_LABELS"
    printf '%s\n' "$id"
    ;;
image)
    [[ "$sub" == prune ]] || fail "unsupported: $*"
    ;;
network | volume)
    kind=${cmd}s
    options "${@:3}"
    case "$sub" in
    ls) list "$kind" && exit 0 ;;
    rm) remove "$kind" "" ${O_POS[@]+"${O_POS[@]}"} ;;
    create)
        declare -n objs=$kind
        objs+=("${O_POS[0]}")
        add_labels "$kind" "${O_POS[0]}" "$O_LABELS"
        ;;
    prune)
        declare -n pruned=$kind
        kept=()
        for x in ${pruned[@]+"${pruned[@]}"}; do in_use "$kind" "$x" && kept+=("$x"); done
        pruned=(${kept[@]+"${kept[@]}"})
        ;;
    *) fail "unsupported: $*" ;;
    esac
    ;;
*) fail "unsupported: $*" ;;
esac
save
exit "$code"
