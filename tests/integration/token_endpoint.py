#!/usr/bin/env python3
"""A small OAuth2 token endpoint for tests (python3 stdlib only), shaped like Microsoft's.

Usage: token_endpoint.py --client-id ID --client-secret SECRET --scope SCOPE
                         [--refresh-token RT] [--username USER] [--expires-in N]
                         [--tls-cert CRT --tls-key KEY]
Prints "PORT <n>" on stdout once it listens on 127.0.0.1 (a free port), then serves until killed.

Endpoints:
  POST /token       grant_type=client_credentials (client_id, client_secret, scope) or
                    grant_type=refresh_token (refresh_token, client_id, [client_secret], scope).
                    Wrong secret -> 401 invalid_client; unknown/old refresh token -> 400
                    invalid_grant; other scope -> 400 invalid_scope. A refresh rotates the refresh
                    token: the old one is dead from then on.
  POST /introspect  token=<access token> (Dovecot's oauth2 passdb, introspection_mode=post):
                    {"active": true, "username": USER} for a live token, else {"active": false}.
  GET  /stats       {"token_requests", "introspections", "grants", "refresh_token"}.
  POST /control     JSON: {"fail": "invalid_client" | "503" | "echo" | "" (off),
                           "fail_times": n (then off; default: until changed),
                           "expires_in": n, "expires_in_as_string": bool,
                           "revoke_access_tokens": true}.
"""
import argparse
import json
import secrets
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.client_id = args.client_id
        self.client_secret = args.client_secret
        self.scope = args.scope
        self.username = args.username
        self.refresh_token = args.refresh_token
        self.expires_in = args.expires_in
        self.expires_in_as_string = False
        self.fail = ""
        self.fail_times = None
        self.access_tokens = {}  # token -> expiry (time.time())
        self.token_requests = 0
        self.introspections = 0
        self.grants = []
        self.serial = 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None  # set in main

    def log_message(self, fmt, *args):  # quiet: tests read stdout
        pass

    def reply(self, status, obj):
        body = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type",
                         "text/html" if isinstance(obj, bytes) else "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def read_form(self):
        raw = self.read_body().decode("utf-8", "replace")
        form = urllib.parse.parse_qs(raw, keep_blank_values=True, strict_parsing=False)
        return {k: v[0] for k, v in form.items()}, raw

    def do_GET(self):
        s = self.state
        if self.path == "/stats":
            with s.lock:
                self.reply(200, {"token_requests": s.token_requests,
                                 "introspections": s.introspections,
                                 "grants": s.grants,
                                 "refresh_token": s.refresh_token})
            return
        self.reply(404, {"error": "not_found"})

    def do_POST(self):
        if self.path == "/token":
            self.token()
        elif self.path == "/introspect":
            self.introspect()
        elif self.path == "/control":
            self.control()
        else:
            self.read_body()
            self.reply(404, {"error": "not_found"})

    def control(self):
        s = self.state
        req = json.loads(self.read_body() or b"{}")
        with s.lock:
            if "fail" in req:
                s.fail = req["fail"] or ""
                s.fail_times = req.get("fail_times")
            if "expires_in" in req:
                s.expires_in = int(req["expires_in"])
            if "expires_in_as_string" in req:
                s.expires_in_as_string = bool(req["expires_in_as_string"])
            if req.get("revoke_access_tokens"):
                s.access_tokens.clear()
        self.reply(200, {"ok": True})

    def error(self, status, code, description):
        self.reply(status, {"error": code, "error_description": description,
                            "error_codes": [0], "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ"),
                            "trace_id": secrets.token_hex(8)})

    def token(self):
        s = self.state
        form, raw = self.read_form()
        with s.lock:
            s.token_requests += 1
            s.grants.append(form.get("grant_type", ""))
            fail = s.fail
            if fail and s.fail_times is not None:
                s.fail_times -= 1
                if s.fail_times <= 0:
                    s.fail, s.fail_times = "", None
        if self.headers.get("Content-Type", "").split(";")[0].strip() != \
                "application/x-www-form-urlencoded":
            return self.error(400, "invalid_request", "AADSTS900144: wrong content type")
        if fail == "503":
            return self.reply(503, b"<html><body>Service Unavailable</body></html>")
        if fail == "invalid_client":
            return self.error(401, "invalid_client",
                              "AADSTS7000215: Invalid client secret provided. Ensure the secret "
                              "being sent in the request is the client secret value.\r\n"
                              "Trace ID: 0000\r\nCorrelation ID: 1111")
        if fail == "echo":  # a careless endpoint that echoes the request body
            return self.error(400, "invalid_request", "Could not parse request: " + raw)
        with s.lock:
            if form.get("client_id") != s.client_id:
                return self.error(400, "unauthorized_client",
                                  "AADSTS700016: Application not found in the directory.")
            if form.get("scope") != s.scope:
                return self.error(400, "invalid_scope", "AADSTS70011: The provided scope is "
                                  "not valid.")
            grant = form.get("grant_type")
            issue_refresh = False
            if grant == "client_credentials":
                if form.get("client_secret") != s.client_secret:
                    return self.error(401, "invalid_client",
                                      "AADSTS7000215: Invalid client secret provided.")
            elif grant == "refresh_token":
                if "client_secret" in form and form["client_secret"] != s.client_secret:
                    return self.error(401, "invalid_client",
                                      "AADSTS7000215: Invalid client secret provided.")
                if not s.refresh_token or form.get("refresh_token") != s.refresh_token:
                    return self.error(400, "invalid_grant",
                                      "AADSTS70000: The provided value for the 'refresh_token' "
                                      "is not valid.")
                issue_refresh = True
            else:
                return self.error(400, "unsupported_grant_type",
                                  "AADSTS70003: The app requested an unsupported grant type.")
            s.serial += 1
            access = "at-%d-%s" % (s.serial, secrets.token_urlsafe(16))
            s.access_tokens[access] = time.time() + s.expires_in
            out = {"token_type": "Bearer", "scope": s.scope,
                   "expires_in": str(s.expires_in) if s.expires_in_as_string else s.expires_in,
                   "ext_expires_in": s.expires_in, "access_token": access}
            if issue_refresh:
                s.refresh_token = "rt-%d-%s" % (s.serial, secrets.token_urlsafe(16))
                out["refresh_token"] = s.refresh_token
        self.reply(200, out)

    def introspect(self):
        s = self.state
        form, _ = self.read_form()
        token = form.get("token", "")
        with s.lock:
            s.introspections += 1
            expiry = s.access_tokens.get(token)
            active = expiry is not None and expiry > time.time()
        if active:
            self.reply(200, {"active": True, "username": s.username, "scope": s.scope})
        else:
            self.reply(200, {"active": False})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--client-id", required=True)
    p.add_argument("--client-secret", required=True)
    p.add_argument("--scope", required=True)
    p.add_argument("--refresh-token", default="")
    p.add_argument("--username", default="post@asker.test")
    p.add_argument("--expires-in", type=int, default=3600)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    args = p.parse_args()
    Handler.state = State(args)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print("PORT %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
