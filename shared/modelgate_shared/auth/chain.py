"""Several verifiers behind one `TokenVerifier`: OIDC access tokens, API keys, the stack's
demo tokens, tried in order until one knows the token."""

from __future__ import annotations

from collections.abc import Sequence

from modelgate_shared.auth.roles import Principal
from modelgate_shared.auth.tokens import TokenVerifier


class VerifierChain:
    def __init__(self, verifiers: Sequence[TokenVerifier]) -> None:
        self.verifiers = tuple(verifiers)

    async def verify(self, token: str) -> Principal | None:
        """The first verifier's principal; a refusal (`TokenRejected`) ends the search."""
        for verifier in self.verifiers:
            principal = await verifier.verify(token)
            if principal is not None:
                return principal
        return None
