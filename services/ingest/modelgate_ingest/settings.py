"""Settings of the ingest service."""

from __future__ import annotations

from pydantic import Field

from modelgate_shared.settings import ServiceSettings


class IngestSettings(ServiceSettings):
    service_name: str = "ingest"
    http_port: int = Field(8081, validation_alias="MODELGATE_INGEST_PORT")
