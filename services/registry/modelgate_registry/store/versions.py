"""`registry.versions`."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from modelgate_registry.records import ModelRecord, VersionRecord
from modelgate_registry.store import pages
from modelgate_registry.store.columns import known, set_clause
from modelgate_registry.store.pages import Paging, Reader
from modelgate_registry.visibility import Audience
from modelgate_shared.db.pool import Executor

COLUMNS = (
    "status",
    "status_before_archive",
    "status_reason",
    "stage",
    "author",
    "description",
    "labels",
    "model_card",
    "lineage",
    "artifact",
    "uploader",
    "validation",
    "benchmark",
    "hardware_profiles",
    "requested_profile",
    "custom_properties",
    "external_id",
    "review",
    "review_requested_at",
    "signer",
)


async def by_id(db: Executor, version_id: int) -> VersionRecord | None:
    row = await db.fetchrow("SELECT * FROM registry.versions WHERE id = $1", version_id)
    return VersionRecord.of(row)  # type: ignore[no-any-return]


async def by_name(db: Executor, model_id: int, version: str) -> VersionRecord | None:
    row = await db.fetchrow(
        "SELECT * FROM registry.versions WHERE model_id = $1 AND version = $2", model_id, version
    )
    return VersionRecord.of(row)  # type: ignore[no-any-return]


async def by_submission(db: Executor, submission_id: UUID) -> VersionRecord | None:
    row = await db.fetchrow(
        "SELECT * FROM registry.versions WHERE submission_id = $1", submission_id
    )
    return VersionRecord.of(row)  # type: ignore[no-any-return]


async def by_external_id(db: Executor, external_id: str) -> VersionRecord | None:
    row = await db.fetchrow("SELECT * FROM registry.versions WHERE external_id = $1", external_id)
    return VersionRecord.of(row)  # type: ignore[no-any-return]


def insert_parts(**columns: Any) -> tuple[str, str, list[Any]]:
    """Column list, placeholders and values of an INSERT; only known columns pass."""
    identity = ("model_id", "version", "submission_id", "submitter")
    known(columns, {*COLUMNS, *identity}, "registry.versions")
    placeholders = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    return ", ".join(columns), placeholders, list(columns.values())


async def create(
    db: Executor,
    model_id: int,
    version: str,
    *,
    submission_id: UUID,
    submitter: str,
    status: str,
    **fields: Any,
) -> VersionRecord:
    """Insert a version; raises asyncpg.UniqueViolationError if (model, version) exists."""
    names, placeholders, values = insert_parts(
        model_id=model_id,
        version=version,
        submission_id=submission_id,
        submitter=submitter,
        status=status,
        **fields,
    )
    row = await db.fetchrow(
        f"INSERT INTO registry.versions ({names}) VALUES ({placeholders}) RETURNING *",  # noqa: S608
        *values,
    )
    return VersionRecord.of(row)  # type: ignore[no-any-return]


async def locked_by_submission(
    db: Executor, submission_id: UUID
) -> tuple[ModelRecord, VersionRecord] | None:
    """The version of a submission and its model, both rows locked for this transaction."""
    row = await db.fetchrow(
        "SELECT to_jsonb(m) AS model, to_jsonb(v) AS version FROM registry.versions v "
        "JOIN registry.models m ON m.id = v.model_id WHERE v.submission_id = $1 "
        "FOR UPDATE OF m, v",
        submission_id,
    )
    if row is None:
        return None
    return ModelRecord.model_validate(row["model"]), VersionRecord.model_validate(row["version"])


async def update(db: Executor, version_id: int, **fields: Any) -> VersionRecord:
    sets = set_clause(fields, COLUMNS, "registry.versions")
    if not fields:
        return await by_id(db, version_id)  # type: ignore[return-value]
    row = await db.fetchrow(
        f"UPDATE registry.versions SET {sets}, updated_at = now() WHERE id = $1 RETURNING *",  # noqa: S608
        version_id,
        *fields.values(),
    )
    return VersionRecord.of(row)  # type: ignore[no-any-return]


async def replace_submission(
    db: Executor, version_id: int, submission_id: UUID, submitter: str, **fields: Any
) -> VersionRecord:
    """A rejected version number submitted again: the row starts over for the new submission."""
    row = await db.fetchrow(
        "UPDATE registry.versions SET submission_id = $2, submitter = $3, status = 'VALIDATING', "
        "status_reason = '', stage = NULL, validation = NULL, benchmark = NULL, "
        "hardware_profiles = '{}', review = NULL, review_requested_at = NULL, signer = NULL, "
        "updated_at = now() "
        "WHERE id = $1 RETURNING *",
        version_id,
        submission_id,
        submitter,
    )
    record: VersionRecord = VersionRecord.of(row)
    return await update(db, version_id, **fields) if fields else record


async def in_stage(db: Executor, model_id: int, stage: str) -> list[VersionRecord]:
    rows = await db.fetch(
        "SELECT * FROM registry.versions WHERE model_id = $1 AND stage = $2 AND status = "
        "'REGISTERED' ORDER BY id",
        model_id,
        stage,
    )
    return [VersionRecord.of(r) for r in rows]


# -- the Kubeflow API's reads: each with the reader's visibility rule in its one statement -------


async def page(
    db: Reader,
    audience: Audience,
    paging: Paging,
    where: list[str],
    params: list[Any],
    *,
    columns: str,
    name: str | None = None,
    external_id: str | None = None,
) -> tuple[list[Any], str]:
    """One page of the versions `audience` sees under `where` (on alias `v`), as rows of
    `columns`; `name` and `external_id` narrow it when given."""
    where = [*where, audience.version_sql("v")]
    pages.equal(where, params, ("v.version", name), ("v.external_id", external_id))
    return await pages.page(
        db,
        select=f"SELECT {columns} FROM registry.versions v",  # noqa: S608
        alias="v",
        where=where,
        params=params,
        paging=paging,
    )


async def page_of_model(
    db: Reader,
    audience: Audience,
    paging: Paging,
    where: list[str],
    params: list[Any],
    *,
    model_id: int,
    columns: str,
    name: str | None = None,
    external_id: str | None = None,
) -> tuple[list[Any], str] | None:
    """A model's versions and whether the model is there for this reader, in one round
    trip: the page joins the model, so no row means an unknown or hidden model (None) and
    one row of NULLs an empty page."""
    where = [*where, audience.version_sql("v")]
    pages.equal(where, params, ("v.version", name), ("v.external_id", external_id))
    params.append(model_id)
    where.append(f"v.model_id = ${len(params)}")
    model = len(params)
    inner, column, order = pages.page_sql(
        select=f"SELECT {columns} FROM registry.versions v",  # noqa: S608
        alias="v",
        where=where,
        params=params,
        paging=paging,
    )
    rows = await db.fetch(
        f"SELECT page.* FROM registry.models m LEFT JOIN LATERAL ({inner}) page ON TRUE "  # noqa: S608
        f"WHERE m.id = ${model} AND {audience.model_sql('m')} "
        f"ORDER BY {order.replace('v.', 'page.')}",
        *params,
    )
    if not rows:
        return None
    if rows[0]["id"] is None:
        return [], ""
    return pages.cut(rows, column, paging)


async def visible(db: Reader, audience: Audience, version_id: int, *, columns: str) -> Any:
    """The row (of `columns`) of a version `audience` sees, None for an unknown or hidden one."""
    return await db.fetchrow(
        f"SELECT {columns} FROM registry.versions v "  # noqa: S608
        f"WHERE v.id = $1 AND {audience.version_sql('v')}",
        version_id,
    )


async def visible_named(db: Executor, audience: Audience, version: str) -> list[VersionRecord]:
    """The first two versions called `version` (of any model) that `audience` sees: only those
    count, so "several models" never reveals a hidden one."""
    rows = await db.fetch(
        "SELECT * FROM registry.versions v "  # noqa: S608
        f"WHERE v.version = $1 AND {audience.version_sql('v')} ORDER BY v.id LIMIT 2",
        version,
    )
    return [VersionRecord.of(r) for r in rows]
