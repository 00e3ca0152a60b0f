"""One error shape for every HTTP API: {"code": "<status>", "message": "<reason>"}.

It is the Kubeflow Model Registry's `Error` schema, so its clients read our errors too.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from modelgate_shared.transient import TRANSIENT, is_transient


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

    app.add_exception_handler(ApiError, on_api_error)
    for kind in TRANSIENT:
        app.add_exception_handler(kind, on_unavailable)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
