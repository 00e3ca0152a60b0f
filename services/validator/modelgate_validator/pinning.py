"""Pinned copies: the bytes the validator hashed, copied server-side where nothing changes them.

After a pass, each file is copied (S3 CopyObject; UploadPartCopy in parts above 5 GiB) to
`s3://<pinned bucket>/<submission id>/<path>`, and the catalog serves only those copies:

- the copy is made of exactly the hashed bytes: the source's VersionId when its bucket is
  versioned, and `If-Match` its ETag always (a source overwritten since fails with 412);
- the copy is locked: S3 Object Lock retention, governance mode by default (the pinned bucket
  is created with Object Lock, which implies versioning), so that version cannot be deleted
  or overwritten by anyone without the bypass-governance permission (in compliance mode, by
  no one at all until the retention ends);
- the copy is checked: its SHA-256 (S3's own checksum of the copy, or else a streamed re-read
  of that version) must be the one hashed;
- the copy's VersionId is what readers ask for, so a later PUT to the same key (a new
  version) changes nothing they get.

A per-submission directory, not a content-addressed `blobs/sha256/<hex>` store: the pinned
root is then a usable model directory (the Kubeflow model artifact's `uri`, what KServe's
storage initializer downloads), at the cost of no de-duplication across versions.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from botocore.exceptions import ClientError

from modelgate_shared.events import ArtifactFile, PinnedFile
from modelgate_validator.artifact_reader import ArtifactReader, split_uri
from modelgate_validator.files import THREAD_HASH_BYTES, Hashed
from modelgate_validator.s3_requests import ObjectLock

T = TypeVar("T")
COPY_LIMIT = 5 * 1024**3
"""S3's largest CopyObject; beyond it the copy goes in parts (UploadPartCopy)."""
PART_BYTES = 1024**3
"""Part size of a multipart copy: 10,000 parts reach 9.7 TiB."""


class PinRefused(Exception):
    """The copy could not be made, locked or confirmed: the submission fails with this."""


@dataclass(frozen=True)
class PinTarget:
    bucket: str
    submission_id: UUID
    event_id: UUID | None = None
    """The `model.submitted` event validated. A submission id is chosen by its submitter, so a
    second event may reuse one (a registered producer may sign anything as itself): with the
    event's id in the folder, its copies can never become new versions of keys whose bytes
    the catalog already serves (a client reading the Kubeflow `uri` without a version id
    would get the newest)."""

    @property
    def folder(self) -> str:
        if self.event_id is None:
            return str(self.submission_id)
        return f"{self.submission_id}/{self.event_id}"

    def key(self, path: str) -> str:
        return f"{self.folder}/{path}"

    def root(self, single_object: str | None) -> str:
        """The pinned root: the one object of a single-file artifact, else the prefix."""
        if single_object is not None:
            return f"s3://{self.bucket}/{self.key(single_object)}"
        return f"s3://{self.bucket}/{self.folder}/"


