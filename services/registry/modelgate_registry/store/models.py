"""`registry.models`."""

from __future__ import annotations

from typing import Any

from modelgate_registry.records import ModelRecord
from modelgate_registry.store import pages
from modelgate_registry.store.columns import known, set_clause
from modelgate_registry.store.deferred import deferred
from modelgate_registry.store.pages import Paging, Reader
from modelgate_registry.visibility import Audience
from modelgate_shared.db.pool import Executor

COLUMNS = (
    "description",
    "owner",
    "license",
    "state",
    "labels",
    "custom_properties",
    "external_id",
    "kubeflow",
)


async def by_name(db: Executor, name: str) -> ModelRecord | None:
    row = await db.fetchrow("SELECT * FROM registry.models WHERE name = $1", name)
    return ModelRecord.of(row)  # type: ignore[no-any-return]


async def by_id(db: Executor, model_id: int) -> ModelRecord | None:
    row = await db.fetchrow("SELECT * FROM registry.models WHERE id = $1", model_id)
    return ModelRecord.of(row)  # type: ignore[no-any-return]


async def by_external_id(db: Executor, external_id: str) -> ModelRecord | None:
    row = await db.fetchrow("SELECT * FROM registry.models WHERE external_id = $1", external_id)
    return ModelRecord.of(row)  # type: ignore[no-any-return]


async def create(db: Executor, name: str, created_by: str, **fields: Any) -> ModelRecord:
    """Insert a model; raises asyncpg.UniqueViolationError when the name is taken."""
    known(fields, COLUMNS, "registry.models")
    names = ["name", "created_by", *fields]
    values = [name, created_by, *fields.values()]
    placeholders = ", ".join(f"${i}" for i in range(1, len(values) + 1))
    row = await db.fetchrow(
        f"INSERT INTO registry.models ({', '.join(names)}) VALUES ({placeholders}) RETURNING *",  # noqa: S608
        *values,
    )
    return ModelRecord.of(row)  # type: ignore[no-any-return]


async def ensure(db: Executor, name: str, created_by: str, **fields: Any) -> ModelRecord:
    """The model of that name, created if new (concurrent creators agree on one row)."""
    row = await db.fetchrow(
        "INSERT INTO registry.models (name, created_by, description, owner, license) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING RETURNING *",
        name,
        created_by,
        fields.get("description", ""),
        fields.get("owner"),
        fields.get("license"),
    )
    if row is None:
        row = await db.fetchrow("SELECT * FROM registry.models WHERE name = $1", name)
    return ModelRecord.of(row)  # type: ignore[no-any-return]


async def ensure_locked(db: Executor, name: str, created_by: str, **fields: Any) -> ModelRecord:
    """The model of that name, created if new, its row locked for this transaction: one
    statement (the no-op DO UPDATE is what takes the lock, for new and old rows alike)."""
    row = await db.fetchrow(
        "INSERT INTO registry.models (name, created_by, description, owner, license) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name "
        "RETURNING *",
        name,
        created_by,
        fields.get("description", ""),
        fields.get("owner"),
        fields.get("license"),
    )
    return ModelRecord.of(row)  # type: ignore[no-any-return]


async def lock(db: Executor, model_id: int) -> None:
    """Lock the model's row for the rest of this transaction.

    Every change that emits an event takes this lock first: one model's changes serialise, and
    its outbox rows get ids in commit order.
    """
    await db.execute("SELECT 1 FROM registry.models WHERE id = $1 FOR UPDATE", model_id)


async def next_sequence(db: Executor, model_id: int, locked: int) -> int:
    """The model's next event sequence number (its row is locked by `lock`; `locked`: the
    sequence the row had when this transaction locked it, which a consumer's batch counts on
    from, writing the last at its end: `deferred.py`)."""
    batch = deferred(db)
    if batch is not None:
        return batch.next_sequence(model_id, locked)
    sequence: int = await db.fetchval(
        "UPDATE registry.models SET sequence = sequence + 1 WHERE id = $1 RETURNING sequence",
        model_id,
    )
    return sequence


async def update(db: Executor, model_id: int, **fields: Any) -> ModelRecord:
    sets = set_clause(fields, COLUMNS, "registry.models")
    if not fields:
        return await by_id(db, model_id)  # type: ignore[return-value]
    row = await db.fetchrow(
        f"UPDATE registry.models SET {sets}, updated_at = now() WHERE id = $1 RETURNING *",  # noqa: S608
        model_id,
        *fields.values(),
    )
    return ModelRecord.of(row)  # type: ignore[no-any-return]


async def page(
    db: Reader,
    audience: Audience,
    paging: Paging,
    where: list[str],
    params: list[Any],
    *,
    columns: str,
) -> tuple[list[Any], str]:
    """One page of the models `audience` sees under `where` (on alias `m`), as rows of `columns`."""
    return await pages.page(
        db,
        select=f"SELECT {columns} FROM registry.models m",  # noqa: S608
        alias="m",
        where=[*where, audience.model_sql("m")],
        params=params,
        paging=paging,
    )
