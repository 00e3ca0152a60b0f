"""Settings of the audit service."""

from __future__ import annotations

from pydantic import Field

from modelgate_shared.settings import ServiceSettings


class AuditSettings(ServiceSettings):
    service_name: str = "audit"
    http_port: int = Field(8082, validation_alias="MODELGATE_AUDIT_PORT")
