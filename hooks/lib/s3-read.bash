#!/bin/bash
# One small S3 object read with curl, for the pre-bootstrap hook: the per-job path, where the AWS CLI's start (a
# Python interpreter and botocore, ~2 s a call) was most of the hook's time. bootstrap.sh keeps the CLI (lib/s3.bash):
# it runs once per boot and downloads a whole prefix.
#
# curl signs the request itself: --aws-sigv4 "aws:amz:REGION:s3" (curl 7.75 and later). The Elastic CI Stack's AMIs
# take curl from their base images, AL2023 minimal and Ubuntu 24.04, whose distributions ship curl 8 (v6.71.1
# packer/linux/base/base.pkr.hcl; packer/linux/base/scripts/install-utils.sh uses that curl and installs none).
# S3 refuses a SigV4 request without x-amz-content-sha256; curl 7.88 does not add it, so it is sent (the SHA-256 of
# the empty body) and, being an x-amz-* header, signed. Credentials are the instance role's, from IMDSv2, unless
# the hook's environment has AWS_ACCESS_KEY_ID (the AWS CLI's own order, environment before IMDS, so nothing changes
# in what the hook may read). They reach curl on its stdin as a config file (`--config -`), never on its command line,
# which every process of the instance can read in /proc. The body is kept in a shell variable, never in a file: the
# hook runs as buildkite-agent, the user of every job on the instance (v6.71.1
# packer/linux/stack/conf/buildkite-agent/systemd/buildkite-agent.service User=buildkite-agent), so a file it wrote
# could be rewritten by a concurrent job before it is read. For the same reason every curl here starts with -q: it
# reads no ~/.curlrc, which a job could write to send the next job's read (or the IMDS calls) elsewhere (curl's
# manual, option -q/--disable: it must be the first argument to take effect).

# SHA-256 of the empty string: the x-amz-content-sha256 of a GET.
readonly S3_READ_EMPTY_SHA256="e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

# s3_read_credentials: sets S3_READ_KEY_ID, S3_READ_SECRET and S3_READ_TOKEN (possibly empty) from the environment, or
# else from IMDSv2 (a session token PUT, then the role's name, then its credentials: AWS EC2 User Guide, "Retrieve
# security credentials from instance metadata"). AWS_EC2_METADATA_SERVICE_ENDPOINT overrides the address (as it does
# for the AWS SDKs); AWS_EC2_METADATA_DISABLED=true turns IMDS off. Returns 2 after one line on stderr on failure.
s3_read_credentials() {
    local imds="${AWS_EC2_METADATA_SERVICE_ENDPOINT:-http://169.254.169.254}" token role json
    local -a get=(curl -q -sS --fail --connect-timeout 1 --max-time 3 --noproxy '*')
    S3_READ_KEY_ID="" S3_READ_SECRET="" S3_READ_TOKEN=""
    if [[ -n "${AWS_ACCESS_KEY_ID:-}" ]]; then
        S3_READ_KEY_ID="$AWS_ACCESS_KEY_ID" S3_READ_SECRET="${AWS_SECRET_ACCESS_KEY:-}" S3_READ_TOKEN="${AWS_SESSION_TOKEN:-}"
    elif [[ "${AWS_EC2_METADATA_DISABLED:-}" == "true" ]]; then
        echo "s3: no credentials: AWS_ACCESS_KEY_ID is unset and AWS_EC2_METADATA_DISABLED=true" >&2
        return 2
    else
        imds="${imds%/}"
        token="$("${get[@]}" -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 60" "$imds/latest/api/token" </dev/null)" || {
            echo "s3: no IMDSv2 session token from $imds" >&2
            return 2
        }
        role="$("${get[@]}" -H "X-aws-ec2-metadata-token: $token" "$imds/latest/meta-data/iam/security-credentials/" </dev/null)" || {
            echo "s3: the instance has no role at $imds" >&2
            return 2
        }
        role="${role%%$'\n'*}"
        [[ "$role" =~ ^[A-Za-z0-9+=,.@_-]+$ ]] || {
            echo "s3: IMDS gave an invalid role name" >&2
            return 2
        }
        json="$("${get[@]}" -H "X-aws-ec2-metadata-token: $token" "$imds/latest/meta-data/iam/security-credentials/$role" </dev/null)" || {
            echo "s3: no credentials for role $role from $imds" >&2
            return 2
        }
        # Read with bash, not jq (one process less a job): each wanted field is a JSON string of plain characters, and
        # the checks below refuse anything else.
        local field value
        for field in Code AccessKeyId SecretAccessKey Token; do
            value=""
            [[ "$json" =~ \"$field\"[[:space:]]*:[[:space:]]*\"([^\"\\]*)\" ]] && value="${BASH_REMATCH[1]}"
            case $field in
            Code) [[ "$value" == Success ]] || {
                echo "s3: IMDS has no usable credentials for role $role (Code ${value:-missing})" >&2
                return 2
            } ;;
            AccessKeyId) S3_READ_KEY_ID="$value" ;;
            SecretAccessKey) S3_READ_SECRET="$value" ;;
            Token) S3_READ_TOKEN="$value" ;;
            esac
        done
        [[ -n "$S3_READ_TOKEN" ]] || {
            echo "s3: IMDS gave role $role's credentials without a session token" >&2
            return 2
        }
    fi
    # Checked before they go into curl's config: one line each, no quote or backslash to escape.
    if [[ ! "$S3_READ_KEY_ID" =~ ^[A-Z0-9]+$ || ! "$S3_READ_SECRET" =~ ^[A-Za-z0-9+/=]+$ || ! "$S3_READ_TOKEN" =~ ^[A-Za-z0-9+/=]*$ ]]; then
        echo "s3: the credentials are missing or malformed" >&2
        return 2
    fi
}

