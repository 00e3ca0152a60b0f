"""The validator's kept-alive HTTP/1.1 connections (`http1`), against real local servers:
aiohttp's for well-formed answers, raw sockets for servers that misbehave."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from modelgate_shared.transient import is_transient
from modelgate_validator.http1 import AnswerCutShort, Connections, host_header

BIG = os.urandom(3 * 1024 * 1024 + 17)


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, list[str]]]:
    """A server that tells which connection each request came on."""
    peers: list[str] = []

    async def record(request: web.Request) -> None:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        peers.append(str(peer))

    async def small(request: web.Request) -> web.Response:
        await record(request)
        body = await request.read()
        return web.Response(
            text=f"{request.method} {request.path_qs} {len(body)} {request.headers['Host']}",
            headers={"x-amz-version-id": "v1"},
        )

    async def big(request: web.Request) -> web.StreamResponse:
        await record(request)
        if request.method == "HEAD":
            return web.Response(headers={"Content-Length": str(len(BIG))})
        return web.Response(body=BIG)

    async def chunked(request: web.Request) -> web.StreamResponse:
        await record(request)
        answer = web.StreamResponse()
        answer.enable_chunked_encoding()
        await answer.prepare(request)
        for part in (b"one ", b"two ", b"three"):
            await answer.write(part)
        await answer.write_eof()
        return answer

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.Response(text="late")

    app = web.Application()
    app.router.add_route("*", "/small", small)
    app.router.add_route("*", "/big", big)
    app.router.add_get("/chunked", chunked)
    app.router.add_get("/slow", slow)
    async with TestServer(app, host="127.0.0.1") as running:
        yield str(running.make_url("")).rstrip("/"), peers


async def test_requests_share_one_kept_alive_connection(server: tuple[str, list[str]]) -> None:
    url, peers = server
    async with Connections(url) as http:
        for n in range(5):
            async with http.request("PUT", f"/small?n={n}", {"x-a": "b"}, b"12345") as answer:
                assert answer.status == 200
                assert answer.headers["X-Amz-Version-Id"] == "v1"
                assert await answer.text() == f"PUT /small?n={n} 5 {url[7:]}"
    assert len(peers) == 5
    assert len(set(peers)) == 1


async def test_a_head_answer_ends_at_its_headers(server: tuple[str, list[str]]) -> None:
    url, peers = server
    async with Connections(url) as http:
        async with http.request("HEAD", "/big", {}) as answer:
            assert answer.content_length == len(BIG)
            assert await answer.read() == b""
        # The next answer on the same connection is read as itself, not as the HEAD's body.
        async with http.request("GET", "/small", {}) as answer:
            assert await answer.text() == f"GET /small 0 {url[7:]}"
    assert len(set(peers)) == 1


async def test_a_big_body_streams_in_chunks(server: tuple[str, list[str]]) -> None:
    url, _ = server
    async with Connections(url) as http, http.request("GET", "/big", {}) as answer:
        chunks = [chunk async for chunk in answer.iter_chunked(1 << 20)]
    assert b"".join(chunks) == BIG
    assert max(len(c) for c in chunks) <= 1 << 20


async def test_a_chunked_body_is_read_whole(server: tuple[str, list[str]]) -> None:
    url, _ = server
    async with Connections(url) as http, http.request("GET", "/chunked", {}) as answer:
        assert await answer.read() == b"one two three"


async def test_a_body_left_unread_closes_its_connection(server: tuple[str, list[str]]) -> None:
    url, peers = server
    async with Connections(url) as http:
        async with http.request("GET", "/big", {}) as answer:
            await answer.iter_chunked(1024).__anext__()
        async with http.request("GET", "/small", {}) as answer:
            assert answer.status == 200
    assert len(set(peers)) == 2


async def test_a_slow_answer_times_out(server: tuple[str, list[str]]) -> None:
    url, _ = server
    async with Connections(url, read_timeout_s=0.2) as http:
        with pytest.raises(TimeoutError) as raised:
            async with http.request("GET", "/slow", {}):
                pass
    assert is_transient(raised.value)


async def test_a_header_with_a_line_break_is_refused(server: tuple[str, list[str]]) -> None:
    url, peers = server
    async with Connections(url) as http:
        for name, value in (("x-a", "b\r\nx-injected: yes"), ("x-a\n", "b"), ("x:a", "b")):
            with pytest.raises(ValueError, match="line break"):
                async with http.request("GET", "/small", {name: value}):
                    pass
    assert peers == []


def test_an_endpoint_with_a_path_is_refused() -> None:
    """Requests are signed path-style to a bare host: a path in the endpoint would be lost."""
    with pytest.raises(ValueError, match="endpoint with a path"):
        Connections("http://s3.example/prefix")


def test_the_host_header_omits_the_schemes_own_port() -> None:
    assert host_header("http://S3.Example:80") == "s3.example"
    assert host_header("https://s3.example:443") == "s3.example"
    assert host_header("http://127.0.0.1:9000") == "127.0.0.1:9000"


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def _answering(raw: bytes, *, close: bool = True) -> Handler:
    """A server's handler that reads one request, writes `raw` and (with `close`) hangs up."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(raw)
        await writer.drain()
        if close:
            writer.close()

    return handle


