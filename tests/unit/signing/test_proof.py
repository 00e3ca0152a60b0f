"""Proof of an event's signer: what passes, and every way an event is refused."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from modelgate_shared.auth.jwt_verifier import JwtVerifier
from modelgate_shared.auth.oidc_config import OidcConfig, parse_role_map
from modelgate_shared.events import (
    SUBMITTED,
    VALIDATED,
    CloudEvent,
    PoisonMessage,
    encode,
    new_event,
)
from modelgate_shared.events.codec import decode, kafka_headers
from modelgate_shared.signing import EventSigner, EventVerifier, TrustedKeys
from modelgate_shared.signing.grants import producer_entry, service_entry
from modelgate_shared.signing.proof import OIDC_TOKEN_HEADER
from modelgate_shared.signing.signer import signed_bytes
from modelgate_shared.signing.trust import write_trust_file
from modelgate_shared.transient import is_transient
from modelgate_testkit.factories import submitted, validated

Headers = list[tuple[str, bytes]]


@pytest.fixture
def keys() -> dict[str, EventSigner]:
    return {
        name: EventSigner(Ed25519PrivateKey.generate())
        for name in ("ingest", "validator", "ci-bot", "stranger")
    }


@pytest.fixture
def verifier(keys: dict[str, EventSigner], tmp_path: Path) -> EventVerifier:
    path = tmp_path / "trusted-keys.json"
    write_trust_file(
        path,
        [
            service_entry("ingest", keys["ingest"].public),
            service_entry("validator", keys["validator"].public),
            producer_entry("ci-bot", keys["ci-bot"].public),
        ],
    )
    return EventVerifier(TrustedKeys(path))


def _record(event: CloudEvent[Any], signer: EventSigner | None) -> tuple[bytes, Headers]:
    value = encode(event)
    headers = {**kafka_headers(event), **(signer.headers(value) if signer else {})}
    return value, [(k, v.encode()) for k, v in headers.items()]


def _prove(verifier: EventVerifier, value: bytes, headers: Headers) -> str:
    return verifier.verify(value, headers, decode(value, headers)).signer


def _submission(submitter: str) -> CloudEvent[Any]:
    return new_event(SUBMITTED, submitted("m", submitter=submitter), source="/t", subject="m/1.0.0")


def _verdict() -> CloudEvent[Any]:
    return new_event(VALIDATED, validated(), source="/t", subject="m/1.0.0")


def test_a_verdict_signed_by_the_validator_is_proven(
    verifier: EventVerifier, keys: dict[str, EventSigner]
) -> None:
    assert _prove(verifier, *_record(_verdict(), keys["validator"])) == "modelgate-validator"


def test_ingest_may_submit_for_anyone_and_a_producer_only_for_itself(
    verifier: EventVerifier, keys: dict[str, EventSigner]
) -> None:
    assert _prove(verifier, *_record(_submission("ai-admin"), keys["ingest"])) == "modelgate-ingest"
    assert _prove(verifier, *_record(_submission("ci-bot"), keys["ci-bot"])) == "ci-bot"
    with pytest.raises(PoisonMessage, match="submitter 'ai-admin' is not the signer"):
        _prove(verifier, *_record(_submission("ai-admin"), keys["ci-bot"]))


@pytest.mark.parametrize(
    ("signer", "reason"),
    [
        (None, "unsigned event"),
        ("stranger", "signed by unknown key"),
        ("ingest", "may not sign io.modelgate.model.validated.v1"),
        ("ci-bot", "may not sign io.modelgate.model.validated.v1"),
    ],
)
def test_a_verdict_not_signed_by_the_validator_is_refused(
    verifier: EventVerifier, keys: dict[str, EventSigner], signer: str | None, reason: str
) -> None:
    with pytest.raises(PoisonMessage, match=reason):
        _prove(verifier, *_record(_verdict(), keys[signer] if signer else None))


def test_a_changed_byte_breaks_the_signature(
    verifier: EventVerifier, keys: dict[str, EventSigner]
) -> None:
    value, headers = _record(_verdict(), keys["validator"])
    tampered = value.replace(b'"passed"', b'"failed"') if b'"passed"' in value else value + b" "
    assert tampered != value
    with pytest.raises(PoisonMessage, match="bad signature"):
        _prove(verifier, tampered, headers)


def test_a_signature_copied_onto_another_event_is_refused(
    verifier: EventVerifier, keys: dict[str, EventSigner]
) -> None:
    _, signed_headers = _record(_submission("ai-admin"), keys["ingest"])
    other, _ = _record(_submission("ai-admin"), None)
    with pytest.raises(PoisonMessage, match="bad signature"):
        _prove(verifier, other, signed_headers)


def test_a_signature_that_is_not_base64_is_refused(
    verifier: EventVerifier, keys: dict[str, EventSigner]
) -> None:
    value, headers = _record(_verdict(), keys["validator"])
    headers = [(k, b"not base64!" if k == "mg-signature" else v) for k, v in headers]
    with pytest.raises(PoisonMessage, match="bad signature"):
        _prove(verifier, value, headers)


def test_a_binary_mode_event_cannot_be_proven(
    verifier: EventVerifier, keys: dict[str, EventSigner]
) -> None:
    event = _verdict()
    data = event.data.model_dump_json().encode()
    headers = [
        ("ce_specversion", b"1.0"),
        ("ce_id", str(event.id).encode()),
        ("ce_source", b"/t"),
        ("ce_subject", b"m/1.0.0"),
        ("ce_type", event.type.encode()),
        ("content-type", b"application/json"),
        *[(k, v.encode()) for k, v in keys["validator"].headers(data).items()],
    ]
    with pytest.raises(PoisonMessage, match="binary-mode event"):
        _prove(verifier, data, headers)


async def test_an_oidc_token_that_cannot_be_checked_now_is_retried_not_dead_lettered(
    keys: dict[str, EventSigner], tmp_path: Path
) -> None:
    # The identity provider is away (nothing listens on its port): the token may well be
    # valid, so the event must wait for the provider, as for any dependency that is away.
    path = tmp_path / "trusted-keys.json"
    write_trust_file(path, [service_entry("ingest", keys["ingest"].public)])
    config = OidcConfig(
        issuer="http://127.0.0.1:9/realm",
        audience="modelgate",
        role_map=parse_role_map("mg=data-scientist"),
        http_timeout_s=2,
    )
    verifier = EventVerifier(TrustedKeys(path), JwtVerifier(config))
    token = (
        ".".join(
            _b64(json.dumps(part).encode())
            for part in ({"alg": "RS256", "typ": "JWT", "kid": "k"}, {"sub": "ai-scientist"})
        )
        + "."
        + _b64(b"signature")
    )
    value, headers = _record(_submission("ai-scientist"), None)
    headers.append((OIDC_TOKEN_HEADER, token.encode()))
    with pytest.raises(Exception, match="identity provider") as raised:
        await verifier.prove(value, headers, decode(value, headers))
    assert not isinstance(raised.value, PoisonMessage)
    assert is_transient(raised.value)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_signatures_are_the_rfc_8032_ones_whichever_library_makes_or_checks_them(
    verifier: EventVerifier, keys: dict[str, EventSigner]
) -> None:
    """Events are signed and proven with libsodium (PyNaCl); a producer signing with OpenSSL
    (cryptography), as the SDK and other clients may, is proven all the same, and ours check
    out with OpenSSL: Ed25519 signatures are deterministic, so the bytes are the same."""
    event = _verdict()
    value, headers = _record(event, keys["validator"])
    ours = base64.b64decode(dict(headers)["mg-signature"])
    signed = signed_bytes(value)
    assert ours == keys["validator"].private.sign(signed)
    keys["validator"].public.verify(ours, signed)  # raises if OpenSSL disagrees

    by_openssl = base64.b64encode(keys["validator"].private.sign(signed))
    replaced = [(k, by_openssl if k == "mg-signature" else v) for k, v in headers]
    assert _prove(verifier, value, replaced) == "modelgate-validator"
