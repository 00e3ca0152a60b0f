"""Value types for settings read from the environment."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator
from pydantic_settings import NoDecode


def _csv(value: object) -> object:
    """Lists come from the environment as comma-separated values."""
    if isinstance(value, str):
        return [p.strip().lower() for p in value.split(",") if p.strip()]
    return value


CsvList = Annotated[list[str], NoDecode, BeforeValidator(_csv)]
