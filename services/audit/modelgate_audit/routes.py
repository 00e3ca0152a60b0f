"""HTTP API of the audit service: query the log, verify the chain, read the checkpoints."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any, Literal

import asyncpg
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from modelgate_audit.checkpoints import CheckpointStore, Signer
from modelgate_audit.verify import verify
from modelgate_shared.auth import Permission, Principal, require
from modelgate_shared.errors import ApiError, ErrorBody
from modelgate_shared.query_types import INT64_MAX, Moment

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 413, 422)
}
Reader = Annotated[Principal, Depends(require(Permission.AUDIT_READ))]
Verifier = Annotated[Principal, Depends(require(Permission.AUDIT_VERIFY))]


async def _pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.pool
    return pool


Pool = Annotated[asyncpg.Pool, Depends(_pool)]


class Entry(BaseModel):
    seq: int
    action: str
    model: str | None
    version: str | None
    subject: str | None
    actor: str | None
    from_stage: str | None
    to_stage: str | None
    approver: str | None
    reason: str | None
    event_id: str
    event_type: str
    topic: str
    event_time: datetime
    recorded_at: datetime
    hash: str


class EntryPage(BaseModel):
    items: list[Entry]
    next_cursor: int | None
    """Pass as `cursor` for the next page (entries after this sequence number)."""


@router.get("/entries", response_model=EntryPage, responses=ERRORS)
async def entries(
    pool: Pool,
    _: Reader,
    model: str | None = None,
    version: str | None = None,
    actor: str | None = None,
    event_type: Annotated[str | None, Query(alias="type")] = None,
    action: str | None = None,
    since: Moment | None = None,
    until: Moment | None = None,
    cursor: Annotated[int, Query(ge=0, le=INT64_MAX)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EntryPage:
    """Entries in chain order, filtered by model, version, actor, event type or action and
    event time (`since` inclusive, `until` exclusive)."""
    clauses: list[str] = ["seq > $1"]
    params: list[Any] = [cursor]
    for column, value in (
        ("model", model),
        ("version", version),
        ("actor", actor),
        ("event_type", event_type),
        ("action", action),
    ):
        if value is not None:
            params.append(value)
            clauses.append(f"{column} = ${len(params)}")
    if since is not None:
        params.append(since)
        clauses.append(f"event_time >= ${len(params)}")
    if until is not None:
        params.append(until)
        clauses.append(f"event_time < ${len(params)}")
    params.append(limit + 1)
    # Only fixed column names are formatted in; every value is a parameter.
    where = " AND ".join(clauses)
    sql = (
        "SELECT seq, action, model, version, subject, actor, from_stage, to_stage, approver, "  # noqa: S608
        "reason, event_id::text, event_type, topic, event_time, recorded_at, "
        f"encode(hash, 'hex') AS hash FROM audit.log WHERE {where} "
        f"ORDER BY seq LIMIT ${len(params)}"
    )
    rows = await pool.fetch(sql, *params)
    items = [Entry.model_validate(dict(r)) for r in rows[:limit]]
    return EntryPage(items=items, next_cursor=items[-1].seq if len(rows) > limit else None)


@router.get("/verify", responses=ERRORS)
async def verify_chain(
    request: Request,
    pool: Pool,
    _: Verifier,
    start: Annotated[Literal["genesis", "checkpoint"], Query(alias="from")] = "genesis",
) -> dict[str, Any]:
    """Walk the chain (from the first entry, or from the latest signed checkpoint): ok with the
    head, or the first bad sequence number and why. Also checks every signed checkpoint."""
    signer: Signer | None = request.app.state.signer
    store: CheckpointStore | None = request.app.state.checkpoints
    checkpoints = await store.recent() if store is not None else []
    async with pool.acquire() as conn:
        report = await verify(
            conn,
            checkpoints,
            signer.public if signer else None,
            from_checkpoint=start == "checkpoint",
        )
    return asdict(report)


@router.get("/checkpoints", responses=ERRORS)
async def checkpoints(request: Request, _: Verifier) -> list[dict[str, Any]]:
    store: CheckpointStore | None = request.app.state.checkpoints
    if store is None:
        raise ApiError(400, "checkpoints are off: no signing key is configured")
    return [asdict(c) for c in await store.recent()]


@router.get("/public-key", response_class=PlainTextResponse, responses=ERRORS)
async def public_key(request: Request, _: Verifier) -> str:
    """The Ed25519 public key checkpoints are signed with (PEM), to verify them elsewhere."""
    signer: Signer | None = request.app.state.signer
    if signer is None:
        raise ApiError(400, "checkpoints are off: no signing key is configured")
    return signer.public_pem()