# s3_read BUCKET KEY REGION: prints the object's body, byte for byte (the caller appends nothing: read it as
# `out="$(s3_read ...; printf x)"` to keep a trailing newline). Only status 200 is a body; anything else (403 for a
# missing object, as the role has no s3:ListBucket; 5xx after curl's retries; no connection) returns 2 after one line
# on stderr naming the HTTP status and S3's error code, never the credentials. AWS_ENDPOINT_URL, when set, is the
# endpoint, path-style (tests, VPC endpoints), as for the AWS CLI; otherwise the region's virtual-hosted endpoint.
s3_read() {
    local bucket="$1" key="$2" region="$3" url out status body code=""
    if [[ ! "$bucket" =~ ^[a-z0-9][a-z0-9.-]+$ || ! "$key" =~ ^[A-Za-z0-9_][A-Za-z0-9/._-]*$ || ! "$region" =~ ^[a-z0-9-]+$ ]]; then
        echo "s3: will not read s3://$bucket/$key in $region: unexpected characters" >&2
        return 2
    fi
    if [[ -n "${AWS_ENDPOINT_URL:-}" ]]; then
        url="${AWS_ENDPOINT_URL%/}/$bucket/$key"
    else
        url="https://$bucket.s3.$region.amazonaws.com/$key"
    fi
    s3_read_credentials || return 2
    # The body, then one line with the status: the body keeps its own last newline (or lack of one).
    out="$(
        {
            printf 'user = "%s:%s"\n' "$S3_READ_KEY_ID" "$S3_READ_SECRET"
            [[ -z "$S3_READ_TOKEN" ]] || printf 'header = "x-amz-security-token: %s"\n' "$S3_READ_TOKEN"
        } | curl -q -sS --config - --aws-sigv4 "aws:amz:$region:s3" -H "x-amz-content-sha256: $S3_READ_EMPTY_SHA256" \
            --connect-timeout 3 --max-time 10 --retry 2 --retry-max-time 10 -w '\n%{http_code}' -- "$url"
    )" || {
        echo "s3: GET $url failed (curl exit $?)" >&2
        return 2
    }
    status="${out##*$'\n'}"
    body="${out%$'\n'*}"
    if [[ "$status" != 200 ]]; then
        [[ "$body" =~ \<Code\>([A-Za-z]+)\</Code\> ]] && code=" ${BASH_REMATCH[1]}"
        echo "s3: GET $url: HTTP $status$code" >&2
        return 2
    fi
    printf '%s' "$body"
}
