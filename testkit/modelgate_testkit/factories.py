"""Building valid contract objects for tests, with one place to say what "valid" is."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from modelgate_shared.events import (
    Artifact,
    ArtifactFile,
    ArtifactFormat,
    ModelCard,
    ModelSubmitted,
    ModelValidated,
    Verdict,
)
from modelgate_stack.event_keys import DEMO_PRODUCER

GOOD_CARD = ModelCard(
    description="A tiny test model.",
    owner_team="ml-platform",
    license="apache-2.0",
    intended_use="tests",
)


def submitted(name: str = "tiny-model", version: str = "1.0.0", **overrides: Any) -> ModelSubmitted:
    submission_id = overrides.pop("submission_id", uuid.uuid4())
    files = overrides.pop("files", None) or [
        ArtifactFile(
            path="model.safetensors",
            uri=f"s3://modelgate/staging/{submission_id}/model.safetensors",
            sha256="0" * 64,
            size=8,
        )
    ]
    return ModelSubmitted(
        submission_id=submission_id,
        name=name,
        version=version,
        # The producer every test run registers a key for: a submission published straight
        # to Kafka is signed with it, and must name its signer as the submitter.
        submitter=overrides.pop("submitter", DEMO_PRODUCER),
        artifact=Artifact(
            uri=overrides.pop("artifact_uri", None) or _root(files),
            format=overrides.pop("format", ArtifactFormat.SAFETENSORS),
            files=files,
        ),
        model_card=overrides.pop("model_card", GOOD_CARD),
        submitted_at=datetime.now(UTC),
        **overrides,
    )


def validated(
    submission: ModelSubmitted | None = None, verdict: Verdict = Verdict.PASSED, **overrides: Any
) -> ModelValidated:
    """A verdict on `submission` (a new one by default), every check passed."""
    return ModelValidated(
        submission=submission or submitted(),
        submitted_event_id=overrides.pop("submitted_event_id", uuid.uuid4()),
        verdict=verdict,
        checks=overrides.pop("checks", []),
        validated_at=datetime.now(UTC),
        **overrides,
    )


def _root(files: list[ArtifactFile]) -> str:
    """The files' directory: the artifact root a valid submission names (policy refuses any
    other)."""
    parts = [f.uri.split("/")[:-1] for f in files]
    common: list[str] = []
    for segment in zip(*parts, strict=False):
        if len(set(segment)) != 1:
            break
        common.append(segment[0])
    return "/".join(common) + "/"
