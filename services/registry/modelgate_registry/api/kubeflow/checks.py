"""The checks every Kubeflow operation applies to what it was sent: ids, names, permissions."""

from __future__ import annotations

import asyncpg

from modelgate_registry import errors
from modelgate_shared.auth import Permission, Principal
from modelgate_shared.errors import ApiError


def parse_id(value: str, what: str) -> int:
    """A decimal id as the API sends it; anything else names nothing here (404)."""
    # isascii: str.isdigit() is also true of "¹" (which int() refuses: a 500, found by the
    # API fuzzing) and of other scripts' digits (which int() reads, so "٣" was id 3).
    if not (value.isascii() and value.isdigit()) or not 0 < int(value) < 10**9:
        raise errors.not_found(f"{what} {value!r}")
    return int(value)


def check_name(problem: str | None) -> None:
    """The naming rules ingest and the validator apply (modelgate_shared.names): 422."""
    if problem is not None:
        raise ApiError(422, problem)


def no_rename(what: str, current: str, sent: str | None) -> None:
    """Names are identities (events, audit entries and aliases refer to them): a PATCH may
    repeat the name, as the upstream client does, but not change it."""
    if sent is not None and sent != current:
        raise ApiError(422, f"a {what}'s name cannot change ({current!r}); create a new one")


def require(actor: Principal, permission: Permission, what: str) -> None:
    if not actor.can(permission):
        raise errors.forbidden(f"{actor.subject!r} lacks permission '{permission}' to {what}")


def duplicate(exc: asyncpg.UniqueViolationError, what: str) -> str:
    """The 409's reason for a unique violation: the externalId, or `what` that exists."""
    detail = getattr(exc, "detail", "") or ""
    if "external_id" in detail:
        return f"externalId already in use: {detail}"
    return f"{what} already exists"
