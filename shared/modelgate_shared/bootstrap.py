"""Builders the four composition roots share, so each root stays a short list of parts."""

from __future__ import annotations

import logging

from modelgate_shared.auth import HashedTokenVerifier, TokenVerifier
from modelgate_shared.settings import ServiceSettings

log = logging.getLogger(__name__)


def build_verifier(settings: ServiceSettings) -> TokenVerifier:
    if settings.tokens_file is None:
        # Failing closed: with no token table every request is refused with 401.
        log.warning("MODELGATE_TOKENS_FILE is not set: every authenticated request will get 401")
        return HashedTokenVerifier([])
    return HashedTokenVerifier.from_file(settings.tokens_file)
