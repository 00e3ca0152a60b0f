"""Constrained types the event contract is made of.

Structure (types, lengths, URI schemes, safe relative paths, hex digests) is checked when an
event is decoded: an event that breaks it goes to the dead-letter topic. Policy (name pattern,
SemVer, required card fields, licences) is the validator's job, so a submitter whose event is
well-formed but unacceptable gets a failed verdict with reasons rather than silence.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Annotated

from pydantic import AfterValidator, Field

# semver.org's recommended regular expression (SemVer 2.0.0).
SEMVER_PATTERN = (
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
# DNS-label-like, widened to dots and underscores so names such as the seeds'
# "Granite-3.1-8b-Instruct-FP8" are accepted: starts and ends alphanumeric, at most 128.
MODEL_NAME_PATTERN = r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,126}[A-Za-z0-9])?$"
# The rules that use these patterns (with Unicode checks around them) are in
# modelgate_shared.names, so every path that names a model applies the same ones.


def _safe_relative_path(value: str) -> str:
    """A file name inside an artifact: relative, normalised, never escaping its root."""
    if not value or "\x00" in value or "\\" in value:
        raise ValueError("must be a non-empty POSIX path without NUL or backslash")
    path = PurePosixPath(value)
    if path.is_absolute():
        raise ValueError(f"must be relative, got absolute path {value!r}")
    if any(part in ("..", ".", "") for part in value.split("/")):
        raise ValueError(f"must not contain '..', '.' or empty segments: {value!r}")
    return value


def _s3_uri(value: str) -> str:
    if not value.startswith("s3://") or len(value) <= len("s3://") or "\x00" in value:
        raise ValueError(f"must be an s3://bucket/key URI, got {value!r}")
    bucket = value[5:].split("/", 1)[0]
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket):
        raise ValueError(f"has an invalid bucket name {bucket!r}")
    return value


Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="Lowercase hex SHA-256.")]
RelativePath = Annotated[str, Field(max_length=1024), AfterValidator(_safe_relative_path)]
S3Uri = Annotated[str, Field(max_length=2048), AfterValidator(_s3_uri)]
ShortText = Annotated[str, Field(max_length=256)]
LongText = Annotated[str, Field(max_length=16384)]
Name = Annotated[str, Field(min_length=1, max_length=253)]
Version = Annotated[str, Field(min_length=1, max_length=128)]
Label = Annotated[str, Field(max_length=256)]
