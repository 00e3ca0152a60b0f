"""Transitions, aliases, deployments and processed event ids."""

from __future__ import annotations

from uuid import UUID

from modelgate_registry.records import AliasRecord, DeploymentRecord, TransitionRecord
from modelgate_registry.store.deferred import deferred
from modelgate_shared.db.pool import Executor


async def add_transition(
    db: Executor,
    version_id: int,
    *,
    kind: str,
    from_value: str | None,
    to_value: str,
    actor: str,
    approver: str | None = None,
    reason: str = "",
) -> None:
    row = (version_id, kind, from_value, to_value, actor, approver, reason)
    batch = deferred(db)
    if batch is not None:  # a consumer's batch: inserted with the batch's others at its end
        batch.transitions.append(row)
        return
    await db.execute(
        "INSERT INTO registry.transitions (version_id, kind, from_value, to_value, actor, "
        "approver, reason) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        *row,
    )


async def transitions(db: Executor, version_id: int) -> list[TransitionRecord]:
    rows = await db.fetch(
        "SELECT * FROM registry.transitions WHERE version_id = $1 ORDER BY id", version_id
    )
    return [TransitionRecord.of(r) for r in rows]


async def set_alias(
    db: Executor, model_id: int, alias: str, version_id: int, actor: str
) -> int | None:
    """Point `alias` at a version (one statement: atomic); returns the version it left."""
    previous: int | None = await db.fetchval(
        "SELECT version_id FROM registry.aliases WHERE model_id = $1 AND alias = $2",
        model_id,
        alias,
    )
    await db.execute(
        "INSERT INTO registry.aliases (model_id, alias, version_id, updated_by) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT (model_id, alias) DO UPDATE SET "
        "version_id = EXCLUDED.version_id, updated_by = EXCLUDED.updated_by, updated_at = now()",
        model_id,
        alias,
        version_id,
        actor,
    )
    return previous


async def delete_alias(db: Executor, model_id: int, alias: str) -> int | None:
    version_id: int | None = await db.fetchval(
        "DELETE FROM registry.aliases WHERE model_id = $1 AND alias = $2 RETURNING version_id",
        model_id,
        alias,
    )
    return version_id


async def aliases(db: Executor, model_id: int, visible: str = "TRUE") -> list[AliasRecord]:
    """The model's aliases; `visible` is a SQL predicate on the version `v` (visibility.py)."""
    rows = await db.fetch(
        "SELECT a.alias, a.version_id, v.version, a.updated_by, a.updated_at "  # noqa: S608
        "FROM registry.aliases a JOIN registry.versions v ON v.id = a.version_id "
        f"WHERE a.model_id = $1 AND {visible} ORDER BY a.alias",
        model_id,
    )
    return [AliasRecord.of(r) for r in rows]


async def add_deployment(
    db: Executor, model_id: int, version_id: int, *, environment: str, actor: str, note: str
) -> DeploymentRecord:
    row = await db.fetchrow(
        "WITH d AS (INSERT INTO registry.deployments (model_id, version_id, environment, actor, "
        "note) VALUES ($1, $2, $3, $4, $5) RETURNING *) "
        "SELECT d.*, v.version FROM d JOIN registry.versions v ON v.id = d.version_id",
        model_id,
        version_id,
        environment,
        actor,
        note,
    )
    return DeploymentRecord.of(row)  # type: ignore[no-any-return]


async def deployments(db: Executor, model_id: int, visible: str = "TRUE") -> list[DeploymentRecord]:
    """The model's deployments, newest first; `visible` as in `aliases`."""
    rows = await db.fetch(
        "SELECT d.*, v.version FROM registry.deployments d "  # noqa: S608
        "JOIN registry.versions v ON v.id = d.version_id "
        f"WHERE d.model_id = $1 AND {visible} ORDER BY d.deployed_at DESC, d.id DESC",
        model_id,
    )
    return [DeploymentRecord.of(r) for r in rows]


async def running_where(
    db: Executor, model_id: int, visible: str = "TRUE"
) -> list[DeploymentRecord]:
    """The latest deployment in each environment: which version runs where. `visible` drops
    environments whose latest version the reader may not see (never shows an older one)."""
    rows = await db.fetch(
        "SELECT * FROM (SELECT DISTINCT ON (d.environment) d.*, v.version, "  # noqa: S608
        f"{visible} AS visible FROM registry.deployments d "
        "JOIN registry.versions v ON v.id = d.version_id WHERE d.model_id = $1 "
        "ORDER BY d.environment, d.deployed_at DESC, d.id DESC) r WHERE r.visible",
        model_id,
    )
    return [DeploymentRecord.of(r) for r in rows]


async def first_time(db: Executor, consumer: str, event_id: UUID) -> bool:
    """Record an event as processed; False if it already was (a redelivery)."""
    inserted = await db.fetchval(
        "INSERT INTO registry.processed_events (consumer, event_id) VALUES ($1, $2) "
        "ON CONFLICT DO NOTHING RETURNING true",
        consumer,
        event_id,
    )
    return bool(inserted)


async def first_times(db: Executor, consumer: str, event_ids: list[UUID]) -> set[UUID]:
    """Record a batch of events as processed; returns the ids seen for the first time."""
    rows = await db.fetch(
        "INSERT INTO registry.processed_events (consumer, event_id) "
        "SELECT $1, e FROM unnest($2::uuid[]) AS e ON CONFLICT DO NOTHING RETURNING event_id",
        consumer,
        event_ids,
    )
    return {r["event_id"] for r in rows}


async def refuse_submission(db: Executor, submission_id: UUID, reason: str) -> bool:
    """Remember a refused submission; False if it was refused already."""
    inserted = await db.fetchval(
        "INSERT INTO registry.refused_submissions (submission_id, reason) VALUES ($1, $2) "
        "ON CONFLICT DO NOTHING RETURNING true",
        submission_id,
        reason,
    )
    return bool(inserted)


async def was_refused(db: Executor, submission_id: UUID) -> bool:
    """Whether that submission was refused (`refuse_submission`)."""
    found = await db.fetchval(
        "SELECT 1 FROM registry.refused_submissions WHERE submission_id = $1", submission_id
    )
    return bool(found)
