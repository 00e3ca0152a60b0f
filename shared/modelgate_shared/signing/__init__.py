"""Signed events: every event a Modelgate service or a registered producer publishes carries an
Ed25519 signature of its exact bytes, and consumers handle only events a trusted key signed
for what it is allowed to sign (see docs/event-signatures.md)."""

from modelgate_shared.signing.keys import key_id, load_private_key
from modelgate_shared.signing.proof import EventVerifier, Proven
from modelgate_shared.signing.signer import KEY_ID_HEADER, SIGNATURE_HEADER, EventSigner
from modelgate_shared.signing.trust import SubmitAs, TrustedKey, TrustedKeys

__all__ = [
    "KEY_ID_HEADER",
    "SIGNATURE_HEADER",
    "EventSigner",
    "EventVerifier",
    "Proven",
    "SubmitAs",
    "TrustedKey",
    "TrustedKeys",
    "key_id",
    "load_private_key",
]
