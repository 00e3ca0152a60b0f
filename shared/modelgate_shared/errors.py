"""One error shape for every HTTP API: {"code": "<status>", "message": "<reason>"}.

It is the Kubeflow Model Registry's `Error` schema, so its clients read our errors too.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from modelgate_shared.transient import TRANSIENT, is_transient

log = logging.getLogger(__name__)

REFUSED_BY_DATABASE: tuple[type[Exception], ...] = (
    # SQLSTATE class 22 (a value the column or cast cannot hold: NUL in text, a number out of
    # range, a malformed date), and asyncpg's own refusal to encode an argument, which it
    # raises as the same class.
    asyncpg.DataError,
    # Class 54: a value too big for what holds it (an index row over 8 KiB).
    asyncpg.ProgramLimitExceededError,
)
"""What PostgreSQL refuses because of the value a client sent, not because it is away."""


class ErrorBody(BaseModel):
    code: str
    message: str


class ApiError(Exception):
    """Raise anywhere in a request to answer with a status and a clear message."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or (
            {"WWW-Authenticate": "Bearer"} if status == HTTPStatus.UNAUTHORIZED else None
        )


def error_response(
    status: int, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body = ErrorBody(code=str(status), message=message)
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def _describe_validation(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        parts.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
    return "invalid request: " + "; ".join(parts)


def install_error_handlers(app: FastAPI) -> None:
    async def on_api_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return error_response(exc.status, exc.message, exc.headers)

    async def on_http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return error_response(exc.status_code, str(exc.detail), exc.headers)

    async def on_validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(HTTPStatus.UNPROCESSABLE_ENTITY, _describe_validation(exc))

    async def on_unavailable(_: Request, exc: Exception) -> JSONResponse:
        if not is_transient(exc):
            raise exc
        return error_response(
            HTTPStatus.SERVICE_UNAVAILABLE,
            f"a dependency is unavailable ({type(exc).__name__}); retry shortly",
            {"Retry-After": "1"},
        )

    async def on_refused_value(request: Request, exc: Exception) -> JSONResponse:
        # The edge validates what it knows to validate; this is the net under it, so a value
        # that slipped through is the client's 400, never a traceback and a 500.
        log.warning(
            "database refused a value of %s %s: %s: %s",
            request.method,
            request.url.path,
            type(exc).__name__,
            str(exc)[:300],
        )
        return error_response(
            HTTPStatus.BAD_REQUEST, f"invalid value in the request: {str(exc)[:300]}"
        )

    app.add_exception_handler(ApiError, on_api_error)
    for kind in REFUSED_BY_DATABASE:
        app.add_exception_handler(kind, on_refused_value)
    for kind in TRANSIENT:
        app.add_exception_handler(kind, on_unavailable)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
