"""OpenID Connect access tokens (JWTs) as bearer tokens, verified with PyJWT.

The signature is checked with a key the issuer publishes (found by the token's `kid`), with an
algorithm from our own list (never the header's word alone); then `iss`, `aud`, `exp`, `nbf`
and `iat` with a small leeway. Who the caller is comes from a claim (`sub`, or the user name),
what they may do from their groups through the role map: a valid token whose groups map to no
role is refused with 403 and the reason, since signing in worked and only the grant is missing.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import jwt
from jwt import PyJWK
from jwt.exceptions import (
    DecodeError,
    ExpiredSignatureError,
    ImmatureSignatureError,
    InvalidAudienceError,
    InvalidIssuedAtError,
    InvalidIssuerError,
    InvalidKeyError,
    InvalidSignatureError,
    InvalidTokenError,
    MissingRequiredClaimError,
    PyJWKError,
)

from modelgate_shared.auth.jwks import JwksCache, ProviderUnavailable
from modelgate_shared.auth.oidc_config import OidcConfig
from modelgate_shared.auth.rejection import TokenRejected
from modelgate_shared.auth.roles import Principal

log = logging.getLogger(__name__)

_JWT_SHAPE = re.compile(r"^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$")
_SUBJECT = re.compile(r"^[A-Za-z0-9._@:+-]{1,128}$")
"""What may stand in audit entries and events as an actor; anything else is refused."""


def looks_like_jwt(token: str) -> bool:
    """Three base64url parts, the first a JSON object: what no API key or demo token is."""
    return bool(_JWT_SHAPE.match(token))


class JwtVerifier:
    def __init__(self, config: OidcConfig, keys: JwksCache | None = None) -> None:
        self.config = config
        self.keys = keys or JwksCache(config)

    async def verify(self, token: str) -> Principal | None:
        if not looks_like_jwt(token):
            return None
        claims = await self.claims(token)
        return self.principal(claims)

    async def claims(self, token: str) -> dict[str, Any]:
        """The token's claims once every check passed; TokenRejected saying which did not."""
        try:
            header = jwt.get_unverified_header(token)
        except DecodeError:
            raise TokenRejected("malformed JWT: its header is not readable") from None
        alg = header.get("alg")
        if alg not in self.config.algorithms:
            raise TokenRejected(
                f"JWT algorithm {str(alg)[:20]!r} not accepted "
                f"(MODELGATE_OIDC_ALGORITHMS: {', '.join(self.config.algorithms)})"
            )
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TokenRejected("JWT without a key id (kid): cannot tell which key signed it")
        try:
            entry = await self.keys.key(kid)
        except ProviderUnavailable as exc:
            log.error("OIDC provider unreachable: %s", exc)
            raise TokenRejected(
                "cannot verify the token now: the identity provider's keys are unavailable",
                status=503,
            ) from None
        if entry is None:
            raise TokenRejected(
                f"JWT signed by key {kid[:64]!r}, which {self.config.issuer} does not publish"
            )
        try:
            # A key that states its algorithm binds it (PyJWT refuses any other); one that
            # does not is used with the header's, already checked against our list.
            key = PyJWK(entry) if "alg" in entry else PyJWK(entry, algorithm=alg)
        except (PyJWKError, InvalidKeyError):
            # PyJWKError: no such algorithm; InvalidKeyError: a key of another type (an EC
            # key with no "alg", a header saying RS256).
            raise TokenRejected(f"JWT algorithm {alg} does not fit key {kid}") from None
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=[alg],
                audience=self.config.audience,
                issuer=self.config.issuer,
                leeway=self.config.leeway_s,
                options={"require": ["exp", "iat", "iss", "aud"], "verify_sub": False},
            )
        except InvalidTokenError as exc:
            raise TokenRejected(self._reason(exc)) from None
        _require_access_token(header, claims)
        return claims

    def _reason(self, exc: InvalidTokenError) -> str:
        """What a refused token's caller reads (never the token itself)."""
        if isinstance(exc, ExpiredSignatureError):
            return "token expired: sign in again or refresh it"
        if isinstance(exc, ImmatureSignatureError):
            return "token not yet valid (nbf or iat in the future)"
        if isinstance(exc, InvalidAudienceError):
            return (
                "token not issued for this API: its audience does not include "
                f"{self.config.audience!r}"
            )
        if isinstance(exc, InvalidIssuerError):
            return f"token not issued by {self.config.issuer}"
        if isinstance(exc, InvalidSignatureError):
            return "bad token signature: forged or changed after signing"
        if isinstance(exc, MissingRequiredClaimError):
            if exc.claim == "aud":
                return "token not issued for this API: it names no audience (aud)"
            return f"token lacks the {exc.claim!r} claim"
        if isinstance(exc, InvalidIssuedAtError):
            return "token has an invalid iat claim"
        return f"invalid token: {str(exc)[:200]}"

    def principal(self, claims: dict[str, Any]) -> Principal:
        subject = claims.get(self.config.subject_claim)
        if not isinstance(subject, str) or not _SUBJECT.match(subject):
            raise TokenRejected(
                f"token's {self.config.subject_claim!r} claim is missing or not a usable name"
            )
        groups = _strings(claims.get(self.config.roles_claim))
        roles = frozenset(self.config.role_map[g] for g in groups if g in self.config.role_map)
        if not roles:
            shown = ", ".join(sorted(groups)[:20]) or "none"
            raise TokenRejected(
                f"'{subject}' is signed in, but no Modelgate role is granted: none of the "
                f"groups in claim {self.config.roles_claim!r} ({shown}) is in "
                "MODELGATE_OIDC_ROLE_MAP; ask an administrator for a group that maps to a role",
                status=403,
            )
        return Principal(subject, roles)


_ACCESS_HEADER_TYPES = frozenset({"jwt", "at+jwt", "application/at+jwt"})
"""Header `typ` values an access token may carry (RFC 7519, RFC 9068); absent is fine too."""


def _require_access_token(header: dict[str, Any], claims: dict[str, Any]) -> None:
    """Refuse a provider's other tokens that pass every other check. Keycloak signs ID and
    refresh tokens with the same key and names the same client in `aud`; only `typ` tells
    them apart ("Bearer" for access tokens). Providers that set no `typ` separate their
    tokens by audience instead, which the decode already checked."""
    header_type = header.get("typ")
    if header_type is not None and str(header_type).lower() not in _ACCESS_HEADER_TYPES:
        raise TokenRejected(f"not an access token: its header type is {str(header_type)[:20]!r}")
    token_type = claims.get("typ")
    if token_type is not None and str(token_type).lower() != "bearer":
        raise TokenRejected(
            f"not an access token: its typ is {str(token_type)[:20]!r}; send the access token"
        )


def _strings(value: object) -> list[str]:
    """A claim holding names: a list of strings (most providers) or one space-separated string."""
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []
