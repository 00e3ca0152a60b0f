"""Careless or hostile requests get a 4xx JSON error with a reason, never a 500, and leave no
traceback in the services' logs (issue 18's "Seen" list, one regression test each).
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import httpx
import pytest

from modelgate_testkit.models import tiny_safetensors
from modelgate_testkit.namespace import Namespace
from tests.support.gate import Gate, metadata, upload

pytestmark = pytest.mark.e2e

KF = "/api/model_registry/v1alpha3"
CRASH_MARKS = ("Traceback", "Exception in ASGI application")


@pytest.fixture(autouse=True)
def no_tracebacks(gate: Gate) -> Iterator[None]:
    """What each service logs during the test holds no traceback."""
    start = {name: _size(service.log) for name, service in gate.items()}
    yield
    for name, service in gate.items():
        with service.log.open("rb") as log:
            log.seek(start[name])
            written = log.read().decode(errors="replace")
        for mark in CRASH_MARKS:
            assert mark not in written, f"{name} logged {mark!r}:\n{written[-3000:]}"


def _size(path: Any) -> int:
    try:
        return int(path.stat().st_size)
    except OSError:
        return 0


@pytest.fixture
async def registry(gate: Gate) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gate["registry"].url, timeout=30) as client:
        yield client


@pytest.fixture
async def audit(gate: Gate) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gate["audit"].url, timeout=30) as client:
        yield client


@pytest.fixture
async def ingest(gate: Gate) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gate["ingest"].url, timeout=30) as client:
        yield client


def assert_error(response: httpx.Response, status: int, *words: str) -> None:
    """The status, and the API's error shape: {"code": "<status>", "message": "<reason>"}."""
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message"}, body
    assert body["code"] == str(status)
    assert body["message"]
    for word in words:
        assert word in body["message"], body["message"]


def token(value: Any, row_id: Any) -> str:
    raw = json.dumps([value, row_id]).encode()  # json.dumps writes Infinity as is
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# -- NUL and control characters --


@pytest.mark.parametrize(
    ("service", "path"),
    [
        ("registry", "/api/v1/models/a%00b"),
        ("registry", "/api/v1/models?owner=%00"),
        ("registry", "/api/v1/models?label=a:%00"),
        ("registry", "/api/v1/versions?model=x%01y"),
        ("registry", f"{KF}/registered_model?name=a%00"),
        ("audit", "/api/v1/audit/entries?actor=%00"),
        ("ingest", "/api/v1/submissions/%00"),
    ],
)
async def test_a_control_character_in_the_path_or_query_is_a_400(
    gate: Gate, namespace: Namespace, service: str, path: str
) -> None:
    async with httpx.AsyncClient(base_url=gate[service].url, timeout=30) as client:
        response = await client.get(path, headers=namespace.auth("admin"))
    assert_error(response, 400, "control character")


async def test_a_nul_in_a_json_body_is_a_400(
    registry: httpx.AsyncClient, namespace: Namespace
) -> None:
    response = await registry.patch(
        "/api/v1/models/anything",
        content=b'{"description": "a\\u0000b"}',
        headers={**namespace.auth("admin"), "content-type": "application/json"},
    )
    assert_error(response, 400, "NUL")
    kubeflow = await registry.post(
        f"{KF}/registered_models",
        content=b'{"name": "nul-\\u0000"}',
        headers={**namespace.auth("data-scientist"), "content-type": "application/json"},
    )
    assert_error(kubeflow, 400, "NUL")


async def test_an_escaped_backslash_before_u0000_is_text_not_a_nul(
    registry: httpx.AsyncClient, namespace: Namespace
) -> None:
    # "a\\u0000" is the six characters \u0000 after an escaped backslash: allowed.
    response = await registry.patch(
        "/api/v1/models/no-such-model",
        content=b'{"description": "a\\\\u0000"}',
        headers={**namespace.auth("admin"), "content-type": "application/json"},
    )
    assert_error(response, 404)


# -- integers, dates and page tokens --


@pytest.mark.parametrize(
    ("query", "why"),
    [
        ("id > 99999999999999999999999", "64-bit"),
        ("id = 1e999", "finite"),
        ('acc.int_value = "abc"', "a number"),
        ("acc.string_value = 3", "text"),
        ("acc.bool_value = 1", "boolean"),
    ],
)
async def test_filter_query_literals_are_checked_against_the_property(
    registry: httpx.AsyncClient, namespace: Namespace, query: str, why: str
) -> None:
    response = await registry.get(
        f"{KF}/registered_models",
        params={"filterQuery": query},
        headers=namespace.auth("viewer"),
    )
    assert_error(response, 400, why)


