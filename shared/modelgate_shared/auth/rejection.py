"""Why a credential was refused, for the caller to read (401 or 403 with the reason)."""

from __future__ import annotations


class TokenRejected(Exception):
    """A credential a verifier recognises as its own kind but refuses.

    `verify` returns None for a token that is not of its kind (the next verifier of the chain
    may know it); it raises this when the token is of its kind and must be refused, so the
    caller learns why: an expired or revoked key, a bad signature, a group with no role.
    """

    def __init__(self, reason: str, *, status: int = 401) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
