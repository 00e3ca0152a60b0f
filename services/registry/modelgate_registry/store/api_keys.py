"""`identity.api_keys`: the registry adds and revokes keys; every service reads them
(modelgate_shared.auth.api_keys)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from modelgate_registry.records import Record
from modelgate_shared.db.pool import Executor


class ApiKeyRecord(Record):
    """A key's row without its hash (also the fields the admin API answers)."""

    id: UUID
    name: str
    owner: str
    roles: list[str]
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None
    revoke_reason: str | None


_COLUMNS = ", ".join(ApiKeyRecord.model_fields)


async def insert(
    db: Executor,
    *,
    key_id: UUID,
    name: str,
    owner: str,
    roles: list[str],
    sha256: str,
    created_by: str,
    expires_at: datetime,
) -> ApiKeyRecord:
    row = await db.fetchrow(
        "INSERT INTO identity.api_keys (id, name, owner, roles, sha256, created_by, expires_at) "  # noqa: S608
        f"VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {_COLUMNS}",
        key_id,
        name,
        owner,
        roles,
        sha256,
        created_by,
        expires_at,
    )
    return ApiKeyRecord.of(row)  # type: ignore[no-any-return]


async def listing(
    db: Executor, *, owner: str | None, include_revoked: bool, limit: int
) -> list[ApiKeyRecord]:
    rows = await db.fetch(
        f"SELECT {_COLUMNS} FROM identity.api_keys "  # noqa: S608
        "WHERE ($1::text IS NULL OR owner = $1) AND ($2 OR revoked_at IS NULL) "
        "ORDER BY created_at DESC, id LIMIT $3",
        owner,
        include_revoked,
        limit,
    )
    return [ApiKeyRecord.of(r) for r in rows]


async def issued_for(db: Executor, issuer: str, owners: Sequence[str]) -> frozenset[str]:
    """Those of `owners` that hold a key `issuer` created, in any state: a key revoked or
    expired since may have done what four-eyes now looks at."""
    rows = await db.fetch(
        "SELECT DISTINCT owner FROM identity.api_keys WHERE created_by = $1 AND owner = ANY($2)",
        issuer,
        list(owners),
    )
    return frozenset(r["owner"] for r in rows)


async def by_id(db: Executor, key_id: UUID) -> ApiKeyRecord | None:
    row = await db.fetchrow(
        f"SELECT {_COLUMNS} FROM identity.api_keys WHERE id = $1",  # noqa: S608
        key_id,
    )
    return ApiKeyRecord.of(row)  # type: ignore[no-any-return]


async def revoke(db: Executor, key_id: UUID, by: str, reason: str) -> ApiKeyRecord | None:
    """Revoke a key not yet revoked; None when there is no such key or it was revoked."""
    row = await db.fetchrow(
        "UPDATE identity.api_keys SET revoked_at = now(), revoked_by = $2, revoke_reason = $3 "  # noqa: S608
        f"WHERE id = $1 AND revoked_at IS NULL RETURNING {_COLUMNS}",
        key_id,
        by,
        reason,
    )
    return ApiKeyRecord.of(row)  # type: ignore[no-any-return]
