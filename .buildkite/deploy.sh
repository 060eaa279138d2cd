#!/bin/bash
# `pulumi up` of the prod stack with the policy pack, after the block step. Runs on main builds only, on the deploy
# queue, with the deploy AWS role (whose trust policy admits only this pipeline's main branch and step key `deploy`).
# The docker provider builds and pushes the step images through the host's Docker daemon (the socket is mounted).
set -euo pipefail

# shellcheck source=.buildkite/lib.bash
. "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
require_credentials CI_PLATFORM_AWS_DEPLOY_ROLE_ARN
assume_aws_role "$CI_PLATFORM_AWS_DEPLOY_ROLE_ARN"
refuse_superseded
install_pulumi

echo "+++ :pulumi: pulumi up"
pulumi up --yes --stack prod --diff --policy-pack policy --non-interactive
