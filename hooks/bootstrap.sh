#!/bin/bash
# bootstrap.sh: installs the ci-platform agent hooks on an Elastic CI Stack instance.
#
# The stack downloads this script from BootstrapScriptUrl and pipes it to bash as root at
# boot, with no arguments. components/hooks/bundle.ts (renderBootstrapScript) fills in the
# fleet's settings below and inlines hooks/lib, so the object in S3 is self-contained.
#
# It downloads the hooks bundle CI_PLATFORM_BUNDLE_PREFIX (_ci-platform/hooks/<hash>, rendered from
# bundleKeyPrefix in bundle.ts, the function the uploader uses) from the region's secrets bucket, checks the
# manifest SHA256SUMS against <hash> and every file against the manifest, then switches
#   $CI_PLATFORM_INSTALL_ROOT/hooks -> releases/<id>      (default root /etc/ci-platform)
# in one rename, and adds that path to additional-hooks-paths in the agent config
# ($CI_PLATFORM_AGENT_CONFIG, default /etc/buildkite-agent/buildkite-agent.cfg), leaving the
# stack's own hooks-path alone. The agent looks for the pre-bootstrap hook in hooks-path only, not in
# additional-hooks-paths (see hooks/pre-bootstrap), so it also installs a small pre-bootstrap into
# hooks-path that runs ours; if hooks-path has a pre-bootstrap of its own, it fails instead of
# replacing it. It writes the agent's own coarse, per-owner allowed-repositories into the agent config
# (set_allowed_repositories). The per-pipeline list is not in this script: the pre-bootstrap hook reads the fleet's
# allow-list object (CI_PLATFORM_ALLOWLIST_KEY, a fixed key updated in place) at job time, so adding a pipeline changes
# neither this script nor the stack. A second run changes nothing. Any failure exits non-zero with
# one line saying what failed and where, before anything is switched: the stack then marks the
# instance unhealthy and no agent starts with half-installed hooks.

# >>> ci-platform:settings (rendered by renderBootstrapScript)
readonly CI_PLATFORM_BUCKET=""
readonly CI_PLATFORM_BUCKET_REGION=""
readonly CI_PLATFORM_BUNDLE_HASH=""
readonly CI_PLATFORM_BUNDLE_PREFIX=""
readonly CI_PLATFORM_FLEET=""
readonly CI_PLATFORM_REGION=""
readonly CI_PLATFORM_QUEUE=""
readonly CI_PLATFORM_ECR_REGISTRY=""
readonly CI_PLATFORM_AGENTS_PER_INSTANCE="1"
readonly CI_PLATFORM_MIN_FREE_DISK_GB="10"
readonly CI_PLATFORM_PRUNE_ABOVE_PERCENT="80"
readonly CI_PLATFORM_ALLOWED_REPOSITORIES=""
readonly CI_PLATFORM_ALLOWLIST_KEY=""
readonly CI_PLATFORM_STEPS_USE_INSTANCE_ROLE="false"
# <<< ci-platform:settings

# >>> ci-platform:libs (inlined by renderBootstrapScript)
# shellcheck source-path=SCRIPTDIR
_ci_lib="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib"
# shellcheck source=lib/log.bash
. "$_ci_lib/log.bash"
# shellcheck source=lib/s3.bash
. "$_ci_lib/s3.bash"
# shellcheck source=lib/checksum.bash
. "$_ci_lib/checksum.bash"
# <<< ci-platform:libs

die() {
    ci_fail "bootstrap failed: $*"
    exit 1
}

# The settings the hooks read, one NAME=value a line (see lib/envfile.bash).
fleet_settings() {
    printf 'CI_PLATFORM_FLEET=%s\n' "$CI_PLATFORM_FLEET"
    printf 'CI_PLATFORM_REGION=%s\n' "$CI_PLATFORM_REGION"
    printf 'CI_PLATFORM_QUEUE=%s\n' "$CI_PLATFORM_QUEUE"
    printf 'CI_PLATFORM_ECR_REGISTRY=%s\n' "$CI_PLATFORM_ECR_REGISTRY"
    printf 'CI_PLATFORM_BUNDLE_HASH=%s\n' "$CI_PLATFORM_BUNDLE_HASH"
    printf 'CI_PLATFORM_AGENTS_PER_INSTANCE=%s\n' "$CI_PLATFORM_AGENTS_PER_INSTANCE"
    printf 'CI_PLATFORM_MIN_FREE_DISK_GB=%s\n' "$CI_PLATFORM_MIN_FREE_DISK_GB"
    printf 'CI_PLATFORM_PRUNE_ABOVE_PERCENT=%s\n' "$CI_PLATFORM_PRUNE_ABOVE_PERCENT"
    # Where the pre-bootstrap hook reads the fleet's allow-list at job time (not secret: the bucket's name is in the
    # stack's own job environment too).
    printf 'CI_PLATFORM_BUCKET=%s\n' "$CI_PLATFORM_BUCKET"
    printf 'CI_PLATFORM_BUCKET_REGION=%s\n' "$CI_PLATFORM_BUCKET_REGION"
    printf 'CI_PLATFORM_ALLOWLIST_KEY=%s\n' "$CI_PLATFORM_ALLOWLIST_KEY"
}

