"""The edge every service's app is built with: guard, manners, error net, header deadline."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn
from fastapi import Depends, FastAPI
from fastapi.security import HTTPBearer

from modelgate_shared.errors import install_error_handlers
from modelgate_shared.http_guard import BodyLimits, RequestGuard, document_refusals
from modelgate_shared.http_hygiene import HttpHygiene
from modelgate_shared.http_protocol import _HeadWithBody, with_header_timeout
from modelgate_shared.query_types import Moment
from tests.support.polling import until


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/items")
    async def items(since: Moment | None = None) -> dict[str, Any]:
        return {"items": [], "since": since}

    @app.post("/items")
    async def add(body: dict[str, Any]) -> dict[str, Any]:
        return body

    @app.post("/big/items")
    async def add_big(body: dict[str, Any]) -> dict[str, int]:
        return {"keys": len(body)}

    @app.get("/refused")
    async def refused() -> None:
        raise asyncpg.CharacterNotInRepertoireError("invalid byte sequence for encoding UTF8")

    app.add_middleware(RequestGuard, limits=BodyLimits(default=1024, by_prefix={"/big": 4096}))
    app.add_middleware(HttpHygiene)
    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        yield http


def _error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == str(status)
    message: str = body["message"]
    return message


async def test_control_characters_in_path_or_query_are_refused(client: httpx.AsyncClient) -> None:
    assert "path" in _error(await client.get("/items%00x"), 400)
    assert "query" in _error(await client.get("/items?q=a%00"), 400)
    assert "query" in _error(await client.get("/items?q=a%1b"), 400)
    assert (await client.get("/items?q=caf%C3%A9")).status_code == 200


async def test_json_bodies_are_limited_per_endpoint(client: httpx.AsyncClient) -> None:
    small = {"k": "v" * 900}
    large = {"k": "v" * 3000}
    assert (await client.post("/items", json=small)).status_code == 200
    assert "1024" in _error(await client.post("/items", json=large), 413)
    assert (await client.post("/big/items", json=large)).status_code == 200

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it comes
        yield b'{"k": "'
        for _ in range(10):
            yield b"v" * 500
        yield b'"}'

    streamed = await client.post(
        "/items", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "exceeds" in _error(streamed, 413)


@pytest.mark.parametrize("escape", [b"\\u0000", b"\\u001b", b"\\u007F", b"\\\\\\u0000"])
async def test_escaped_control_characters_in_json_are_refused(
    client: httpx.AsyncClient, escape: bytes
) -> None:
    body = b'{"k": "a' + escape + b'"}'
    response = await client.post("/items", content=body)
    assert "NUL or control character" in _error(response, 400)


@pytest.mark.parametrize("text", [b"\\n\\t\\r", b"\\\\u0000", b"\\u00e9"])
async def test_free_text_escapes_pass(client: httpx.AsyncClient, text: bytes) -> None:
    response = await client.post(
        "/items", content=b'{"k": "' + text + b'"}', headers={"content-type": "application/json"}
    )
    assert response.status_code == 200, response.text


async def test_a_value_the_database_refuses_is_a_400(client: httpx.AsyncClient) -> None:
    assert "invalid value" in _error(await client.get("/refused"), 400)


async def test_a_moment_beyond_what_timestamptz_holds_is_a_422(client: httpx.AsyncClient) -> None:
    message = _error(await client.get("/items", params={"since": "9999-12-31T23:59:59-23:59"}), 422)
    assert "since" in message
    ok = await client.get("/items", params={"since": "2026-12-03T10:00:00"})
    assert ok.json()["since"] == "2026-12-03T10:00:00Z"


async def test_head_is_get_without_a_body(client: httpx.AsyncClient) -> None:
    get = await client.get("/items")
    head = await client.head("/items")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]
    assert (await client.head("/big/items")).status_code == 405  # no GET there either


async def test_credentials_make_an_answer_uncacheable(client: httpx.AsyncClient) -> None:
    anonymous = await client.get("/items")
    assert anonymous.headers["x-content-type-options"] == "nosniff"
    assert "cache-control" not in anonymous.headers
    authenticated = await client.get("/items", headers={"Authorization": "Bearer x"})
    assert authenticated.headers["cache-control"] == "no-store"


async def test_a_connection_that_never_completes_its_headers_is_closed() -> None:
    async def ok(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        ok,
        host="127.0.0.1",
        port=port,
        http=with_header_timeout(0.5),
        lifespan="off",
        log_config=None,
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        await until(lambda: server.started, timeout_s=10)

        async def until_closed(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, trickle: bool
        ) -> float:
            """Seconds until the server closes the connection (at most 5), sending a byte
            every 0.1 s when `trickle`."""
            began = time.monotonic()
            while time.monotonic() - began < 5:
                if trickle:
                    writer.write(b"X")
                try:
                    if await asyncio.wait_for(reader.read(100), 0.1) == b"":
                        break
                except TimeoutError:
                    continue
            return time.monotonic() - began

        async def held(first: bytes, trickle: bool) -> float:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(first)
            took = await until_closed(reader, writer, trickle)
            writer.close()
            return took

        slow, silent = await asyncio.gather(
            held(b"GET / HTTP/1.1\r\nHost: x\r\n", trickle=True), held(b"", trickle=False)
        )
        assert slow < 2
        assert silent < 2
        # A request that completes its headers in time is answered as usual.
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert b"200 OK" in await asyncio.wait_for(reader.read(200), 2)
        # The next request on that kept-alive connection has the same deadline.
        writer.write(b"GET / HTTP/1.1\r\n")
        assert await until_closed(reader, writer, trickle=True) < 2
        writer.close()
    finally:
        server.should_exit = True
        await serving


def test_the_guards_answers_are_documented() -> None:
    app = _app()
    document_refusals(app)
    paths = app.openapi()["paths"]
    assert set(paths["/items"]["get"]["responses"]) >= {"200", "400"}
    assert "413" not in paths["/items"]["get"]["responses"]
    assert set(paths["/items"]["post"]["responses"]) >= {"200", "400", "413", "422"}


def test_a_token_checks_answers_are_documented_where_a_token_is_needed() -> None:
    # Found by the API fuzzing: /metrics (which needs a token) documented neither 401 nor 403.
    app = _app()

    @app.get("/secret", dependencies=[Depends(HTTPBearer())])
    async def secret() -> dict[str, str]:
        return {}

    document_refusals(app)
    paths = app.openapi()["paths"]
    assert set(paths["/secret"]["get"]["responses"]) >= {"200", "400", "401", "403"}
    assert "401" not in paths["/items"]["get"]["responses"]


async def test_a_content_length_of_non_ascii_digits_is_not_a_crash() -> None:
    # b"\xb9" is "¹" in Latin-1, for which str.isdigit() holds and int() raises.
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/items",
        "raw_path": b"/items",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"\xb9")],
        "client": ("127.0.0.1", 1),
        "server": ("t", 80),
    }
    await _app()(scope, receive, send)
    start = next(message for message in sent if message["type"] == "http.response.start")
    assert start["status"] < 500


class _Recording:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


def test_a_response_head_goes_out_with_its_body() -> None:
    sent = _Recording()
    joined = _HeadWithBody(sent)  # type: ignore[arg-type]
    joined.write(b"HTTP/1.1 200 OK\r\n\r\n")
    assert sent.writes == []
    joined.write(b"{}")
    assert sent.writes == [b"HTTP/1.1 200 OK\r\n\r\n{}"]
    joined.write(b"more")  # what follows is written as it comes
    assert sent.writes[-1] == b"more"
    # A head with no body write (HEAD) leaves when the response completes or closes.
    for finish in ("flush", "close"):
        sent = _Recording()
        joined = _HeadWithBody(sent)  # type: ignore[arg-type]
        joined.write(b"HTTP/1.1 200 OK\r\n\r\n")
        getattr(joined, finish)()
        assert sent.writes == [b"HTTP/1.1 200 OK\r\n\r\n"]
    # "100 Continue" is never held: the client waits for it before sending the body.
    sent = _Recording()
    joined = _HeadWithBody(sent)  # type: ignore[arg-type]
    joined.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    assert sent.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]
    # A large body is not copied behind the head.
    sent = _Recording()
    joined = _HeadWithBody(sent)  # type: ignore[arg-type]
    joined.write(b"HEAD")
    joined.write(b"x" * 100_000)
    assert [len(w) for w in sent.writes] == [4, 100_000]


async def test_head_and_streamed_answers_arrive_through_the_joining_protocol() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        if scope["path"] == "/stream":
            await send({"type": "http.response.body", "body": b"a", "more_body": True})
            await asyncio.sleep(0.05)
            await send({"type": "http.response.body", "body": b"b"})
        else:
            await send({"type": "http.response.body", "body": b"ok"})

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, http=with_header_timeout(5), log_config=None
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        await until(lambda: server.started, timeout_s=10)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            assert (await client.get("/")).text == "ok"
            head = await client.head("/")
            assert head.status_code == 200
            assert head.content == b""
            assert (await client.get("/stream")).text == "ab"
            assert (await client.get("/")).text == "ok"  # the kept-alive connection still works
    finally:
        server.should_exit = True
        await serving
