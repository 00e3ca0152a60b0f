"""The chain as it was hashed, for verification elsewhere (`modelgate audit verify --offline`).

The query API shows entries as columns; a verifier that trusts nobody needs what was hashed:
each entry's canonical bytes, its previous hash and its hash. With the signed checkpoints and
the public key (both published), anyone can recompute the chain without the database or this
service's word.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from modelgate_shared.auth import Permission, Principal, require
from modelgate_shared.errors import ErrorBody
from modelgate_shared.query_types import INT64_MAX

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 422)
}
Reader = Annotated[Principal, Depends(require(Permission.AUDIT_READ))]


class ExportedEntry(BaseModel):
    seq: int
    prev_hash: str
    """Hex SHA-256 of entry `seq - 1` (32 zero bytes for the first)."""
    hash: str
    """Hex `sha256(prev_hash || canonical)`."""
    canonical: str
    """Base64 of the RFC 8785 bytes of `{seq, recorded_at, topic, event}` that were hashed."""


class ExportPage(BaseModel):
    items: list[ExportedEntry]
    next_cursor: int | None
    """Pass as `cursor` for the next page (entries after this sequence number)."""


async def _pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.pool
    return pool


@router.get("/export", response_model=ExportPage, responses=ERRORS)
async def export(
    pool: Annotated[asyncpg.Pool, Depends(_pool)],
    _: Reader,
    cursor: Annotated[int, Query(ge=0, le=INT64_MAX)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> ExportPage:
    """Entries after `cursor` in chain order, with the bytes that were hashed."""
    rows = await pool.fetch(
        "SELECT seq, prev_hash, hash, canonical FROM audit.log WHERE seq > $1 "
        "ORDER BY seq LIMIT $2",
        cursor,
        limit + 1,
    )
    items = [
        ExportedEntry(
            seq=r["seq"],
            prev_hash=bytes(r["prev_hash"]).hex(),
            hash=bytes(r["hash"]).hex(),
            canonical=base64.b64encode(bytes(r["canonical"])).decode(),
        )
        for r in rows[:limit]
    ]
    return ExportPage(items=items, next_cursor=items[-1].seq if len(rows) > limit else None)
