"""Column names that statements are built from: only a table's own pass, checked always (an
`assert` would vanish under `python -O`), since they are written into the SQL text."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def known(given: Iterable[str], allowed: Iterable[str], table: str) -> None:
    """ValueError naming the columns of `given` that `table` does not allow here."""
    unknown = set(given) - set(allowed)
    if unknown:
        raise ValueError(f"not columns of {table} that may be set: {sorted(unknown)}")


def set_clause(fields: Mapping[str, Any], allowed: Iterable[str], table: str) -> str:
    """`a = $2, b = $3, …` for `fields` (their values follow `$1`, the row's id)."""
    known(fields, allowed, table)
    return ", ".join(f"{k} = ${i}" for i, k in enumerate(fields, start=2))
