"""What each Modelgate service's key may sign: the trusted-keys entries `make up`, the test
harness and the compose file's secrets step write for the services."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from modelgate_shared.events.catalog import ARCHIVED, REGISTERED, SUBMITTED, TRANSITIONED, VALIDATED
from modelgate_shared.signing.keys import key_id, public_pem
from modelgate_shared.signing.trust import SubmitAs, TrustedKey


@dataclass(frozen=True)
class Grant:
    principal: str
    event_types: tuple[str, ...]
    submit_as: SubmitAs = SubmitAs.SELF


SERVICE_GRANTS: dict[str, Grant] = {
    # Ingest and the registry (for versions created through the Kubeflow API) publish
    # model.submitted for the user they authenticated over HTTP: for anyone.
    "ingest": Grant("modelgate-ingest", (SUBMITTED.type,), SubmitAs.ANYONE),
    "validator": Grant("modelgate-validator", (VALIDATED.type,)),
    "registry": Grant(
        "modelgate-registry",
        (SUBMITTED.type, REGISTERED.type, TRANSITIONED.type, ARCHIVED.type),
        SubmitAs.ANYONE,
    ),
    # audit publishes no events (only dead letters, sent as they came): no key.
}


def entry(name: str, public: Ed25519PublicKey, grant: Grant) -> TrustedKey:
    return TrustedKey(
        name=name,
        key_id=key_id(public),
        public_key=public_pem(public),
        event_types=grant.event_types,
        submit_as=grant.submit_as,
    )


def service_entry(service: str, public: Ed25519PublicKey) -> TrustedKey:
    grant = SERVICE_GRANTS[service]
    return entry(grant.principal, public, grant)


def producer_entry(subject: str, public: Ed25519PublicKey) -> TrustedKey:
    """An external producer: may sign model.submitted, only with itself as submitter."""
    return entry(subject, public, Grant(subject, (SUBMITTED.type,), SubmitAs.SELF))
