"""Signing in with the organisation's OpenID Connect provider: the device-authorization flow
(RFC 8628) for `modelgate login` (the loopback redirect of `--browser` is in `loopback.py`),
and the refresh-token grant that keeps an access token fresh.

The CLI is a public client (no secret: anyone can read a program's secret). It learns the
provider from the registry (`/web-config.json`: issuer and client id, the same the web catalog
signs in with) unless told otherwise. What it keeps is the refresh token, in the profile file
(mode 0600, like ssh keys); access tokens live in memory, a new one fetched when the current one
is within a minute of expiry, so a long `submit --wait` outlives a five-minute token.
No JWT is decoded here: the services verify tokens, the client only carries them.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from modelgate.errors import ConfigError, ModelgateError
from modelgate.http import USER_AGENT, unreachable

SCOPE = "openid"
"""The refresh token then lives as long as the person's session at the provider (renewed by
use). `modelgate login --offline` adds `offline_access`: one that outlives it, where the
provider grants those to the user (Keycloak: the offline_access role)."""
EARLY_S = 60.0
"""An access token this close to its expiry is replaced before use."""


class SignInError(ModelgateError):
    """The provider refused a sign-in or a refresh (its `error` and description)."""


@dataclass(frozen=True, kw_only=True)
class Provider:
    issuer: str
    client_id: str
    endpoints: dict[str, Any] = field(repr=False)

    def endpoint(self, name: str) -> str:
        value = self.endpoints.get(name)
        if not isinstance(value, str):
            raise SignInError(f"the identity provider {self.issuer} offers no {name}")
        return value


@dataclass(frozen=True, kw_only=True)
class Tokens:
    access_token: str = field(repr=False)
    expires_at: float
    refresh_token: str | None = field(default=None, repr=False)
    id_token: str | None = field(default=None, repr=False)

    @classmethod
    def of(cls, body: dict[str, Any], *, previous: Tokens | None = None) -> Tokens:
        lifetime = float(body.get("expires_in") or 60)
        kept = previous or cls(access_token="", expires_at=0.0)
        return cls(
            access_token=_field(body, "access_token", "token answer"),
            expires_at=time.time() + lifetime,
            # A provider that does not rotate refresh tokens answers without one: keep ours.
            refresh_token=body.get("refresh_token") or kept.refresh_token,
            id_token=body.get("id_token") or kept.id_token,
        )


@dataclass(frozen=True, kw_only=True)
class DeviceCode:
    device_code: str = field(repr=False)
    verifier: str = field(repr=False)
    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    expires_at: float
    interval_s: float


def new_http(timeout_s: float = 30.0) -> httpx.Client:
    """An HTTP client for the provider, naming this client as the services' calls do."""
    return httpx.Client(timeout=timeout_s, headers={"User-Agent": USER_AGENT})


def _get(http: httpx.Client, url: str) -> tuple[int, dict[str, Any]]:
    try:
        return _read(http.get(url))
    except httpx.TransportError as exc:
        raise unreachable(exc) from exc


def _read(answer: httpx.Response) -> tuple[int, dict[str, Any]]:
    """The status and JSON object of an answer ({} when it holds none: an HTML error page)."""
    try:
        body = answer.json()
    except ValueError:
        body = {}
    return answer.status_code, body if isinstance(body, dict) else {}


