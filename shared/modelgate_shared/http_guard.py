"""Refusals at the very edge, before any route runs: control characters in the path or query,
JSON bodies over their endpoint's size limit, and NUL or other control characters escaped in a
JSON body.

PostgreSQL refuses NUL in text and an unbounded body costs memory for every reader of what it
stored, so both are answered here, with the API's JSON error, for every route at once. Uploads
(multipart) are streamed by their route and limited there; only JSON is buffered here, which
FastAPI would read whole anyway.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote_to_bytes

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from modelgate_shared.errors import ErrorBody, error_response

KIB = 1024
MIB = 1024 * KIB

_CONTROL = re.compile(rb"[\x00-\x1f\x7f]")
# A JSON escape of a C0 control character other than tab, LF and CR (which free text such as
# a description may hold), or of DEL; an even run of backslashes before it is an escaped
# backslash, not an escape.
_ESCAPED_CONTROL = re.compile(
    rb"(?<!\\)(?:\\\\)*\\u00(?:0[0-8bBcCeEfF]|1[0-9a-fA-F]|7[fF])",
)
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def holds_escaped_control(body: bytes | bytearray) -> bool:
    """Whether JSON text escapes a control character no text field may hold (see above)."""
    return _ESCAPED_CONTROL.search(body) is not None


@dataclass(frozen=True)
class BodyLimits:
    """The largest JSON body each endpoint takes: the longest matching path prefix wins."""

    default: int = 256 * KIB
    by_prefix: dict[str, int] = field(default_factory=dict)

    def for_path(self, path: str) -> int:
        best = ""
        for prefix in self.by_prefix:
            if path.startswith(prefix) and len(prefix) > len(best):
                best = prefix
        return self.by_prefix[best] if best else self.default


def _is_json(content_type: str) -> bool:
    # FastAPI reads a body without a content type as JSON too.
    kind = content_type.split(";", 1)[0].strip().lower()
    return not kind or kind == "application/json" or kind.endswith("+json")


class RequestGuard:
    """Pure ASGI middleware; see the module docstring."""

    def __init__(self, app: ASGIApp, limits: BodyLimits | None = None) -> None:
        self.app = app
        self.limits = limits or BodyLimits()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if _CONTROL.search(path.encode("utf-8", "surrogateescape")):
            await self._refuse(scope, send, HTTPStatus.BAD_REQUEST, "control character in path")
            return
        if _CONTROL.search(unquote_to_bytes(scope.get("query_string", b""))):
            await self._refuse(
                scope, send, HTTPStatus.BAD_REQUEST, "control character in the query string"
            )
            return
        headers = dict(scope["headers"])
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        if scope["method"] not in _BODY_METHODS or not _is_json(content_type):
            await self.app(scope, receive, send)
            return
        limit = self.limits.for_path(path)
        declared = headers.get(b"content-length", b"").decode("latin-1")
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            await self._too_large(scope, send, limit)
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # nobody is left to answer
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > limit:
                await self._too_large(scope, send, limit)
                return
        if holds_escaped_control(body):
            await self._refuse(
                scope,
                send,
                HTTPStatus.BAD_REQUEST,
                "the JSON body holds a NUL or control character (\\u0000-\\u001f other than "
                "tab, line feed and carriage return): text fields cannot store it",
            )
            return
        await self.app(scope, _replay(bytes(body), receive), send)

    async def _too_large(self, scope: Scope, send: Send, limit: int) -> None:
        await self._refuse(
            scope,
            send,
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"the JSON body exceeds {limit} bytes, the limit of {scope['path']}",
        )

    async def _refuse(self, scope: Scope, send: Send, status: int, message: str) -> None:
        async def no_body() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        # The connection stays open: uvicorn discards the unread rest of the body, and the
        # client, which may still be sending it, reads the answer once it is done.
        response = error_response(status, message)
        await response(scope, no_body, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The buffered body once, then whatever the connection says next (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def document_refusals(app: FastAPI) -> None:
    """List the guard's answers in the OpenAPI document: a 400 on every operation (a control
    character can be in any path or query), a 413 on every one that takes a body, and the
    bearer check's 401 and 403 on every one that needs a token (found by the API fuzzing:
    /metrics documented neither)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        error = {
            "content": {"application/json": {"schema": ErrorBody.model_json_schema()}},
        }
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                responses.setdefault("400", {"description": "Bad Request", **error})
                if "requestBody" in operation:
                    responses.setdefault("413", {"description": "Content Too Large", **error})
                if operation.get("security"):
                    responses.setdefault("401", {"description": "Unauthorized", **error})
                    responses.setdefault("403", {"description": "Forbidden", **error})
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
