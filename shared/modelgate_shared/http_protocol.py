"""uvicorn's HTTP protocol with a deadline on reading a request's headers.

uvicorn times out an idle keep-alive connection but not one that is opened and never speaks,
nor one that sends its headers a byte at a time ("slowloris"): any data cancels its keep-alive
timer, and nothing else is armed. Each such connection holds a socket and a protocol object
for as long as the client likes. Here every connection must complete each request's headers
within `header_timeout_s` of opening (or of the request's first byte on a kept-alive
connection), or it is closed.
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

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()  # a connection that never sends a byte is cut off too

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._header_deadline is None:
            self._arm()  # the next request on a kept-alive connection

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

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


def with_header_timeout(timeout_s: float) -> type[HeaderTimeoutProtocol]:
    """The protocol class for one server (uvicorn instantiates it per connection)."""
    return type("HeaderTimeoutProtocol", (HeaderTimeoutProtocol,), {"header_timeout_s": timeout_s})
