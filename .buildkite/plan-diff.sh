#!/bin/bash
# The offline plan of this pull request, diffed against its base branch, as a Buildkite annotation.
# Needs no credentials: it runs `npm run plan` on both commits under the Pulumi SDK's mocks.
# It annotates the Buildkite build and never comments on the pull request: the one plan comment of a pull request is
# GitHub's (.github/workflows/plan-comment.yml). plan.md already fits 60,000 characters, verdict first
# (scripts/plan/render.ts COMMENT_BUDGET), well under an annotation's 1 MiB (buildkite/agent v3.137.0
# clicommand/annotate.go: the maximum size of each annotation body).
set -euo pipefail

work=".plan"
rm -rf "$work/base"
mkdir -p "$work/base"

# The base branch's files come from step plan-base, which fetched them on the host: this container has no git
# credentials (.buildkite/plan-base.sh).
echo "--- :git: The base branch, from step plan-base"
buildkite-agent artifact download .plan-base.tar.gz . --step plan-base
tar -xzf .plan-base.tar.gz -C "$work/base"

echo "--- :package: Planning the base branch"
# A base branch that cannot plan (older than the offline plan, or broken) is diffed as an empty stack, and the base
# file says so (`baseFailed`, scripts/plan.ts FailedBase): the comment then opens with "Not a diff", never green.
base_failed=""
if ! (cd "$work/base" && npm ci && npm run plan -- --json "$PWD/../base.json"); then
  base_failed="the offline plan of the base branch failed; see the job log"
  echo "The base branch has no working offline plan; the diff says so and compares with an empty stack." >&2
  printf '{"project":"ci-platform","stack":"prod","resources":[],"baseFailed":"%s"}\n' "$base_failed" > "$work/base.json"
fi
rm -rf "$work/base"

echo "--- :clipboard: Planning this pull request"
npm ci
set +e
npm run plan -- --diff "$work/base.json" --markdown "$work/plan.md"
status=$?
set -e

if [[ -s "$work/plan.md" ]]; then
  style="info"
  if [[ $status -ne 0 ]]; then
    style="error"
  elif [[ -n $base_failed ]]; then
    style="warning"
  fi
  buildkite-agent annotate --style "$style" --context plan < "$work/plan.md"
else
  printf 'The offline plan failed (exit code %s); see the job log.\n' "$status" \
    | buildkite-agent annotate --style error --context plan
fi
exit "$status"
