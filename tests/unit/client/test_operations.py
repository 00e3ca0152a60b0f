"""Operations decide what to ask; these drive them with scripted answers (no network)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from modelgate import operations as ops
from modelgate.download import PartialFile, target_of
from modelgate.errors import (
    ChecksumMismatch,
    Forbidden,
    GateRejected,
    ModelgateError,
    NoPreviousProduction,
    Unreachable,
)
from modelgate.models import DownloadFile
from modelgate.steps import Call, Fetch, Op, Pause


def drive(op: Op[Any], answers: list[Any]) -> tuple[Any, list[Any]]:
    """Run `op`, answering each step with the next scripted answer; returns the result and
    the steps it took."""
    steps: list[Any] = []
    try:
        step = next(op)
        while True:
            steps.append(step)
            step = op.send(answers.pop(0) if not isinstance(step, Pause) else None)
    except StopIteration as done:
        return done.value, steps


@pytest.mark.parametrize(
    ("current", "target", "path"),
    [
        ("development", "production", ["staging", "production"]),
        ("staging", "production", ["production"]),
        ("development", "canary", ["staging", "canary"]),
        ("canary", "production", ["production"]),
        ("deprecated", "production", ["production"]),
        ("production", "production", []),
        ("production", "deprecated", ["deprecated"]),
    ],
)
def test_promotion_walks_the_stages_between(current: str, target: str, path: list[str]) -> None:
    assert ops.stage_path(current, target) == path


def _submission(status: str, failed: list[dict[str, str]] | None = None) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    return {
        "submission_id": "s1",
        "name": "m",
        "version": "1.0.0",
        "submitter": "ai-scientist",
        "status": status,
        "failed_checks": failed or [],
        "checks": failed or [],
        "created_at": now,
        "updated_at": now,
    }


def test_wait_polls_until_the_gate_decided() -> None:
    answers = [_submission("pending"), _submission("validating"), _submission("registered")]
    result, steps = drive(ops.wait("s1", interval_s=0.5), answers)
    assert result.status == "registered"
    assert [type(s).__name__ for s in steps] == ["Call", "Pause", "Call", "Pause", "Call"]


def test_a_rejection_raises_with_the_failed_checks() -> None:
    failed = [{"name": "format-safety", "status": "failed", "detail": "dangerous pickle"}]
    with pytest.raises(GateRejected) as caught:
        drive(ops.wait("s1"), [_submission("rejected", failed)])
    assert [c.name for c in caught.value.checks] == ["format-safety"]
    assert "dangerous pickle" in str(caught.value)


def _version(version: str, stage: str, transitions: list[dict[str, Any]]) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    return {
        "id": 1,
        "model_id": 1,
        "model_name": "m",
        "version": version,
        "status": "REGISTERED",
        "status_reason": "",
        "stage": stage,
        "submitter": "ai-scientist",
        "description": "",
        "created_at": now,
        "updated_at": now,
        "transitions": transitions,
    }


def _left_production(at: str) -> dict[str, Any]:
    return {
        "id": 1,
        "kind": "stage",
        "from_value": "production",
        "to_value": "deprecated",
        "actor": "ai-admin",
        "reason": "superseded",
        "at": at,
    }


def test_rollback_promotes_the_version_that_left_production_last() -> None:
    listed = {"items": [_version("1.0.0", "deprecated", []), _version("1.1.0", "deprecated", [])]}
    older = _version("1.0.0", "deprecated", [_left_production("2026-12-01T10:00:00Z")])
    newer = _version("1.1.0", "deprecated", [_left_production("2026-12-02T10:00:00Z")])
    moved = _version("1.1.0", "production", [])
    result, steps = drive(ops.rollback("m", "bad latency"), [listed, older, newer, moved])
    last: Call = steps[-1]
    assert last.path == "/api/v1/models/m/versions/1.1.0/transitions"
    assert last.json == {"to_stage": "production", "reason": "rollback: bad latency"}
    assert result.stage == "production"


def test_rollback_without_an_earlier_production_version_says_so() -> None:
    with pytest.raises(NoPreviousProduction):
        drive(ops.rollback("m", "x"), [{"items": []}])


def test_an_expired_url_is_refreshed_and_the_file_resumed(tmp_path: Path) -> None:
    def plan(token: str) -> dict[str, Any]:
        return {
            "expires_in": 300,
            "files": [{"path": "w.bin", "url": f"http://s3/w?sig={token}", "sha256": None}],
        }

    op = ops.download("m", "1.0.0", tmp_path)
    assert isinstance(next(op), Call)
    first = op.send(plan("old"))
    assert isinstance(first, Fetch)
    assert first.file.url.endswith("old")
    again = op.throw(Forbidden(403, "Request has expired"))  # S3 refuses the stale URL
    assert isinstance(again, Call)
    assert again.path == "/api/v1/models/m/versions/1.0.0/download"
    retried = op.send(plan("new"))
    assert isinstance(retried, Fetch)
    assert retried.file.url.endswith("new")
    assert retried.target == first.target
    with pytest.raises(StopIteration) as done:
        op.send("digest")
    assert done.value.value == [tmp_path / "w.bin"]


def test_download_gives_up_after_repeated_failures(tmp_path: Path) -> None:
    plan = {"expires_in": 300, "files": [{"path": "w.bin", "url": "http://s3/w"}]}
    op = ops.download("m", "1.0.0", tmp_path)
    next(op)
    op.send(plan)
    for _ in range(ops.DOWNLOAD_ATTEMPTS - 1):
        op.throw(Unreachable("connection reset"))
        op.send(plan)
    with pytest.raises(Unreachable):
        op.throw(Unreachable("connection reset"))


def test_download_paths_stay_inside_the_destination(tmp_path: Path) -> None:
    ok = DownloadFile(path="tokenizer/vocab.json", url="http://x")
    assert target_of(tmp_path, ok) == tmp_path / "tokenizer" / "vocab.json"
    for bad in ("../escape", "/etc/passwd", "a/../../b"):
        with pytest.raises(ModelgateError, match="unsafe"):
            target_of(tmp_path, DownloadFile(path=bad, url="http://x"))


def test_a_partial_file_resumes_with_its_hash_and_is_checked(tmp_path: Path) -> None:
    import hashlib  # noqa: PLC0415

    data = b"0123456789" * 1000
    file = DownloadFile(
        path="w.bin", url="http://x", size=len(data), sha256=hashlib.sha256(data).hexdigest()
    )
    target = tmp_path / "w.bin"
    first = PartialFile(target, file)
    assert first.open() == 0
    first.write(data[:4000])
    first.close()  # interrupted

    second = PartialFile(target, file)
    assert second.open() == 4000
    assert second.range_header() == {"Range": "bytes=4000-"}
    second.write(data[4000:])
    assert second.complete() == file.sha256
    assert target.read_bytes() == data
    assert PartialFile(target, file).already_complete()

    corrupt = PartialFile(tmp_path / "c.bin", file)
    corrupt.open()
    corrupt.write(b"x" * len(data))
    with pytest.raises(ChecksumMismatch):
        corrupt.complete()
    assert not (tmp_path / "c.bin").exists()
    assert not (tmp_path / "c.bin.part").exists()
