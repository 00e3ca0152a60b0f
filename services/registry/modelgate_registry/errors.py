"""The registry's refusals, as the domain states them: no HTTP here.

A rule that refuses raises one of these with the reason a person can act on. The HTTP edge
(`main.py` registers `answer_domain_error`) turns each kind into its status once: not found
404, forbidden 403, conflict 409, invalid 400. So the same rules can be driven and tested
without a web server, and every API answers them alike.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

from modelgate_shared.errors import error_response


class DomainError(Exception):
    """A registry rule refused the request; `reason` says why."""

    status = 400

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotFound(DomainError):
    """It does not exist, or the caller may not know it does (the visibility rule)."""

    status = 404


class Forbidden(DomainError):
    """The caller may not do this (a missing permission, four-eyes)."""

    status = 403


class Conflict(DomainError):
    """Not in the state this needs (a version not waiting for review, an alias in the way)."""

    status = 409


class Invalid(DomainError):
    """A malformed query: a forged page token, a filter or sort the catalog does not have."""

    status = 400


def not_found(what: str) -> NotFound:
    return NotFound(f"{what} not found")


def conflict(reason: str) -> Conflict:
    return Conflict(reason)


def forbidden(reason: str) -> Forbidden:
    return Forbidden(reason)


def invalid(reason: str) -> Invalid:
    return Invalid(reason)


async def answer_domain_error(_: Request, exc: Exception) -> JSONResponse:
    """The HTTP edge: a domain refusal as the one error shape every API uses."""
    assert isinstance(exc, DomainError)
    return error_response(exc.status, exc.reason)
