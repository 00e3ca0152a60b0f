"""Every mutating endpoint × every role: the expected 2xx or 403, and 401 without a token.

Expectations come from the seeds (seed 004 section 6, seed 001's ai-admin and ai-developer),
written out here rather than read from the permission table they test.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from modelgate_testkit.models import tiny_safetensors
from modelgate_testkit.namespace import Namespace
from tests.support.gate import Gate, metadata, register

pytestmark = pytest.mark.e2e

ROLES = ("admin", "data-scientist", "developer", "viewer")
ADMIN = {"admin"}
AUTHORS = {"admin", "data-scientist"}  # register, create versions, update metadata
DEPLOYERS = {"admin", "developer"}  # seed 001: ai-developer is read-only plus deploy records
KF = "/api/model_registry/v1"
_counter = itertools.count()


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_counter)}"


@dataclass
class Case:
    service: str
    method: str
    path: Callable[[], str]
    body: Callable[[], Any] = lambda: None
    allowed: set[str] = field(default_factory=set)
    setup: Callable[[], Awaitable[None]] | None = None
    multipart: bool = False


@pytest.mark.parametrize("credential", ["token-file", "oidc"])
async def test_authorization_matrix(
    gate: Gate, namespace: Namespace, credential: str, request: pytest.FixtureRequest
) -> None:
    """With the stack's demo tokens, and with real access tokens from the OIDC provider
    (each demo user's groups mapped to the role)."""
    auth = namespace.auth
    if credential == "oidc":  # skipped where the infrastructure has no provider
        auth = request.getfixturevalue("provider").auth
    name = f"authz-{credential}"
    await register(gate, namespace, name, "1.0.0", seed=21)
    registry = httpx.AsyncClient(base_url=gate["registry"].url, timeout=30)
    ingest = httpx.AsyncClient(base_url=gate["ingest"].url, timeout=30)
    admin = namespace.auth("admin")
    model_id = (
        await registry.get(f"{KF}/registered_model", params={"name": name}, headers=admin)
    ).json()["id"]
    version_id = (
        await registry.get(
            f"{KF}/model_version",
            params={"name": "1.0.0", "parentResourceId": model_id},
            headers=admin,
        )
    ).json()["id"]
    artifact_id = (
        await registry.post(
            f"{KF}/model_artifacts", headers=admin, json={"name": "standalone", "uri": "s3://x/y"}
        )
    ).json()["id"]

    async def staging_back() -> None:  # transitions toggle development <-> staging
        path = f"/api/v1/models/{name}/versions/1.0.0"
        version = (await registry.get(path, headers=admin)).json()
        if version["stage"] == "staging":
            await registry.post(
                f"/api/v1/models/{name}/versions/1.0.0/transitions",
                headers=admin,
                json={"to_stage": "development", "reason": "reset"},
            )

    async def alias_exists() -> None:
        await registry.put(
            f"/api/v1/models/{name}/aliases/temp", headers=admin, json={"version": "1.0.0"}
        )

    async def live_without_aliases() -> None:
        await live()
        for alias in ("champion", "temp"):
            await registry.delete(f"/api/v1/models/{name}/aliases/{alias}", headers=admin)

    async def archived() -> None:
        await registry.post(
            f"/api/v1/models/{name}/versions/1.0.0/archive", headers=admin, json={"reason": "setup"}
        )

    async def live() -> None:
        await registry.post(
            f"/api/v1/models/{name}/versions/1.0.0/restore", headers=admin, json={"reason": "setup"}
        )

    base = f"/api/v1/models/{name}"
    cases = [
        Case("ingest", "POST", lambda: "/api/v1/submissions", allowed=AUTHORS, multipart=True),
        Case(
            "registry",
            "POST",
            lambda: f"{base}/versions/1.0.0/transitions",
            lambda: {"to_stage": "staging", "reason": "matrix"},
            ADMIN,
            staging_back,
        ),
        Case(
            "registry",
            "PUT",
            lambda: f"{base}/aliases/champion",
            lambda: {"version": "1.0.0", "reason": "matrix"},
            ADMIN,
        ),
        Case(
            "registry", "DELETE", lambda: f"{base}/aliases/temp", allowed=ADMIN, setup=alias_exists
        ),
        Case(
            "registry",
            "POST",
            lambda: f"{base}/versions/1.0.0/deployments",
            lambda: {"environment": "staging-eu"},
            DEPLOYERS,
        ),
        Case(
            "registry",
            "POST",
            lambda: f"{base}/versions/1.0.0/archive",
            lambda: {"reason": "matrix"},
            ADMIN,
            live_without_aliases,
        ),
        Case(
            "registry",
            "POST",
            lambda: f"{base}/versions/1.0.0/restore",
            lambda: {"reason": "matrix"},
            ADMIN,
            archived,
        ),
        Case("registry", "POST", lambda: f"{base}/archive", lambda: {"reason": "matrix"}, ADMIN),
        Case("registry", "POST", lambda: f"{base}/restore", lambda: {"reason": "matrix"}, ADMIN),
        Case("registry", "PATCH", lambda: base, lambda: {"description": "matrix"}, AUTHORS),
        Case(
            "registry",
            "PATCH",
            lambda: f"{base}/versions/1.0.0",
            lambda: {"labels": {"matrix": "yes"}},
            AUTHORS,
            live,
        ),
        Case(
            "registry",
            "POST",
            lambda: f"{KF}/registered_models",
            lambda: {"name": unique("kf-model")},
            AUTHORS,
        ),
        Case(
            "registry",
            "PATCH",
            lambda: f"{KF}/registered_models/{model_id}",
            lambda: {"description": "kf matrix"},
            AUTHORS,
        ),
        Case(
            "registry",
            "POST",
            lambda: f"{KF}/model_versions",
            lambda: {"name": unique("0.0.1-kf"), "registeredModelId": model_id},
            AUTHORS,
        ),
        Case(
            "registry",
            "POST",
            lambda: f"{KF}/registered_models/{model_id}/versions",
            lambda: {"name": unique("0.0.2-kf"), "registeredModelId": model_id},
            AUTHORS,
        ),
        Case(
            "registry",
            "PATCH",
            lambda: f"{KF}/model_versions/{version_id}",
            lambda: {"description": "kf matrix"},
            AUTHORS,
            live,
        ),
        Case(
            "registry",
            "POST",
            lambda: f"{KF}/model_versions/{version_id}/artifacts",
            lambda: {
                "artifactType": "doc-artifact",
                "name": unique("card"),
                "uri": "s3://docs/card.md",
            },
            AUTHORS,
        ),
        Case(
            "registry",
            "POST",
            lambda: f"{KF}/model_artifacts",
            lambda: {"name": unique("ma"), "uri": "s3://x/y"},
            AUTHORS,
        ),
        Case(
            "registry",
            "POST",
            lambda: f"{KF}/artifacts",
            lambda: {"artifactType": "doc-artifact", "name": unique("doc"), "uri": "s3://x/d"},
            AUTHORS,
        ),
        Case(
            "registry",
            "PATCH",
            lambda: f"{KF}/model_artifacts/{artifact_id}",
            lambda: {"description": "kf matrix"},
            AUTHORS,
        ),
        Case(
            "registry",
            "PATCH",
            lambda: f"{KF}/artifacts/{artifact_id}",
            lambda: {"description": "kf matrix"},
            AUTHORS,
        ),
    ]
    clients = {"registry": registry, "ingest": ingest}
    failures: list[str] = []

    async def call(case: Case, headers: dict[str, str]) -> httpx.Response:
        client = clients[case.service]
        if case.multipart:
            # httpx sets the multipart content type (with its boundary) itself.
            headers = {k: v for k, v in headers.items() if k != "Content-Type"}
            return await client.post(
                case.path(),
                headers=headers,
                files=[
                    ("metadata", (None, metadata(unique("matrix")), "application/json")),
                    (
                        "file",
                        ("model.safetensors", tiny_safetensors(22), "application/octet-stream"),
                    ),
                ],
            )
        body = case.body()
        return await client.request(
            case.method,
            case.path(),
            headers=headers,
            content=json.dumps(body) if body is not None else None,
        )

    try:
        for case in cases:
            label = f"{case.method} {case.service} {case.path()}"
            anonymous = await call(case, {"Content-Type": "application/json"})
            if anonymous.status_code != 401:
                failures.append(f"{label} without a token: {anonymous.status_code}")
            for role in ROLES:
                if role in case.allowed and case.setup is not None:
                    await case.setup()
                answer = await call(case, {**auth(role), "Content-Type": "application/json"})
                ok = 200 <= answer.status_code < 300
                expected = "2xx" if role in case.allowed else "403"
                if (role in case.allowed) != ok or (not ok and answer.status_code != 403):
                    failures.append(
                        f"{label} as {role}: {answer.status_code} "
                        f"(expected {expected}) {answer.text[:200]}"
                    )
    finally:
        await registry.aclose()
        await ingest.aclose()
    assert failures == [], "\n".join(failures)
