"""How a version made through the Kubeflow API enters the gate: the `model.submitted` event
its model artifact and custom properties make."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from modelgate_registry.artifact_files import UnusableArtifact, list_files
from modelgate_registry.lifecycle import Registry
from modelgate_registry.records import ArtifactRecord, ModelRecord, VersionRecord
from modelgate_shared.auth import Principal
from modelgate_shared.events import Artifact, ArtifactFormat, ModelCard, ModelSubmitted


async def enter_gate(
    registry: Registry,
    s3: Any,
    allowed_buckets: set[str],
    change: Any,
    model: ModelRecord,
    version: VersionRecord,
    artifact: ArtifactRecord,
    actor: Principal,
) -> None:
    """Submit the version (its model artifact's files listed from S3), or reject it when the
    artifact cannot be used."""
    assert artifact.uri is not None
    try:
        files = await list_files(s3, artifact.uri, allowed_buckets)
    except UnusableArtifact as exc:
        await registry.reject(change, version, actor.subject, str(exc))
        return
    submission = ModelSubmitted(
        submission_id=version.submission_id,
        name=model.name,
        version=version.version,
        submitter=actor.subject,
        artifact=Artifact(uri=artifact.uri, format=_format(artifact), files=files),
        model_card=_card(model, version),
        labels=version.labels,
        submitted_at=datetime.now(UTC),
    )
    await registry.submit(change, version, submission)


def _format(artifact: ArtifactRecord) -> ArtifactFormat:
    name = str(artifact.properties.get("modelFormatName", "")).lower()
    for fmt in ArtifactFormat:
        if fmt.value == name:
            return fmt
    aliases = {
        "pytorch": ArtifactFormat.PYTORCH,
        "torch": ArtifactFormat.PYTORCH,
        "vllm": ArtifactFormat.SAFETENSORS,
        "huggingface": ArtifactFormat.HF_DIRECTORY,
    }
    return aliases.get(name, ArtifactFormat.OTHER)


def _card(model: ModelRecord, version: VersionRecord) -> ModelCard:
    """The model card of a version made through the Kubeflow API: its and its model's fields,
    and same-named string custom properties (e.g. `intended_use`)."""
    custom = {**model.custom_properties, **version.custom_properties}

    def text(key: str) -> str | None:
        value = custom.get(key, {})
        found = value.get("string_value") if isinstance(value, dict) else None
        return str(found) if found else None

    return ModelCard(
        description=version.description or model.description,
        owner_team=model.owner or text("owner_team"),
        license=model.license or text("license"),
        intended_use=text("intended_use"),
        limitations=text("limitations"),
        training_data_version=text("training_data_version"),
        code_commit=text("code_commit"),
    )
