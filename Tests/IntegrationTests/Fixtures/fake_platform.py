#!/usr/bin/env python3
"""A stand-in for the redemption platform (兑换系统) in openidd's integration tests.

It answers `POST /v1/openapi/auth/alipay/url` the way the platform does and checks the daemon's
request against SPEC.md "The platform call" *independently* of our Swift code: header names are
compared case-sensitively as they arrived on the wire, the signature is verified with Python's
`cryptography` / `hashlib`, and the body is checked byte for byte for compact, ordered JSON.

Usage (prints exactly one line `PORT <n>` on stdout once listening):
  fake_platform.py --port 0 --business-id B --merchant-id M --sign-type SHA256-RSA|MD5
                   [--merchant-public-key PEM] [--md5-key-file F] [--user-id-field userId]
                   [--tls-cert C --tls-key K]
                   --mode ok|reject|error500|timeout|badurl|chunked|garbage --record FILE

Standard library + `cryptography` only (Python 3.11).
"""

import argparse
import base64
import binascii
import hashlib
import json
import os
import signal
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

AUTH_URL_PATH = "/v1/openapi/auth/alipay/url"
MODES = ("ok", "reject", "error500", "timeout", "badurl", "chunked", "garbage")
# The platform's auth headers that take part in the string to sign (`sign` itself never does).
SIGNED_HEADERS = ("businessId", "nonce", "signType", "timestamp")
REQUIRED_HEADERS = {
    "businessId": None,
    "nonce": None,
    "timestamp": None,
    "sign": None,
    "signType": None,
    "Content-Type": "application/json; charset=utf-8",
    "Accept": "application/json",
}
TIMESTAMP_SKEW_MS = 5 * 60 * 1000
TIMEOUT_MODE_DELAY_SECONDS = 30
MAX_BODY_BYTES = 1 << 20


def load_public_key(path):
    """Accepts a PEM public key, a PEM certificate, a PEM private key (its public half) or bare
    Base64 DER (SubjectPublicKeyInfo), so a test can hand over whatever it generated."""
    data = open(path, "rb").read()
    if b"-----BEGIN" not in data:
        return serialization.load_der_public_key(base64.b64decode(b"".join(data.split())))
    if b"CERTIFICATE-----" in data:
        return x509.load_pem_x509_certificate(data).public_key()
    if b"PRIVATE KEY-----" in data:
        return serialization.load_pem_private_key(data, password=None).public_key()
    return serialization.load_pem_public_key(data)


