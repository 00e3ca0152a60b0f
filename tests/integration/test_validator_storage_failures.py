"""Against the real MinIO: an artifact object that is missing, or that S3 refuses to serve,
fails the integrity and format checks with that reason; no check "crashes"."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from pydantic import SecretStr

from modelgate_shared.events import ArtifactFile, CheckStatus
from modelgate_shared.s3 import s3_client
from modelgate_shared.settings import ServiceSettings
from modelgate_testkit.factories import submitted
from modelgate_validator.artifact_reader import ArtifactReader, object_session
from modelgate_validator.checks.format_safety import FormatSafetyCheck
from modelgate_validator.checks.integrity import IntegrityCheck
from modelgate_validator.pipeline import Validation

pytestmark = pytest.mark.integration


def _submission(settings: ServiceSettings, key: str) -> Any:
    uri = f"s3://{settings.s3_bucket}/{key}"
    return submitted(files=[ArtifactFile(path="model.safetensors", uri=uri, sha256=None)])


@pytest.fixture
async def wrong_key_reader(settings: ServiceSettings) -> AsyncIterator[ArtifactReader]:
    """A reader whose requests MinIO refuses: signed with a secret key it does not know."""
    wrong = settings.model_copy(update={"s3_secret_key": SecretStr("not-the-secret-key")})
    async with s3_client(wrong) as client, object_session(client) as http:
        yield ArtifactReader(
            client, http, attempts=2, backoff_initial_s=0.1, backoff_max_s=1, chunk_bytes=1 << 20
        )


async def test_a_missing_object_fails_the_checks_with_the_reason(
    s3: Any, settings: ServiceSettings, reader: ArtifactReader, tmp_path: Path
) -> None:
    validation = Validation([IntegrityCheck(), FormatSafetyCheck()], reader, tmp_path)
    submission = _submission(settings, f"missing/{uuid4()}/model.safetensors")
    result = await validation.run(submission, uuid4())
    integrity, formats = result.checks
    assert integrity.status == formats.status == CheckStatus.FAILED
    assert "does not exist" in integrity.detail
    assert formats.detail.startswith("object missing: ")
    assert "crashed" not in integrity.detail + formats.detail


async def test_a_refused_read_fails_the_checks_with_the_reason(
    s3: Any,
    settings: ServiceSettings,
    wrong_key_reader: ArtifactReader,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    key = f"refused/{uuid4()}/model.safetensors"
    await s3.put_object(Bucket=settings.s3_bucket, Key=key, Body=b"\x02" + bytes(7) + b"{}")
    validation = Validation([IntegrityCheck(), FormatSafetyCheck()], wrong_key_reader, tmp_path)
    result = await validation.run(_submission(settings, key), uuid4())
    integrity, formats = result.checks
    assert integrity.status == formats.status == CheckStatus.FAILED
    assert integrity.detail.startswith("access refused: S3 answered HTTP 403")
    assert formats.detail.startswith("access refused: S3 answered HTTP 403")
    assert not any(r.exc_info for r in caplog.records), "expected conditions log no traceback"
