"""Settings of the registry service."""

from __future__ import annotations

from pydantic import Field

from modelgate_shared.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    service_name: str = "registry"
    http_port: int = Field(8080, validation_alias="MODELGATE_REGISTRY_PORT")
