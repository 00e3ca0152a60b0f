"""Searching the catalog: filters, sorting and cursor pages over models and versions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from modelgate_registry import errors
from modelgate_registry.pagination import Sort, encode_cursor, keyset
from modelgate_registry.records import ModelRecord
from modelgate_registry.visibility import Audience
from modelgate_shared.db.pool import Executor

T = TypeVar("T")

MODEL_SORTS = {
    "name": Sort("m.name", False, "text"),
    "-name": Sort("m.name", True, "text"),
    "created_at": Sort("m.created_at", False, "timestamptz"),
    "-created_at": Sort("m.created_at", True, "timestamptz"),
    "updated_at": Sort("m.updated_at", False, "timestamptz"),
    "-updated_at": Sort("m.updated_at", True, "timestamptz"),
}
VERSION_SORTS = {
    "created_at": Sort("v.created_at", False, "timestamptz"),
    "-created_at": Sort("v.created_at", True, "timestamptz"),
    "updated_at": Sort("v.updated_at", False, "timestamptz"),
    "-updated_at": Sort("v.updated_at", True, "timestamptz"),
    "version": Sort("v.version", False, "text"),
    "-version": Sort("v.version", True, "text"),
}


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


SUMMARY_COLUMNS = (
    "v.id, v.model_id, v.version, v.status, v.status_reason, v.stage, v.submission_id, "
    "v.submitter, v.uploader, v.description, v.labels, v.hardware_profiles, v.created_at, "
    "v.updated_at, v.review, v.review_requested_at, "
    "m.name AS model_name, m.owner, m.state AS model_state"
)
"""What a list shows: the big jsonb columns (card, artifact, report) stay in the database."""


@dataclass
class Filters:
    clauses: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, clause: str, *values: Any) -> None:
        """`clause` uses `?` for each value; they become numbered parameters."""
        for value in values:
            self.params.append(value)
            clause = clause.replace("?", f"${len(self.params)}", 1)
        self.clauses.append(clause)

    def where(self, extra: str = "") -> str:
        parts = [*self.clauses, *([extra] if extra else [])]
        return f"WHERE {' AND '.join(parts)}" if parts else ""


def _labels(filters: Filters, column: str, labels: list[str]) -> None:
    for label in labels:
        key, sep, value = label.partition(":")
        if not sep or not key:
            raise errors.invalid(f"label filter {label!r} must be key:value")
        filters.add(f"{column} @> ?::jsonb", {key: value})


def _sort(table: dict[str, Sort], sort: str) -> Sort:
    if sort not in table:
        raise errors.invalid(f"cannot sort by {sort!r}; use one of {', '.join(table)}")
    return table[sort]


async def search_models(
    db: Executor,
    audience: Audience,
    *,
    name_prefix: str | None = None,
    labels: list[str] | None = None,
    owner: str | None = None,
    include_archived: bool = False,
    sort: str = "name",
    limit: int = 50,
    cursor: str | None = None,
) -> Page[ModelRecord]:
    filters = Filters()
    if name_prefix:
        filters.add("m.name LIKE ? ESCAPE '\\'", _like_prefix(name_prefix))
    if owner:
        filters.add("m.owner = ?", owner)
    if not include_archived:
        filters.add("m.state = 'LIVE'")
    filters.add(audience.model_sql("m"))
    _labels(filters, "m.labels", labels or [])
    order_by = _sort(MODEL_SORTS, sort)
    after, order = keyset(order_by, cursor, "m.id", filters.params)
    filters.params.append(limit + 1)
    rows = await db.fetch(
        f"SELECT m.* FROM registry.models m {filters.where(after)} ORDER BY {order} "  # noqa: S608
        f"LIMIT ${len(filters.params)}",
        *filters.params,
    )
    items = [ModelRecord.of(r) for r in rows[:limit]]
    more = len(rows) > limit
    last = items[-1] if more else None
    token = encode_cursor(getattr(last, order_by.column[2:]), last.id) if last else None
    return Page(items, token)


async def search_versions(
    db: Executor,
    audience: Audience,
    *,
    model: str | None = None,
    name_prefix: str | None = None,
    labels: list[str] | None = None,
    owner: str | None = None,
    supplied_by: str | None = None,
    statuses: list[str] | None = None,
    stage: str | None = None,
    hardware_profile: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    sort: str = "-created_at",
    limit: int = 50,
    cursor: str | None = None,
) -> Page[dict[str, Any]]:
    filters = Filters()
    if model:
        filters.add("m.name = ?", model)
    if name_prefix:
        filters.add("m.name LIKE ? ESCAPE '\\'", _like_prefix(name_prefix))
    if owner:
        filters.add("m.owner = ?", owner)
    if supplied_by:
        filters.add("(v.submitter = ? OR v.uploader = ?)", supplied_by, supplied_by)
    if statuses:
        filters.add("v.status = ANY(?::text[])", statuses)
    if stage:
        filters.add("v.stage = ?", stage)
    if hardware_profile:
        filters.add("v.hardware_profiles @> ARRAY[?]::text[]", hardware_profile)
    if created_after:
        filters.add("v.created_at >= ?", created_after)
    if created_before:
        filters.add("v.created_at < ?", created_before)
    _labels(filters, "v.labels", labels or [])
    filters.add(audience.version_sql("v"))
    order_by = _sort(VERSION_SORTS, sort)
    after, order = keyset(order_by, cursor, "v.id", filters.params)
    filters.params.append(limit + 1)
    rows = await db.fetch(
        f"SELECT {SUMMARY_COLUMNS} FROM registry.versions v "  # noqa: S608
        f"JOIN registry.models m ON m.id = v.model_id {filters.where(after)} ORDER BY {order} "
        f"LIMIT ${len(filters.params)}",
        *filters.params,
    )
    items = [dict(r) for r in rows[:limit]]
    last = items[-1] if len(rows) > limit else None
    token = encode_cursor(last[order_by.column[2:]], last["id"]) if last else None
    return Page(items, token)


def _like_prefix(prefix: str) -> str:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%"
