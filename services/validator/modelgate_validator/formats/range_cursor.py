"""Sequential reading of an object's header through ranged reads, a window at a time.

Structural checks walk a header field by field; each field is a few bytes, so the cursor
fetches `window` bytes at once and serves fields from them, and skips what it does not need
(array payloads, string values) without reading it. Memory stays at one window whatever the
file declares, and nothing past the object's end is ever asked for.
"""

from __future__ import annotations

import codecs
import hashlib
import struct

from modelgate_validator.artifact_reader import Reader

WINDOW_BYTES = 1024 * 1024
HEAD_BYTES = 80
_U64 = struct.Struct("<Q")


class Truncated(Exception):
    """The header runs past the end of the object."""


class RangeCursor:
    def __init__(self, reader: Reader, uri: str, size: int, window: int = WINDOW_BYTES) -> None:
        self.reader = reader
        self.uri = uri
        self.size = size
        self.window = window
        self.position = 0
        self._buffer = b""
        self._buffer_start = 0
        self.requests = 0

    @property
    def remaining(self) -> int:
        return self.size - self.position

    async def take(self, length: int, what: str) -> bytes:
        """The next `length` bytes (at most a window; callers stream longer runs)."""
        if length > self.remaining:
            raise Truncated(
                f"{what} needs {length} bytes at offset {self.position}, {self.remaining} remain"
            )
        start = self.position - self._buffer_start
        if start < 0 or start + length > len(self._buffer):
            fetch = min(max(length, self.window), self.remaining)
            self._buffer = await self.reader.read_range(self.uri, self.position, fetch)
            self._buffer_start = self.position
            self.requests += 1
            start = 0
            if len(self._buffer) < length:
                raise Truncated(f"{what}: the object ended early at offset {self.position}")
        self.position += length
        return self._buffer[start : start + length]

    def skip(self, length: int, what: str) -> None:
        if length > self.remaining:
            raise Truncated(
                f"{what} needs {length} bytes at offset {self.position}, {self.remaining} remain"
            )
        self.position += length

    async def unpack(self, fmt: str, what: str) -> tuple[int, ...]:
        return struct.unpack(fmt, await self.take(struct.calcsize(fmt), what))

    async def u32(self, what: str) -> int:
        return (await self.unpack("<I", what))[0]

    async def u64(self, what: str) -> int:
        return (await self.unpack("<Q", what))[0]

    async def text(self, length: int, what: str) -> tuple[bytes, bool, bytes]:
        """A string's SHA-256, whether it is valid UTF-8, and its first bytes (for messages),
        streamed a window at a time, so a hostile length costs reads, never memory."""
        if length > self.remaining:
            raise Truncated(
                f"{what} needs {length} bytes at offset {self.position}, {self.remaining} remain"
            )
        digest = hashlib.sha256()
        decoder = codecs.getincrementaldecoder("utf-8")()
        valid = True
        head = b""
        left = length
        while left:
            chunk = await self.take(min(left, self.window), what)
            digest.update(chunk)
            head = head or chunk[:HEAD_BYTES]
            left -= len(chunk)
            if valid:
                try:
                    decoder.decode(chunk, final=not left)
                except UnicodeDecodeError:
                    valid = False
        return digest.digest(), valid, head

    async def skip_strings(self, count: int, max_length: int, what: str) -> int | None:
        """Skip `count` length-prefixed strings (a GGUF string array); returns the first length
        over `max_length`, or None. Strings wholly inside the window are stepped over without
        an await each: a tokenizer's vocabulary is hundreds of thousands of them."""
        done = 0
        while done < count:
            buffer, index = self._buffer, self.position - self._buffer_start
            while done < count and index >= 0 and index + 8 <= len(buffer):
                length: int = _U64.unpack_from(buffer, index)[0]
                if length > max_length:
                    return length
                if index + 8 + length > len(buffer):
                    break
                index += 8 + length
                done += 1
            if index >= 0:
                self.position = self._buffer_start + index
            if done < count:
                length = await self.u64(f"{what} length")
                if length > max_length:
                    return length
                self.skip(length, what)
                done += 1
        return None