class Pinner:
    def __init__(
        self, reader: ArtifactReader, *, retain_days: int, mode: str = "GOVERNANCE"
    ) -> None:
        self.reader = reader
        self.s3: Any = reader.s3  # multipart copies (rare, above 5 GiB)
        self.signed = reader.signed  # every other call, at a third of the client's CPU
        self.retain_days = retain_days
        self.mode = mode

    async def pin(self, item: ArtifactFile, hashed: Hashed, target: PinTarget) -> PinnedFile:
        key = target.key(item.path)
        lock = self._lock()
        if hashed.version_id is not None or not hashed.etag or hashed.size > COPY_LIMIT:
            # Asked first when the copy cannot ask itself: a versioned source (the copy names
            # the hashed version, which a later PUT leaves in place, so its If-Match would
            # still pass), no ETag to match, or a copy in parts. Otherwise If-Match on the
            # copy refuses a rewritten source, atomically, and a HEAD would be one more S3
            # request per file for nothing.
            await self._unchanged(item.uri, hashed)
        if hashed.size <= COPY_LIMIT:
            version_id, checksum = await self._copy(item.uri, hashed, target.bucket, key, lock)
        else:
            version_id, checksum = await self._copy_in_parts(
                item.uri, hashed, target.bucket, key, lock
            )
        pinned_uri = f"s3://{target.bucket}/{key}"
        if version_id is None:
            raise PinRefused(
                f"{item.path}: bucket {target.bucket!r} gave the copy no VersionId; pinned "
                "copies need a bucket created with S3 Object Lock (which implies versioning)"
            )
        await self._confirm(item.path, pinned_uri, version_id, hashed, checksum)
        return PinnedFile(
            path=item.path,
            sha256=hashed.sha256,
            size=hashed.size,
            uri=pinned_uri,
            version_id=version_id,
            submitted_uri=item.uri,
        )

    async def put_locked(self, target: PinTarget, name: str, body: bytes) -> tuple[str, str]:
        """A small object the gate made (its signature) into the pinned folder, locked like
        the copies. Returns its URI and VersionId."""
        key = target.key(name)
        digest = hashlib.sha256(body).digest()
        version_id = await self._call(
            f"writing s3://{target.bucket}/{key}",
            lambda: self.signed.put_object(
                target.bucket,
                key,
                body,
                checksum_sha256=base64.b64encode(digest).decode(),
                metadata={"sha256": digest.hex()},
                lock=self._lock(),
            ),
        )
        if version_id is None:
            raise PinRefused(f"bucket {target.bucket!r} gave {name} no VersionId")
        return f"s3://{target.bucket}/{key}", version_id

    def _lock(self) -> ObjectLock:
        return ObjectLock(self.mode, datetime.now(UTC) + timedelta(days=self.retain_days))

    async def _call(
        self, what: str, call: Callable[[], Awaitable[T]], *, if_412: str | None = None
    ) -> T:
        """An S3 call retried like every read; a refusal (4xx) becomes the reason to fail
        (`if_412` that of a failed precondition)."""
        try:
            return await self.reader.retrying(what, call)
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if if_412 is not None and status == 412:
                raise PinRefused(if_412) from exc
            error = exc.response.get("Error", {})
            raise PinRefused(
                f"S3 refused {what}: {error.get('Code', '?')}: {error.get('Message', '')}"
            ) from exc

    async def _unchanged(self, uri: str, hashed: Hashed) -> None:
        """The submitted object is still the one hashed (and format-checked): one rewritten
        while it was validated is refused, even if its old version could still be copied."""
        bucket, key = split_uri(uri)
        head = await self._call(
            f"reading the metadata of {uri}", lambda: self.signed.head_object(bucket, key)
        )
        now = (head.get("ETag"), head.get("VersionId"))
        if now != (hashed.etag, hashed.version_id):
            raise PinRefused(_changed(uri))

    def _source(self, uri: str, hashed: Hashed) -> dict[str, Any]:
        bucket, key = split_uri(uri)
        source = {"Bucket": bucket, "Key": key}
        if hashed.version_id is not None:
            source["VersionId"] = hashed.version_id
        return {"CopySource": source, **({"CopySourceIfMatch": hashed.etag} if hashed.etag else {})}

    async def _copy(
        self, uri: str, hashed: Hashed, bucket: str, key: str, lock: ObjectLock
    ) -> tuple[str | None, str | None]:
        """CopyObject; returns the copy's VersionId and S3's SHA-256 of it when S3 gave one in
        its answer (`SignedS3.copy_object`: saves asking again with a HEAD)."""
        source_bucket, source_key = split_uri(uri)
        return await self._call(
            f"copying {uri} to s3://{bucket}/{key}",
            lambda: self.signed.copy_object(
                bucket,
                key,
                source_bucket=source_bucket,
                source_key=source_key,
                source_version_id=hashed.version_id,
                source_if_match=hashed.etag or None,
                metadata={"sha256": hashed.sha256},
                lock=lock,
            ),
            if_412=_changed(uri),
        )

    async def _copy_in_parts(
        self, uri: str, hashed: Hashed, bucket: str, key: str, lock: ObjectLock
    ) -> tuple[str | None, str | None]:
        started = await self._call(
            f"starting a multipart copy to s3://{bucket}/{key}",
            lambda: self.s3.create_multipart_upload(
                Bucket=bucket,
                Key=key,
                Metadata={"sha256": hashed.sha256},
                ObjectLockMode=lock.mode,
                ObjectLockRetainUntilDate=lock.retain_until,
            ),
        )
        upload_id = started["UploadId"]
        try:
            parts = []
            for number, first in enumerate(range(0, hashed.size, PART_BYTES), start=1):
                last = min(first + PART_BYTES, hashed.size) - 1

                async def part(n: int = number, a: int = first, b: int = last) -> Any:
                    return await self.s3.upload_part_copy(
                        Bucket=bucket,
                        Key=key,
                        UploadId=upload_id,
                        PartNumber=n,
                        CopySourceRange=f"bytes={a}-{b}",
                        **self._source(uri, hashed),
                    )

                answer = await self._call(f"copying part {number} of {uri}", part)
                parts.append({"ETag": answer["CopyPartResult"]["ETag"], "PartNumber": number})
            done = await self._call(
                f"completing the multipart copy to s3://{bucket}/{key}",
                lambda: self.s3.complete_multipart_upload(
                    Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
                ),
            )
        except BaseException:
            await self.s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            raise
        # A multipart object's S3 checksum is of its parts, not of the file: re-read it.
        return done.get("VersionId"), None

    async def _confirm(
        self, path: str, uri: str, version_id: str, hashed: Hashed, checksum: str | None
    ) -> None:
        """The pinned version holds the hashed bytes: S3's SHA-256 of the whole copy when it
        computed one (MinIO does, asked for `ChecksumAlgorithm=SHA256`, and tells it in the
        copy's answer: `SignedS3.copy_object`; asked for on a HEAD where the answer had none),
        else the copy streamed and hashed again (a multipart copy's checksum is of its parts)."""
        if checksum is None:
            bucket, key = split_uri(uri)
            head = await self._call(
                f"reading the checksum of {uri}",
                lambda: self.signed.head_object(bucket, key, version_id=version_id, checksum=True),
            )
            if int(head["ContentLength"]) != hashed.size:
                raise PinRefused(
                    f"{path}: the pinned copy {uri} is {head['ContentLength']} bytes, "
                    f"not the {hashed.size} validated"
                )
            if head.get("ChecksumType", "FULL_OBJECT") == "FULL_OBJECT":
                checksum = head.get("ChecksumSHA256")
        if checksum is not None:
            actual = base64.b64decode(checksum).hex()
        else:
            hasher = hashlib.sha256()

            async def restart() -> None:
                nonlocal hasher
                hasher = hashlib.sha256()

            async def sink(chunk: bytes) -> None:
                if len(chunk) >= THREAD_HASH_BYTES:
                    await asyncio.to_thread(hasher.update, chunk)
                else:
                    hasher.update(chunk)

            await self.reader.consume(uri, sink, restart=restart, version_id=version_id)
            actual = hasher.hexdigest()
        if actual != hashed.sha256:
            raise PinRefused(
                f"{path}: the pinned copy {uri} (version {version_id}) has SHA-256 {actual}, "
                f"not the {hashed.sha256} validated"
            )


def _changed(uri: str) -> str:
    return f"{uri} changed while it was being validated; submit it again"
