"""Settings of the registry service."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from modelgate_shared.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    service_name: str = "registry"
    http_port: int = Field(8080, validation_alias="MODELGATE_REGISTRY_PORT")
    four_eyes: bool = Field(True, validation_alias="MODELGATE_FOUR_EYES")
    """Promotion to production must be approved by someone other than the submitter."""
    review_policy: Path | None = Field(None, validation_alias="MODELGATE_REVIEW_POLICY")
    """YAML file of auto-approval rules, re-read when it changes; unset: every version that
    passes validation waits for an approver (docs/review.md)."""
    gate_signing_public_key: Path | None = Field(
        None, validation_alias="MODELGATE_GATE_SIGNING_PUBLIC_KEY"
    )
    """Public half (PEM) of the validator's MODELGATE_GATE_SIGNING_KEY: published at
    `GET /api/v1/signing-key`, to verify a download's `modelgate.sig` offline."""
    outbox_relay: bool = Field(True, validation_alias="MODELGATE_OUTBOX_RELAY")
    """Run the outbox relay in this process (one replica relays at a time regardless)."""
    web_audit_url: str | None = Field(None, validation_alias="MODELGATE_WEB_AUDIT_URL")
    """The audit service's URL as a browser reaches it: the web catalog reads a version's
    history there (the audit service must allow the registry's origin, see its settings)."""
    pool_size: int = Field(16, ge=2, validation_alias="MODELGATE_REGISTRY_POOL_SIZE")
    read_connections: int = Field(8, ge=1, validation_alias="MODELGATE_REGISTRY_READ_CONNECTIONS")
    """Connections the hot catalog reads hold apart from the pool (`store.read_connections`)."""
