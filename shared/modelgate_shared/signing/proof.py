"""Proof of an event: who signed it, and whether that key may sign it.

Runs in every consumer right after decoding (`kafka.consumer`), so no handler of any service
ever sees an event whose publisher is not proven: the registry sees only verdicts the validator
signed, the validator validates only proven submissions, and the submitter the registry and the
audit log record is the one a key vouched for. Every refusal is a `PoisonMessage` with the
reason, which sends the record to the dead-letter topic.

A replayed record carries a valid signature too; it is harmless because it is the very same
event (same CloudEvent id, same submission id), which every consumer already drops by id.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from nacl.exceptions import BadSignatureError

from modelgate_shared.auth.rejection import TokenRejected
from modelgate_shared.auth.roles import Permission
from modelgate_shared.auth.tokens import TokenVerifier
from modelgate_shared.events.catalog import SUBMITTED
from modelgate_shared.events.codec import PoisonMessage, is_binary_mode
from modelgate_shared.events.envelope import CloudEvent
from modelgate_shared.signing.signer import KEY_ID_HEADER, SIGNATURE_HEADER, signed_bytes
from modelgate_shared.signing.trust import SubmitAs, TrustedKeys

Headers = Sequence[tuple[str, bytes]]
OIDC_TOKEN_HEADER = "mg-oidc-token"  # noqa: S105 (a header name)
"""Instead of a signature, a `model.submitted` may carry its submitter's OpenID Connect access
token: the same verifier as the HTTP APIs' decides (docs/event-signatures.md)."""
OIDC_KEY_ID = "oidc"


@dataclass(frozen=True, slots=True)
class Proven:
    """Who signed an event: the trusted key's principal and id."""

    signer: str
    key_id: str


class EventVerifier:
    def __init__(self, trusted: TrustedKeys, tokens: TokenVerifier | None = None) -> None:
        self.trusted = trusted
        self.tokens = tokens

    async def prove(self, value: bytes, headers: Headers, event: CloudEvent[Any]) -> Proven:
        """`verify`, or for a model.submitted proven by its submitter's OIDC access token
        (and not signed), the token's verdict."""
        token = _header(headers, OIDC_TOKEN_HEADER)
        if token is None or _header(headers, SIGNATURE_HEADER) is not None:
            return self.verify(value, headers, event)
        return await self._prove_by_token(token, headers, event)

    async def _prove_by_token(self, token: str, headers: Headers, event: CloudEvent[Any]) -> Proven:
        if is_binary_mode(headers):
            raise PoisonMessage(
                "binary-mode event: its attributes travel in headers the token does not cover; "
                "publish it in structured mode"
            )
        if event.type != SUBMITTED.type:
            raise PoisonMessage(f"an OIDC token proves only model.submitted, not {event.type}")
        if self.tokens is None:
            raise PoisonMessage(
                "OIDC token given, but this service trusts no issuer (MODELGATE_OIDC_ISSUER)"
            )
        try:
            principal = await self.tokens.verify(token)
        except TokenRejected as rejected:
            if rejected.status == HTTPStatus.SERVICE_UNAVAILABLE:
                # The provider is away, not the token wrong: the consumer retries (a
                # ConnectionError is transient) rather than dead-lettering a valid event.
                raise ConnectionError(f"OIDC token not checked: {rejected.reason}") from None
            raise PoisonMessage(f"OIDC token refused: {rejected.reason}") from None
        if principal is None:
            raise PoisonMessage(f"{OIDC_TOKEN_HEADER} does not hold an OIDC access token")
        if not principal.can(Permission.MODEL_SUBMIT):
            raise PoisonMessage(f"'{principal.subject}' may not submit models (model:submit)")
        _submits_as(
            event,
            principal.subject,
            f"the token's subject: '{principal.subject}' may submit only as itself",
        )
        return Proven(principal.subject, OIDC_KEY_ID)

    def verify(self, value: bytes, headers: Headers, event: CloudEvent[Any]) -> Proven:
        """The signer of `event` (decoded from `value`), or PoisonMessage saying why not."""
        if is_binary_mode(headers):
            raise PoisonMessage(
                "binary-mode event: its attributes travel in unsigned headers, so it cannot be "
                "proven; publish it in structured mode, signed (docs/event-signatures.md)"
            )
        signature_text = _header(headers, SIGNATURE_HEADER)
        kid = _header(headers, KEY_ID_HEADER)
        if signature_text is None or kid is None:
            raise PoisonMessage(
                f"unsigned event: no {SIGNATURE_HEADER}/{KEY_ID_HEADER} header "
                "(docs/event-signatures.md)"
            )
        trusted = self.trusted.get(kid)
        if trusted is None:
            raise PoisonMessage(f"signed by unknown key {kid[:64]!r}: not in the trusted keys")
        entry = trusted.entry
        if event.type not in entry.event_types:
            raise PoisonMessage(f"key {kid} ({entry.name}) may not sign {event.type}")
        try:
            signature = base64.b64decode(signature_text, validate=True)
            trusted.verify_key.verify(signed_bytes(value), signature)
        except (BadSignatureError, binascii.Error, ValueError):
            raise PoisonMessage(
                f"bad signature: the event was not signed by key {kid} ({entry.name}) "
                "or was changed after signing"
            ) from None
        if event.type == SUBMITTED.type and entry.submit_as is SubmitAs.SELF:
            _submits_as(
                event,
                entry.name,
                f"the signer: key {kid} ({entry.name}) may submit only as {entry.name!r}",
            )
        return Proven(entry.name, kid)


def _submits_as(event: CloudEvent[Any], name: str, otherwise: str) -> None:
    """A model.submitted whose submitter is `name`, or PoisonMessage: "... is not <otherwise>"."""
    submitter = event.data.submitter
    if submitter != name:
        raise PoisonMessage(f"submitter {str(submitter)[:200]!r} is not {otherwise}")


def _header(headers: Headers, name: str) -> str | None:
    for key, raw in headers:
        if key == name:
            return raw.decode("ascii", "replace")
    return None
