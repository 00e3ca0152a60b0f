"""`modelgate login --browser`: the authorization-code flow with PKCE and a loopback redirect
(RFC 8252 §7.3), for a person at the machine that runs the CLI. A one-shot HTTP server on
127.0.0.1 and a port the kernel picks receives the provider's redirect; the code is exchanged
with the verifier only this process holds, so a code seen by another local program is useless.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from modelgate.oidc import Provider, SignInError, Tokens, exchange_code, pkce

CALLBACK = "/callback"


class _Redirect(HTTPServer):
    answer: dict[str, str] | None = None


class _Catch(BaseHTTPRequestHandler):
    server: _Redirect

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path != CALLBACK:
            self.send_error(404)
            return
        self.server.answer = {k: v[0] for k, v in parse_qs(parts.query).items()}
        body = b"Modelgate: signed in. You may close this tab and go back to the terminal.\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the query holds the code."""


def browser_sign_in(
    http: httpx.Client,
    provider: Provider,
    scope: str,
    *,
    show: Callable[[str], None],
    timeout_s: float = 300.0,
) -> Tokens:
    """Show (and open) the provider's authorization URL; wait for its redirect; exchange."""
    verifier, challenge = pkce()
    state = secrets.token_urlsafe(24)
    with _Redirect(("127.0.0.1", 0), _Catch) as server:
        server.timeout = 1.0
        redirect_uri = f"http://127.0.0.1:{server.server_address[1]}{CALLBACK}"
        query = {
            "response_type": "code",
            "client_id": provider.client_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        show(f"{provider.endpoint('authorization_endpoint')}?{urlencode(query)}")
        deadline = time.monotonic() + timeout_s
        while server.answer is None and time.monotonic() < deadline:
            server.handle_request()
        answer = server.answer
    if answer is None:
        raise SignInError(f"no sign-in came back within {timeout_s:.0f} s; run the login again")
    if answer.get("state") != state:
        raise SignInError("the provider's answer does not match this sign-in (state)")
    if "iss" in answer and answer["iss"].rstrip("/") != provider.issuer.rstrip("/"):
        raise SignInError(f"the answer came from another provider ({answer['iss']})")
    if "error" in answer:
        reason = answer.get("error_description") or answer["error"]
        raise SignInError(f"the identity provider refused the sign-in: {reason}")
    if "code" not in answer:
        raise SignInError("the provider's answer holds no code")
    return exchange_code(http, provider, answer["code"], redirect_uri, verifier)
