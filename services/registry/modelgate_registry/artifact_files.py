"""The files behind an artifact URI a Kubeflow client attached, so the version can enter the gate.

`s3://bucket/key` names one object, or a prefix (a model directory): listed, never read.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from pydantic import ValidationError

from modelgate_shared.events import ArtifactFile
from modelgate_shared.s3_lazy import LazyS3

MAX_FILES = 10000


class UnusableArtifact(Exception):
    """Why the URI cannot be validated: the version is rejected with this reason."""


async def list_files(s3: LazyS3 | Any, uri: str, allowed_buckets: set[str]) -> list[ArtifactFile]:
    """The files under `uri`; `s3` a client, or the registry's client opened on first use."""
    if not uri.startswith("s3://"):
        raise UnusableArtifact(
            f"artifact URI {uri!r} is not in S3: Modelgate validates artifacts it can read from "
            "S3 (s3://bucket/key), or uploads through the ingest service"
        )
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if bucket not in allowed_buckets:
        raise UnusableArtifact(
            f"bucket {bucket!r} is not one submissions may reference "
            f"({', '.join(sorted(allowed_buckets))})"
        )
    if isinstance(s3, LazyS3):
        s3 = await s3.client()
    try:
        if key and not key.endswith("/"):
            try:
                head = await s3.head_object(Bucket=bucket, Key=key)
            except s3.exceptions.ClientError:
                head = None
            if head is not None:
                name = PurePosixPath(key).name
                return [ArtifactFile(path=name, uri=uri, size=int(head["ContentLength"]))]
        prefix = key if not key or key.endswith("/") else f"{key}/"
        files: list[ArtifactFile] = []
        paginator = s3.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                relative = item["Key"][len(prefix) :]
                if relative:
                    files.append(
                        ArtifactFile(
                            path=relative,
                            uri=f"s3://{bucket}/{item['Key']}",
                            size=int(item["Size"]),
                        )
                    )
                if len(files) > MAX_FILES:
                    raise UnusableArtifact(f"more than {MAX_FILES} objects under {uri}")
    except ValidationError as exc:
        raise UnusableArtifact(f"an object under {uri} has an unusable name: {exc}") from exc
    if not files:
        raise UnusableArtifact(f"nothing found at {uri}")
    return files
