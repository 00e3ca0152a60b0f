"""The validator's signed S3 requests say what botocore's client would send for the same call:
the same URL (quoting included), the same S3 headers and the same signature, so MinIO and AWS
read them alike."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import botocore.session
import pytest
from aiohttp import web
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from modelgate_validator.http1 import Connections
from modelgate_validator.s3_requests import ObjectLock, SignedS3, client_error, object_path
from modelgate_validator.sigv4 import SigV4, canonical_query

ENDPOINT = "http://127.0.0.1:9"
KEY = "a folder/model v1+é~(1).safetensors"
UNTIL = datetime(2027, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


class _Frozen:
    """Credentials as aiobotocore hands them out (an awaitable freeze)."""

    async def get_frozen_credentials(self) -> Credentials:
        return Credentials("AKIDEXAMPLE", "secret")


def _botocore_request(operation: str, **params: Any) -> Any:
    """The request botocore's own S3 client would send (captured just before sending)."""
    session = botocore.session.get_session()
    client = session.create_client(
        "s3",
        endpoint_url=ENDPOINT,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(
            s3={"addressing_style": "path"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )
    captured: list[Any] = []

    def capture(request: Any, **_: Any) -> AWSResponse:
        captured.append(request)
        return AWSResponse(request.url, 200, {}, None)

    client.meta.events.register(f"before-send.s3.{operation}", capture)
    name = "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")
    # An empty answer may not parse: the request is what counts.
    with contextlib.suppress(Exception):
        getattr(client, name)(**params)
    return captured[0]


def _ours(method: str, key: str, **kwargs: Any) -> tuple[str, dict[str, str]]:
    # Nothing is sent: the connections only give the Host header that is signed.
    signed = SignedS3(Connections(ENDPOINT), region="us-east-1", credentials=_Frozen())
    target, headers = asyncio.run(signed.signed(method, "models", key, **kwargs))
    return ENDPOINT + target, headers


def _s3_headers(headers: Any) -> dict[str, str]:
    """The headers that carry meaning (not the signature's date, hash or the signature)."""
    skip = {"x-amz-date", "authorization", "x-amz-content-sha256", "user-agent"}
    return {
        k.lower(): (v.decode() if isinstance(v, bytes) else v)
        for k, v in headers.items()
        if k.lower().startswith("x-amz-") and k.lower() not in skip
    }


def test_a_head_of_a_version_asks_what_botocore_asks() -> None:
    theirs = _botocore_request(
        "HeadObject", Bucket="models", Key=KEY, VersionId="v 1", ChecksumMode="ENABLED"
    )
    url, headers = _ours(
        "HEAD", KEY, query={"versionId": "v 1"}, headers={"x-amz-checksum-mode": "ENABLED"}
    )
    assert url == theirs.url
    assert _s3_headers(headers) == _s3_headers(theirs.headers)
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")


def test_a_copy_names_its_source_and_lock_as_botocore_does() -> None:
    theirs = _botocore_request(
        "CopyObject",
        Bucket="models",
        Key=KEY,
        CopySource={"Bucket": "staging", "Key": KEY, "VersionId": "v1"},
        CopySourceIfMatch='"abc"',
        ChecksumAlgorithm="SHA256",
        MetadataDirective="REPLACE",
        Metadata={"sha256": "00ff"},
        ObjectLockMode="GOVERNANCE",
        ObjectLockRetainUntilDate=UNTIL,
    )
    lock = ObjectLock("GOVERNANCE", UNTIL)
    source = SignedS3.copy_source("staging", KEY, "v1")
    url, headers = _ours(
        "PUT",
        KEY,
        headers={
            "x-amz-copy-source": source,
            "x-amz-copy-source-if-match": '"abc"',
            "x-amz-metadata-directive": "REPLACE",
            "x-amz-checksum-algorithm": "SHA256",
            "x-amz-meta-sha256": "00ff",
            **lock.headers(),
        },
    )
    assert url == theirs.url
    assert _s3_headers(headers) == _s3_headers(theirs.headers)


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (404, "", "404"),  # a HEAD: no body, the status is the code (as botocore makes it)
        (412, "<Error><Code>PreconditionFailed</Code><Message>no</Message></Error>", None),
        (200, "<?xml version='1.0'?><Error><Code>InternalError</Code></Error>", None),
    ],
)
def test_a_refusal_carries_s3s_code_or_else_its_status(
    status: int, body: str, code: str | None
) -> None:
    error = client_error("CopyObject", status, body).response
    expected = code or body.split("<Code>")[1].split("</Code>", maxsplit=1)[0]
    assert error["Error"]["Code"] == expected
    assert error["ResponseMetadata"]["HTTPStatusCode"] == status


