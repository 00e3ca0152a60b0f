"""Builders the four composition roots share, so each root stays a short list of parts."""

from __future__ import annotations

import logging

from modelgate_shared.auth import HashedTokenVerifier, TokenVerifier
from modelgate_shared.auth.api_keys import ApiKeyVerifier
from modelgate_shared.auth.chain import VerifierChain
from modelgate_shared.auth.jwt_verifier import JwtVerifier
from modelgate_shared.auth.oidc_config import OidcConfig, parse_algorithms, parse_role_map
from modelgate_shared.settings import ServiceSettings
from modelgate_shared.signing import EventSigner, EventVerifier, TrustedKeys

log = logging.getLogger(__name__)


def build_verifier(settings: ServiceSettings) -> Verifiers:
    """Every way a caller may prove who they are: an OIDC access token (when an issuer is
    set), an API key (looked up in PostgreSQL once the pool is bound), the token file."""
    api_keys = ApiKeyVerifier()
    chain: list[TokenVerifier] = []
    oidc = build_jwt_verifier(settings)
    if oidc is not None:
        chain.append(oidc)
    chain.append(api_keys)
    if settings.tokens_file is not None:
        chain.append(HashedTokenVerifier.from_file(settings.tokens_file))
    if oidc is None and settings.tokens_file is None:
        log.warning(
            "neither MODELGATE_OIDC_ISSUER nor MODELGATE_TOKENS_FILE is set: only API keys "
            "are accepted"
        )
    return Verifiers(chain, api_keys, oidc)


class Verifiers(VerifierChain):
    """The chain, with its API-key verifier at hand for the lifespan to give it a pool, and
    its JWT verifier for the consumer to prove OIDC-token events with (one key cache)."""

    def __init__(
        self, verifiers: list[TokenVerifier], api_keys: ApiKeyVerifier, oidc: JwtVerifier | None
    ) -> None:
        super().__init__(verifiers)
        self.api_keys = api_keys
        self.oidc = oidc


def build_jwt_verifier(settings: ServiceSettings) -> JwtVerifier | None:
    config = oidc_config(settings)
    return JwtVerifier(config) if config is not None else None


def oidc_config(settings: ServiceSettings) -> OidcConfig | None:
    """The JWT verifier's settings; None without an issuer. Bad values stop the service."""
    if not settings.oidc_issuer:
        return None
    audience = settings.oidc_audience or settings.oidc_client_id
    if not audience:
        raise RuntimeError(
            "MODELGATE_OIDC_ISSUER is set but neither MODELGATE_OIDC_AUDIENCE nor "
            "MODELGATE_OIDC_CLIENT_ID: a token for any application of the provider would pass"
        )
    role_map = parse_role_map(settings.oidc_role_map)
    if not role_map:
        log.warning("MODELGATE_OIDC_ROLE_MAP is empty: every OIDC sign-in will get 403")
    return OidcConfig(
        issuer=settings.oidc_issuer,
        audience=audience,
        role_map=role_map,
        roles_claim=settings.oidc_roles_claim,
        subject_claim=settings.oidc_subject_claim,
        algorithms=parse_algorithms(settings.oidc_algorithms),
        leeway_s=settings.oidc_leeway_s,
        jwks_min_refresh_s=settings.oidc_jwks_min_refresh_s,
        discovery_url=settings.oidc_discovery_url,
    )


def build_event_signer(settings: ServiceSettings) -> EventSigner | None:
    if settings.signing_key is None:
        log.warning(
            "MODELGATE_SIGNING_KEY is not set: this service's events go out unsigned, and "
            "every consumer will dead-letter them"
        )
        return None
    return EventSigner.from_file(settings.signing_key)


def build_event_verifier(
    settings: ServiceSettings, oidc: JwtVerifier | None = None
) -> EventVerifier:
    """The proof every consumed event must pass. Refuses to start without a trusted-keys
    file: a consumer that trusted nothing would dead-letter everything, and one that trusted
    everything would be the hole the signatures close. `oidc`: the service's JWT verifier
    (`Verifiers.oidc`), so HTTP and Kafka share its key cache; else one is built."""
    if settings.trusted_keys is None:
        raise RuntimeError(
            "MODELGATE_TRUSTED_KEYS is not set: without trusted keys no event can be proven "
            "(see docs/event-signatures.md)"
        )
    # A model.submitted may be proven by its submitter's OIDC token instead of a signature.
    tokens = oidc if oidc is not None else build_jwt_verifier(settings)
    return EventVerifier(TrustedKeys(settings.trusted_keys), tokens)