async def test_a_float_compared_with_an_id_is_answered(
    registry: httpx.AsyncClient, namespace: Namespace
) -> None:
    response = await registry.get(
        f"{KF}/model_versions", params={"filterQuery": "id > 0.5"}, headers=namespace.auth("admin")
    )
    assert response.status_code == 200, response.text


async def test_a_stored_non_number_compared_as_a_number_matches_nothing(
    registry: httpx.AsyncClient, namespace: Namespace
) -> None:
    name = "stored-zzz"
    created = await registry.post(
        f"{KF}/registered_models",
        json={
            "name": name,
            "customProperties": {
                "acc": {"metadataType": "MetadataDoubleValue", "double_value": 0.5}
            },
        },
        headers=namespace.auth("data-scientist"),
    )
    assert created.status_code == 201, created.text
    # Stored before values were checked (or by hand): a string where a number belongs.
    conn = await asyncpg.connect(namespace.database_url)
    try:
        await conn.execute(
            "UPDATE registry.models SET custom_properties = "
            "jsonb_set(custom_properties, '{acc,double_value}', '\"zzz\"') WHERE name = $1",
            name,
        )
    finally:
        await conn.close()
    for query in ("acc.double_value > 0.1", "acc > 0.1"):
        response = await registry.get(
            f"{KF}/registered_models",
            params={"filterQuery": f"{query} AND name = '{name}'"},
            headers=namespace.auth("viewer"),
        )
        assert response.status_code == 200, response.text
        assert response.json()["items"] == []


async def test_a_double_value_that_is_no_number_is_refused_when_sent(
    registry: httpx.AsyncClient, namespace: Namespace
) -> None:
    response = await registry.post(
        f"{KF}/registered_models",
        json={
            "name": "sent-zzz",
            "customProperties": {
                "acc": {"metadataType": "MetadataDoubleValue", "double_value": "zzz"}
            },
        },
        headers=namespace.auth("data-scientist"),
    )
    assert_error(response, 400, "must be a number")


@pytest.mark.parametrize(
    ("order_by", "forged"),
    [
        ("CREATE_TIME", token("not-a-date", 1)),
        ("ID", token("a", float("inf"))),
        ("ID", token(1, 99999999999999999999999)),
        ("LAST_UPDATE_TIME", token("9999-12-31T23:59:59-23:59", 1)),
        ("ID", "%%%not-base64"),
    ],
)
async def test_a_forged_kubeflow_page_token_is_a_400(
    registry: httpx.AsyncClient, namespace: Namespace, order_by: str, forged: str
) -> None:
    response = await registry.get(
        f"{KF}/model_versions",
        params={"orderBy": order_by, "nextPageToken": forged},
        headers=namespace.auth("viewer"),
    )
    assert_error(response, 400, "page token")


@pytest.mark.parametrize(
    ("sort", "forged"),
    [
        ("created_at", token("not-a-date", 1)),
        ("name", token("a", float("inf"))),
        ("name", token(None, 1)),
    ],
)
async def test_a_forged_native_cursor_is_a_400(
    registry: httpx.AsyncClient, namespace: Namespace, sort: str, forged: str
) -> None:
    response = await registry.get(
        "/api/v1/models", params={"sort": sort, "cursor": forged}, headers=namespace.auth("viewer")
    )
    assert_error(response, 400, "page token")


async def test_a_moment_beyond_year_9999_in_utc_is_a_422(
    registry: httpx.AsyncClient, audit: httpx.AsyncClient, namespace: Namespace
) -> None:
    moment = "9999-12-31T23:59:59-23:59"
    response = await registry.get(
        "/api/v1/versions", params={"created_after": moment}, headers=namespace.auth("viewer")
    )
    assert_error(response, 422, "created_after")
    response = await audit.get(
        "/api/v1/audit/entries", params={"since": moment}, headers=namespace.auth("admin")
    )
    assert_error(response, 422, "since")


