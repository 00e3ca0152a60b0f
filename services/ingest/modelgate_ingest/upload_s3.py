"""The S3 side of a presigned upload: each file's multipart upload started, its parts listed
and presigned, the whole completed after checking every part, or aborted."""

from __future__ import annotations

import contextlib
from typing import Any

from botocore.exceptions import ClientError

from modelgate_ingest.artifact_store import ArtifactStore
from modelgate_ingest.upload_parts import EMPTY_SHA256, checksum_b64, part_length
from modelgate_shared.errors import ApiError


class MultipartFiles:
    """Operates on a planned file (`item`): a dict with its path, key, size, part size and
    count, S3 multipart upload id and whether it is completed."""

    def __init__(self, store: ArtifactStore) -> None:
        self.store = store
        self.s3 = store.s3
        self.bucket = store.bucket

    async def start(self, files: list[dict[str, Any]]) -> None:
        for item in files:
            if item["size"] == 0:
                # Nothing to send: stored now, and done.
                await self.s3.put_object(
                    Bucket=self.bucket,
                    Key=item["key"],
                    Body=b"",
                    ChecksumSHA256=checksum_b64(EMPTY_SHA256),
                )
                item["sha256"] = EMPTY_SHA256
                item["completed"] = True
                continue
            answer = await self.s3.create_multipart_upload(
                Bucket=self.bucket, Key=item["key"], ChecksumAlgorithm="SHA256"
            )
            item["s3_upload_id"] = answer["UploadId"]

    async def parts(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        """The parts S3 holds (ListParts, every page)."""
        parts: list[dict[str, Any]] = []
        marker = 0
        while True:
            try:
                answer = await self.s3.list_parts(
                    Bucket=self.bucket,
                    Key=item["key"],
                    UploadId=item["s3_upload_id"],
                    PartNumberMarker=marker,
                )
            except self.s3.exceptions.NoSuchUpload as exc:
                raise ApiError(
                    409, f"file {item['path']!r}: S3 no longer has its multipart upload"
                ) from exc
            parts.extend(answer.get("Parts", []))
            if not answer.get("IsTruncated"):
                return parts
            marker = int(answer["NextPartNumberMarker"])

    async def part_url(self, item: dict[str, Any], number: int, checksum: str, ttl_s: int) -> str:
        """A presigned UploadPart URL with the part's checksum (base64) bound into it."""
        url: str = await self.s3.generate_presigned_url(
            "upload_part",
            Params={
                "Bucket": self.bucket,
                "Key": item["key"],
                "UploadId": item["s3_upload_id"],
                "PartNumber": number,
                "ChecksumSHA256": checksum,
            },
            ExpiresIn=ttl_s,
        )
        return url

    async def complete(self, item: dict[str, Any]) -> None:
        parts = {p["PartNumber"]: p for p in await self.parts(item)}
        expected = range(1, item["part_count"] + 1)
        absent = [n for n in expected if n not in parts]
        if absent:
            shown = ", ".join(map(str, absent[:10])) + (" …" if len(absent) > 10 else "")
            raise ApiError(
                409,
                f"file {item['path']!r}: {len(absent)} of {item['part_count']} part(s) not "
                f"uploaded yet ({shown})",
            )
        extra = sorted(set(parts) - set(expected))
        if extra:
            raise ApiError(409, f"file {item['path']!r}: unexpected part(s) {extra[:10]}")
        for number in expected:
            want = part_length(item["size"], item["part_size"], number)
            if parts[number]["Size"] != want or not parts[number].get("ChecksumSHA256"):
                raise ApiError(
                    409,
                    f"file {item['path']!r}: part {number} holds {parts[number]['Size']} "
                    f"bytes, not {want} (upload it again)",
                )
        try:
            await self._complete_parts(item, parts, expected)
        except self.s3.exceptions.NoSuchUpload:
            # Completed by an earlier try whose answer (or its saved state) was lost: the
            # object is there with the planned size, or the upload was aborted.
            if await self._completed_size(item) != item["size"]:
                raise ApiError(
                    409, f"file {item['path']!r}: S3 no longer has its multipart upload"
                ) from None
        except ClientError as exc:
            raise ApiError(
                409,
                f"file {item['path']!r}: S3 refused to complete it: "
                f"{exc.response.get('Error', {}).get('Code', 'error')}",
            ) from exc

    async def _completed_size(self, item: dict[str, Any]) -> int | None:
        try:
            head = await self.s3.head_object(Bucket=self.bucket, Key=item["key"])
        except ClientError:
            return None
        return int(head["ContentLength"])

    async def _complete_parts(
        self, item: dict[str, Any], parts: dict[int, dict[str, Any]], expected: range
    ) -> None:
        await self.s3.complete_multipart_upload(
            Bucket=self.bucket,
            Key=item["key"],
            UploadId=item["s3_upload_id"],
            MultipartUpload={
                "Parts": [
                    {
                        "PartNumber": n,
                        "ETag": parts[n]["ETag"],
                        "ChecksumSHA256": parts[n]["ChecksumSHA256"],
                    }
                    for n in expected
                ]
            },
        )

    async def abort(self, files: list[dict[str, Any]], *, delete_completed: bool = True) -> None:
        done = [item["key"] for item in files if item["completed"]]
        if done and delete_completed:
            # Every completed object, not only the empty ones: a complete that failed on a
            # later file leaves earlier files completed, which nothing else would remove.
            await self.store.delete(done)
        for item in files:
            if item["completed"]:
                continue
            if not item["s3_upload_id"]:
                continue
            with contextlib.suppress(self.s3.exceptions.NoSuchUpload):
                await self.s3.abort_multipart_upload(
                    Bucket=self.bucket, Key=item["key"], UploadId=item["s3_upload_id"]
                )
