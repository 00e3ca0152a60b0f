"""The hot-read shortcut (`api/hot_reads.py`) answers its three Kubeflow GETs itself, on the
real PostgreSQL: the app behind it (FastAPI's routing) is never reached, the answer is the
service's, and the request's span carries the route. Since anything the shortcut fails at goes
on to the FastAPI route, which answers the same JSON, no test through HTTP can tell a working
shortcut from a broken one; this one fails when the shortcut does not answer."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.types import Message, Receive, Scope, Send

from modelgate_registry.api.hot_reads import HotReads
from modelgate_registry.api.kubeflow import wire
from modelgate_registry.api.kubeflow.routes import routers
from modelgate_registry.api.kubeflow.service import KubeflowService, Paging
from modelgate_registry.lifecycle import Policy, Registry
from modelgate_registry.outbox import Outbox
from modelgate_registry.schema import SCHEMA
from modelgate_registry.store.read_connections import ReadConnections
from modelgate_registry.visibility import Audience
from modelgate_shared.auth import Principal, Role
from modelgate_shared.auth.tokens import HashedTokenVerifier, TokenEntry, hash_token
from modelgate_shared.db.migrations import apply_migrations
from modelgate_shared.db.pool import create_pool
from modelgate_shared.telemetry.tracing import tracer
from modelgate_testkit.namespace import Namespace

pytestmark = pytest.mark.integration
API = "/api/model_registry/v1alpha3"
TOKEN = "hot-reads-test-token"
SCIENTIST = Principal("ai-scientist", frozenset({Role.DATA_SCIENTIST}))


@dataclass
class Catalog:
    shortcut: HotReads
    routed: list[str]
    """Paths the shortcut handed on to the app behind it."""
    service: KubeflowService
    model_id: str
    version_id: str


@pytest.fixture
async def catalog(namespace: Namespace) -> AsyncIterator[Catalog]:
    await apply_migrations(namespace.database_url, SCHEMA.migrations)
    pool = await create_pool(namespace.database_url, max_size=2)
    reads = ReadConnections(namespace.database_url, 2)
    try:
        registry = Registry(pool, Outbox(namespace.topics), Policy())
        service = KubeflowService(registry, None, set(), reads=reads)
        model = await service.create_model(
            SCIENTIST, wire.RegisteredModelIn(name=f"hot-{uuid.uuid4().hex[:12]}")
        )
        version = await service.create_version(
            SCIENTIST, wire.ModelVersionIn(name="1.0.0", author="ai-scientist"), model["id"]
        )
        owner = FastAPI()
        owner.state.token_verifier = HashedTokenVerifier(
            [
                TokenEntry(
                    subject=SCIENTIST.subject, roles=[Role.DATA_SCIENTIST], sha256=hash_token(TOKEN)
                )
            ]
        )
        owner.state.kubeflow = service
        gets = {
            route.path: route
            for router in routers()
            for route in router.routes
            if isinstance(route, APIRoute) and "GET" in (route.methods or ())
        }
        routed: list[str] = []

        async def behind(scope: Scope, receive: Receive, send: Send) -> None:
            routed.append(scope["path"])
            await send({"type": "http.response.start", "status": 599, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        yield Catalog(
            HotReads(behind, owner, gets), routed, service, str(model["id"]), str(version["id"])
        )
    finally:
        await reads.close()
        await pool.close()


async def _get(
    shortcut: HotReads, path: str, query: str = "", token: str | None = TOKEN
) -> tuple[int, Any]:
    headers = [(b"authorization", f"Bearer {token}".encode())] if token else []
    scope: Scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "query_string": query.encode(),
        "headers": headers,
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await shortcut(scope, receive, send)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], json.loads(body) if body else None


async def test_the_shortcut_answers_its_three_reads_without_the_route(catalog: Catalog) -> None:
    audience = Audience.of(SCIENTIST)
    paging = Paging(100, "ID", "ASC", None)

    status, version = await _get(catalog.shortcut, f"{API}/model_versions/{catalog.version_id}")
    assert status == 200
    assert version == await catalog.service.get_version(audience, catalog.version_id)

    status, versions = await _get(
        catalog.shortcut, f"{API}/registered_models/{catalog.model_id}/versions", "pageSize=100"
    )
    assert status == 200
    expected = await catalog.service.list_versions(
        audience, paging, None, model_id=catalog.model_id
    )
    assert versions == expected
    assert [v["id"] for v in versions["items"]] == [catalog.version_id]

    status, models = await _get(catalog.shortcut, f"{API}/registered_models", "pageSize=100")
    assert status == 200
    assert models == await catalog.service.list_models(audience, paging, None)

    assert catalog.routed == []


async def test_what_the_shortcut_is_unsure_of_goes_to_the_route(catalog: Catalog) -> None:
    path = f"{API}/model_versions/{catalog.version_id}"
    assert (await _get(catalog.shortcut, path, token=None))[0] == 599  # no token: the route's 401
    assert (await _get(catalog.shortcut, f"{API}/model_versions/999999999"))[0] == 599  # a 404
    assert catalog.routed == [path, f"{API}/model_versions/999999999"]


async def test_the_answered_read_names_the_requests_span(
    catalog: Catalog, spans: InMemorySpanExporter
) -> None:
    # FastAPI's telemetry keeps the request's server span current around the app.
    with tracer().start_as_current_span("GET"):
        status, _ = await _get(catalog.shortcut, f"{API}/model_versions/{catalog.version_id}")
    assert status == 200
    (span,) = [s for s in spans.get_finished_spans() if s.name.startswith("GET")]
    assert span.name == f"GET {API}/model_versions/{{version_id}}"
    assert span.attributes is not None
    assert span.attributes["http.route"] == f"{API}/model_versions/{{version_id}}"
