"""`registry.artifacts`: a version's model artifact and other artifacts, or ones of no version."""

from __future__ import annotations

from typing import Any

from modelgate_registry.records import ArtifactRecord
from modelgate_registry.store import pages
from modelgate_registry.store.deferred import deferred
from modelgate_registry.store.pages import Paging, Reader
from modelgate_registry.visibility import Audience
from modelgate_shared.db.pool import Executor


async def page(
    db: Reader,
    audience: Audience,
    paging: Paging,
    where: list[str],
    params: list[Any],
    *,
    version_id: int | None = None,
    name: str | None = None,
    external_id: str | None = None,
    artifact_type: str | None = None,
) -> tuple[list[ArtifactRecord], str]:
    """One page of the artifacts `audience` sees under `where` (on alias `a`); the keyword
    arguments narrow it when given."""
    where = [*where, audience.artifact_sql("a")]
    pages.equal(
        where,
        params,
        ("a.version_id", version_id),
        ("a.name", name),
        ("a.external_id", external_id),
        ("a.artifact_type", artifact_type),
    )
    rows, token = await pages.page(
        db,
        select="SELECT a.* FROM registry.artifacts a",
        alias="a",
        where=where,
        params=params,
        paging=paging,
    )
    return [ArtifactRecord.of(r) for r in rows], token


async def find(
    db: Executor,
    audience: Audience,
    *,
    external_id: str | None = None,
    name: str | None = None,
    version_id: int | None = None,
    artifact_type: str | None = None,
) -> ArtifactRecord | None:
    """The first artifact (by id) `audience` sees that matches every argument given."""
    params: list[Any] = []
    where: list[str] = []
    pages.equal(
        where,
        params,
        ("external_id", external_id),
        ("name", name),
        ("version_id", version_id),
        ("artifact_type", artifact_type),
    )
    where.append(audience.artifact_sql("a"))
    row = await db.fetchrow(
        f"SELECT * FROM registry.artifacts a WHERE {' AND '.join(where)} "  # noqa: S608
        "ORDER BY id LIMIT 1",
        *params,
    )
    return ArtifactRecord.of(row)  # type: ignore[no-any-return]


async def visible(db: Executor, audience: Audience, artifact_id: int) -> ArtifactRecord | None:
    """The artifact if `audience` sees it."""
    row = await db.fetchrow(
        "SELECT * FROM registry.artifacts a "  # noqa: S608
        f"WHERE a.id = $1 AND {audience.artifact_sql('a')}",
        artifact_id,
    )
    return ArtifactRecord.of(row)  # type: ignore[no-any-return]


async def locked(db: Executor, artifact_id: int) -> ArtifactRecord | None:
    """The artifact, its row locked for this transaction."""
    row = await db.fetchrow(
        "SELECT * FROM registry.artifacts WHERE id = $1 FOR UPDATE", artifact_id
    )
    return ArtifactRecord.of(row)  # type: ignore[no-any-return]


async def of_version(
    db: Executor, version_id: int, artifact_type: str, name: str | None
) -> ArtifactRecord | None:
    """A version's artifact of that type and name (a missing name matches a missing name)."""
    row = await db.fetchrow(
        "SELECT * FROM registry.artifacts WHERE version_id = $1 AND artifact_type = $2 "
        "AND name IS NOT DISTINCT FROM $3",
        version_id,
        artifact_type,
        name,
    )
    return ArtifactRecord.of(row)  # type: ignore[no-any-return]


async def create(
    db: Executor,
    *,
    version_id: int | None,
    artifact_type: str,
    name: str | None,
    uri: str | None,
    state: str,
    description: str | None,
    external_id: str | None,
    properties: dict[str, Any],
    custom_properties: dict[str, Any],
) -> ArtifactRecord:
    """Insert an artifact (of a version, or of none); raises asyncpg.UniqueViolationError when
    its externalId is taken."""
    row = await db.fetchrow(
        "INSERT INTO registry.artifacts (version_id, artifact_type, name, uri, state, "
        "description, external_id, properties, custom_properties) VALUES ($1, $2, $3, $4, "
        "$5, $6, $7, $8, $9) RETURNING *",
        version_id,
        artifact_type,
        name,
        uri,
        state,
        description,
        external_id,
        properties,
        custom_properties,
    )
    return ArtifactRecord.of(row)  # type: ignore[no-any-return]


async def update(
    db: Executor,
    artifact_id: int,
    *,
    name: str | None,
    uri: str | None,
    state: str,
    description: str | None,
    external_id: str | None,
    properties: dict[str, Any],
    custom_properties: dict[str, Any],
) -> ArtifactRecord:
    """Set every field of an artifact; raises asyncpg.UniqueViolationError when its new
    externalId is taken."""
    row = await db.fetchrow(
        "UPDATE registry.artifacts SET name = $2, uri = $3, state = $4, description = $5, "
        "external_id = $6, properties = $7, custom_properties = $8, updated_at = now() "
        "WHERE id = $1 RETURNING *",
        artifact_id,
        name,
        uri,
        state,
        description,
        external_id,
        properties,
        custom_properties,
    )
    return ArtifactRecord.of(row)  # type: ignore[no-any-return]


async def pin_model_artifact(
    db: Executor, version_id: int, uri: str, name: str, model_format: str
) -> None:
    """Point the version's model artifact at `uri` (the pinned copy), adding the artifact when
    the version has none. One statement: the version's row is locked by the caller, so nobody
    adds one in between (in a consumer's batch, at the batch's end: `deferred.py`)."""
    properties = {"modelFormatName": model_format}
    batch = deferred(db)
    if batch is not None:
        batch.pins[version_id] = (version_id, uri, name, properties)
        return
    await db.execute(
        "WITH replaced AS (UPDATE registry.artifacts SET uri = $2, updated_at = now() "
        "WHERE version_id = $1 AND artifact_type = 'model-artifact' RETURNING 1) "
        "INSERT INTO registry.artifacts (version_id, name, uri, state, properties) "
        "SELECT $1::bigint, $3::text, $2::text, 'LIVE', $4::jsonb "
        "WHERE NOT EXISTS (SELECT 1 FROM replaced)",
        version_id,
        uri,
        name,
        properties,
    )
