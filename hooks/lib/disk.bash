#!/bin/bash
# Free space on the build volume.

# disk_usage PATH: prints "<available KiB> <used percent>" for the filesystem holding PATH.
# Returns 2 when df fails.
disk_usage() {
    local path="$1" out _header _fs _size _used avail pct _mount
    out="$(df -Pk -- "$path")" || return 2
    { read -r _header && read -r _fs _size _used avail pct _mount; } <<<"$out" || return 2
    pct="${pct%\%}"
    [[ "$avail" =~ ^[0-9]+$ && "$pct" =~ ^[0-9]+$ ]] || return 2
    echo "$avail $pct"
}
