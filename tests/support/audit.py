"""Reading the audit service from tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from modelgate_testkit.namespace import Namespace
from tests.support.polling import poll


async def entries(url: str, ns: Namespace, **filters: Any) -> list[dict[str, Any]]:
    """Every entry matching `filters`, following the cursor."""
    found: list[dict[str, Any]] = []
    cursor = 0
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        while True:
            page = await client.get(
                "/api/v1/audit/entries",
                headers=ns.auth("admin"),
                params={**filters, "cursor": cursor, "limit": 1000},
            )
            assert page.status_code == 200, page.text
            body = page.json()
            found += body["items"]
            if body["next_cursor"] is None:
                return found
            cursor = body["next_cursor"]


async def wait_for_entries(
    url: str, ns: Namespace, count: int, *, timeout_s: float = 60, **filters: Any
) -> list[dict[str, Any]]:
    return await poll(
        lambda: entries(url, ns, **filters),
        lambda found: len(found) >= count,
        timeout_s=timeout_s,
        interval_s=0.3,
    )


async def verify(url: str, ns: Namespace, start: str = "genesis") -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        answer = await client.get(
            "/api/v1/audit/verify", params={"from": start}, headers=ns.auth("viewer")
        )
    assert answer.status_code == 200, answer.text
    report: dict[str, Any] = answer.json()
    return report


def causal_order(entry: dict[str, Any]) -> tuple[datetime, int]:
    """Sort key for entries in the order their events happened (the chain's own order is
    arrival order, and the audit service reads the topics' partitions side by side)."""
    return datetime.fromisoformat(entry["event_time"]), int(entry["seq"])
