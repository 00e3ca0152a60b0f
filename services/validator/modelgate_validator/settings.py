"""Settings of the validator service."""

from __future__ import annotations

from pydantic import Field

from modelgate_shared.settings import ServiceSettings


class ValidatorSettings(ServiceSettings):
    service_name: str = "validator"
    http_port: int = Field(8083, validation_alias="MODELGATE_VALIDATOR_PORT")
