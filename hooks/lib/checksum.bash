#!/bin/bash
# SHA-256 helpers for the hooks bundle's manifest, SHA256SUMS.
# Manifest format (the one that components/hooks/bundle.ts writes): one line per file,
# `<64 lowercase hex>  <relative path>`, sorted by path, LF line endings. The bundle's hash
# is the SHA-256 of the manifest itself.

# sha256_of FILE: prints the file's lowercase hex SHA-256.
sha256_of() {
    local file="$1" sum
    sum="$(sha256sum -- "$file")" || return 2
    echo "${sum%% *}"
}

# manifest_path_ok PATH: true when PATH is a safe relative path inside the bundle
# (no leading slash, no `.` or `..` segment, only [A-Za-z0-9._/-]).
manifest_path_ok() {
    local path="$1"
    [[ "$path" =~ ^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$ ]] || return 1
    [[ "/$path/" != */./* && "/$path/" != */../* ]]
}

# manifest_mode PATH: the file mode a bundle file is installed with. Top-level files
# without a dot are hooks (0755); everything else is data or library (0644).
manifest_mode() {
    local path="$1"
    if [[ "$path" != */* && "$path" != *.* ]]; then
        echo 0755
    else
        echo 0644
    fi
}
