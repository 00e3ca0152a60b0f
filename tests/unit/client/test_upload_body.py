"""The streamed multipart body: what ingest's own parser reads back, with the length declared."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from modelgate.errors import ModelgateError
from modelgate.models import SubmissionMetadata
from modelgate.upload import LocalFile, MultipartBody, collect, idempotency_key
from modelgate_ingest.form_stream import PartData, PartEnd, PartStart, boundary_of, form_events


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    root = tmp_path / "model"
    (root / "tokenizer").mkdir(parents=True)
    (root / "model.safetensors").write_bytes(b"\x01" * 3_000_000)
    (root / "config.json").write_text('{"a": 1}')
    (root / "tokenizer" / 'vo"cab.json').write_text("{}")
    return root


def test_a_directory_keeps_its_relative_paths(model_dir: Path) -> None:
    assert [f.name for f in collect(model_dir)] == [
        "config.json",
        "model.safetensors",
        'tokenizer/vo"cab.json',
    ]
    (single,) = collect(model_dir / "config.json")
    assert single.name == "config.json"


def test_an_empty_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelgateError, match="no files"):
        collect(tmp_path)


async def _replay(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


class Recorder:
    def __init__(self) -> None:
        self.sent: dict[str, int] = {}
        self.finished: list[str] = []

    def begin(self, files: list[tuple[str, int | None]]) -> None:
        self.sent = {name: 0 for name, _ in files}

    def start_file(self, path: str, done: int = 0) -> None:
        pass

    def advance(self, path: str, nbytes: int) -> None:
        self.sent[path] += nbytes

    def finish_file(self, path: str) -> None:
        self.finished.append(path)


async def test_ingest_reads_back_every_part_and_the_length_is_exact(model_dir: Path) -> None:
    files = collect(model_dir)
    meta = b'{"name": "m", "version": "1.0.0"}'
    body = MultipartBody(meta, files, chunk_size=64 * 1024)
    progress = Recorder()
    chunks = list(body.chunks(progress))
    assert sum(len(c) for c in chunks) == body.content_length
    assert max(len(c) for c in chunks) <= 64 * 1024 + 512  # never a whole file at once

    parts: list[tuple[str, str | None, bytes]] = []
    async for event in form_events(_replay(iter(chunks)), boundary_of(body.content_type)):
        if isinstance(event, PartStart):
            parts.append((event.name, event.filename, b""))
        elif isinstance(event, PartData):
            name, filename, data = parts[-1]
            parts[-1] = (name, filename, data + event.data)
        else:
            assert isinstance(event, PartEnd)
    assert parts[0] == ("metadata", None, meta)
    assert [(n, f) for n, f, _ in parts[1:]] == [("file", f.name) for f in files]
    for (_, _, data), f in zip(parts[1:], files, strict=True):
        assert data == f.source.read_bytes()
    assert progress.sent == {f.name: f.size for f in files}
    assert progress.finished == [f.name for f in files]


async def test_the_async_chunks_are_the_same_bytes(model_dir: Path) -> None:
    body = MultipartBody(b"{}", collect(model_dir))
    sync = b"".join(body.chunks())
    collected = b"".join([c async for c in body.achunks()])
    assert collected == sync


def test_a_file_that_changes_size_while_sent_fails(tmp_path: Path) -> None:
    path = tmp_path / "w.bin"
    path.write_bytes(b"x" * 10)
    body = MultipartBody(b"{}", [LocalFile(path, "w.bin", 10)])
    path.write_bytes(b"x" * 5)
    with pytest.raises(ModelgateError, match="changed size"):
        b"".join(body.chunks())


def test_a_file_name_with_a_line_break_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a"
    path.write_bytes(b"")
    with pytest.raises(ModelgateError, match="line break"):
        MultipartBody(b"{}", [LocalFile(path, "a\r\nX-Evil: 1", 0)])


def test_the_idempotency_key_is_stable_and_changes_with_the_files(model_dir: Path) -> None:
    meta = SubmissionMetadata(name="m", version="1.0.0")
    files = collect(model_dir)
    assert idempotency_key(meta, files) == idempotency_key(meta, collect(model_dir))
    (model_dir / "config.json").write_text('{"a": 22}')
    assert idempotency_key(meta, files) != idempotency_key(meta, collect(model_dir))
    other = SubmissionMetadata(name="m", version="1.0.1")
    assert idempotency_key(other, files) != idempotency_key(meta, files)
    assert json.loads(meta.model_dump_json(exclude_none=True))["name"] == "m"