async def test_an_audit_cursor_beyond_int64_is_a_422(
    audit: httpx.AsyncClient, namespace: Namespace
) -> None:
    response = await audit.get(
        "/api/v1/audit/entries",
        params={"cursor": "99999999999999999999999"},
        headers=namespace.auth("admin"),
    )
    assert_error(response, 422, "cursor")


# -- limits --


async def test_an_intended_use_too_long_for_the_card_is_refused_at_once(
    registry: httpx.AsyncClient, namespace: Namespace
) -> None:
    headers = namespace.auth("data-scientist")
    model = await registry.post(
        f"{KF}/registered_models", json={"name": "long-card"}, headers=headers
    )
    assert model.status_code == 201, model.text
    response = await registry.post(
        f"{KF}/model_versions",
        json={
            "name": "1.0.0",
            "registeredModelId": model.json()["id"],
            "customProperties": {
                "intended_use": {
                    "metadataType": "MetadataStringValue",
                    "string_value": "x" * 16385,
                }
            },
        },
        headers=headers,
    )
    assert_error(response, 400, "intended_use", "16384")


async def test_a_json_body_over_its_endpoints_limit_is_a_413(
    registry: httpx.AsyncClient, ingest: httpx.AsyncClient, namespace: Namespace
) -> None:
    labels = {f"k{i}": "v" * 200 for i in range(50_000)}  # 10.6 MB, as seen
    response = await registry.patch(
        "/api/v1/models/anything", json={"labels": labels}, headers=namespace.auth("admin")
    )
    assert_error(response, 413, "exceeds")
    props = {
        f"p{i}": {"metadataType": "MetadataStringValue", "string_value": "v" * 16000}
        for i in range(1000)
    }  # 16 MB
    response = await registry.post(
        f"{KF}/registered_models",
        json={"name": "huge", "customProperties": props},
        headers=namespace.auth("data-scientist"),
    )
    assert_error(response, 413, "exceeds")
    response = await ingest.post(
        "/api/v1/submissions",
        json={"name": "huge", "version": "1.0.0", "files": [{"path": "x" * (2 << 20)}]},
        headers=namespace.auth("data-scientist"),
    )
    assert_error(response, 413, "exceeds")


async def test_labels_and_custom_properties_are_capped(
    registry: httpx.AsyncClient, namespace: Namespace
) -> None:
    response = await registry.patch(
        "/api/v1/models/anything",
        json={"labels": {f"k{i}": "v" for i in range(129)}},
        headers=namespace.auth("admin"),
    )
    assert_error(response, 422, "labels")
    response = await registry.patch(
        "/api/v1/models/anything",
        json={"labels": {"k": "v" * 257}},
        headers=namespace.auth("admin"),
    )
    assert_error(response, 422, "labels")
    response = await registry.post(
        f"{KF}/registered_models",
        json={
            "name": "many-props",
            "customProperties": {
                f"p{i}": {"metadataType": "MetadataStringValue", "string_value": "v"}
                for i in range(129)
            },
        },
        headers=namespace.auth("data-scientist"),
    )
    assert_error(response, 400, "at most 128")
    response = await registry.post(
        f"{KF}/registered_models",
        json={
            "name": "long-key",
            "customProperties": {
                "k" * 257: {"metadataType": "MetadataStringValue", "string_value": "v"}
            },
        },
        headers=namespace.auth("data-scientist"),
    )
    assert_error(response, 400, "keys are 1 to 256")


# -- ingest --


async def test_an_idempotency_key_reused_for_another_payload_is_a_422(
    gate: Gate, namespace: Namespace
) -> None:
    key = {"Idempotency-Key": "reused-for-another"}
    files = [("model.safetensors", tiny_safetensors(18))]
    first = await upload(gate, namespace, metadata("idem-other", "1.0.0"), files, headers=key)
    assert first.status_code == 202, first.text
    again = await upload(gate, namespace, metadata("idem-other", "1.0.0"), files, headers=key)
    assert again.status_code == 202, again.text
    assert again.json()["submission_id"] == first.json()["submission_id"]
    other = await upload(gate, namespace, metadata("idem-other", "2.0.0"), files, headers=key)
    assert_error(other, 422, "Idempotency-Key", first.json()["submission_id"])


@pytest.mark.parametrize("filename", [" ", "   ", "dir/ /model.safetensors", " model.safetensors"])
async def test_a_blank_or_space_padded_file_name_is_a_400(
    gate: Gate, namespace: Namespace, filename: str
) -> None:
    response = await upload(
        gate,
        namespace,
        metadata("blank-name", "1.0.0"),
        [(filename, tiny_safetensors(1))],
    )
    assert_error(response, 400, "file")


