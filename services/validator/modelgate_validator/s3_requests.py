"""The S3 calls the validator makes for every submission, signed here (SigV4, `sigv4`) and
sent on kept-alive HTTP/1.1 connections (`http1`): object GETs and HEADs, the pinning copy and
the gate signature's PUT.

Why not the aiobotocore client for these: each of its calls cost 1.4-1.6 ms of CPU on the
development machine (S3's endpoint ruleset resolved again for every object key, event hooks,
user-agent building, its request model for signing, response parsing) against about 0.5 ms
this way, of which 0.24 ms is the bare HTTP request, side by side against the stack's MinIO;
the validator makes three to five per submission. Requests are path-style to the configured
endpoint, as the stack's client is configured (`modelgate_shared.s3`), whose endpoint must be
a bare scheme://host[:port] (`SignedS3.of_client` refuses one with a path); the rest (buckets,
multipart copies) stays with that client, whose credentials these requests use.

Refusals are raised as botocore's `ClientError` with the response botocore would have parsed
(`Error.Code`, `Error.Message`, `ResponseMetadata.HTTPStatusCode`), so callers keep one way
to read them; transport failures are `OSError`s (`http1`), which `is_transient` retries.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError
from botocore.utils import percent_encode
from multidict import CIMultiDictProxy

from modelgate_shared.telemetry.s3 import s3_span
from modelgate_validator.http1 import Answer, Connections
from modelgate_validator.sigv4 import SigV4, canonical_query

_CODE = re.compile(r"<Code>([^<]{0,200})</Code>")
_MESSAGE = re.compile(r"<Message>([^<]{0,2000})</Message>")
_COPY_CHECKSUM = re.compile(r"<ChecksumSHA256>([^<]{0,200})</ChecksumSHA256>")
_ERROR_BYTES = 64 * 1024


@dataclass(frozen=True)
class ObjectLock:
    """S3 Object Lock retention for a new object (or copy)."""

    mode: str
    retain_until: datetime

    def headers(self) -> dict[str, str]:
        until = self.retain_until
        return {
            "x-amz-object-lock-mode": self.mode,
            # ISO 8601 in UTC to the second, as botocore's serialiser writes it.
            "x-amz-object-lock-retain-until-date": until.astimezone(UTC).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            ),
        }


def object_path(bucket: str, key: str) -> str:
    """`/<bucket>/<key>` quoted as botocore quotes a path-style object URL."""
    return f"/{percent_encode(bucket)}/{percent_encode(key, safe='/~')}"


class SignedS3:
    def __init__(self, http: Connections, *, region: str, credentials: Any) -> None:
        """Requests to `http`'s endpoint, signed for the very Host header it sends."""
        self.http = http
        self._signer = SigV4(region, http.host_header)
        self._credentials = credentials

    @classmethod
    def of_client(cls, client: Any, http: Connections) -> SignedS3:
        """Requests on `http` (made for the client's endpoint: `object_session`), in the
        client's region, signed with its credentials. botocore keeps those on the client's
        request signer and exposes them nowhere else; they are read (frozen) for every
        request, as the client does, so credentials that refresh themselves keep working."""
        return cls(
            http,
            region=client.meta.region_name,
            credentials=client._request_signer._credentials,
        )

    @staticmethod
    def copy_source(bucket: str, key: str, version_id: str | None) -> str:
        """The `x-amz-copy-source` header: quoted as botocore quotes it, the version after."""
        source = percent_encode(f"{bucket}/{key}", safe="/~")
        return source if version_id is None else f"{source}?versionId={version_id}"

    async def signed(
        self,
        method: str,
        bucket: str,
        key: str,
        *,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
    ) -> tuple[str, dict[str, str]]:
        """The request's target (its path and query, quoted) and headers, signed (SigV4,
        Authorization header)."""
        path = object_path(bucket, key)
        target = f"{path}?{canonical_query(query)}" if query else path
        frozen = await self._credentials.get_frozen_credentials()
        signed = self._signer.headers(
            method,
            path,
            query,
            headers or {},
            body,
            access_key=frozen.access_key,
            secret_key=frozen.secret_key,
            token=frozen.token,
        )
        return target, signed

    @asynccontextmanager
    async def request(
        self,
        operation: str,
        method: str,
        bucket: str,
        key: str,
        *,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        refused: Callable[[int, str], Exception] | None = None,
    ) -> AsyncIterator[Answer]:
        """One signed request, its answer open to be read (streamed if need be). An error
        status raises `refused(status, body)`, by default botocore's `ClientError`."""
        target, signed = await self.signed(
            method, bucket, key, query=query, headers=headers, body=body
        )
        with s3_span(operation, {"Bucket": bucket, "Key": key}):
            # Sent exactly as quoted and signed. Redirects are not followed (`http1`): S3
            # answers these requests itself (botocore never followed one), and a redirect
            # elsewhere would carry the session token and the body along.
            async with self.http.request(method, target, signed, body) as answer:
                if answer.status >= 300:
                    # An error document is a few hundred bytes; more is not read.
                    text = await answer.text(errors="replace", limit=_ERROR_BYTES)
                    if refused is not None:
                        raise refused(answer.status, text)
                    raise client_error(operation, answer.status, text)
                yield answer

    async def call(
        self,
        operation: str,
        method: str,
        bucket: str,
        key: str,
        *,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
    ) -> tuple[CIMultiDictProxy[str], str]:
        """One request whose whole answer is small: its headers and body, or ClientError."""
        async with self.request(
            operation, method, bucket, key, query=query, headers=headers, body=body
        ) as answer:
            text = await answer.text(errors="replace")
            if "<Error>" in text:
                # A copy can fail after S3 answered 200 (the answer's body is whitespace kept
                # alive while it copies, then the error); botocore calls that a 500.
                raise client_error(operation, 500, text)
            return answer.headers, text

    async def head_object(
        self, bucket: str, key: str, *, version_id: str | None = None, checksum: bool = False
    ) -> dict[str, Any]:
        """HeadObject, answered in botocore's shape (the fields the validator reads)."""
        query = {"versionId": version_id} if version_id is not None else None
        headers = {"x-amz-checksum-mode": "ENABLED"} if checksum else None
        found, _ = await self.call("HeadObject", "HEAD", bucket, key, query=query, headers=headers)
        answer: dict[str, Any] = {"ContentLength": int(found.get("Content-Length", "0"))}
        for field, header in (
            ("ETag", "ETag"),
            ("VersionId", "x-amz-version-id"),
            ("ChecksumSHA256", "x-amz-checksum-sha256"),
            ("ChecksumType", "x-amz-checksum-type"),
        ):
            if header in found:
                answer[field] = found[header]
        return answer

    async def copy_object(
        self,
        bucket: str,
        key: str,
        *,
        source_bucket: str,
        source_key: str,
        source_version_id: str | None,
        source_if_match: str | None,
        metadata: dict[str, str],
        lock: ObjectLock,
    ) -> tuple[str | None, str | None]:
        """CopyObject with S3's SHA-256 of the copy asked for: (VersionId, that checksum as
        S3 gave it, base64; None if it gave none or only a checksum of parts)."""
        headers = {
            "x-amz-copy-source": self.copy_source(source_bucket, source_key, source_version_id),
            "x-amz-metadata-directive": "REPLACE",
            "x-amz-checksum-algorithm": "SHA256",
            **{f"x-amz-meta-{name}": value for name, value in metadata.items()},
            **lock.headers(),
        }
        if source_if_match is not None:
            headers["x-amz-copy-source-if-match"] = source_if_match
        found, text = await self.call("CopyObject", "PUT", bucket, key, headers=headers)
        # AWS tells the copy's checksum in the XML result; MinIO only in a header.
        in_body = _COPY_CHECKSUM.search(text)
        checksum = in_body.group(1) if in_body else None
        if checksum is None and found.get("x-amz-checksum-type", "FULL_OBJECT").upper() == (
            "FULL_OBJECT"
        ):
            checksum = found.get("x-amz-checksum-sha256")
        return found.get("x-amz-version-id"), checksum

    async def put_object(
        self,
        bucket: str,
        key: str,
        body: bytes,
        *,
        checksum_sha256: str,
        metadata: dict[str, str],
        lock: ObjectLock,
    ) -> str | None:
        """PutObject of a small body with its SHA-256 for S3 to check; returns the VersionId."""
        headers = {
            "Content-Type": "application/octet-stream",
            "x-amz-checksum-sha256": checksum_sha256,
            **{f"x-amz-meta-{name}": value for name, value in metadata.items()},
            **lock.headers(),
        }
        found, _ = await self.call("PutObject", "PUT", bucket, key, headers=headers, body=body)
        return found.get("x-amz-version-id")


def error_code(body: str) -> str | None:
    """The `<Code>` of an S3 error answer's XML, if it has one."""
    found = _CODE.search(body)
    return found.group(1) if found else None


def client_error(operation: str, status: int, body: str) -> ClientError:
    """The refusal as botocore would have raised it. A HEAD's answer has no body, so its
    code is the status, as botocore makes it ("404")."""
    message = _MESSAGE.search(body)
    return ClientError(
        {
            "Error": {
                "Code": error_code(body) or str(status),
                "Message": message.group(1) if message else "",
            },
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        operation,
    )
