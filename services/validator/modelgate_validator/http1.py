"""The HTTP/1.1 connections the validator's signed S3 requests travel on: kept alive, pooled
per endpoint, answers parsed by httptools (llhttp, the parser uvicorn serves with).

Why not aiohttp's client: the gate sends three S3 requests per submission, and a signed
request (HEAD, 1 KB GET, 2 KB PUT) cost 0.52-0.53 ms of the validator's CPU through it against
0.35-0.38 ms this way, side by side against the stack's MinIO (its session, cookie, trace and
timeout machinery serve needs these requests do not have). The requests are built and signed
by `s3_requests`; this module only carries bytes: one request per connection at a time, the
answer's body streamed with back-pressure (the socket is paused while more than twice
`_BUFFER` bytes wait to be read), redirects never followed.

Failures of the transport are `OSError`s (`ConnectionError`, `TimeoutError`), which the
callers' retries already treat as S3 being away (`modelgate_shared.transient`).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType
from urllib.parse import urlsplit

import httptools
from multidict import CIMultiDict, CIMultiDictProxy

_BUFFER = 1 << 16
"""Bytes of an answer's body read ahead of its reader (twice this pauses the socket)."""

_METHODS_WITH_BODY = frozenset({"PUT", "POST", "PATCH"})


class AnswerCutShort(ConnectionError):
    """The connection ended, or sent what is not HTTP, before the answer was whole."""


class _Connection(asyncio.Protocol):
    """One kept-alive connection: the transport, and the answer being parsed on it."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.stray = False
        self._parser: httptools.HttpResponseParser | None = None
        self._started: asyncio.Future[None] | None = None
        self._expect(head=False)

    def _expect(self, *, head: bool) -> None:
        """The state of one answer, fresh: what `send` resets for each request."""
        self._head = head
        self._headers: list[tuple[str, str]] = []
        self.status = 0
        self.complete = False
        self.received = False
        self.keep_alive = False
        self._interim = False
        self._until_close = False
        self.body = asyncio.StreamReader(limit=_BUFFER)

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.received = True
        if self._parser is None:  # bytes no request asked for
            self._fail(AnswerCutShort("S3 sent bytes before any request"))
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(AnswerCutShort(f"S3's answer is not HTTP/1.1: {exc}"))

    def eof_received(self) -> bool | None:
        return None  # close the transport; connection_lost tells the rest

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._until_close and exc is None and self._started is not None:
            # A body with neither a length nor chunks ends where the connection does (a
            # proxy's refusal, say); httptools cannot be told of that end, so it is told here.
            self.on_message_complete()
        if not self.complete:
            self._fail(AnswerCutShort(f"S3 closed the connection mid-answer ({exc or 'EOF'})"))

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append(
            (name.decode("utf-8", "surrogateescape"), value.decode("utf-8", "surrogateescape"))
        )

    def on_headers_complete(self) -> None:
        assert self._started is not None
        assert self._parser is not None
        status = self._parser.get_status_code()
        if 100 <= status < 200:
            # An interim answer (100 Continue, 103 Early Hints): the real one follows on.
            self._headers = []
            self._interim = True
            return
        self.status = status
        # Asked now: llhttp forgets the answer's connection flags once its message is complete.
        self.keep_alive = self._parser.should_keep_alive()
        if not self.keep_alive:  # a body that runs to the close is never kept alive
            names = {name.lower() for name, _ in self._headers}
            self._until_close = not (
                self._head
                or status in (204, 304)
                or "content-length" in names
                or "transfer-encoding" in names
            )
        if not self._started.done():
            self._started.set_result(None)
        if self._head:  # a HEAD's answer has no body, whatever its Content-Length says
            self.on_message_complete()

    def on_body(self, body: bytes) -> None:
        if self.complete:  # a body after a HEAD's headers: this connection is not trusted again
            self.stray = True
        else:
            self.body.feed_data(body)

    def on_message_complete(self) -> None:
        if self._interim:
            self._interim = False
            return
        if not self.complete:
            self.complete = True
            self.body.feed_eof()

    # the client's side
    def _fail(self, exc: Exception) -> None:
        if self._started is not None and not self._started.done():
            self._started.set_exception(exc)
        if not self.complete and self.body.exception() is None:
            self.body.set_exception(exc)
        self.close()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def send(self, request: bytes, *, head: bool) -> asyncio.Future[None]:
        """Write one request; the future is done when its answer's headers are in."""
        assert self.transport is not None
        # A parser per answer: a HEAD answer ends at its headers, which llhttp (as httptools
        # wraps it) cannot be told; the next answer must not be read as that one's body.
        self._parser = httptools.HttpResponseParser(self)
        self._expect(head=head)
        self.body.set_transport(self.transport)  # back-pressure: pauses and resumes reading
        self._started = asyncio.get_running_loop().create_future()
        if not self.transport.is_reading():  # paused by a body left unread last time
            self.transport.resume_reading()
        self.transport.write(request)
        return self._started

    def answer(self) -> tuple[int, CIMultiDictProxy[str]]:
        return self.status, CIMultiDictProxy(CIMultiDict(self._headers))

    def reusable(self) -> bool:
        return self.complete and self.keep_alive and not self.closed and not self.stray


