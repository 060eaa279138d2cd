#!/bin/bash
# Daily drift detection on the prod stack, in two parts; the step fails (with an error annotation) if either finds
# drift:
# 1. `pulumi preview --refresh --expect-no-changes`: reads the real state of every resource and compares it with the
#    code;
# 2. `npm run verify` (scripts/verify.ts): what refresh cannot see (README.md, "Drift detection"): S3 objects
#    rewritten outside Pulumi (a provider's Read never compares an object's body), agent tokens revoked in Buildkite
#    (the token's Read keeps a token its cluster no longer lists), image tags gone from ECR (docker.Image has no Read).
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

# The verifier reads S3 and ECR through the AWS CLI v2 (Debian bookworm's awscli package, the one its tests run) with
# this job's read-only role: object ETags against the ones the state recorded (`--objects etag`: ListObjectsV2, no
# kms:Decrypt, no secret value needed), the tokens through BUILDKITE_API_TOKEN (read_clusters), the tags through
# ecr:ListImages. The state export keeps every secret encrypted; it is removed afterwards.
echo "--- :aws: Installing the AWS CLI"
apt-get update -qq && apt-get install -y -qq --no-install-recommends awscli >/dev/null
echo "+++ :mag: npm run verify (what refresh cannot see)"
state_dir="$(mktemp -d)"
trap 'rm -rf "$state_dir"' EXIT
pulumi stack export --stack prod --file "$state_dir/state.json"
set +e
npm run verify -- --stack prod --state "$state_dir/state.json" --objects etag 2>&1 | tee verify.txt
verify_status=${PIPESTATUS[0]}
set -e
if [[ $verify_status -ne 0 ]]; then
  {
    echo "### :rotating_light: Drift that refresh cannot see on the prod stack"
    echo
    echo "\`npm run verify\` (exit $verify_status: 1 drift, 4 some checks could not run) found objects, tokens or image tags that differ from what the stack wrote. The state still matches the code, so a plain \`pulumi up\` changes nothing: each finding names the \`pulumi up --replace\` that writes it again (a revoked token gets a new one)."
    echo
    echo '```term'
    tail -c 400000 verify.txt
    echo '```'
  } | buildkite-agent annotate --style error --context drift-verify
fi

if [[ $status -ne 0 || $verify_status -ne 0 ]]; then
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
  echo "Drift detected on the prod stack (preview exit $status, verify exit $verify_status)" >&2
  exit 1
fi
buildkite-agent annotate --style success --context drift "No drift on the prod stack."
