"""uvicorn's HTTP protocol with a deadline on reading a request's headers.

uvicorn times out an idle keep-alive connection but not one that is opened and never speaks,
nor one that sends its headers a byte at a time ("slowloris"): any data cancels its keep-alive
timer, and nothing else is armed. Each such connection holds a socket and a protocol object
for as long as the client likes. Here every connection must complete each request's headers
within `header_timeout_s` of opening (or of the request's first read on a kept-alive
connection), or it is closed.

It also sends a response's head and body in one write: uvicorn writes each as it comes, so a
small JSON answer cost two send() system calls, a quarter of a catalog read's CPU (profiled
under load, docs/performance.md).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger(__name__)


class HeaderTimeoutProtocol(HttpToolsProtocol):
    header_timeout_s: float = 10.0
    """Set per server by `with_header_timeout`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_deadline: asyncio.TimerHandle | None = None
        self._in_headers = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()  # a connection that never sends a byte is cut off too

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # The next request on a kept-alive connection whose headers this read did not
        # complete. Armed here rather than when the request begins: nearly every request's
        # headers arrive in one read, and a timer armed and cancelled within it cost a few
        # percent of a catalog read's CPU.
        if self._in_headers and self._header_deadline is None:
            self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_headers = True

    def on_headers_complete(self) -> None:
        self._in_headers = False
        self._disarm()
        super().on_headers_complete()
        # The request's cycle writes through this; its task has not run yet.
        cycle = self.cycle
        joined = _HeadWithBody(self.transport)
        cycle.transport = joined  # type: ignore[assignment]
        done = cycle.on_response

        def on_response() -> None:
            joined.flush()  # a head with no body write (HEAD) goes out now
            done()

        cycle.on_response = on_response

    def _arm(self) -> None:
        self._header_deadline = self.loop.call_later(self.header_timeout_s, self._expired)

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _expired(self) -> None:
        self._header_deadline = None
        if not self.transport.is_closing():
            client = "%s:%d" % self.client if self.client else "a client"  # noqa: UP031
            log.info(
                "closed the connection of %s: no complete request headers within %.0f s",
                client,
                self.header_timeout_s,
            )
            self.transport.close()


_JOIN_LIMIT = 64 * 1024
"""Bodies up to this size are copied behind the head; larger ones are written apart."""


class _HeadWithBody:
    """A cycle's transport that holds the response head (its first write) until the body's
    first write, and sends both at once; a response with no body write (HEAD) sends its head
    when it completes, and closing sends what is held first. "100 Continue" is never held:
    the client waits for it before sending the body."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._held: bytes | None = None
        self._first = True

    def write(self, data: bytes) -> None:
        if self._first and not data.startswith(b"HTTP/1.1 100 "):
            self._first = False
            self._held = data
            return
        held, self._held = self._held, None
        if held is None:
            self._transport.write(data)
        elif len(data) <= _JOIN_LIMIT:
            self._transport.write(held + data)
        else:
            self._transport.write(held)
            self._transport.write(data)

    def flush(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            self._transport.write(held)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def with_header_timeout(timeout_s: float) -> type[HeaderTimeoutProtocol]:
    """The protocol class for one server (uvicorn instantiates it per connection)."""
    return type("HeaderTimeoutProtocol", (HeaderTimeoutProtocol,), {"header_timeout_s": timeout_s})
