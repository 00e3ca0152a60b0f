"""Builders the four composition roots share, so each root stays a short list of parts."""

from __future__ import annotations

import logging

from modelgate_shared.auth import HashedTokenVerifier, TokenVerifier
from modelgate_shared.settings import ServiceSettings
from modelgate_shared.signing import EventSigner, EventVerifier, TrustedKeys

log = logging.getLogger(__name__)


def build_verifier(settings: ServiceSettings) -> TokenVerifier:
    if settings.tokens_file is None:
        # Failing closed: with no token table every request is refused with 401.
        log.warning("MODELGATE_TOKENS_FILE is not set: every authenticated request will get 401")
        return HashedTokenVerifier([])
    return HashedTokenVerifier.from_file(settings.tokens_file)


def build_event_signer(settings: ServiceSettings) -> EventSigner | None:
    if settings.signing_key is None:
        log.warning(
            "MODELGATE_SIGNING_KEY is not set: this service's events go out unsigned, and "
            "every consumer will dead-letter them"
        )
        return None
    return EventSigner.from_file(settings.signing_key)


def build_event_verifier(settings: ServiceSettings) -> EventVerifier:
    """The proof every consumed event must pass. Refuses to start without a trusted-keys
    file: a consumer that trusted nothing would dead-letter everything, and one that trusted
    everything would be the hole the signatures close."""
    if settings.trusted_keys is None:
        raise RuntimeError(
            "MODELGATE_TRUSTED_KEYS is not set: without trusted keys no event can be proven "
            "(see docs/event-signatures.md)"
        )
    return EventVerifier(TrustedKeys(settings.trusted_keys))