def test_a_put_carries_its_checksum_metadata_and_lock_as_botocore_does() -> None:
    theirs = _botocore_request(
        "PutObject",
        Bucket="models",
        Key=KEY,
        Body=b"signature",
        ChecksumSHA256="c2lnbmF0dXJl",
        Metadata={"sha256": "00ff"},
        ObjectLockMode="COMPLIANCE",
        ObjectLockRetainUntilDate=UNTIL,
    )
    url, headers = _ours(
        "PUT",
        KEY,
        headers={
            "x-amz-checksum-sha256": "c2lnbmF0dXJl",
            "x-amz-meta-sha256": "00ff",
            **ObjectLock("COMPLIANCE", UNTIL).headers(),
        },
        body=b"signature",
    )
    assert url == theirs.url
    ours, expected = _s3_headers(headers), _s3_headers(theirs.headers)
    # botocore also names the checksum's algorithm for its own bookkeeping; S3 needs only the
    # checksum header itself.
    expected.pop("x-amz-sdk-checksum-algorithm", None)
    assert ours == expected


@pytest.mark.parametrize(
    ("method", "query", "headers", "body"),
    [
        ("GET", None, {"Range": "bytes=0-7"}, b""),
        ("HEAD", {"versionId": "3/L4kqtJl+cB=="}, {"x-amz-checksum-mode": "ENABLED"}, b""),
        ("PUT", None, {"x-amz-copy-source": "staging/a%20b", "x-amz-meta-sha256": "  0 f "}, b""),
        ("PUT", None, {"Content-Type": "application/octet-stream"}, b"signature bytes"),
    ],
)
@pytest.mark.parametrize("token", [None, "session-token"])
def test_signatures_are_botocores_for_the_same_request_and_time(
    method: str,
    query: dict[str, str] | None,
    headers: dict[str, str],
    body: bytes,
    token: str | None,
) -> None:
    url = f"{ENDPOINT}{object_path('models', KEY)}"
    if query:
        url += "?" + canonical_query(query)
    theirs = AWSRequest(method=method, url=url, headers=dict(headers), data=body)
    S3SigV4Auth(Credentials("AKIDEXAMPLE", "secret", token), "s3", "eu-west-3").add_auth(theirs)
    at = datetime.strptime(theirs.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    ours = SigV4("eu-west-3", "127.0.0.1:9").headers(
        method,
        object_path("models", KEY),
        query,
        headers,
        body,
        access_key="AKIDEXAMPLE",
        secret_key="secret",
        token=token,
        now=at,
    )
    assert ours["Authorization"] == theirs.headers["Authorization"]
    assert ours["X-Amz-Content-SHA256"] == theirs.headers["X-Amz-Content-SHA256"]


@pytest.fixture
async def odd_s3() -> AsyncIterator[str]:
    """An S3 endpoint with answers botocore handled specially: a copy that fails after its
    200 (whitespace kept alive, then the error), and a redirect."""

    async def late_error(_: web.Request) -> web.Response:
        return web.Response(
            status=200, text="  \n" * 400 + "<Error><Code>InternalError</Code></Error>"
        )

    async def redirect(_: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect("http://127.0.0.1:9/elsewhere")

    app = web.Application()
    app.router.add_put("/models/late", late_error)
    app.router.add_route("*", "/models/moved", redirect)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_a_copy_that_fails_after_its_200_is_a_server_error(odd_s3: str) -> None:
    async with Connections(odd_s3) as http:
        s3 = SignedS3(http, region="us-east-1", credentials=_Frozen())
        with pytest.raises(ClientError) as raised:
            await s3.call("CopyObject", "PUT", "models", "late")
    assert raised.value.response["Error"]["Code"] == "InternalError"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500


async def test_a_redirect_is_refused_not_followed(odd_s3: str) -> None:
    async with Connections(odd_s3) as http:
        s3 = SignedS3(http, region="us-east-1", credentials=_Frozen())
        with pytest.raises(ClientError) as raised:
            await s3.head_object("models", "moved")
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 307