async def test_a_client_gone_mid_upload_is_a_warning_not_a_crash(
    gate: Gate, namespace: Namespace
) -> None:
    ingest = gate["ingest"]
    boundary = "gone-mid-upload"
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="metadata"\r\n'
        "Content-Type: application/json\r\n\r\n"
        f"{metadata('gone-mid-upload', '1.0.0')}\r\n"
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="model.safetensors"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode() + b"\0" * 65536
    request = (
        "POST /api/v1/submissions HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{ingest.port}\r\n"
        f"Authorization: {namespace.auth('data-scientist')['Authorization']}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(head) + 10_000_000}\r\n\r\n"
    ).encode()
    before = _size(ingest.log)
    reader, writer = await asyncio.open_connection("127.0.0.1", ingest.port)
    writer.write(request + head)
    await writer.drain()
    await asyncio.sleep(1)
    writer.close()
    del reader

    async def warned() -> bool:
        with ingest.log.open("rb") as log:
            log.seek(before)
            return b"went away during a upload submission" in log.read()

    deadline = time.monotonic() + 15
    while not await warned():
        assert time.monotonic() < deadline, ingest.tail()
        await asyncio.sleep(0.2)


# -- HTTP hygiene --


@pytest.mark.parametrize("service", ["registry", "ingest", "audit", "validator"])
async def test_head_answers_wherever_get_does(
    gate: Gate, namespace: Namespace, service: str
) -> None:
    async with httpx.AsyncClient(base_url=gate[service].url, timeout=30) as client:
        for path in ("/healthz", "/openapi.json", "/metrics"):
            get = await client.get(path, headers=namespace.auth("admin"))
            head = await client.head(path, headers=namespace.auth("admin"))
            assert head.status_code == get.status_code == 200, (path, head.status_code)
            assert head.content == b""
            assert head.headers["content-type"] == get.headers["content-type"]
        if service == "registry":
            root = await client.head("/")
            assert root.status_code == 200
            assert root.content == b""


@pytest.mark.parametrize(
    ("service", "path"),
    [
        ("registry", "/api/v1/models"),
        ("registry", f"{KF}/registered_models"),
        ("ingest", "/api/v1/submissions/00000000-0000-0000-0000-000000000000"),
        ("audit", "/api/v1/audit/entries"),
        ("validator", "/metrics"),
    ],
)
async def test_authenticated_answers_are_not_stored_nor_sniffed(
    gate: Gate, namespace: Namespace, service: str, path: str
) -> None:
    async with httpx.AsyncClient(base_url=gate[service].url, timeout=30) as client:
        response = await client.get(path, headers=namespace.auth("admin"))
        refused = await client.get(path)
    assert response.status_code in (200, 404), response.text
    for answer in (response, refused):
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("service", ["registry", "ingest", "audit", "validator"])
async def test_docs_pages_load_nothing_from_a_cdn(gate: Gate, service: str) -> None:
    async with httpx.AsyncClient(base_url=gate[service].url, timeout=30) as client:
        for page in ("/docs", "/redoc"):
            response = await client.get(page)
            assert response.status_code == 404
            assert "cdn" not in response.text.lower()
        document = await client.get("/openapi.json")
    assert document.status_code == 200
    assert "openapi" in document.json()


@pytest.mark.slow
async def test_slow_or_silent_connections_are_cut_off(gate: Gate) -> None:
    port = gate["audit"].port

    def hold(trickle: bool) -> float:
        """Seconds until the server closed a connection that never completes its headers."""
        began = time.monotonic()
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            sock.settimeout(0.5)
            if trickle:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            while time.monotonic() - began < 40:
                try:
                    if trickle:
                        sock.sendall(b"X")  # one header byte at a time, forever
                    if sock.recv(1024) == b"":
                        return time.monotonic() - began
                except TimeoutError:
                    continue
                except OSError:
                    return time.monotonic() - began
        return time.monotonic() - began

    slow, silent = await asyncio.gather(
        asyncio.to_thread(hold, True), asyncio.to_thread(hold, False)
    )
    # The default header timeout is 10 s; without one both would be held for 40 s.
    assert 8 < slow < 20, slow
    assert 8 < silent < 20, silent