async def _raw_server(handle: Handler) -> tuple[asyncio.Server, str]:
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


async def test_a_kept_alive_connection_the_server_closed_is_replaced() -> None:
    """The server answers one request per connection, keep-alive promised, then closes: the
    second request finds the connection gone and is sent again on a new one."""
    connections = 0

    async def once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        writer.close()

    server, url = await _raw_server(once)
    async with server, Connections(url) as http:
        for _ in range(3):
            async with http.request("GET", "/x", {}) as answer:
                assert await answer.read() == b"ok"
                await asyncio.sleep(0.05)  # the close arrives while the connection idles
    assert connections == 3


async def test_a_request_the_closing_server_never_answered_is_sent_again() -> None:
    """The server answers the first request of each connection and closes on the second
    without a byte: that request is sent again, once, on a new connection."""
    connections = 0

    async def first_only(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    server, url = await _raw_server(first_only)
    async with server, Connections(url) as http:
        for _ in range(2):
            async with http.request("GET", "/x", {}) as answer:
                assert await answer.read() == b"ok"
    assert connections == 2


async def test_an_answer_cut_short_is_a_transient_failure() -> None:
    cut = _answering(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part")
    server, url = await _raw_server(cut)
    async with server, Connections(url) as http:
        with pytest.raises(AnswerCutShort) as raised:
            async with http.request("GET", "/x", {}) as answer:
                await answer.read()
    assert is_transient(raised.value)


async def test_a_body_sent_after_a_head_is_not_read_as_the_next_answer() -> None:
    """A server that (wrongly) sends a body after a HEAD's headers: the HEAD's answer is its
    headers, and the connection is not used again."""
    connections = 0

    async def chatty(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                return
            body = b"xx" if head.startswith(b"HEAD") else b"ok"
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n" + body)
            await writer.drain()

    server, url = await _raw_server(chatty)
    async with server, Connections(url) as http:
        async with http.request("HEAD", "/x", {}) as answer:
            assert answer.content_length == 2
            assert await answer.read() == b""
        async with http.request("GET", "/y", {}) as answer:
            assert await answer.read() == b"ok"
    assert connections == 2


async def test_an_interim_answer_is_skipped_for_the_real_one() -> None:
    async def continuing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(b"HTTP/1.1 403 Forbidden\r\nx-real: yes\r\nContent-Length: 6\r\n\r\ndenied")
        await writer.drain()

    server, url = await _raw_server(continuing)
    async with server, Connections(url) as http, http.request("PUT", "/x", {}, b"a") as answer:
        assert answer.status == 403
        assert answer.headers["x-real"] == "yes"
        assert await answer.read() == b"denied"


async def test_a_body_that_ends_with_the_connection_is_read_whole() -> None:
    """No length and no chunks (a proxy's refusal, say): the body is what came before the
    close, and the connection is not kept."""
    proxy = _answering(b"HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n<Error>no</Error>")
    server, url = await _raw_server(proxy)
    async with server, Connections(url) as http:
        async with http.request("GET", "/x", {}) as answer:
            assert answer.status == 403
            assert await answer.read() == b"<Error>no</Error>"
        assert http._idle == []


async def test_the_read_timeout_is_between_bytes_not_for_the_whole_body() -> None:
    """A copy S3 keeps alive with whitespace: a byte every 0.1 s for longer than the timeout."""

    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n")
        for byte in b"   <ok/>":
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.1)

    server, url = await _raw_server(trickle)
    async with server, Connections(url, read_timeout_s=0.4) as http:
        async with http.request("PUT", "/copy", {}) as answer:
            assert await answer.text() == "   <ok/>"


async def test_a_read_limit_leaves_the_rest_and_the_connection(
    server: tuple[str, list[str]],
) -> None:
    url, peers = server
    async with Connections(url) as http:
        async with http.request("GET", "/big", {}) as answer:
            assert await answer.read(limit=100) == BIG[:100]
        async with http.request("GET", "/small", {}) as answer:
            assert answer.status == 200
        assert len(set(peers)) == 2


async def test_a_connection_freed_after_close_is_not_kept(server: tuple[str, list[str]]) -> None:
    url, _ = server
    http = Connections(url)
    async with http.request("GET", "/small", {}) as answer:
        await http.close()
        assert await answer.read()
    assert http._idle == []


async def test_an_answer_that_is_not_http_is_a_transient_failure() -> None:
    server, url = await _raw_server(_answering(b"SSH-2.0-OpenSSH\r\n\r\n", close=False))
    async with server, Connections(url) as http:
        with pytest.raises(AnswerCutShort, match="not HTTP"):
            async with http.request("GET", "/x", {}):
                pass