# release_intact DIR SETTINGS: true when DIR holds this bundle, unmodified, with these settings.
release_intact() {
    local dir="$1" settings="$2" sum path
    [[ -f "$dir/SHA256SUMS" && -f "$dir/fleet.env" ]] || return 1
    [[ "$(sha256_of "$dir/SHA256SUMS")" == "$CI_PLATFORM_BUNDLE_HASH" ]] || return 1
    [[ "$(<"$dir/fleet.env")" == "$settings" ]] || return 1
    while read -r sum path; do
        manifest_path_ok "$path" && [[ -f "$dir/$path" ]] || return 1
        [[ "$(sha256_of "$dir/$path")" == "$sum" ]] || return 1
    done <"$dir/SHA256SUMS"
}

# download_bundle STAGE: fetches the whole prefix in one AWS CLI call (one process start: the
# slow part of booting), then verifies the manifest against the bundle hash and every file the
# manifest lists against the manifest. Anything else under the prefix is dropped.
download_bundle() {
    local stage="$1" sum path actual count=0 files
    local base="s3://$CI_PLATFORM_BUCKET/$CI_PLATFORM_BUNDLE_PREFIX"
    files="$stage/.files"
    mkdir -p "$files"
    if ! s3_get_prefix "$CI_PLATFORM_BUCKET" "$CI_PLATFORM_BUNDLE_PREFIX/" "$files" "$CI_PLATFORM_BUCKET_REGION"; then
        die "cannot read $base/: S3 in $CI_PLATFORM_BUCKET_REGION did not answer (see the aws error above)"
    fi
    [[ -f "$files/SHA256SUMS" ]] || die "object missing: $base/SHA256SUMS"
    mv -- "$files/SHA256SUMS" "$stage/SHA256SUMS"
    actual="$(sha256_of "$stage/SHA256SUMS")"
    if [[ "$actual" != "$CI_PLATFORM_BUNDLE_HASH" ]]; then
        die "checksum mismatch: $base/SHA256SUMS (expected sha256 $CI_PLATFORM_BUNDLE_HASH, got $actual)"
    fi
    while read -r sum path; do
        if [[ ! "$sum" =~ ^[0-9a-f]{64}$ ]] || ! manifest_path_ok "$path" || [[ "$path" == "fleet.env" || "$path" == "allowed-pipelines" ]]; then
            die "malformed line in $base/SHA256SUMS"
        fi
        [[ -f "$files/$path" ]] || die "object missing: $base/$path"
        actual="$(sha256_of "$files/$path")"
        if [[ "$actual" != "$sum" ]]; then
            die "checksum mismatch: $base/$path (expected sha256 $sum, got $actual)"
        fi
        mkdir -p "$(dirname "$stage/$path")"
        mv -- "$files/$path" "$stage/$path"
        chmod "$(manifest_mode "$path")" "$stage/$path"
        count=$((count + 1))
    done <"$stage/SHA256SUMS"
    rm -rf -- "$files"
    echo "Verified $count file(s) against $base/SHA256SUMS"
}

