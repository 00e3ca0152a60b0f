"""HTTP manners every service keeps: HEAD wherever GET is allowed, and headers that keep
authenticated answers out of caches and browsers from guessing their type.

FastAPI routes answer only the methods they declare, so HEAD would be a 405 everywhere (even
`/healthz`). Here a HEAD runs as the GET it stands for and its body is dropped, headers and
Content-Length kept, as RFC 9110 asks.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NO_STORE = "no-store"


class HttpHygiene:
    """Pure ASGI middleware; see the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        if head:
            scope = {**scope, "method": "GET"}
        # An answer to a request that carried credentials is that caller's alone: no shared
        # cache may keep it. Static assets (no credentials) stay cacheable.
        authenticated = any(name == b"authorization" for name, _ in scope["headers"])

        async def send_with_manners(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                if authenticated or message["status"] in (401, 403):
                    headers.setdefault("Cache-Control", NO_STORE)
            elif message["type"] == "http.response.body" and head:
                message = {**message, "body": b""}
            await send(message)

        await self.app(scope, receive, send_with_manners)
