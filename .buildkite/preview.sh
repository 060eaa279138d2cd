#!/bin/bash
# `pulumi preview --diff` of the prod stack with the policy pack, as a Buildkite annotation: what the block step
# after it would deploy. Runs on main builds only, on the deploy queue, with the read-only AWS role: pull requests
# (whose code must never run with credentials) are reviewed with the offline plan diff instead (plan-diff.sh).
set -euo pipefail

# shellcheck source=.buildkite/lib.bash
. "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
require_credentials CI_PLATFORM_AWS_READ_ROLE_ARN
assume_aws_role "$CI_PLATFORM_AWS_READ_ROLE_ARN"
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
