#!/bin/bash
# isolation.bash: which jobs run apart from the repository's code and from what earlier jobs left on the instance
# (hooks/environment says how; pre-exit removes their working directory).

# The stored upload step's one command (STORED_UPLOAD_COMMAND in components/steps/stored-upload.ts).
readonly ISOLATION_UPLOAD_COMMAND="printenv CI_PLATFORM_PIPELINE | base64 --decode | buildkite-agent pipeline upload"

# isolated_step: prints "release" for a release step (RELEASE_STEP_KEYS in components/steps/pipeline-steps.ts),
# "upload" for a signing cluster's stored step, known by its key (STORED_UPLOAD_KEY) or by its command, which its
# signature covers where the key is not a signed field (go-pipeline signature/pipeline_invariants.go); nothing else.
isolated_step() {
    case "${BUILDKITE_STEP_KEY:-}" in
    release-check | release-upload | release-artifacts | release-publish)
        echo release
        return
        ;;
    ci-platform-pipeline)
        echo upload
        return
        ;;
    esac
    if [[ "${BUILDKITE_COMMAND:-}" == "$ISOLATION_UPLOAD_COMMAND" ]]; then echo upload; fi
}
