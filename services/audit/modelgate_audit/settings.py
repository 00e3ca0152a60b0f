"""Settings of the audit service."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from modelgate_shared.env_values import CsvList
from modelgate_shared.settings import ServiceSettings


class AuditSettings(ServiceSettings):
    service_name: str = "audit"
    http_port: int = Field(8082, validation_alias="MODELGATE_AUDIT_PORT")
    signing_key_file: Path | None = Field(None, validation_alias="MODELGATE_AUDIT_SIGNING_KEY")
    """Ed25519 private key (PEM) that signs checkpoints; the database never sees it."""
    checkpoint_interval_s: float = Field(10.0, validation_alias="MODELGATE_AUDIT_CHECKPOINT_S")
    checkpoint_prefix: str = Field(
        "audit/checkpoints", validation_alias="MODELGATE_AUDIT_CHECKPOINT_PREFIX"
    )
    cors_origins: CsvList = Field(
        default_factory=list, validation_alias="MODELGATE_AUDIT_CORS_ORIGINS"
    )
    """Origins whose pages may read this API from a browser (the registry's web catalog,
    e.g. http://127.0.0.1:8080); none by default."""
