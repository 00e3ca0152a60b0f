"""What a submission is before it becomes an event: its metadata, checks, and format."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import PurePosixPath
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from modelgate_shared.errors import ApiError
from modelgate_shared.events import (
    Artifact,
    ArtifactFile,
    ArtifactFormat,
    ModelCard,
    ModelSubmitted,
)
from modelgate_shared.events.fields import Label, Name, RelativePath, ShortText, Version
from modelgate_shared.http_guard import holds_escaped_control
from modelgate_shared.names import identity_problems
from modelgate_shared.policy import PolicySettings, artifact_problems, card_problems

_BY_SUFFIX = {
    ".safetensors": ArtifactFormat.SAFETENSORS,
    ".onnx": ArtifactFormat.ONNX,
    ".gguf": ArtifactFormat.GGUF,
    ".bin": ArtifactFormat.PYTORCH,
    ".pt": ArtifactFormat.PYTORCH,
    ".pth": ArtifactFormat.PYTORCH,
    ".ckpt": ArtifactFormat.PYTORCH,
    ".pkl": ArtifactFormat.PICKLE,
}


class SubmissionMetadata(BaseModel):
    """The `metadata` part of an upload (JSON), or the body of a reference submission."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    name: Name
    version: Version
    model_card: ModelCard = Field(default_factory=ModelCard)
    labels: dict[Label, Label] = Field(default_factory=dict, max_length=128)
    source: ShortText | None = None
    hardware_profile: ShortText | None = None
    format: ArtifactFormat | None = None
    """Serialisation of the model; inferred from the file names when absent."""


class ReferenceFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: RelativePath
    uri: str
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")
    size: int | None = Field(None, ge=0)


class ReferenceSubmission(SubmissionMetadata):
    """A submission of objects already in S3: ingest copies nothing, the validator checks."""

    files: list[ReferenceFile] = Field(min_length=1, max_length=10000)
    artifact_uri: str | None = None
    """Root of the artifact; defaults to the common prefix of the files. Given, it must be
    their root: every file under it, in the same bucket (else 422)."""


def parse_metadata(raw: bytes) -> SubmissionMetadata:
    # The metadata part is JSON the edge's guard never saw (it is inside a multipart body).
    if holds_escaped_control(raw):
        raise ApiError(400, "the metadata part holds a NUL or control character")
    try:
        return SubmissionMetadata.model_validate_json(raw)
    except ValidationError as exc:
        raise ApiError(422, f"invalid metadata: {_describe(exc)}") from exc


def _describe(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in exc.errors()[:5]
    )


def check_metadata(meta: SubmissionMetadata, policy: PolicySettings) -> None:
    """Refuse at once what the validator would refuse without reading any artifact."""
    problems = identity_problems(meta.name, meta.version) + card_problems(meta.model_card, policy)
    if problems:
        raise ApiError(422, "; ".join(problems))


def check_file_name(name: str | None) -> str:
    """The relative path a file part names, or a 400 saying why it cannot be used."""
    if not name or not name.strip():
        raise ApiError(400, "a file part needs a filename (its path inside the artifact)")
    # "staging/<id>/ " is a valid S3 key and a trap: blank and space-padded names look alike
    # in every listing, so segments must be trimmed. (Empty segments, as in "a//b" or "/abs",
    # are the path check's below, with its own reasons.)
    if any(segment != segment.strip() for segment in name.split("/")):
        raise ApiError(
            400, f"unusable file name {name!r}: a blank segment, or one with surrounding spaces"
        )
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise ApiError(400, f"unusable file name {name!r}: it holds a control character")
    try:
        ArtifactFile.model_validate({"path": name, "uri": "s3://placeholder/x"})
    except ValidationError as exc:
        raise ApiError(400, f"unsafe file name {name!r}: {exc.errors()[0]['msg']}") from exc
    return name


def infer_format(paths: list[str], declared: ArtifactFormat | None) -> ArtifactFormat:
    if declared is not None:
        return declared
    formats = {_BY_SUFFIX.get(PurePosixPath(p).suffix.lower()) for p in paths} - {None}
    if len(paths) > 1 and any(PurePosixPath(p).name == "config.json" for p in paths):
        return ArtifactFormat.HF_DIRECTORY
    if len(formats) == 1:
        (only,) = formats
        assert only is not None
        return only
    return ArtifactFormat.OTHER


def build_submitted(
    submission_id: UUID,
    meta: SubmissionMetadata,
    submitter: str,
    artifact_uri: str,
    files: list[ArtifactFile],
) -> ModelSubmitted:
    try:
        return ModelSubmitted(
            submission_id=submission_id,
            name=meta.name,
            version=meta.version,
            submitter=submitter,
            artifact=Artifact(
                uri=artifact_uri,
                format=infer_format([f.path for f in files], meta.format),
                files=files,
            ),
            model_card=meta.model_card,
            labels=meta.labels,
            source=meta.source,
            hardware_profile=meta.hardware_profile,
            submitted_at=datetime.now(UTC),
        )
    except ValidationError as exc:
        raise ApiError(422, f"invalid submission: {_describe(exc)}") from exc


def reference_files(
    ref: ReferenceSubmission, allowed_buckets: set[str]
) -> tuple[str, list[ArtifactFile]]:
    files: list[ArtifactFile] = []
    for item in ref.files:
        if not item.uri.startswith("s3://"):
            raise ApiError(422, f"file {item.path!r}: uri must be s3://bucket/key")
        bucket = item.uri[5:].split("/", 1)[0]
        if bucket not in allowed_buckets:
            raise ApiError(
                403,
                f"file {item.path!r}: bucket {bucket!r} is not one submissions "
                f"may reference ({', '.join(sorted(allowed_buckets))})",
            )
        try:
            files.append(
                ArtifactFile(path=item.path, uri=item.uri, sha256=item.sha256, size=item.size)
            )
        except ValidationError as exc:
            raise ApiError(422, f"file {item.path!r}: {_describe(exc)}") from exc
    root = ref.artifact_uri or _common_prefix([f.uri for f in files])
    try:
        artifact = Artifact(uri=root, format=ArtifactFormat.OTHER, files=files)
    except ValidationError as exc:
        raise ApiError(422, f"artifact_uri: {_describe(exc)}") from exc
    problems = artifact_problems(artifact, allowed_buckets)
    if problems:
        raise ApiError(422, "; ".join(problems))
    return root, files


def _common_prefix(uris: list[str]) -> str:
    if len(uris) == 1:
        return uris[0]
    parts = [u.split("/") for u in uris]
    common: list[str] = []
    for segment in zip(*parts, strict=False):
        if len(set(segment)) != 1:
            break
        common.append(segment[0])
    return "/".join(common) + "/"
