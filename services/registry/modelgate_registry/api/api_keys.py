"""`/api/v1/api-keys`: an admin creates API keys for machines (CI jobs, callbacks), lists and
revokes them. The key itself is answered once, at creation; only its SHA-256 is stored.
Every service checks keys against the same table, so a revocation is refused everywhere from
the next request on (modelgate_shared.auth.api_keys)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from modelgate_registry.api.deps import PoolDep
from modelgate_registry.store import api_keys
from modelgate_registry.store.api_keys import ApiKeyRecord
from modelgate_shared.auth import Permission, Principal, Role, hash_token, require
from modelgate_shared.auth.api_keys import new_key
from modelgate_shared.errors import ApiError, ErrorBody

router = APIRouter(prefix="/api/v1/api-keys", tags=["api keys"])
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 422)
}
KeyAdmin = Annotated[Principal, Depends(require(Permission.API_KEY_MANAGE))]
SUBJECT = r"^[A-Za-z0-9._@:+-]{1,128}$"
MAX_DAYS = 366


class ApiKeyIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, examples=["nightly CI"])
    """What the key is for, in words (shown in listings)."""
    owner: str = Field(pattern=SUBJECT, examples=["ci-bot"])
    """Who acts with the key: the subject audit entries and events name."""
    roles: list[Role] = Field(min_length=1, max_length=4, examples=[["data-scientist"]])
    expires_in_days: int = Field(90, ge=1, le=MAX_DAYS)
    """Every key expires; at most a year (a new key replaces it)."""


class ApiKeyOut(ApiKeyRecord):
    state: str
    """`active`, `expired` or `revoked`, at the time of the answer."""

    @classmethod
    def of(cls, record: ApiKeyRecord) -> ApiKeyOut:
        if record.revoked_at is not None:
            state = "revoked"
        elif record.expires_at <= datetime.now(UTC):
            state = "expired"
        else:
            state = "active"
        return cls(**vars(record), state=state)


class ApiKeyCreated(ApiKeyOut):
    key: str
    """The key, shown this once: send it as `Authorization: Bearer <key>`."""


class RevokeIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, examples=["CI runner decommissioned"])


@router.post("", response_model=ApiKeyCreated, status_code=201, responses=ERRORS)
async def create_key(body: ApiKeyIn, admin: KeyAdmin, pool: PoolDep) -> ApiKeyCreated:
    """Create a key for a machine (admins only). The answer holds the key; it cannot be
    shown again."""
    key = new_key()
    record = await api_keys.insert(
        pool,
        key_id=uuid4(),
        name=body.name,
        owner=body.owner,
        roles=sorted({r.value for r in body.roles}),
        sha256=hash_token(key),
        created_by=admin.subject,
        expires_at=datetime.now(UTC) + timedelta(days=body.expires_in_days),
    )
    return ApiKeyCreated(**vars(ApiKeyOut.of(record)), key=key)


@router.get("", response_model=list[ApiKeyOut], responses=ERRORS)
async def list_keys(
    _: KeyAdmin,
    pool: PoolDep,
    owner: Annotated[str | None, Query(pattern=SUBJECT)] = None,
    include_revoked: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[ApiKeyOut]:
    """Keys, newest first, never the keys themselves (admins only)."""
    records = await api_keys.listing(
        pool, owner=owner, include_revoked=include_revoked, limit=limit
    )
    return [ApiKeyOut.of(r) for r in records]


@router.get("/{key_id}", response_model=ApiKeyOut, responses=ERRORS)
async def get_key(key_id: UUID, _: KeyAdmin, pool: PoolDep) -> ApiKeyOut:
    record = await api_keys.by_id(pool, key_id)
    if record is None:
        raise ApiError(404, f"no API key {key_id}")
    return ApiKeyOut.of(record)


@router.post("/{key_id}/revoke", response_model=ApiKeyOut, responses=ERRORS)
async def revoke_key(key_id: UUID, body: RevokeIn, admin: KeyAdmin, pool: PoolDep) -> ApiKeyOut:
    """Revoke a key (admins only): every service refuses it from the next request on."""
    record = await api_keys.revoke(pool, key_id, admin.subject, body.reason)
    if record is not None:
        return ApiKeyOut.of(record)
    existing = await api_keys.by_id(pool, key_id)
    if existing is None:
        raise ApiError(404, f"no API key {key_id}")
    raise ApiError(409, f"API key {key_id} was already revoked at {existing.revoked_at}")