class Answer:
    """An answer's status and headers, its body read or streamed from the connection."""

    def __init__(
        self,
        status: int,
        headers: CIMultiDictProxy[str],
        connection: _Connection,
        read_timeout_s: float,
    ) -> None:
        self.status = status
        self.headers = headers
        # Its own reader: the connection gets a new one for its next request.
        self._body = connection.body
        self._read_timeout_s = read_timeout_s

    @property
    def content_length(self) -> int | None:
        value = self.headers.get("Content-Length")
        return int(value) if value is not None and value.isdigit() else None

    async def iter_chunked(self, size: int) -> AsyncIterator[bytes]:
        """The body in chunks of at most `size` bytes, as they arrive. The read timeout is
        the longest wait for the next bytes, not for the whole body: a copy S3 keeps alive
        with whitespace for minutes is not cut short."""
        while True:
            async with asyncio.timeout(self._read_timeout_s):
                chunk = await self._body.read(size)
            if not chunk:
                return
            yield chunk

    async def read(self, limit: int | None = None) -> bytes:
        """The body, or its first `limit` bytes (the rest is left unread: the connection is
        then closed, not kept)."""
        parts: list[bytes] = []
        kept = 0
        size = _BUFFER if limit is None else min(limit, _BUFFER)
        while limit is None or kept < limit:
            async with asyncio.timeout(self._read_timeout_s):
                chunk = await self._body.read(size)
            if not chunk:
                break
            parts.append(chunk)
            kept += len(chunk)
        return b"".join(parts)[:limit]

    async def text(self, errors: str = "strict", *, limit: int | None = None) -> str:
        # S3 writes its XML (and error documents) in UTF-8.
        return (await self.read(limit)).decode("utf-8", errors)


class Connections:
    """Kept-alive connections to one S3 endpoint, at most `limit` at a time."""

    def __init__(
        self,
        endpoint_url: str,
        *,
        connect_timeout_s: float = 5,
        read_timeout_s: float = 60,
        limit: int = 100,
    ) -> None:
        parts = urlsplit(endpoint_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"S3 endpoint {endpoint_url!r} is not an http(s)://host[:port] URL")
        if parts.path.strip("/") or parts.query:
            raise ValueError(
                f"S3 endpoint {endpoint_url!r}: the validator signs path-style requests to a "
                "bare scheme://host[:port]; an endpoint with a path is not supported"
            )
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.host_header = host_header(endpoint_url)
        self._ssl: ssl.SSLContext | None = (
            ssl.create_default_context() if parts.scheme == "https" else None
        )
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s
        self._slots = asyncio.Semaphore(limit)
        # No more idle than `limit`: a connection is made only by a request holding a slot.
        self._idle: list[_Connection] = []
        self._closed = False

    async def __aenter__(self) -> Connections:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(self.connect_timeout_s):
            _, connection = await loop.create_connection(
                _Connection, self.host, self.port, ssl=self._ssl
            )
        return connection

    def _pooled(self) -> _Connection | None:
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed:
                return connection
        return None

    async def _send(self, request: bytes, *, head: bool) -> _Connection:
        """The request sent and its answer's headers in, on a kept-alive connection if one is
        idle. A kept-alive connection the server closed just as it was reused is noticed only
        when the request meets the close: that request is sent again on a new connection, once
        and only if not a byte of an answer came back."""
        reused = self._pooled()
        connection = reused or await self._connect()
        try:
            await self._started(connection, request, head=head)
        except AnswerCutShort:
            if reused is None or connection.received:
                raise
            connection = await self._connect()
            await self._started(connection, request, head=head)
        return connection

    async def _started(self, connection: _Connection, request: bytes, *, head: bool) -> None:
        started = connection.send(request, head=head)
        try:
            async with asyncio.timeout(self.read_timeout_s):
                await started
        except BaseException:
            connection.close()
            raise

    @asynccontextmanager
    async def request(
        self,
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes = b"",
    ) -> AsyncIterator[Answer]:
        """Send `method target` (path and query, already quoted) with `headers` (a Host is
        added) and `body`; the answer's headers are in when this yields, its body is read from
        the answer. The connection is kept for another request only if the body was read."""
        request = _request_bytes(method, target, self.host_header, headers, body)
        async with self._slots:
            connection = await self._send(request, head=method == "HEAD")
            status, answer_headers = connection.answer()
            try:
                yield Answer(status, answer_headers, connection, self.read_timeout_s)
            finally:
                if connection.reusable() and not self._closed:
                    self._idle.append(connection)
                else:
                    connection.close()


def host_header(endpoint_url: str) -> str:
    """The Host header a client sends to `endpoint_url`: no port when it is the scheme's own
    (what SigV4 signs, `sigv4`)."""
    parts = urlsplit(endpoint_url)
    netloc = parts.netloc.lower()  # host names are case-insensitive; SigV4 signs them lowered
    default = {"http": ":80", "https": ":443"}.get(parts.scheme, "")
    return netloc.removesuffix(default) if default else netloc


def _request_bytes(
    method: str, target: str, host: str, headers: dict[str, str], body: bytes
) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
    for name, value in headers.items():
        # A CR or LF would end the header and start another the caller never wrote.
        if any(c in name or c in value for c in "\r\n") or ":" in name:
            raise ValueError(f"header {name!r} has a line break or colon where none may be")
        lines.append(f"{name}: {value}")
    if body or method in _METHODS_WITH_BODY:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body
