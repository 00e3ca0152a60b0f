"""`make up`'s progress lines: each step says what it does and, when done, how long it took."""

from __future__ import annotations

import re

import pytest

from modelgate_stack.progress import Progress


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
