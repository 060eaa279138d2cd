"""A stand-in S3 for test/hooks/sigv4.test.ts that verifies AWS Signature Version 4 with botocore as the oracle.

Usage: python3 sigv4-server.py CONFIG_JSON, where CONFIG_JSON holds accessKeyId, secretAccessKey, sessionToken (or
null), region, objects (request path, as sent, to body), and optionally tls (cert and key files: serve HTTPS) and
maxSeconds (default 120). Binds 127.0.0.1 on an ephemeral port and prints the port on one line; then one JSON line per
request: method, path, status, S3 error code (or null), the client's SignedHeaders, and the oracle's canonical
request. Exits when its stdin closes or after maxSeconds.

Each request is rebuilt from its method, path and query as sent and the headers the client listed in SignedHeaders,
signed by botocore's S3SigV4Auth with the configured credentials at the request's own X-Amz-Date, and the client's
Authorization must name the same credential scope, the same signed headers and the same signature. S3's checks
around the signature come first, each one S3 applies to a header-signed request (Amazon S3 API Reference,
"Authenticating Requests (AWS Signature Version 4)"; "Signature Calculations for the Authorization Header"):
x-amz-content-sha256 is required and must be the SHA-256 of the body; x-amz-date within 15 minutes of the server's
clock; host and every x-amz-* header present must be signed.
"""

import datetime
import hashlib
import http.server
import json
import re
import ssl
import sys
import threading
from unittest import mock

try:
    import botocore.auth
except ImportError:
    # Debian's awscli (AWS CLI v2) carries its own botocore, importable as `botocore` once `awscli` is imported
    # (awscli/__init__.py TopLevelImportAliasFinder); the package depends on no python3-botocore.
    import awscli  # noqa: F401
    import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

CONFIG = json.loads(sys.argv[1])
SERVICE = "s3"
MAX_SKEW = datetime.timedelta(minutes=15)
AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$"
)


class Refusal(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status = status
        self.code = code


def parse_authorization(value):
    match = AUTHORIZATION.match(value or "")
    if match is None:
        raise Refusal(400, "AuthorizationHeaderMalformed", "no AWS4-HMAC-SHA256 Authorization header")
    credential, signed, signature = match.groups()
    return {"credential": credential, "signedHeaders": signed, "signature": signature}


def oracle(method, target, headers, body, signed_names, amz_date):
    """botocore's Authorization parts and canonical request for this request, signed at amz_date."""
    scheme = "https" if CONFIG.get("tls") else "http"
    request = AWSRequest(method=method, url=f"{scheme}://{headers['host']}{target}", data=body)
    for name in signed_names:
        values = headers.get_all(name) or []
        request.headers[name] = ",".join(values)
    credentials = Credentials(
        CONFIG["accessKeyId"], CONFIG["secretAccessKey"], CONFIG.get("sessionToken") or None
    )
    signer = botocore.auth.S3SigV4Auth(credentials, SERVICE, CONFIG["region"])
    # botocore signs at its clock's time (datetime.datetime.utcnow() or .now(timezone.utc), by version); the request's
    # X-Amz-Date is the time to check it at. The server answers one request at a time, so the clock is stopped for
    # this call only.
    at = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ")

    class Stopped(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return at

        @classmethod
        def now(cls, tz=None):
            return at if tz is None else at.replace(tzinfo=datetime.timezone.utc).astimezone(tz)

    with mock.patch("datetime.datetime", Stopped):
        signer.add_auth(request)
    if request.headers["X-Amz-Date"] != amz_date:
        raise RuntimeError(f"botocore signed at {request.headers['X-Amz-Date']}, not at the request's {amz_date}")
    authorization = request.headers["Authorization"]
    del request.headers["Authorization"]
    return parse_authorization(authorization), signer.canonical_request(request)


def verify(method, target, headers, body):
    """Returns the oracle's canonical request, or raises Refusal."""
    client = parse_authorization(headers.get("authorization"))
    signed_names = client["signedHeaders"].split(";")
    amz_date = headers.get("x-amz-date")
    if amz_date is None or re.fullmatch(r"\d{8}T\d{6}Z", amz_date) is None:
        raise Refusal(403, "AccessDenied", "no valid x-amz-date")
    at = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    if abs(datetime.datetime.now(datetime.timezone.utc) - at) > MAX_SKEW:
        raise Refusal(403, "RequestTimeTooSkewed", f"x-amz-date {amz_date} is off by more than 15 minutes")
    content_sha256 = headers.get("x-amz-content-sha256")
    if content_sha256 is None:
        raise Refusal(400, "InvalidRequest", "missing x-amz-content-sha256")
    if content_sha256 != hashlib.sha256(body).hexdigest():
        raise Refusal(400, "XAmzContentSHA256Mismatch", "x-amz-content-sha256 is not the body's")
    present = {name.lower() for name in headers.keys()}
    must_sign = {n for n in present if n == "host" or n.startswith("x-amz-")}
    unsigned = sorted(must_sign - set(signed_names))
    if unsigned:
        raise Refusal(403, "AccessDenied", f"headers present but not signed: {unsigned}")
    if any(name not in present for name in signed_names):
        raise Refusal(403, "AccessDenied", "a signed header is missing from the request")
    expected, canonical = oracle(method, target, headers, body, signed_names, amz_date)
    if client != expected:
        raise Refusal(403, "SignatureDoesNotMatch", "the signature is not the one botocore computes")
    return canonical


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.handle_request()

    def do_HEAD(self):
        self.handle_request()

    def do_PUT(self):
        self.handle_request()

    def handle_request(self):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0]
        status, code, canonical, reply = 200, None, None, b""
        try:
            canonical = verify(self.command, self.path, self.headers, body)
            if self.command != "GET" or path not in CONFIG["objects"]:
                # A role without s3:ListBucket gets 403 for a missing object.
                raise Refusal(403, "AccessDenied", "no such object, or not a GET")
            reply = CONFIG["objects"][path].encode()
        except Refusal as refusal:
            status, code = refusal.status, refusal.code
            reply = f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{refusal}</Message></Error>".encode()
        signed = parse_authorization(self.headers.get("authorization"))["signedHeaders"] if AUTHORIZATION.match(
            self.headers.get("authorization") or ""
        ) else None
        print(
            json.dumps(
                {
                    "method": self.command,
                    "path": self.path,
                    "status": status,
                    "code": code,
                    "signedHeaders": signed,
                    "canonicalRequest": canonical,
                }
            ),
            flush=True,
        )
        self.send_response(status)
        self.send_header("Content-Type", "application/xml" if code else "application/octet-stream")
        self.send_header("Content-Length", str(len(reply)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply)

    def log_message(self, format, *args):
        pass


def main():
    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    if CONFIG.get("tls"):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(CONFIG["tls"]["cert"], CONFIG["tls"]["key"])
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print(server.server_address[1], flush=True)

    def stop_on_eof():
        sys.stdin.read()
        server.shutdown()

    threading.Thread(target=stop_on_eof, daemon=True).start()
    timer = threading.Timer(float(CONFIG.get("maxSeconds", 120)), server.shutdown)
    timer.daemon = True
    timer.start()
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    main()