# add_hooks_path CFG DIR: adds DIR to additional-hooks-paths in CFG, once. The file holds
# the agent token: it is rewritten in place (same owner and mode) and never printed.
add_hooks_path() {
    local cfg="$1" dir="$2" line value entry found=0 tmp
    local -a entries
    local pattern='^[[:space:]]*additional-hooks-paths[[:space:]]*=(.*)$'
    [[ -f "$cfg" ]] || die "agent config not found: $cfg"
    while IFS= read -r line || [[ -n "$line" ]]; do
        if [[ "$line" =~ $pattern ]]; then
            found=1
            value="${BASH_REMATCH[1]}"
            value="${value//\"/}"
            IFS=',' read -r -a entries <<<"$value"
            for entry in "${entries[@]}"; do
                entry="${entry#"${entry%%[![:space:]]*}"}"
                [[ "${entry%"${entry##*[![:space:]]}"}" == "$dir" ]] && return 0
            done
        fi
    done <"$cfg"
    tmp="$(mktemp "$cfg.ci-platform.XXXXXX")"
    if ! chmod --reference="$cfg" -- "$tmp" || ! chown --reference="$cfg" -- "$tmp"; then
        rm -f -- "$tmp"
        die "cannot copy owner and mode of $cfg"
    fi
    if [[ $found -eq 1 ]]; then
        while IFS= read -r line || [[ -n "$line" ]]; do
            if [[ "$line" =~ $pattern ]]; then
                value="${BASH_REMATCH[1]}"
                value="${value//\"/}"
                value="${value#"${value%%[![:space:]]*}"}"
                line="additional-hooks-paths=\"${value:+$value,}$dir\""
            fi
            printf '%s\n' "$line"
        done <"$cfg" >"$tmp"
    else
        { cat -- "$cfg" && printf 'additional-hooks-paths="%s"\n' "$dir"; } >"$tmp"
    fi
    mv -f -- "$tmp" "$cfg" || die "cannot write agent config $cfg"
    echo "Added $dir to additional-hooks-paths in $cfg"
}

# set_allowed_repositories CFG VALUE: makes `allowed-repositories="VALUE"` the one allowed-repositories line of the
# agent config CFG (the agent's own repository allow-list: buildkite/agent v3.137.0 clicommand/agent_start.go, a
# comma-separated list of regular expressions the job's BUILDKITE_REPO must match, checked before any hook runs). The
# Elastic CI Stack writes CFG before it runs this script and starts the agent after it (v6.71.1
# packer/linux/stack/conf/bin/bk-install-elastic-stack.sh). Same owner and mode; the file holds the token, never printed.
set_allowed_repositories() {
    local cfg="$1" value="$2" line tmp
    local pattern='^[[:space:]]*allowed-repositories[[:space:]]*='
    [[ -n "$value" && "$value" != *[\"$'\n']* ]] || die "CI_PLATFORM_ALLOWED_REPOSITORIES is empty or has a quote or newline"
    [[ -f "$cfg" ]] || die "agent config not found: $cfg"
    tmp="$(mktemp "$cfg.ci-platform.XXXXXX")"
    if ! chmod --reference="$cfg" -- "$tmp" || ! chown --reference="$cfg" -- "$tmp"; then
        rm -f -- "$tmp"
        die "cannot copy owner and mode of $cfg"
    fi
    {
        while IFS= read -r line || [[ -n "$line" ]]; do
            [[ "$line" =~ $pattern ]] || printf '%s\n' "$line"
        done <"$cfg"
        printf 'allowed-repositories="%s"\n' "$value"
    } >"$tmp"
    if cmp -s -- "$tmp" "$cfg"; then
        rm -f -- "$tmp"
        return 0
    fi
    mv -f -- "$tmp" "$cfg" || die "cannot write agent config $cfg"
    echo "Set the agent's allowed-repositories in $cfg"
}

# The first line after the shebang of the pre-bootstrap that install_pre_bootstrap writes: how a
# later run knows the file is ours to replace.
readonly SHIM_MARKER="# ci-platform: pre-bootstrap shim, installed by bootstrap.sh"

# agent_hooks_path CFG: prints hooks-path from the agent config, or the agent's default.
agent_hooks_path() {
    local cfg="$1" line value="" pattern='^[[:space:]]*hooks-path[[:space:]]*=(.*)$'
    while IFS= read -r line || [[ -n "$line" ]]; do
        if [[ "$line" =~ $pattern ]]; then
            value="${BASH_REMATCH[1]}"
            value="${value//\"/}"
            value="${value#"${value%%[![:space:]]*}"}"
            value="${value%"${value##*[![:space:]]}"}"
        fi
    done <"$cfg"
    printf '%s\n' "${value:-/etc/buildkite-agent/hooks}"
}

# pre_bootstrap_free HOOKS_PATH TARGET: dies unless HOOKS_PATH has no pre-bootstrap hook but ours. The
# agent on Linux also runs pre-bootstrap.ps1 when there is no pre-bootstrap, so that one counts too.
pre_bootstrap_free() {
    local dir="$1" target="$2" name
    for name in pre-bootstrap pre-bootstrap.ps1; do
        [[ -e "$dir/$name" || -L "$dir/$name" ]] || continue
        if [[ "$name" == pre-bootstrap && -f "$dir/$name" && "$(sed -n 2p -- "$dir/$name")" == "$SHIM_MARKER" ]]; then
            continue
        fi
        die "$dir/$name exists and is not ours: the agent runs one pre-bootstrap hook, from hooks-path only," \
            "so ci-platform's repository check cannot be installed beside it; make that hook run" \
            "$target, or remove it, and boot again"
    done
}

# install_pre_bootstrap HOOKS_PATH TARGET: writes HOOKS_PATH/pre-bootstrap, which runs TARGET, unless it
# is there already. pre_bootstrap_free has checked that any file there is ours.
install_pre_bootstrap() {
    local dir="$1" target="$2" content tmp
    content="$(printf '#!/bin/bash\n%s\n# The agent runs pre-bootstrap from hooks-path only; this runs the ci-platform one.\nexec %q "$@"\n' \
        "$SHIM_MARKER" "$target")"
    if [[ -f "$dir/pre-bootstrap" && "$(<"$dir/pre-bootstrap")" == "$content" && -x "$dir/pre-bootstrap" ]]; then
        return 0
    fi
    mkdir -p -- "$dir" || die "cannot create the agent's hooks-path $dir"
    tmp="$(mktemp "$dir/.pre-bootstrap.XXXXXX")" || die "cannot write to the agent's hooks-path $dir"
    printf '%s\n' "$content" >"$tmp"
    chmod 0755 -- "$tmp"
    mv -f -- "$tmp" "$dir/pre-bootstrap" || die "cannot install $dir/pre-bootstrap"
    echo "Installed $dir/pre-bootstrap -> $target"
}

# Where an EC2 instance reaches its instance metadata service (IMDS), and through it its role's credentials.
readonly IMDS_ADDRESS="169.254.169.254/32"
# The oneshot unit that puts the block back at every boot, and the script it runs (under the install root).
readonly IMDS_UNIT="ci-platform-imds-block.service"
readonly IMDS_SCRIPT_NAME="block-container-imds"

# imds_block_apply: makes `-d $IMDS_ADDRESS -j REJECT` the first rule of iptables' DOCKER-USER chain, creating the
# chain when it is missing; changes nothing when the rule is there. Calls die on failure. The same function runs now,
# from bootstrap_main, and at every boot from $IMDS_UNIT (its script is this function, written out by install_imds_unit).
imds_block_apply() {
    local -a rule=(-d "$IMDS_ADDRESS" -j REJECT)
    if ! iptables -w -n -L DOCKER-USER >/dev/null 2>&1; then
        iptables -w -N DOCKER-USER || die "cannot create the iptables chain DOCKER-USER"
    fi
    if iptables -w -C DOCKER-USER "${rule[@]}" 2>/dev/null; then
        echo "Step containers already cannot reach IMDS ($IMDS_ADDRESS)"
        return 0
    fi
    iptables -w -I DOCKER-USER 1 "${rule[@]}" || die "cannot add the DOCKER-USER rule that keeps step containers from IMDS"
    echo "Step containers cannot reach IMDS ($IMDS_ADDRESS): rejected in DOCKER-USER"
}

# write_if_changed FILE MODE CONTENT: writes CONTENT (and a newline) to FILE with MODE in one rename, unless FILE holds
# it already. Returns 0 when it wrote, 1 when FILE was already so; dies when it cannot write.
write_if_changed() {
    local file="$1" mode="$2" content="$3" tmp
    if [[ -f "$file" && "$(<"$file")" == "$content" && "$(stat -c %a -- "$file")" == "${mode#0}" ]]; then
        return 1
    fi
    mkdir -p -- "$(dirname "$file")" || die "cannot create $(dirname "$file")"
    tmp="$(mktemp "$(dirname "$file")/.ci-platform.XXXXXX")" || die "cannot write to $(dirname "$file")"
    printf '%s\n' "$content" >"$tmp"
    chmod "$mode" -- "$tmp"
    mv -f -- "$tmp" "$file" || die "cannot write $file"
}

# install_imds_unit ROOT: installs, enables and starts $IMDS_UNIT, which applies the block again at every boot.
#
# Why: iptables rules live in the kernel only, so after a reboot DOCKER-USER is empty; user data (and so this script)
# runs at the first boot only, and the stack enables buildkite-agent.service and docker.service to start at every boot
# (v6.71.1 packer/linux/stack/conf/bin/bk-install-elastic-stack.sh `systemctl enable --now buildkite-agent`,
# bk-configure-docker.sh). The unit is ordered Before= both and RequiredBy= both: if it fails at boot, systemd starts
# neither (systemd.unit(5): a unit that Requires= and is ordered After= a failed unit is not started), so no job runs
# without the block (fail closed). The script calls iptables by name: systemd runs services with a PATH that has
# /usr/sbin and /usr/bin (systemd.exec(5), "Environment Variables in Spawned Processes"). RemainAfterExit=yes keeps it active, so a later `systemctl start` of it is a no-op
# and never restarts the agent. A second run of this script leaves an installed, enabled, active unit alone.
install_imds_unit() {
    local root="$1" dir="${CI_PLATFORM_SYSTEMD_DIR:-/etc/systemd/system}" script unit changed=0
    command -v systemctl >/dev/null ||
        die "systemctl not found: cannot keep step containers from the instance role after a reboot"
    script="$(
        printf '#!/bin/bash\n# ci-platform: written by bootstrap.sh, run by %s at boot: keeps Docker step containers from IMDS.\n' "$IMDS_UNIT"
        printf 'set -Eeuo pipefail\n'
        declare -p IMDS_ADDRESS
        printf 'die() {\n    echo "ci-platform: %s failed: $*" >&2\n    exit 1\n}\n' "$IMDS_SCRIPT_NAME"
        declare -f imds_block_apply
        printf 'imds_block_apply\n'
    )"
    unit="$(printf '%s\n' \
        "# ci-platform: written by bootstrap.sh" \
        "[Unit]" \
        "Description=ci-platform: keep Docker step containers from the instance metadata service" \
        "Before=docker.service buildkite-agent.service" \
        "" \
        "[Service]" \
        "Type=oneshot" \
        "RemainAfterExit=yes" \
        "ExecStart=$root/$IMDS_SCRIPT_NAME" \
        "" \
        "[Install]" \
        "WantedBy=multi-user.target" \
        "RequiredBy=docker.service buildkite-agent.service")"
    write_if_changed "$root/$IMDS_SCRIPT_NAME" 0755 "$script" && changed=1
    write_if_changed "$dir/$IMDS_UNIT" 0644 "$unit" && changed=1
    if [[ $changed -eq 1 ]]; then
        systemctl daemon-reload || die "systemctl daemon-reload failed after writing $dir/$IMDS_UNIT"
    fi
    if ! systemctl is-enabled --quiet "$IMDS_UNIT" 2>/dev/null || [[ $changed -eq 1 ]]; then
        systemctl enable "$IMDS_UNIT" || die "cannot enable $IMDS_UNIT"
    fi
    if ! systemctl is-active --quiet "$IMDS_UNIT" 2>/dev/null; then
        systemctl start "$IMDS_UNIT" || die "cannot start $IMDS_UNIT"
        echo "Installed $IMDS_UNIT: the IMDS block comes back at every boot, before docker and the agent"
    fi
}

# install_root: where the hooks, releases and the IMDS unit's script live (CI_PLATFORM_INSTALL_ROOT in tests).
install_root() {
    printf '%s\n' "${CI_PLATFORM_INSTALL_ROOT:-/etc/ci-platform}"
}

# block_container_imds: keeps Docker step containers from the instance role, now and after every reboot, unless
# the fleet's config says its steps need it (ci-platform:fleets[].stepsUseInstanceRole, rendered as
# CI_PLATFORM_STEPS_USE_INSTANCE_ROLE).
#
# Why: the stack's launch template sets HttpPutResponseHopLimit 2 (elastic-ci-stack-for-aws v6.71.1
# templates/aws-stack.yml, AgentLaunchTemplate MetadataOptions), so a container on a Docker bridge network, one
# routed hop from the host, gets IMDSv2 tokens and the role's credentials. Its packets to IMDS are routed by the host,
# so they pass the FORWARD chain, whose first jump is to DOCKER-USER: a REJECT there stops them, and leaves alone the
# host's own calls (the agent, the stack's secrets and ECR hooks), which never cross FORWARD.
# It holds: docker never deletes or changes rules already in DOCKER-USER, and creates the chain (and FORWARD's jump
# to it) only when missing (moby libnetwork firewall_linux.go, arrangeUserFilterRule), so a docker restart keeps
# the rule, and at boot the unit's chain, made before docker starts, is the one docker jumps to. Docker is normally up
# by now (bk-configure-docker.sh, an earlier user-data part, restarts it before bk-install-elastic-stack.sh runs this
# script, v6.71.1); if the chain is not there yet it is created here. The agent starts after this script
# (bk-install-elastic-stack.sh: `systemctl enable --now buildkite-agent` follows it), so no job runs before the rule.
# IPv6: the template does not set HttpProtocolIpv6, so IMDS's IPv6 endpoint is off.
# Defence in depth only: a step run on the host (no docker plugin) and a container on the host network
# (`--network host`) are the host as far as IMDS can tell; the instance role's scoping is the boundary.
block_container_imds() {
    local root
    root="$(install_root)"
    if [[ "$CI_PLATFORM_STEPS_USE_INSTANCE_ROLE" == "true" ]]; then
        echo "Step containers may use the instance role (stepsUseInstanceRole): IMDS stays open to them"
        return 0
    fi
    command -v iptables >/dev/null ||
        die "iptables not found: cannot keep step containers from the instance role (set stepsUseInstanceRole: true on the fleet to run without the block)"
    imds_block_apply
    mkdir -p "$root" || die "cannot create $root"
    chmod 0755 "$root"
    install_imds_unit "$root"
}

bootstrap_main() {
    set -Eeuo pipefail
    local root
    root="$(install_root)"
    local cfg="${CI_PLATFORM_AGENT_CONFIG:-/etc/buildkite-agent/buildkite-agent.cfg}"
    local name settings settings_sum id current stage old hooks_path
    for name in CI_PLATFORM_BUCKET CI_PLATFORM_BUCKET_REGION CI_PLATFORM_BUNDLE_HASH CI_PLATFORM_BUNDLE_PREFIX CI_PLATFORM_FLEET CI_PLATFORM_ALLOWLIST_KEY; do
        [[ -n "${!name}" ]] || die "$name is empty: run the copy rendered by renderBootstrapScript, not hooks/bootstrap.sh"
    done
    echo "--- :hook: ci-platform hooks $CI_PLATFORM_BUNDLE_HASH for fleet $CI_PLATFORM_FLEET"
    block_container_imds
    [[ -f "$cfg" ]] || die "agent config not found: $cfg"
    hooks_path="$(agent_hooks_path "$cfg")"
    pre_bootstrap_free "$hooks_path" "$root/hooks/pre-bootstrap"
    settings="$(fleet_settings)"
    settings_sum="$(printf '%s\n' "$settings" | sha256sum)"
    id="${CI_PLATFORM_BUNDLE_HASH:0:16}-${settings_sum:0:16}"
    mkdir -p "$root/releases" || die "cannot create $root/releases"
    chmod 0755 "$root" "$root/releases"

    current="$(readlink -- "$root/hooks" 2>/dev/null || true)"
    if [[ "$current" == "releases/$id" ]] && release_intact "$root/releases/$id" "$settings"; then
        echo "Hooks already installed at $root/hooks"
    else
        if ! release_intact "$root/releases/$id" "$settings"; then
            stage="$(mktemp -d "$root/releases/.staging.XXXXXX")"
            # shellcheck disable=SC2064 # expand $stage now: it is local to this function
            trap "rm -rf -- '$stage'" EXIT
            download_bundle "$stage"
            printf '%s\n' "$settings" >"$stage/fleet.env"
            chmod 0644 "$stage/fleet.env"
            chmod 0755 "$stage"
            rm -rf -- "${root:?}/releases/$id"
            mv -T -- "$stage" "$root/releases/$id" || die "cannot move the verified bundle into $root/releases/$id"
        fi
        if [[ -e "$root/hooks" && ! -L "$root/hooks" ]]; then
            die "$root/hooks exists and is not a symlink; move it away and run again"
        fi
        ln -sfn -- "releases/$id" "$root/.hooks.new"
        mv -fT -- "$root/.hooks.new" "$root/hooks" || die "cannot switch $root/hooks to releases/$id"
        echo "Installed hooks at $root/hooks -> releases/$id"
        for old in "$root/releases"/*; do
            [[ "$old" == "$root/releases/$id" ]] || rm -rf -- "$old"
        done
    fi
    install_pre_bootstrap "$hooks_path" "$root/hooks/pre-bootstrap"
    add_hooks_path "$cfg" "$root/hooks"
    set_allowed_repositories "$cfg" "$CI_PLATFORM_ALLOWED_REPOSITORIES"
}

# The stack pipes this script to bash: nothing may read the rest of it from stdin.
bootstrap_main </dev/null
