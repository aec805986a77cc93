#!/usr/bin/env python3
"""openidd IPC client: Python 3 standard library only (http.client over an AF_UNIX socket).

    python3 openidd_client.py auth-url USER_ID     # prints the JSON answer (alipayAuthUrl, serialNo, ...)
    python3 openidd_client.py get USER_ID          # the latest binding, or exit 3 when none
    python3 openidd_client.py wait SERIAL_NO       # long-polls until the request leaves "pending"

The socket is $OPENIDD_SOCKET or /run/openidd/openidd.sock; the user running this must be in the
socket's group (`openidd`).
"""
import http.client
import json
import os
import socket
import sys
import urllib.parse

SOCKET_PATH = os.environ.get("OPENIDD_SOCKET", "/run/openidd/openidd.sock")


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client speaking HTTP/1.1 to a Unix domain socket instead of TCP."""

    def __init__(self, path, timeout=90):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


class OpenIddError(Exception):
    def __init__(self, status, code, message):
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


def call(method, target, body=None, timeout=90):
    """Sends one request; returns the decoded JSON on 200, raises OpenIddError otherwise."""
    conn = UnixHTTPConnection(SOCKET_PATH, timeout=timeout)
    try:
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        conn.request(method, target, body=data, headers=headers)
        response = conn.getresponse()
        answer = json.loads(response.read() or b"{}")
    finally:
        conn.close()
    if response.status != 200:
        error = answer.get("error", {})
        raise OpenIddError(response.status, error.get("code", "unknown"), error.get("message", ""))
    return answer


def auth_url(user_id, serial_no=None):
    body = {"userId": user_id}
    if serial_no is not None:
        body["serialNo"] = serial_no
    # The daemon waits up to platform.timeoutSeconds for the platform; leave room for it.
    return call("POST", "/v1/auth-url", body, timeout=150)


def get_binding(user_id):
    """The latest binding for user_id, or None when there is none yet."""
    try:
        return call("GET", "/v1/bindings?userId=" + urllib.parse.quote(user_id, safe=""))
    except OpenIddError as error:
        if error.status == 404:
            return None
        raise


def wait_for(serial_no, seconds=60):
    """The request's status once it leaves "pending", or after `seconds` (at most 60) still pending."""
    return call("GET", f"/v1/requests/{urllib.parse.quote(serial_no, safe='')}?wait={seconds}", timeout=seconds + 30)


def main(argv):
    if len(argv) != 3 or argv[1] not in ("auth-url", "get", "wait"):
        print(__doc__, file=sys.stderr)
        return 2
    command, operand = argv[1], argv[2]
    try:
        if command == "auth-url":
            result = auth_url(operand)
        elif command == "get":
            result = get_binding(operand)
            if result is None:
                print(f"no binding for userId {operand} yet", file=sys.stderr)
                return 3
        else:
            result = wait_for(operand)
    except OpenIddError as error:
        print(error, file=sys.stderr)
        return 3 if error.status == 404 else 1
    except OSError as error:
        print(f"cannot reach openidd on {SOCKET_PATH}: {error}", file=sys.stderr)
        return 1
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
