"""The one implementation behind `Client` and `AsyncClient`: operations as generators.

An operation (in `operations.py`) never does I/O. It yields steps — an HTTP call, a pause, an
upload, a file download — and receives each step's result; a driver (`client.py` with httpx's
sync client, `aio.py` with its async one) performs them. So the two clients cannot drift:
what to ask, in which order, and what the answers mean is written once.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

if TYPE_CHECKING:
    from modelgate.models import DownloadFile
    from modelgate.presigned import PartsJob
    from modelgate.progress import Progress
    from modelgate.upload import MultipartBody

Service = Literal["registry", "ingest", "audit"]
T = TypeVar("T")


@dataclass(frozen=True)
class Call:
    """One request to a service; the result is the decoded JSON (or text, or None on 204)."""

    service: Service
    method: str
    path: str
    params: Sequence[tuple[str, str]] | Mapping[str, str] | None = None
    json: Any = None
    text: bool = False
    headers: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Pause:
    seconds: float


@dataclass(frozen=True)
class Send:
    """Stream a multipart body to a service (never the whole file in memory); the result is
    the decoded JSON answer."""

    service: Service
    path: str
    body: MultipartBody
    headers: Mapping[str, str] = field(default_factory=dict)
    progress: Progress | None = None


@dataclass(frozen=True)
class Fetch:
    """Download one file to `target`, resuming a partial copy; the result is its SHA-256."""

    file: DownloadFile
    target: Path
    progress: Progress | None = None


@dataclass(frozen=True)
class PutParts:
    """Send (or find already in S3) the parts of a presigned upload, several at once; the
    result is each file's whole SHA-256 by path (`modelgate.presigned`)."""

    job: PartsJob


Step = Call | Pause | Send | Fetch | PutParts
Op = Generator[Step, Any, T]
