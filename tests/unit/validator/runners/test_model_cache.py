"""The model cache over a fake object store: verified, content-addressed, reused, evicted."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from modelgate_shared.events import Artifact, ArtifactFile, ArtifactFormat
from modelgate_validator.runners.model_cache import ChecksumMismatch, ModelCache


class FakeReader:
    """Streams bytes from a dict the way ArtifactReader.consume streams S3 objects."""

    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = objects
        self.reads: list[str] = []

    async def consume(
        self,
        uri: str,
        sink: Callable[[bytes], Awaitable[None]],
        *,
        restart: Callable[[], Awaitable[None]] | None = None,
    ) -> int:
        self.reads.append(uri)
        if restart is not None:
            await restart()
        data = self.objects[uri]
        for start in range(0, len(data), 3):
            await sink(data[start : start + 3])
        return len(data)


def artifact(files: dict[str, bytes], *, declared: dict[str, str] | None = None) -> Artifact:
    return Artifact(
        uri="s3://modelgate/m/",
        format=ArtifactFormat.HF_DIRECTORY,
        files=[
            ArtifactFile(
                path=path,
                uri=f"s3://modelgate/m/{path}",
                sha256=(declared or {}).get(path, hashlib.sha256(data).hexdigest()),
                size=len(data),
            )
            for path, data in files.items()
        ],
    )


def cache(tmp_path: Path, reader: FakeReader, max_bytes: int = 1 << 20) -> ModelCache:
    return ModelCache(tmp_path / "cache", reader, max_bytes=max_bytes)  # type: ignore[arg-type]


async def test_files_land_at_their_paths_verified_and_are_reused(tmp_path: Path) -> None:
    files = {"config.json": b'{"a": 1}', "weights/model.safetensors": b"0123456789"}
    reader = FakeReader({f"s3://modelgate/m/{p}": d for p, d in files.items()})
    first = await cache(tmp_path, reader).fetch(artifact(files))
    assert (first / "config.json").read_bytes() == b'{"a": 1}'
    assert (first / "weights/model.safetensors").read_bytes() == b"0123456789"
    assert len(reader.reads) == 2

    again = cache(tmp_path, reader)
    assert await again.fetch(artifact(files)) == first
    assert len(reader.reads) == 2, "unchanged files are not downloaded again"
    assert again.reused == 2


async def test_a_changed_file_is_downloaded_and_the_rest_reused(tmp_path: Path) -> None:
    reader = FakeReader({"s3://modelgate/m/a": b"aaa", "s3://modelgate/m/b": b"bbb"})
    await cache(tmp_path, reader).fetch(artifact({"a": b"aaa", "b": b"bbb"}))
    reader.objects["s3://modelgate/m/b"] = b"BBB"
    model = await cache(tmp_path, reader).fetch(artifact({"a": b"aaa", "b": b"BBB"}))
    assert (model / "b").read_bytes() == b"BBB"
    assert reader.reads[2:] == ["s3://modelgate/m/b"]


async def test_bytes_that_do_not_match_the_declared_sha256_are_refused(tmp_path: Path) -> None:
    reader = FakeReader({"s3://modelgate/m/a": b"tampered"})
    with pytest.raises(ChecksumMismatch, match="expected"):
        await cache(tmp_path, reader).fetch(
            artifact({"a": b"original"}, declared={"a": hashlib.sha256(b"original").hexdigest()})
        )
    assert list((tmp_path / "cache" / "blobs").iterdir()) == []
    assert list((tmp_path / "cache" / "partial").iterdir()) == []


async def test_least_recently_used_models_are_evicted_past_the_limit(tmp_path: Path) -> None:
    reader = FakeReader({f"s3://modelgate/m/{n}": n.encode() * 10 for n in ("a", "b", "c")})
    small = cache(tmp_path, reader, max_bytes=25)
    model_a = await small.fetch(artifact({"a": b"a" * 10}))
    await small.fetch(artifact({"b": b"b" * 10}))
    model_c = await small.fetch(artifact({"c": b"c" * 10}))
    blobs = {p.name for p in (tmp_path / "cache" / "blobs").iterdir()}
    assert hashlib.sha256(b"a" * 10).hexdigest() not in blobs
    assert not model_a.exists(), "a model whose files were evicted is removed"
    assert (model_c / "c").read_bytes() == b"c" * 10
