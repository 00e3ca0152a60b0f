"""The catalog's hottest reads answered before FastAPI's routing and dependency injection.

A Kubeflow client reads a version by id, a model's versions and the model list far more often
than anything else. Through FastAPI each read walks the route table, resolves five
dependencies (service, bearer, verifier, permission, audience) and validates its parameters,
which cost more CPU than the query itself (profiled: docs/performance.md). Here a plain
request for one of them (`HOT_ROUTES`) is answered directly: the same bearer check, the same
service call, the same JSON. It is a shortcut for the success case only: whatever this module
is not certain of (another method or path, a repeated or unusual parameter, a missing or
refused token, any error at all) goes to the FastAPI app untouched, which then answers exactly
as it always did, 4xx included. The middleware sits inside the request guard, hygiene and
metrics, so those apply alike; it puts the route in the scope as FastAPI's router would, for
the metrics, and names the request's span by it (OpenTelemetry's public API, not FastAPI's
private hook). tests/integration/test_hot_reads.py fails when the shortcut stops answering.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI
from fastapi.routing import APIRoute
from opentelemetry import trace
from pydantic_core import to_json
from starlette.types import ASGIApp, Receive, Scope, Send

from modelgate_registry.api.kubeflow.routes import PREFIXES
from modelgate_registry.api.kubeflow.service import KubeflowService, Paging
from modelgate_registry.store import pages
from modelgate_registry.visibility import Audience
from modelgate_shared.auth import Permission, TokenVerifier

Read = Callable[[KubeflowService, Audience, list[str], dict[str, str]], Awaitable[dict[str, Any]]]

_PAGE_SIZE = re.compile(r"[0-9]{1,4}")
_ORDER_BY = frozenset(pages.ORDER)
_SORT_ORDER = frozenset({"ASC", "DESC"})
_FILTER_MAX = 4096  # the route's `max_length`


class _Unsure(Exception):
    """The request is one the FastAPI route should answer."""


def _paging(query: Mapping[str, str]) -> Paging:
    """The route's `paging` dependency for the values it would take as they are."""
    size = query.get("pageSize", str(pages.DEFAULT_PAGE_SIZE))
    if not _PAGE_SIZE.fullmatch(size) or not 1 <= int(size) <= 1000:
        raise _Unsure
    order_by, sort_order = query.get("orderBy", "ID"), query.get("sortOrder", "ASC")
    if order_by not in _ORDER_BY or sort_order not in _SORT_ORDER:
        raise _Unsure
    # An empty token is the first page (see `routes.paging`).
    return Paging(int(size), order_by, sort_order, query.get("nextPageToken") or None)  # type: ignore[arg-type]


def _filter(query: Mapping[str, str]) -> str | None:
    value = query.get("filterQuery")
    if value is not None and len(value) > _FILTER_MAX:
        raise _Unsure
    return value


async def _version(
    service: KubeflowService, audience: Audience, ids: list[str], _: dict[str, str]
) -> dict[str, Any]:
    return await service.get_version(audience, ids[0])


async def _model_versions(
    service: KubeflowService, audience: Audience, ids: list[str], query: dict[str, str]
) -> dict[str, Any]:
    return await service.list_versions(
        audience,
        _paging(query),
        _filter(query),
        model_id=ids[0],
        name=query.get("name"),
        external_id=query.get("externalId"),
    )


async def _models(
    service: KubeflowService, audience: Audience, _: list[str], query: dict[str, str]
) -> dict[str, Any]:
    return await service.list_models(audience, _paging(query), _filter(query))


HOT_ROUTES: dict[str, Read] = {
    "/model_versions/{version_id}": _version,
    "/registered_models/{model_id}/versions": _model_versions,
    "/registered_models": _models,
}
"""Kubeflow templates (under each of `PREFIXES`) answered here."""


def _match(path: str) -> tuple[str, Read, list[str]] | None:
    """(template, read, path parameters) of a hot path, None for any other."""
    for prefix in PREFIXES:
        if path.startswith(prefix) and path[len(prefix) : len(prefix) + 1] == "/":
            parts = path[len(prefix) + 1 :].split("/")
            break
    else:
        return None
    if any(not part for part in parts):
        return None  # an empty segment (a trailing slash): FastAPI's redirect or 404
    if len(parts) == 2 and parts[0] == "model_versions":
        template = "/model_versions/{version_id}"
    elif len(parts) == 3 and parts[0] == "registered_models" and parts[2] == "versions":
        template = "/registered_models/{model_id}/versions"
    elif parts == ["registered_models"]:
        template = "/registered_models"
    else:
        return None
    return prefix + template, HOT_ROUTES[template], parts[1:2]


def _query(raw: bytes) -> dict[str, str]:
    """The query as FastAPI reads it for these routes (Starlette's parsing), refusing a
    repeated name, whose value FastAPI and this module could pick differently."""
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    query = dict(pairs)
    if len(query) != len(pairs):
        raise _Unsure
    return query


def _bearer(scope: Scope) -> str | None:
    """The token as `HTTPBearer` reads it: the first Authorization header, scheme "bearer"."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token if scheme.lower() == "bearer" and token else None
    return None


class HotReads:
    """Pure ASGI middleware; see the module docstring."""

    def __init__(self, app: ASGIApp, owner: FastAPI, routes: Mapping[str, APIRoute]) -> None:
        self.app = app
        self.owner = owner
        self.routes = {path: routes[path] for path in _all_templates()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hit = _match(scope["path"]) if scope["type"] == "http" else None
        body = None
        if hit is not None and scope["method"] == "GET":
            try:
                body = await self._read(scope, hit[1], hit[2])
            except Exception:
                body = None
        if body is None:
            await self.app(scope, receive, send)
            return
        template = hit[0]  # type: ignore[index]
        scope["route"] = self.routes[template]  # what the metrics read the template from
        _name_span(template)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-length", str(len(body)).encode()),
                    (b"content-type", b"application/json"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _read(self, scope: Scope, read: Read, ids: list[str]) -> bytes | None:
        token = _bearer(scope)
        if token is None:
            return None
        state = self.owner.state
        verifier: TokenVerifier = state.token_verifier
        principal = await verifier.verify(token)
        if principal is None or not principal.can(Permission.CATALOG_READ):
            return None
        query = _query(scope.get("query_string", b""))
        return to_json(await read(state.kubeflow, Audience.of(principal), ids, query))


def _name_span(template: str) -> None:
    """Name the request's server span by its route, as FastAPI's router would have: its
    native telemetry keeps that span current while the app runs (and makes none while tracing
    is off, when the current span is the invalid one, which records nothing)."""
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attribute("http.route", template)
        span.update_name(f"GET {template}")


def _all_templates() -> list[str]:
    return [prefix + template for prefix in PREFIXES for template in HOT_ROUTES]
