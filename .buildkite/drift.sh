#!/bin/bash
# Daily drift detection: `pulumi preview --refresh --expect-no-changes` on the prod stack. Reads the real state of
# every resource, compares it with the code, and fails (with an error annotation listing the diff) on any drift.
set -euo pipefail

# Runs on the deploy queue with the same credentials as the preview: the read-only AWS role is enough to refresh.
# It never deploys: restoring the code's state is a reviewed change and a `pulumi up` behind the block step.

# shellcheck source=.buildkite/lib.bash
. "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
require_credentials CI_PLATFORM_AWS_READ_ROLE_ARN
assume_aws_role "$CI_PLATFORM_AWS_READ_ROLE_ARN"
install_pulumi

echo "+++ :mag: pulumi preview --refresh --expect-no-changes"
set +e
pulumi preview --refresh --expect-no-changes --diff --stack prod --non-interactive 2>&1 | tee drift.txt
status=${PIPESTATUS[0]}
set -e

if [[ $status -ne 0 ]]; then
  {
    echo "### :rotating_light: Drift on the prod stack"
    echo
    echo "The cloud no longer matches this repository. Either \`pulumi up\` to restore the code's state, or change the code to match and review it."
    echo
    echo '```term'
    tail -c 900000 drift.txt
    echo '```'
  } | buildkite-agent annotate --style error --context drift
  echo "^^^ +++"
  echo "Drift detected on the prod stack (exit $status)" >&2
  exit 1
fi
buildkite-agent annotate --style success --context drift "No drift on the prod stack."
