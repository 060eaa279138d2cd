#!/bin/bash
# Logging for ci-platform hooks and bootstrap.sh.
# Groups follow Buildkite's log syntax: `~~~` collapsed, `---` normal, `+++` expanded.
# Warnings and failures go to stderr. Never pass a secret's value to these functions:
# log its size (${#value}) at most.

ci_group_quiet() { echo "~~~ $*"; }
ci_group() { echo "--- $*"; }
ci_group_open() { echo "+++ $*"; }

ci_warn() {
    echo "ci-platform: warning: $*" >&2
}

# Re-opens the last group so the failure is visible, then prints one line to stderr.
ci_error() {
    echo "^^^ +++"
    echo "ci-platform: $*" >&2
}

# One line to stderr, without re-opening a group: for bootstrap.sh, whose output goes to the
# instance's log rather than a job log.
ci_fail() {
    echo "ci-platform: $*" >&2
}
