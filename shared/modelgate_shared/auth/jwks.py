"""The provider's signing keys: found through discovery, cached, fetched again when a token
names a key id the cache does not hold (the provider rotated its keys), at most every few
seconds."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import aiohttp
from jwt import PyJWK
from jwt.exceptions import PyJWKError

from modelgate_shared.auth.oidc_config import OidcConfig

log = logging.getLogger(__name__)


class ProviderUnavailable(Exception):
    """The provider's discovery document or key set could not be read."""


class JwksCache:
    def __init__(self, config: OidcConfig) -> None:
        self.config = config
        self._keys: dict[str, dict[str, Any]] = {}
        self._jwks_uri: str | None = None
        self._fetched_at = float("-inf")
        self._failure: str | None = None
        """Why the last fetch failed, while no fetch since succeeded."""
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> dict[str, Any] | None:
        """The key `kid` names, or None when the provider does not publish it (after one
        fresh look, unless the key set was fetched in the last `jwks_min_refresh_s`).
        ProviderUnavailable while no key set could ever be read."""
        if time.monotonic() - self._fetched_at > self.config.jwks_max_age_s:
            await self._refresh()
        found = self._keys.get(kid)
        if found is None:
            await self._refresh()
            found = self._keys.get(kid)
        return found

    async def _refresh(self) -> None:
        async with self._lock:
            if time.monotonic() - self._fetched_at < self.config.jwks_min_refresh_s:
                # Fetched, or tried, moments ago (perhaps while this request waited for the
                # lock): that answer stands, so a burst of requests asks the provider once.
                if self._failure is not None and not self._keys:
                    raise ProviderUnavailable(self._failure)
                return
            try:
                if self._jwks_uri is None:
                    self._jwks_uri = await self._discover()
                document = await self._get_json(self._jwks_uri)
                keys = _usable_keys(document, self.config.algorithms)
            except ProviderUnavailable as exc:
                # Keep what we had: a provider blip must not sign everybody out.
                self._fetched_at = time.monotonic()
                self._failure = str(exc)
                if not self._keys:
                    raise
                log.warning("OIDC key set not refreshed; keeping %d known keys", len(self._keys))
                return
            self._keys = keys
            self._failure = None
            self._fetched_at = time.monotonic()
            log.info("OIDC key set fetched: %s", ", ".join(sorted(keys)) or "no usable key")

    async def _discover(self) -> str:
        issuer = self.config.issuer.rstrip("/")
        url = self.config.discovery_url or f"{issuer}/.well-known/openid-configuration"
        document = await self._get_json(url)
        if document.get("issuer") != self.config.issuer:
            # OpenID Connect Discovery 1.0, section 4.3: the document must name this issuer.
            raise ProviderUnavailable(
                f"discovery at {issuer} names issuer {document.get('issuer')!r}, not "
                f"MODELGATE_OIDC_ISSUER {self.config.issuer!r}"
            )
        uri = document.get("jwks_uri")
        if not isinstance(uri, str) or not uri:
            raise ProviderUnavailable(f"discovery at {issuer} has no jwks_uri")
        return uri

    async def _get_json(self, url: str) -> dict[str, Any]:
        timeout = aiohttp.ClientTimeout(total=self.config.http_timeout_s)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.get(url) as response,
            ):
                if response.status != 200:
                    raise ProviderUnavailable(f"{url} answered {response.status}")
                document = json.loads(await response.read())
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise ProviderUnavailable(f"{url}: {exc or type(exc).__name__}") from exc
        if not isinstance(document, dict):
            raise ProviderUnavailable(f"{url} did not answer a JSON object")
        return document


def _usable_keys(
    document: dict[str, Any], algorithms: tuple[str, ...]
) -> dict[str, dict[str, Any]]:
    """Signing keys (JWKs) with a kid, whose stated algorithm, if any, is one we accept."""
    keys: dict[str, dict[str, Any]] = {}
    for entry in document.get("keys", []):
        if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
            continue
        if entry.get("use", "sig") != "sig":
            continue  # encryption keys share the set at some providers
        alg = entry.get("alg")
        if alg is not None and alg not in algorithms:
            continue
        try:
            PyJWK(entry, algorithm=alg or _default_alg(entry))
        except PyJWKError:
            continue  # a key type this build cannot use is not a reason to refuse the others
        keys[entry["kid"]] = entry
    return keys


def _default_alg(entry: dict[str, Any]) -> str | None:
    return {"RSA": "RS256", "OKP": "EdDSA"}.get(str(entry.get("kty")))
