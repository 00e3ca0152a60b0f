"""`make up`'s progress lines: each step says what it does and, when done, how long it took."""

from __future__ import annotations

import re
import time

import pytest

from modelgate_stack.progress import Job, Progress


def test_a_step_prints_what_it_does_then_its_duration(capsys: pytest.CaptureFixture[str]) -> None:
    progress = Progress()
    with progress.step("building MinIO", "MinIO built"):
        pass
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"  \[\s*\d+\.\ds\] building MinIO", lines[0])
    assert re.fullmatch(r"  \[\s*\d+\.\ds\] MinIO built \(\d+\.\ds\)", lines[1])


def test_a_quiet_run_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    progress = Progress(enabled=False)
    with progress.step("building MinIO", "MinIO built"):
        progress.line("kafka ready")
    assert capsys.readouterr().out == ""


def test_parallel_steps_say_when_each_starts_ends_and_what_still_runs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    progress = Progress(heartbeat_s=0.1)
    progress.parallel(
        [
            Job("minio", "building MinIO", lambda: time.sleep(0.35)),
            Job("kafka", "downloading Kafka", lambda: None),
            Job("postgres", None, lambda: None),  # cached: nothing to say
        ]
    )
    lines = [line.split("] ", 1)[1] for line in capsys.readouterr().out.splitlines()]
    assert lines[:2] == ["minio: building MinIO", "kafka: downloading Kafka"]
    assert re.fullmatch(r"kafka: done \(\d+\.\ds\)", lines[2])
    assert "still working (0s): minio" in lines
    assert re.fullmatch(r"minio: done \(\d+\.\ds\)", lines[-1])
    assert not any("postgres" in line for line in lines)


def test_a_failed_parallel_step_is_raised_after_the_others_end(
    capsys: pytest.CaptureFixture[str],
) -> None:
    finished: list[str] = []

    def broken() -> None:
        raise RuntimeError("go is missing")

    def slow() -> None:
        time.sleep(0.2)
        finished.append("jaeger")

    with pytest.raises(RuntimeError, match="go is missing"):
        Progress().parallel([Job("minio", "building MinIO", broken), Job("jaeger", None, slow)])
    assert finished == ["jaeger"]
    assert "minio: failed (go is missing)" in capsys.readouterr().out
