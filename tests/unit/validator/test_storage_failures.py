"""A missing object, a refused read or storage that stays away is a failed check whose detail
says which, logged as a warning with the submission: never "check crashed" with a traceback."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, cast
from uuid import uuid4

import pytest

from modelgate_shared.events import CheckStatus
from modelgate_testkit.factories import submitted
from modelgate_validator.artifact_reader import MissingObject, StorageRefused, StorageUnavailable
from modelgate_validator.checks.base import CheckContext, Outcome
from modelgate_validator.pipeline import Validation

URI = "s3://artifacts/staging/model.safetensors"


class _Reads:
    """A check whose read of the artifact meets `failure`."""

    needs_storage = True

    def __init__(self, name: str, failure: Exception | None) -> None:
        self.name = name
        self.failure = failure

    async def run(self, ctx: CheckContext) -> Outcome:
        if self.failure is not None:
            raise self.failure
        return Outcome.passed("read it")


@pytest.mark.parametrize(
    ("failure", "detail"),
    [
        (MissingObject(f"{URI} does not exist"), f"object missing: {URI} does not exist"),
        (
            StorageRefused(URI, 403, "AccessDenied"),
            f"access refused: S3 answered HTTP 403 (AccessDenied) for {URI}",
        ),
        (
            StorageRefused(URI, 416, "InvalidRange"),
            "storage refused the read: S3 answered HTTP 416",
        ),
        (
            StorageUnavailable("S3 unreachable while reading x: gave up after 4 attempts"),
            "storage unavailable after retries: S3 unreachable",
        ),
    ],
)
async def test_a_storage_failure_fails_the_check_with_its_reason(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, failure: Exception, detail: str
) -> None:
    validation = Validation([_Reads("format-safety", failure)], cast("Any", None), tmp_path)
    submission = submitted(name="tiny-model", version="1.2.3")
    with caplog.at_level(logging.WARNING, logger="modelgate_validator.pipeline"):
        result = await validation.run(submission, uuid4())
    (check,) = result.checks
    assert check.status == CheckStatus.FAILED
    assert check.detail.startswith(detail)
    assert "crashed" not in check.detail
    (record,) = [r for r in caplog.records if r.name == "modelgate_validator.pipeline"]
    assert record.levelno == logging.WARNING
    assert record.exc_info is None
    message = record.getMessage()
    assert str(submission.submission_id) in message
    assert "format-safety" in message
    assert "tiny-model 1.2.3" in message


async def test_later_storage_checks_are_skipped_once_storage_stayed_away(tmp_path: Path) -> None:
    checks = [
        _Reads("integrity", StorageUnavailable("S3 unreachable: gave up after 4 attempts")),
        _Reads("format-safety", None),
    ]
    result = await Validation(checks, cast("Any", None), tmp_path).run(submitted(), uuid4())
    assert [c.status for c in result.checks] == [CheckStatus.FAILED, CheckStatus.SKIPPED]
    assert "not run: S3 unreachable" in result.checks[1].detail


async def test_a_real_bug_still_reads_as_a_crash(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    validation = Validation([_Reads("format-safety", KeyError("x"))], cast("Any", None), tmp_path)
    with caplog.at_level(logging.WARNING, logger="modelgate_validator.pipeline"):
        result = await validation.run(submitted(), uuid4())
    assert result.checks[0].detail.startswith("check crashed: KeyError")
    assert caplog.records[-1].exc_info is not None
