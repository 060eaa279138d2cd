#!/bin/bash
# The pull request's base branch, for the offline plan diff: fetched here, on the host, where the HTTPS git
# credentials are (the Elastic CI Stack's s3-secrets hook configures them as a host credential helper through
# GIT_CONFIG_PARAMETERS, which the plan step's container does not get), and handed to the plan step as an artifact.
set -euo pipefail

base_branch="${BUILDKITE_PULL_REQUEST_BASE_BRANCH:-main}"
archive=".plan-base.tar.gz"

echo "--- :git: Fetching the base branch ${base_branch}"
git fetch --depth=1 origin "refs/heads/${base_branch}"
echo "Base ${base_branch} is $(git rev-parse FETCH_HEAD)"
git archive --format=tar.gz --output="$archive" FETCH_HEAD
buildkite-agent artifact upload "$archive"
