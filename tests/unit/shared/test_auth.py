"""Bearer tokens map to roles; 401 without or with a bad token, 403 without the permission."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import Depends
from fastapi.testclient import TestClient

from modelgate_shared.auth import (
    PERMISSIONS,
    HashedTokenVerifier,
    Permission,
    Principal,
    Role,
    hash_token,
    require,
)
from modelgate_shared.auth.demo_tokens import new_tokens, token_file
from modelgate_shared.auth.tokens import TokenEntry
from modelgate_shared.health import Readiness
from modelgate_shared.http_app import create_app

TOKENS = {"admin": "a" * 43, "viewer": "v" * 43}


def _client() -> TestClient:
    verifier = HashedTokenVerifier(
        [
            TokenEntry(subject="ai-admin", roles=[Role.ADMIN], sha256=hash_token(TOKENS["admin"])),
            TokenEntry(
                subject="ai-viewer", roles=[Role.VIEWER], sha256=hash_token(TOKENS["viewer"])
            ),
        ]
    )
    app = create_app(title="t", version="0", verifier=verifier, readiness=Readiness())

    @app.post("/archive")
    async def archive(
        who: Annotated[Principal, Depends(require(Permission.MODEL_ARCHIVE))],
    ) -> dict[str, str]:
        return {"actor": who.subject}

    return TestClient(app)


def test_missing_token_is_401_with_a_reason() -> None:
    answer = _client().post("/archive")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"
    assert answer.json() == {
        "code": "401",
        "message": "missing bearer token: send 'Authorization: Bearer <token>'",
    }


def test_unknown_token_is_401() -> None:
    answer = _client().post("/archive", headers={"Authorization": "Bearer nope"})
    assert answer.status_code == 401
    assert "invalid" in answer.json()["message"]


def test_role_without_the_permission_is_403_naming_it() -> None:
    answer = _client().post("/archive", headers={"Authorization": f"Bearer {TOKENS['viewer']}"})
    assert answer.status_code == 403
    assert "model:archive" in answer.json()["message"]
    assert "ai-viewer" in answer.json()["message"]


def test_role_with_the_permission_passes_and_names_the_actor() -> None:
    answer = _client().post("/archive", headers={"Authorization": f"Bearer {TOKENS['admin']}"})
    assert answer.status_code == 200
    assert answer.json() == {"actor": "ai-admin"}


def test_health_needs_no_token_but_metrics_do() -> None:
    client = _client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/metrics").status_code == 401
    ok = client.get("/metrics", headers={"Authorization": f"Bearer {TOKENS['viewer']}"})
    assert ok.status_code == 200


@pytest.mark.parametrize("permission", list(Permission))
def test_every_permission_is_granted_to_admin(permission: Permission) -> None:
    assert Role.ADMIN in PERMISSIONS[permission]


def test_seed_roles() -> None:
    developer = Principal("ai-developer", frozenset({Role.DEVELOPER}))
    assert developer.can(Permission.CATALOG_READ)
    assert developer.can(Permission.DEPLOYMENT_RECORD)
    assert developer.can(Permission.ARTIFACT_DOWNLOAD)
    assert not developer.can(Permission.MODEL_SUBMIT)
    assert not developer.can(Permission.MODEL_ARCHIVE)
    scientist = Principal("ai-scientist", frozenset({Role.DATA_SCIENTIST}))
    assert scientist.can(Permission.MODEL_SUBMIT)
    assert scientist.can(Permission.MODEL_UPDATE)
    assert not scientist.can(Permission.MODEL_TRANSITION)
    viewer = Principal("ai-viewer", frozenset({Role.VIEWER}))
    assert viewer.can(Permission.CATALOG_READ)
    assert not viewer.can(Permission.ARTIFACT_DOWNLOAD)


def test_token_file_holds_no_clear_token() -> None:
    tokens = new_tokens()
    text = str(token_file(tokens))
    assert all(token not in text for token in tokens.values())
