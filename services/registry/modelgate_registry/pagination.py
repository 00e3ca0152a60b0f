"""Keyset (cursor) pagination: stable under inserts, no OFFSET scans on big tables."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from modelgate_registry import errors
from modelgate_shared.query_types import in_int64


@dataclass(frozen=True)
class Sort:
    column: str
    """A trusted SQL expression (from a fixed table of sortable fields, never from input)."""
    descending: bool
    cast: str
    """SQL type the cursor's value is compared as (text, timestamptz, bigint)."""


def encode_cursor(value: Any, row_id: int) -> str:
    raw = json.dumps([value if not hasattr(value, "isoformat") else value.isoformat(), row_id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


_FORGED = "invalid page token: pass back the token a previous page gave"


def decode_cursor(token: str, cast: str = "text") -> tuple[Any, int]:
    """The (sort value, row id) a token holds, each checked against what PostgreSQL will
    compare it as: a forged token is a 400, never a failed cast in SQL."""
    try:
        padded = token + "=" * (-len(token) % 4)
        value, row_id = json.loads(base64.urlsafe_b64decode(padded))
        return _sort_value(value, cast), _int64(row_id)
    except (ValueError, TypeError, OverflowError) as exc:
        raise errors.invalid(_FORGED) from exc


def _int64(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not in_int64(value):
        raise ValueError("not a 64-bit integer")
    return value


def _sort_value(value: Any, cast: str) -> Any:
    if cast == "bigint":
        return _int64(value)
    if not isinstance(value, str) or "\x00" in value:
        raise ValueError("not a storable string")
    if cast == "timestamptz":
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("a naive moment")
        moment.astimezone(UTC)  # OverflowError beyond year 9999
    return value


def keyset(sort: Sort, cursor: str | None, id_column: str, params: list[Any]) -> tuple[str, str]:
    """(WHERE condition or "", ORDER BY clause) for the page after `cursor`."""
    direction = "DESC" if sort.descending else "ASC"
    order = f"{sort.column} {direction}, {id_column} {direction}"
    if not cursor:
        return "", order
    value, row_id = decode_cursor(cursor, sort.cast)
    # The value travels as text and is cast in SQL: asyncpg would insist on a datetime for a
    # timestamptz parameter, and the token holds its ISO form.
    params.extend([str(value), row_id])
    op = "<" if sort.descending else ">"
    first, second = len(params) - 1, len(params)
    bound = f"(${first}::text)::{sort.cast}, ${second}::bigint"
    return f"({sort.column}, {id_column}) {op} ({bound})", order
