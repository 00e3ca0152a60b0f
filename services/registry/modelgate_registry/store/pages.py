"""Keyset pages of the Kubeflow lists: one statement a page, one row beyond it to tell whether
another page follows, and a token derived from the page's last row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from modelgate_registry.pagination import Sort, encode_cursor, keyset
from modelgate_registry.store.read_connections import ReadConnections
from modelgate_shared.db.pool import Executor

Reader = Executor | ReadConnections
"""Where a read runs: the pool, a transaction's connection or the hot reads' connections."""

ORDER = {
    "ID": ("id", "bigint"),
    "CREATE_TIME": ("created_at", "timestamptz"),
    "LAST_UPDATE_TIME": ("updated_at", "timestamptz"),
}
DEFAULT_PAGE_SIZE = 100


@dataclass(frozen=True)
class Paging:
    page_size: int = DEFAULT_PAGE_SIZE
    order_by: Literal["ID", "CREATE_TIME", "LAST_UPDATE_TIME"] = "ID"
    sort_order: Literal["ASC", "DESC"] = "ASC"
    token: str | None = None


def equal(where: list[str], params: list[Any], *pairs: tuple[str, Any]) -> None:
    """Add `column = $n` to `where` for each (column, value) whose value is given."""
    for column, value in pairs:
        if value is not None and value != "":
            params.append(value)
            where.append(f"{column} = ${len(params)}")


def page_sql(
    *, select: str, alias: str, where: list[str], params: list[Any], paging: Paging
) -> tuple[str, str, str]:
    """(statement, sort column, order) of one page in the requested order, one row beyond it to tell
    whether another page follows; appends its parameters to `params`."""
    column, cast = ORDER[paging.order_by]
    sort = Sort(f"{alias}.{column}", paging.sort_order == "DESC", cast)
    after, order = keyset(sort, paging.token or None, f"{alias}.id", params)
    clauses = [*where, *([after] if after else [])]
    params.append(paging.page_size + 1)
    statement = (
        f"{select} WHERE {' AND '.join(clauses) or 'TRUE'} ORDER BY {order} LIMIT ${len(params)}"
    )
    return statement, column, order


def cut(rows: list[Any], column: str, paging: Paging) -> tuple[list[Any], str]:
    """The page and its token, derived from the last row (deterministic, as the upstream
    client's pager requires), "" after the last page."""
    items = rows[: paging.page_size]
    if len(rows) <= paging.page_size:
        return items, ""
    last = items[-1]
    return items, encode_cursor(last[column], last["id"])


async def page(
    db: Reader,
    *,
    select: str,
    alias: str,
    where: list[str],
    params: list[Any],
    paging: Paging,
) -> tuple[list[Any], str]:
    """The rows of one page of `select` (whose table is `alias`) under `where`, and its token."""
    statement, column, _ = page_sql(
        select=select, alias=alias, where=where, params=params, paging=paging
    )
    return cut(await db.fetch(statement, *params), column, paging)
