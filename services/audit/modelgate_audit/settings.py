"""Settings of the audit service."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr

from modelgate_shared.settings import ServiceSettings


class AuditSettings(ServiceSettings):
    service_name: str = "audit"
    http_port: int = Field(8082, validation_alias="MODELGATE_AUDIT_PORT")
    runtime_database_url: SecretStr | None = Field(None, validation_alias="AUDIT_DATABASE_URL")
    """The audit service's own role: SELECT and INSERT on audit.log, nothing else. DATABASE_URL
    (the schema owner) is used only to apply migrations and grant that role its rights."""
    signing_key_file: Path | None = Field(None, validation_alias="MODELGATE_AUDIT_SIGNING_KEY")
    """Ed25519 private key (PEM) that signs checkpoints; the database never sees it."""
    checkpoint_interval_s: float = Field(10.0, validation_alias="MODELGATE_AUDIT_CHECKPOINT_S")
    checkpoint_prefix: str = Field(
        "audit/checkpoints", validation_alias="MODELGATE_AUDIT_CHECKPOINT_PREFIX"
    )
