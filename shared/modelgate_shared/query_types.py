"""Types of request parameters whose every accepted value PostgreSQL can also hold.

Pydantic accepts `9999-12-31T23:59:59-23:59` (a valid ISO 8601 moment) and integers of any
size; PostgreSQL's timestamptz and bigint do not. Checked here, a bad value is the client's
422 with a reason, not a database error.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, Field

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


def _storable(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # a naive moment means UTC, as PostgreSQL reads it
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("is outside the years 1-9999 once converted to UTC") from exc


Moment = Annotated[datetime, AfterValidator(_storable)]
"""A timezone-aware moment within what timestamptz holds (naive means UTC)."""

Int64 = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
NonNegativeInt64 = Annotated[int, Field(ge=0, le=INT64_MAX)]


def in_int64(value: int) -> bool:
    return INT64_MIN <= value <= INT64_MAX