def _field(body: dict[str, Any], name: str, what: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise SignInError(f"the identity provider's {what} holds no {name}")
    return value


def provider_of_registry(http: httpx.Client, registry_url: str) -> tuple[str, str]:
    """The issuer and client id the registry's web catalog signs in with."""
    status, config = _get(http, f"{registry_url.rstrip('/')}/web-config.json")
    if status != 200:
        config = {}
    issuer, client_id = config.get("oidc_issuer"), config.get("oidc_client_id")
    if not issuer or not client_id:
        raise ConfigError(
            f"the registry at {registry_url} names no identity provider: pass --issuer and "
            "--client-id, or sign in with an API key (--token-stdin)"
        )
    return str(issuer), str(client_id)


def discover(http: httpx.Client, issuer: str, client_id: str) -> Provider:
    issuer = issuer.rstrip("/")
    url = f"{issuer}/.well-known/openid-configuration"
    status, endpoints = _get(http, url)
    if status != 200:
        raise SignInError(f"{url} answered {status}: no OpenID provider there")
    # The document must name the issuer we asked (OIDC Discovery §4.3): no mix-up of providers.
    if str(endpoints.get("issuer", "")).rstrip("/") != issuer:
        raise SignInError(f"{url} names issuer {endpoints.get('issuer')!r}, not {issuer!r}")
    return Provider(issuer=str(endpoints["issuer"]), client_id=client_id, endpoints=endpoints)


def _post(http: httpx.Client, url: str, fields: dict[str, str]) -> tuple[int, dict[str, Any]]:
    try:
        return _read(http.post(url, data=fields, headers={"Accept": "application/json"}))
    except httpx.TransportError as exc:
        raise unreachable(exc) from exc


def _refusal(body: dict[str, Any], status: int) -> str:
    error = body.get("error") or f"HTTP {status}"
    description = body.get("error_description")
    return f"{error}: {description}" if description else str(error)


def pkce() -> tuple[str, str]:
    """A code verifier and its S256 challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def start_device_flow(http: httpx.Client, provider: Provider, scope: str = SCOPE) -> DeviceCode:
    url = provider.endpoint("device_authorization_endpoint")
    # PKCE on the device flow too: Keycloak demands it of a client that requires S256, and
    # others ignore it; it binds the polling to this process.
    verifier, challenge = pkce()
    fields = {
        "client_id": provider.client_id,
        "scope": scope,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    status, body = _post(http, url, fields)
    if status != 200:
        raise SignInError(f"the provider refused the device sign-in: {_refusal(body, status)}")
    return DeviceCode(
        device_code=_field(body, "device_code", "device answer"),
        verifier=verifier,
        user_code=_field(body, "user_code", "device answer"),
        verification_uri=str(body.get("verification_uri") or body.get("verification_url")),
        verification_uri_complete=body.get("verification_uri_complete"),
        expires_at=time.time() + float(body.get("expires_in") or 600),
        interval_s=float(body.get("interval") or 5),
    )


def wait_for_device(
    http: httpx.Client,
    provider: Provider,
    code: DeviceCode,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> Tokens:
    """Poll the token endpoint until the person approved (or denied, or the code expired)."""
    url = provider.endpoint("token_endpoint")
    interval = code.interval_s
    while time.time() < code.expires_at:
        sleep(interval)
        status, body = _post(
            http,
            url,
            {
                "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                "device_code": code.device_code,
                "client_id": provider.client_id,
                "code_verifier": code.verifier,
            },
        )
        if status == 200:
            return Tokens.of(body)
        error = body.get("error")
        if error == "authorization_pending":
            continue
        if error == "slow_down":  # RFC 8628 §3.5: five seconds more from now on
            interval += 5
            continue
        if error == "access_denied":
            raise SignInError("the sign-in was denied at the identity provider")
        if error == "expired_token":
            break
        raise SignInError(f"the provider refused the device sign-in: {_refusal(body, status)}")
    raise SignInError("the code expired before the sign-in was approved; run the login again")


def exchange_code(
    http: httpx.Client, provider: Provider, code: str, redirect_uri: str, verifier: str
) -> Tokens:
    """The authorization code (loopback sign-in) for tokens, with its PKCE verifier."""
    status, body = _post(
        http,
        provider.endpoint("token_endpoint"),
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": provider.client_id,
            "code_verifier": verifier,
        },
    )
    if status != 200:
        raise SignInError(f"the provider refused the sign-in: {_refusal(body, status)}")
    return Tokens.of(body)


def refresh(http: httpx.Client, provider: Provider, tokens: Tokens) -> Tokens:
    if not tokens.refresh_token:
        raise SignInError("no refresh token: sign in again (modelgate login)")
    status, body = _post(
        http,
        provider.endpoint("token_endpoint"),
        {
            "grant_type": "refresh_token",
            "refresh_token": tokens.refresh_token,
            "client_id": provider.client_id,
        },
    )
    if status != 200:
        raise SignInError(
            f"the identity provider refused to renew the sign-in ({_refusal(body, status)}); "
            "run modelgate login again"
        )
    return Tokens.of(body, previous=tokens)


def revoke(http: httpx.Client, provider: Provider, refresh_token: str) -> bool:
    """Revoke the refresh token at the provider (RFC 7009), which ends its session there.
    False when the provider offers no revocation endpoint."""
    url = provider.endpoints.get("revocation_endpoint")
    if not isinstance(url, str):
        return False
    status, body = _post(
        http,
        url,
        {
            "token": refresh_token,
            "token_type_hint": "refresh_token",
            "client_id": provider.client_id,
        },
    )
    if status != 200:
        raise SignInError(f"the provider refused to revoke the token: {_refusal(body, status)}")
    return True


class Session:
    """The bearer token of a profile signed in with the provider: a fresh access token on
    every `bearer()`, renewed with the refresh token when close to expiry; a rotated refresh
    token is handed to `saved` (which writes the profile). Thread-safe: the presigned upload
    sends parts from several threads."""

    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        refresh_token: str,
        saved: Callable[[str], None] | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self._tokens = Tokens(access_token="", expires_at=0.0, refresh_token=refresh_token)
        self._saved = saved
        self._timeout_s = timeout_s
        self._provider: Provider | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Session(issuer={self.issuer!r}, client_id={self.client_id!r})"

    def bearer(self) -> str:
        with self._lock:
            if self._tokens.expires_at - EARLY_S > time.time():
                return self._tokens.access_token
            with new_http(self._timeout_s) as http:
                if self._provider is None:
                    self._provider = discover(http, self.issuer, self.client_id)
                old = self._tokens.refresh_token
                self._tokens = refresh(http, self._provider, self._tokens)
            if self._saved and self._tokens.refresh_token and self._tokens.refresh_token != old:
                self._saved(self._tokens.refresh_token)
            return self._tokens.access_token
