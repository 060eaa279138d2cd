#!/bin/bash
# Shared by this repository's Buildkite scripts.

# install_pulumi: installs the Pulumi CLI at $PULUMI_VERSION (the SDK's version) and the project's packages.
install_pulumi() {
  echo "--- :pulumi: Installing the Pulumi CLI ${PULUMI_VERSION:?}"
  curl -fsSL https://get.pulumi.com | sh -s -- --version "$PULUMI_VERSION"
  export PATH="$HOME/.pulumi/bin:$PATH"
  npm ci
}

# require_credentials: fails, naming what is missing, unless the ci-platform-deploy pipeline's secrets reached this
# job. They come from `ci-platform:secrets.pipelines.ci-platform-deploy.env` (the ci-platform-deploy/env object of the
# deploy cluster's secrets bucket, exported by the Elastic CI Stack's s3-secrets environment hook) and are passed
# into the step's container by name only.
require_credentials() {
  local missing=()
  local name
  for name in PULUMI_ACCESS_TOKEN BUILDKITE_API_TOKEN GITHUB_TOKEN "$@"; do
    [[ -n "${!name:-}" ]] || missing+=("$name")
  done
  if ((${#missing[@]} > 0)); then
    echo "Missing ${missing[*]}: set them with pulumi config set --secret --path 'ci-platform:secrets.pipelines.ci-platform-deploy.env.NAME', pulumi up, and run this step in pipeline ci-platform-deploy (README, \"Running it for real\")." >&2
    exit 1
  fi
}

# assume_aws_role ROLE_ARN: AWS credentials for this job from Buildkite OIDC, for the AWS SDK's web-identity chain.
# - `buildkite-agent oidc request-token --audience sts.amazonaws.com` prints a token whose subject names the
#   organization, pipeline, branch ref, commit and step key (buildkite/agent v3.137.0
#   clicommand/oidc_request_token.go: --audience, --lifetime; subject format: buildkite/docs
#   pages/agent/cli/reference/oidc.md), and whose session tags name the pipeline's UUID and the build's source, so the
#   role's trust policy, not this repository, decides which builds may deploy: a branch build cannot claim ref
#   refs/heads/main, and a build created through the API or the UI cannot claim source webhook.
# - AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE are the AWS SDKs' standard web-identity settings (pulumi-aws and the AWS
#   CLI read them; they call sts:AssumeRoleWithWebIdentity themselves and again whenever the session expires).
# - The token file is refreshed in the background while the job runs, so a long `pulumi up` can renew its session.
assume_aws_role() {
  local role_arn="${1:?assume_aws_role needs a role ARN}"
  if ! command -v buildkite-agent >/dev/null; then
    echo "buildkite-agent is not in this container: the step needs the docker plugin's mount-buildkite-agent: true" >&2
    exit 1
  fi
  local token_file
  token_file="$(mktemp -d)/oidc-token"
  oidc_token_to "$token_file"
  export AWS_ROLE_ARN="$role_arn"
  export AWS_WEB_IDENTITY_TOKEN_FILE="$token_file"
  export AWS_ROLE_SESSION_NAME="buildkite-${BUILDKITE_JOB_ID:-job}"
  # The refresher's sleep must not outlive the job: a `sleep` left behind keeps the job's output open (and a caller
  # that reads it, such as the agent or a test, waiting) for up to four minutes. On TERM (the EXIT trap below) the
  # loop kills its sleep and stops.
  (
    sleeper=""
    trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
    while :; do
      sleep 240 &
      sleeper=$!
      wait "$sleeper"
      oidc_token_to "$token_file" || true
    done
  ) &
  OIDC_REFRESHER_PID=$!
  trap 'kill "$OIDC_REFRESHER_PID" 2>/dev/null || true' EXIT
  echo "AWS credentials: role ${role_arn##*/} through Buildkite OIDC"
}

# oidc_token_to FILE: writes a fresh OIDC token for AWS STS to FILE (atomically; the file is the job's only copy).
# The token carries the claims build_source and pipeline_id as AWS session tags (buildkite/agent v3.137.0
# clicommand/oidc_request_token.go --aws-session-tag; buildkite/docs pages/agent/cli/reference/oidc.md "AWS session
# tags"). Buildkite writes both, and the roles' trust policies require them: the trusted pipeline's UUID, and a build
# a push started (`webhook`; `schedule` too for the read role), never one created through the API or the UI
# (components/access/policy-documents.ts BUILD_SOURCES). Without the tags STS refuses the token.
oidc_token_to() {
  local file="$1"
  (umask 077 && buildkite-agent oidc request-token --audience sts.amazonaws.com --lifetime 900 \
    --aws-session-tag build_source,pipeline_id >"$file.tmp")
  mv "$file.tmp" "$file"
}

# refuse_superseded: fails (exit 1) when a newer build of this pipeline's branch exists, so that unblocking an old
# deploy build never rolls the stack back to an older commit. With cancel/skip intermediate builds off (a push must not
# cancel a running `pulumi up`), every push to main leaves a build waiting at the block step. Asks Buildkite's REST API
# for the branch's newest build (GET /v2/organizations/{org}/pipelines/{slug}/builds?branch=...&per_page=1, newest
# first; needs the read_builds scope of BUILDKITE_API_TOKEN) and compares its number with this build's.
refuse_superseded() {
    local url newest
    url="${BUILDKITE_API_URL:-https://api.buildkite.com}/v2/organizations/${BUILDKITE_ORGANIZATION_SLUG}/pipelines/${BUILDKITE_PIPELINE_SLUG}/builds?branch=${BUILDKITE_BRANCH}&per_page=1"
    if ! newest="$(curl --fail --silent --show-error -H "Authorization: Bearer ${BUILDKITE_API_TOKEN}" "$url" |
        node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>{const b=JSON.parse(s);process.stdout.write(String(b.length?b[0].number:""))})')"; then
        echo "Cannot ask Buildkite for the newest build of ${BUILDKITE_BRANCH}; not deploying a build that may be superseded." >&2
        return 1
    fi
    if [[ -n "$newest" && "$newest" -gt "${BUILDKITE_BUILD_NUMBER}" ]]; then
        echo "Build ${BUILDKITE_BUILD_NUMBER} is superseded by build ${newest} of ${BUILDKITE_BRANCH}: deploy that one instead (this would roll the stack back)." >&2
        return 1
    fi
}
