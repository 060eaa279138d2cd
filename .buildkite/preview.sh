#!/bin/bash
# `pulumi preview --diff` of the prod stack with the policy pack, as a Buildkite annotation.
# Runs only where credentials exist; forks and clones without them get the offline plan diff instead.
set -euo pipefail

if [[ -z "${PULUMI_ACCESS_TOKEN:-}" ]]; then
  echo "No PULUMI_ACCESS_TOKEN: skipping pulumi preview (the offline plan diff is the review)."
  exit 0
fi

# shellcheck source=.buildkite/lib.bash
. "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
install_pulumi

echo "+++ :pulumi: pulumi preview --diff --policy-pack policy"
set +e
pulumi preview --diff --stack prod --policy-pack policy --non-interactive 2>&1 | tee preview.txt
status=${PIPESTATUS[0]}
set -e

style="info"
if [[ $status -ne 0 ]]; then style="error"; fi
{
  echo "### pulumi preview (prod)"
  echo
  echo '```term'
  # Keep the annotation under Buildkite's 1 MiB limit.
  tail -c 900000 preview.txt
  echo '```'
} | buildkite-agent annotate --style "$style" --context preview
exit "$status"
