#!/bin/bash
# Reads the bundle's KEY=VALUE files (fleet.env, image-versions.env) without eval:
# one assignment per line, the value taken verbatim up to the end of the line.

# ci_env_file_load FILE PREFIX [export]
# Assigns every `NAME=value` line whose NAME starts with PREFIX (then [A-Z0-9_]); exports
# them when the third argument is `export`. Skips blank and `#` lines, warns on others.
# Returns 1 when FILE cannot be read.
ci_env_file_load() {
    local file="$1" prefix="$2" mode="${3:-}" line name value
    [[ -r "$file" ]] || return 1
    while IFS= read -r line || [[ -n "$line" ]]; do
        [[ -z "$line" || "$line" == \#* ]] && continue
        name="${line%%=*}"
        value="${line#*=}"
        if [[ "$line" != *=* || "$name" != "$prefix"* || ! "$name" =~ ^[A-Z_][A-Z0-9_]*$ ]]; then
            ci_warn "ignoring a malformed line in $file"
            continue
        fi
        if [[ "$mode" == "export" ]]; then
            export "$name=$value"
        else
            printf -v "$name" '%s' "$value"
        fi
    done <"$file"
}
