"""The bodies of the presigned upload API: what a client sends and what it is answered."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from modelgate_ingest.submissions import SubmissionMetadata
from modelgate_ingest.upload_parts import MAX_PARTS

_HEX = r"^[0-9a-f]{64}$"


class UploadFileIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, max_length=1024)
    """Path inside the artifact (`tokenizer/vocab.json`)."""
    size: int = Field(ge=0)
    sha256: str | None = Field(None, pattern=_HEX)
    """The whole file's SHA-256, if known now; else it is declared on completion."""


class UploadRequest(SubmissionMetadata):
    """The submission's metadata and the files to come (path, size, optional SHA-256)."""

    files: list[UploadFileIn] = Field(min_length=1, max_length=10000)


class PartOut(BaseModel):
    number: int
    size: int
    sha256: str | None
    """Hex SHA-256 S3 verified for this part."""


class UploadFileOut(BaseModel):
    path: str
    size: int
    sha256: str | None
    part_size: int
    part_count: int
    parts: list[PartOut]
    """Parts S3 already holds (an open upload only)."""


class UploadOut(BaseModel):
    upload_id: UUID
    submission_id: UUID
    state: str
    """open (parts may be sent), completed (model.submitted published) or aborted."""
    submission_status: str
    status_url: str
    abandon_after_s: float
    """An open upload with no request for this long is aborted."""
    files: list[UploadFileOut]


class PartRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, max_length=1024)
    number: int = Field(ge=1, le=MAX_PARTS)
    sha256: str = Field(pattern=_HEX)
    """The part's SHA-256 (hex): S3 refuses bytes that do not match it."""


class PartsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    parts: list[PartRequest] = Field(min_length=1, max_length=100)


class PartUrl(BaseModel):
    path: str
    number: int
    size: int
    url: str
    method: str = "PUT"
    headers: dict[str, str]
    """Send exactly these headers (the checksum is part of the signature)."""


class PartUrls(BaseModel):
    expires_in: int
    parts: list[PartUrl]


class CompleteFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, max_length=1024)
    sha256: str = Field(pattern=_HEX)


class CompleteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    files: list[CompleteFile] = Field(default_factory=list, max_length=10000)
    """Each file's whole SHA-256, unless it was declared when the upload was made."""
