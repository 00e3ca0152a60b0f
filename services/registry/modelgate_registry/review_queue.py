"""The review queue: versions waiting for an approver, the longest-waiting first.

Each item carries what a reviewer judges by (the validation report, the benchmark, the model
card) and names the version to compare against: the model's newest registered version created
before it, i.e. what developers use today.
"""

from __future__ import annotations

from typing import Any

from modelgate_registry.catalog import SUMMARY_COLUMNS, Page
from modelgate_registry.pagination import Sort, encode_cursor, keyset
from modelgate_shared.db.pool import Executor

QUEUE_ORDER = Sort("v.review_requested_at", False, "timestamptz")
PREVIOUS = (
    "(SELECT p.version FROM registry.versions p WHERE p.model_id = v.model_id "
    "AND p.id <> v.id AND p.status = 'REGISTERED' AND p.created_at <= v.created_at "
    "ORDER BY p.created_at DESC, p.id DESC LIMIT 1)"
)


async def waiting(db: Executor, *, limit: int, cursor: str | None) -> Page[dict[str, Any]]:
    params: list[Any] = []
    after, order = keyset(QUEUE_ORDER, cursor, "v.id", params)
    params.append(limit + 1)
    rows = await db.fetch(
        f"SELECT {SUMMARY_COLUMNS}, v.model_card, v.validation, v.benchmark, "  # noqa: S608
        f"{PREVIOUS} AS previous_version FROM registry.versions v "
        "JOIN registry.models m ON m.id = v.model_id "
        f"WHERE v.status = 'PENDING_REVIEW' {'AND ' + after if after else ''} "
        f"ORDER BY {order} LIMIT ${len(params)}",
        *params,
    )
    items = [dict(r) for r in rows[:limit]]
    last = items[-1] if len(rows) > limit else None
    token = encode_cursor(last["review_requested_at"], last["id"]) if last else None
    return Page(items, token)
