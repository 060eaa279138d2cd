#!/bin/bash
# S3 access through the AWS CLI, for bootstrap.sh (the pre-bootstrap hook reads with curl: lib/s3-read.bash).
# AWS CLI 2.9 ignores AWS_ENDPOINT_URL, so it is passed on explicitly when set (tests, VPC endpoints).

# s3_cp REGION WRITES -- CP_ARGS...
# Runs `aws s3 cp CP_ARGS...` in REGION. Returns 0 when the copy ran (and, when WRITES is a path, that file exists
# after it), 2 for any error, after printing the CLI's error to stderr.
s3_cp() {
    local region="$1" writes="$2"
    shift 3
    local aws_args=("--region" "$region" "--only-show-errors")
    local err rc=0
    if [[ -n "${AWS_ENDPOINT_URL:-}" ]]; then
        aws_args+=("--endpoint-url" "$AWS_ENDPOINT_URL")
    fi
    err="$(aws "${aws_args[@]}" s3 cp "$@" 2>&1 >/dev/null </dev/null)" || rc=$?
    if [[ $rc -eq 0 && ( -z "$writes" || -f "$writes" ) ]]; then
        return 0
    fi
    echo "aws: ${err//$'\n'/ }" >&2
    return 2
}

# s3_get_prefix BUCKET PREFIX DEST REGION
# Downloads every object under s3://BUCKET/PREFIX into DEST in one CLI call (one process start
# instead of one per file, which is what makes boot fast). Needs s3:ListBucket on the prefix and
# s3:GetObject under it (components/agents/iam-policy.ts grants exactly these). An empty or absent
# prefix copies nothing and succeeds: the caller finds its files missing.
# Returns 0 when the copy ran, 2 for any error, after printing the CLI's error to stderr.
s3_get_prefix() {
    s3_cp "$4" "" -- --recursive "s3://$1/$2" "$3"
}