class Platform:
    """Configuration plus the state shared by all request threads (seen nonces, record file)."""

    def __init__(self, args):
        self.business_id = args.business_id
        self.merchant_id = args.merchant_id
        self.sign_type = args.sign_type
        self.user_id_field = args.user_id_field
        self.mode = args.mode
        self.public_key = None
        self.md5_key = None
        if args.sign_type == "SHA256-RSA":
            if not args.merchant_public_key:
                raise SystemExit("--sign-type SHA256-RSA needs --merchant-public-key")
            self.public_key = load_public_key(args.merchant_public_key)
        else:
            if not args.md5_key_file:
                raise SystemExit("--sign-type MD5 needs --md5-key-file")
            # A key file usually ends with a newline that is not part of the key.
            self.md5_key = open(args.md5_key_file, "rb").read().strip()
        self.record_path = args.record
        self.lock = threading.Lock()
        self.seen_nonces = set()
        self.stopping = threading.Event()

    def record(self, entry):
        """Appends one JSON line and makes it durable before the answer goes out, so a test may
        read the file as soon as the daemon has answered its own caller."""
        if not self.record_path:
            return
        line = json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self.lock:
            with open(self.record_path, "a", encoding="utf-8") as f:
                f.write(line)
                f.flush()
                os.fsync(f.fileno())

    def claim_nonce(self, nonce):
        """True when the nonce is new to this process; the platform rejects replays."""
        with self.lock:
            if nonce in self.seen_nonces:
                return False
            self.seen_nonces.add(nonce)
            return True

    # --- checks -------------------------------------------------------------------------------

    def check(self, raw_headers, body):
        """Returns (problems, string_to_sign_text, parsed_body_or_None)."""
        problems = []
        exact = {}
        for name, value in raw_headers:
            if name in exact:
                if name in REQUIRED_HEADERS:
                    problems.append(f"header {name} sent more than once")
                continue
            exact[name] = value

        for name, expected in REQUIRED_HEADERS.items():
            if name not in exact:
                others = [n for n, _ in raw_headers if n.lower() == name.lower()]
                if others:
                    problems.append(f"header {name} missing (received as {others[0]}; names are case-sensitive)")
                else:
                    problems.append(f"header {name} missing")
            elif expected is not None and exact[name] != expected:
                problems.append(f"header {name} is {exact[name]!r}, expected {expected!r}")

        business_id = exact.get("businessId")
        if business_id is not None and business_id != self.business_id:
            problems.append(f"header businessId is {business_id!r}, expected {self.business_id!r}")

        timestamp = exact.get("timestamp")
        if timestamp is not None:
            if not timestamp.isascii() or not timestamp.isdigit():
                problems.append(f"header timestamp {timestamp!r} is not Unix milliseconds")
            else:
                skew = int(timestamp) - int(time.time() * 1000)
                if abs(skew) > TIMESTAMP_SKEW_MS:
                    problems.append(f"header timestamp {timestamp} is {skew} ms off now (limit ±5 min)")

        nonce = exact.get("nonce")
        if nonce is not None:
            if nonce == "":
                problems.append("header nonce is empty")
            elif not self.claim_nonce(nonce):
                problems.append(f"header nonce {nonce!r} was already used (replay)")

        sign_type = exact.get("signType")
        if sign_type is not None and sign_type != self.sign_type:
            problems.append(f"header signType is {sign_type!r}, expected {self.sign_type!r}")

        parsed = self.check_body(body, problems)

        # Header part: the signed headers as received, non-empty ones only, sorted by name, `&`-joined;
        # then the body bytes exactly as received, with nothing in between.
        header_part = "&".join(f"{k}={exact[k]}" for k in sorted(SIGNED_HEADERS) if exact.get(k))
        to_sign = header_part.encode("utf-8") + body
        sign = exact.get("sign")
        if sign is not None:
            self.check_signature(sign, to_sign, problems)
        return problems, to_sign.decode("utf-8", errors="replace"), parsed

    def check_signature(self, sign, to_sign, problems):
        if sign == "":
            problems.append("header sign is empty")
        elif self.sign_type == "MD5":
            expected = hashlib.md5(to_sign + self.md5_key).hexdigest().upper()
            if sign != expected:
                problems.append("MD5 sign does not match md5(stringToSign + key) in uppercase hex")
        else:
            try:
                signature = base64.b64decode(sign, validate=True)
            except (binascii.Error, ValueError):
                problems.append("SHA256-RSA sign is not valid Base64")
                return
            try:
                self.public_key.verify(signature, to_sign, padding.PKCS1v15(), hashes.SHA256())
            except InvalidSignature:
                problems.append("SHA256-RSA sign does not verify with the merchant public key")

    def check_body(self, body, problems):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as e:
            problems.append(f"body is not UTF-8: {e}")
            return None
        if "\\/" in text:
            problems.append("body contains an escaped slash \\/")

        def no_duplicates(pairs):
            keys = [k for k, _ in pairs]
            if len(set(keys)) != len(keys):
                problems.append(f"body has duplicate keys: {keys}")
            return dict(pairs)

        try:
            obj = json.loads(text, object_pairs_hook=no_duplicates)
        except json.JSONDecodeError as e:
            problems.append(f"body is not JSON: {e}")
            return None
        if not isinstance(obj, dict):
            problems.append("body is not a JSON object")
            return None

        expected_keys = ["merchantId", "businessId", "serialNo", self.user_id_field, "callbackUrl"]
        if list(obj.keys()) != expected_keys:
            problems.append(f"body keys are {list(obj.keys())}, expected exactly {expected_keys}")
        if text != json.dumps(obj, separators=(",", ":"), ensure_ascii=False):
            problems.append("body is not compact JSON (whitespace or \\u escapes of non-ASCII)")

        def string_field(key):
            value = obj.get(key)
            if key in obj and not isinstance(value, str):
                problems.append(f"body {key} is not a string")
                return None
            return value

        merchant_id = string_field("merchantId")
        if "merchantId" in obj and merchant_id is not None and merchant_id != self.merchant_id:
            problems.append(f"body merchantId is {merchant_id!r}, expected {self.merchant_id!r}")
        business_id = string_field("businessId")
        if "businessId" in obj and business_id is not None and business_id != self.business_id:
            problems.append(f"body businessId is {business_id!r}, expected {self.business_id!r}")
        if string_field("serialNo") == "":
            problems.append("body serialNo is empty")
        if string_field(self.user_id_field) == "":
            problems.append(f"body {self.user_id_field} is empty")
        callback_url = string_field("callbackUrl")
        if callback_url is not None and not callback_url.startswith(("http://", "https://")):
            problems.append(f"body callbackUrl {callback_url!r} is not an http(s) URL")
        return obj


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakePlatform/1"
    platform = None  # set in main()

    def log_message(self, fmt, *args):
        sys.stderr.write("fake_platform: " + (fmt % args) + "\n")

    # --- plumbing -----------------------------------------------------------------------------

    def read_body(self):
        """Reads a Content-Length or chunked request body; None when it is malformed."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size_line = self.rfile.readline(1024)
                try:
                    size = int(size_line.split(b";")[0].strip(), 16)
                except ValueError:
                    return None
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        try:
            n = int(length)
        except ValueError:
            return None
        if n < 0 or n > MAX_BODY_BYTES:
            return None
        return self.rfile.read(n)

    def send_bytes(self, status, content_type, body):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status, obj):
        body = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self.send_bytes(status, "application/json;charset=UTF-8", body)

    def send_chunked_json(self, obj):
        body = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        # Three pieces, each flushed separately, so the client sees several chunks (and segments).
        cuts = [0, len(body) // 3, 2 * len(body) // 3, len(body)]
        for start, end in zip(cuts, cuts[1:]):
            piece = body[start:end]
            self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
            self.wfile.flush()
            time.sleep(0.02)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def raw_headers(self):
        # email.message.Message keeps names exactly as they arrived on the wire.
        return list(self.headers._headers)

    def entry(self, body, problems, **extra):
        raw = self.raw_headers()
        headers = {}
        for name, value in raw:
            headers.setdefault(name, value)
        return {
            "method": self.command,
            "path": self.path,
            "headerNames": [name for name, _ in raw],
            "headers": headers,
            "body": body.decode("utf-8", errors="replace") if body is not None else None,
            "problems": problems,
            "mode": self.platform.mode,
            **extra,
        }

    # --- routes -------------------------------------------------------------------------------

    def not_found(self):
        body = self.read_body()
        if body is None:
            self.close_connection = True
        problem = f"no such endpoint: {self.command} {self.path}"
        self.platform.record(self.entry(body, [problem]))
        self.send_json(404, {"status": 404, "message": problem, "data": None})

    do_GET = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = not_found

    def do_POST(self):
        if self.path != AUTH_URL_PATH:
            return self.not_found()
        platform = self.platform
        body = self.read_body()
        if body is None:
            self.close_connection = True
            problems = ["request body framing is malformed (Content-Length or chunked)"]
            platform.record(self.entry(None, problems))
            return self.answer_problem(problems)

        problems, to_sign, parsed = platform.check(self.raw_headers(), body)
        platform.record(self.entry(body, problems, stringToSign=to_sign))
        if problems:
            return self.answer_problem(problems)

        mode = platform.mode
        serial_no = parsed["serialNo"]
        auth_url = "https://openauth.example/authorize?serialNo=" + serial_no
        if mode == "ok":
            self.send_json(200, success(auth_url))
        elif mode == "reject":
            self.send_json(200, {"status": 1001, "message": "商户不存在", "data": None})
        elif mode == "error500":
            html = b"<html><body><h1>500 Internal Server Error</h1></body></html>"
            self.send_bytes(500, "text/html; charset=utf-8", html)
        elif mode == "timeout":
            # Wakes early only when the process is told to stop.
            platform.stopping.wait(TIMEOUT_MODE_DELAY_SECONDS)
            self.send_json(200, success(auth_url))
        elif mode == "badurl":
            self.send_json(200, success("javascript:alert(1)"))
        elif mode == "chunked":
            self.send_chunked_json(success(auth_url))
        elif mode == "garbage":
            self.send_bytes(200, "application/json;charset=UTF-8", b"not json")

    def answer_problem(self, problems):
        # The real platform answers a bad signature or bad request with HTTP 200 and status 2.
        self.send_json(200, {"status": 2, "message": "验签失败: " + problems[0], "data": None})


def success(auth_url):
    return {"status": 420, "message": "success", "data": {"alipayAuthUrl": auth_url}}


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    tls_context = None

    def finish_request(self, request, client_address):
        # The TLS handshake runs here, in the request's own thread, so a client that never completes
        # it cannot stall the accept loop.
        if self.tls_context is not None:
            try:
                request.settimeout(10)
                request.do_handshake()
                request.settimeout(None)
            except (ssl.SSLError, OSError) as e:
                sys.stderr.write(f"fake_platform: TLS handshake with {client_address} failed: {e}\n")
                return
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        # A client that gave up (e.g. the daemon in timeout mode) is expected, not an error.
        exc = sys.exc_info()[1]
        if isinstance(exc, (BrokenPipeError, ConnectionResetError, ssl.SSLError, TimeoutError)):
            sys.stderr.write(f"fake_platform: connection from {client_address} ended: {exc!r}\n")
            return
        super().handle_error(request, client_address)


def parse_args(argv):
    p = argparse.ArgumentParser(description="Fake redemption platform for openidd integration tests")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--business-id", required=True)
    p.add_argument("--merchant-id", required=True)
    p.add_argument("--sign-type", required=True, choices=("SHA256-RSA", "MD5"))
    p.add_argument("--merchant-public-key")
    p.add_argument("--md5-key-file")
    p.add_argument("--user-id-field", default="userId")
    p.add_argument("--mode", required=True, choices=MODES)
    p.add_argument("--record", required=True)
    args = p.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        p.error("--tls-cert and --tls-key go together")
    return args


def main(argv):
    args = parse_args(argv)
    platform = Platform(args)
    Handler.platform = platform

    server = Server(("127.0.0.1", args.port), Handler)
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        server.tls_context = context
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    serving = threading.Thread(target=server.serve_forever, name="serve", daemon=True)
    serving.start()
    sys.stdout.write(f"PORT {server.server_address[1]}\n")
    sys.stdout.flush()

    while not stop.wait(0.5):
        pass
    platform.stopping.set()
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
