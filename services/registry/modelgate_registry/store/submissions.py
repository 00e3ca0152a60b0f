"""A new submission recorded in one round trip: its model made (or found) and locked, its
version inserted with its first history row, unless its submission id is already bound.

Every `model.submitted` took three statements before (the id's binding, the model's upsert,
the version's insert), each a round trip and, traced, a span; this is the same three as one
statement of data-modifying CTEs, which see one snapshot: the model's upsert runs only when
the id is unbound, the version's insert only on the model it returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from modelgate_registry.records import ModelRecord, VersionRecord
from modelgate_registry.store.versions import insert_parts
from modelgate_shared.db.pool import Executor


@dataclass(frozen=True)
class Recorded:
    bound: tuple[str, str] | None
    """The model name and version the submission id already belongs to (then nothing was
    made or locked, and `model` and `created` are None)."""
    model: ModelRecord | None
    """The submission's model, locked for this transaction (made if new)."""
    created: VersionRecord | None
    """The version made, or None when one of that number (or that submission id) exists."""


async def record_new(
    db: Executor,
    name: str,
    version: str,
    *,
    submission_id: UUID,
    submitter: str,
    status: str,
    model_fields: dict[str, Any],
    **fields: Any,
) -> Recorded:
    names, _, values = insert_parts(
        version=version,
        submission_id=submission_id,
        submitter=submitter,
        status=status,
        **fields,
    )
    first = 6  # $1 the submission id, $2-$6 the model's columns
    placeholders = ", ".join(f"${i}" for i in range(first + 1, first + 1 + len(values)))
    # Column names come from `insert_parts`, which lets only the table's own through. The
    # model's no-op DO UPDATE is what locks its row, new or old (as `models.ensure_locked`).
    statement = (
        "WITH bound AS (SELECT m.name, v.version FROM registry.versions v "  # noqa: S608
        "JOIN registry.models m ON m.id = v.model_id WHERE v.submission_id = $1), "
        "m AS (INSERT INTO registry.models (name, created_by, description, owner, license) "
        "SELECT $2, $3, $4, $5, $6 WHERE NOT EXISTS (SELECT 1 FROM bound) "
        "ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING *), "
        f"v AS (INSERT INTO registry.versions (model_id, {names}) "
        f"SELECT m.id, {placeholders} FROM m ON CONFLICT DO NOTHING RETURNING *), "
        "t AS (INSERT INTO registry.transitions (version_id, kind, to_value, actor, reason) "
        "SELECT id, 'status', status, submitter, 'submitted' FROM v) "
        "SELECT (SELECT to_jsonb(bound) FROM bound) AS bound, "
        "(SELECT to_jsonb(m) FROM m) AS model, (SELECT to_jsonb(v) FROM v) AS version"
    )
    row = await db.fetchrow(
        statement,
        submission_id,
        name,
        submitter,
        model_fields.get("description", ""),
        model_fields.get("owner"),
        model_fields.get("license"),
        *values,
    )
    assert row is not None  # a SELECT of three scalars: always one row
    bound = row["bound"]
    return Recorded(
        bound=None if bound is None else (bound["name"], bound["version"]),
        model=None if row["model"] is None else ModelRecord.model_validate(row["model"]),
        created=None if row["version"] is None else VersionRecord.model_validate(row["version"]),
    )
