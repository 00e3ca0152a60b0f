"""Reading a multipart/form-data body as a stream of events, never holding it whole.

python-multipart's parser is push-based (callbacks); we feed it the request body chunk by
chunk and turn its callbacks into PartStart / PartData / PartEnd events, so a 2 GB file flows
straight through to S3 with only one chunk in memory here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from modelgate_shared.errors import ApiError


@dataclass(frozen=True)
class PartStart:
    name: str
    filename: str | None
    content_type: str | None


@dataclass(frozen=True)
class PartData:
    data: bytes


@dataclass(frozen=True)
class PartEnd:
    pass


FormEvent = PartStart | PartData | PartEnd


def boundary_of(content_type: str) -> bytes:
    kind, options = parse_options_header(content_type)
    if kind != b"multipart/form-data" or b"boundary" not in options:
        raise ApiError(415, "expected multipart/form-data with a boundary, or application/json")
    return options[b"boundary"]


class _Collector:
    """Collects the parser's callbacks for one written chunk as events."""

    def __init__(self) -> None:
        self.events: list[FormEvent] = []
        self._headers: dict[str, str] = {}
        self._field = b""
        self._value = b""

    def on_part_begin(self) -> None:
        self._headers = {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._field.decode("latin-1").lower()] = self._value.decode(
            "utf-8", "replace"
        )
        self._field = self._value = b""

    def on_headers_finished(self) -> None:
        disposition = self._headers.get("content-disposition", "")
        kind, options = parse_options_header(disposition)
        if kind != b"form-data" or b"name" not in options:
            raise ApiError(400, "every form part needs 'Content-Disposition: form-data; name=...'")
        filename = options.get(b"filename")
        self.events.append(
            PartStart(
                name=options[b"name"].decode("utf-8", "replace"),
                filename=filename.decode("utf-8", "replace") if filename is not None else None,
                content_type=self._headers.get("content-type"),
            )
        )

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if end > start:
            self.events.append(PartData(bytes(data[start:end])))

    def on_part_end(self) -> None:
        self.events.append(PartEnd())


async def form_events(body: AsyncIterator[bytes], boundary: bytes) -> AsyncIterator[FormEvent]:
    collector = _Collector()
    parser = MultipartParser(
        boundary,
        callbacks={  # type: ignore[arg-type]
            name: getattr(collector, name)
            for name in (
                "on_part_begin",
                "on_header_field",
                "on_header_value",
                "on_header_end",
                "on_headers_finished",
                "on_part_data",
                "on_part_end",
            )
        },
        max_header_count=16,
    )
    async for chunk in body:
        try:
            parser.write(chunk)
        except MultipartParseError as exc:
            raise ApiError(400, f"malformed multipart body: {exc}") from exc
        events, collector.events = collector.events, []
        for event in events:
            yield event
    parser.finalize()
    for event in collector.events:
        yield event
