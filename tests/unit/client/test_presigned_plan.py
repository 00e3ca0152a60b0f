"""Part planning and the resume state file of the presigned upload transport."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from modelgate.presigned import Part, UploadJournal, plan_parts, sha256_part
from modelgate.upload import LocalFile
from modelgate_ingest.upload_parts import MiB, part_count, part_length, plan_part_size


def _file(tmp_path: Path, name: str, data: bytes) -> LocalFile:
    path = tmp_path / name
    path.write_bytes(data)
    return LocalFile(path, name, len(data))


def test_part_sizes_fit_s3s_limits() -> None:
    assert plan_part_size(1, 16 * MiB) == 16 * MiB
    big = 500 * 1024 * MiB
    size = plan_part_size(big, 16 * MiB)
    assert size % MiB == 0
    assert part_count(big, size) <= 10_000
    assert part_count(0, size) == 0
    assert part_count(16 * MiB + 1, 16 * MiB) == 2
    assert part_length(16 * MiB + 1, 16 * MiB, 2) == 1


def test_plan_marks_parts_s3_already_holds(tmp_path: Path) -> None:
    f = _file(tmp_path, "w.bin", b"a" * 10 + b"b" * 10 + b"c" * 5)
    answer = {
        "files": [
            {
                "path": "w.bin",
                "size": 25,
                "part_size": 10,
                "part_count": 3,
                "parts": [
                    {"number": 1, "size": 10, "sha256": "x" * 64},
                    {"number": 3, "size": 4, "sha256": "y" * 64},  # wrong size: resend
                ],
            }
        ]
    }
    parts = plan_parts([f], answer)
    assert [(p.number, p.offset, p.length) for p in parts] == [(1, 0, 10), (2, 10, 10), (3, 20, 5)]
    assert [p.remote_sha256 for p in parts] == ["x" * 64, None, None]
    assert sha256_part(parts[1]) == hashlib.sha256(b"b" * 10).hexdigest()


def test_plan_refuses_a_different_file_list(tmp_path: Path) -> None:
    f = _file(tmp_path, "w.bin", b"abc")
    answer = {"files": [{"path": "w.bin", "size": 4, "part_size": 10, "part_count": 1}]}
    with pytest.raises(Exception, match="with 3 bytes"):
        plan_parts([f], answer)


def test_the_state_file_keeps_digests_until_a_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELGATE_UPLOAD_STATE_DIR", str(tmp_path / "state"))
    a = _file(tmp_path, "a.bin", b"aaaa")
    b = _file(tmp_path, "b.bin", b"bbbb")
    journal = UploadJournal.load("key-1", [a, b])
    journal.upload_id = "u-1"
    journal.set_sha256("a.bin", "1" * 64)
    journal.set_sha256("b.bin", "2" * 64)
    journal.sent(8)
    journal.save()

    again = UploadJournal.load("key-1", [a, b])
    assert again.upload_id == "u-1"
    assert again.bytes_sent == 8
    assert again.sha256("a.bin") == "1" * 64

    b.source.write_bytes(b"BBBBB")
    changed = UploadJournal.load("key-1", [a, LocalFile(b.source, "b.bin", 5)])
    assert changed.sha256("a.bin") == "1" * 64
    assert changed.sha256("b.bin") is None
    assert UploadJournal.load("key-2", [a]).upload_id == ""
    again.remove()
    assert not list((tmp_path / "state").glob("*.json"))


def test_a_part_shorter_on_disk_than_planned_is_an_error(tmp_path: Path) -> None:
    f = _file(tmp_path, "w.bin", b"abc")
    with pytest.raises(Exception, match="shorter"):
        sha256_part(Part(f, 1, 0, 10, None))
