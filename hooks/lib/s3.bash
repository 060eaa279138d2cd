#!/bin/bash
# S3 access through the AWS CLI, for bootstrap.sh.
# AWS CLI 2.9 ignores AWS_ENDPOINT_URL, so it is passed on explicitly when set (tests, VPC endpoints).

# s3_get BUCKET KEY DEST REGION
# Downloads s3://BUCKET/KEY to DEST. Returns 0 when found, 1 when the object is absent
# (or access is denied, which S3 reports for absent keys without s3:ListBucket), and
# 2 for any other error, after printing the CLI's error to stderr.
s3_get() {
    local bucket="$1" key="$2" dest="$3" region="$4"
    local aws_args=("--region" "$region" "--output" "json")
    local err rc=0
    if [[ -n "${AWS_ENDPOINT_URL:-}" ]]; then
        aws_args+=("--endpoint-url" "$AWS_ENDPOINT_URL")
    fi
    err="$(aws "${aws_args[@]}" s3api get-object --bucket "$bucket" --key "$key" "$dest" 2>&1 >/dev/null </dev/null)" || rc=$?
    if [[ $rc -eq 0 ]]; then
        return 0
    fi
    rm -f "$dest"
    if [[ "$err" =~ (NoSuchKey|Not\ Found|\(404\)|AccessDenied|\(403\)) ]]; then
        return 1
    fi
    echo "aws: ${err//$'\n'/ }" >&2
    return 2
}

# s3_get_prefix BUCKET PREFIX DEST REGION
# Downloads every object under s3://BUCKET/PREFIX into DEST in one CLI call (one process start
# instead of one per file, which is what makes boot fast). Needs s3:ListBucket on the prefix.
# Returns 0 when the copy ran, 2 for any error, after printing the CLI's error to stderr.
s3_get_prefix() {
    local bucket="$1" prefix="$2" dest="$3" region="$4"
    local aws_args=("--region" "$region" "--only-show-errors")
    local err rc=0
    if [[ -n "${AWS_ENDPOINT_URL:-}" ]]; then
        aws_args+=("--endpoint-url" "$AWS_ENDPOINT_URL")
    fi
    err="$(aws "${aws_args[@]}" s3 cp --recursive "s3://$bucket/$prefix" "$dest" 2>&1 >/dev/null </dev/null)" || rc=$?
    if [[ $rc -eq 0 ]]; then
        return 0
    fi
    echo "aws: ${err//$'\n'/ }" >&2
    return 2
}
