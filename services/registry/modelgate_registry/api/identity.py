"""`GET /api/v1/me`: who the token stands for, so a client (the web catalog) can show what
this caller may do without trying each command. The server still checks every command."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from modelgate_shared.auth import AuthDep, Permission
from modelgate_shared.errors import ErrorBody

router = APIRouter(prefix="/api/v1", tags=["catalog"])
ERRORS: dict[int | str, dict[str, Any]] = {401: {"model": ErrorBody}}


class Me(BaseModel):
    subject: str
    """What audit entries and events name as the actor."""
    roles: list[str]
    permissions: list[str]
    """Every permission the roles grant (`catalog:read`, `model:transition`, ...)."""


@router.get("/me", response_model=Me, responses=ERRORS)
async def me(principal: AuthDep) -> Me:
    """The caller's subject, roles and permissions. Any valid token may ask."""
    return Me(
        subject=principal.subject,
        roles=sorted(principal.roles),
        permissions=[p.value for p in Permission if principal.can(p)],
    )
