"""`GET /api/v1/me` names the caller and what their roles let them do; no token is a 401."""

from __future__ import annotations

from fastapi.testclient import TestClient

from modelgate_registry.api.identity import router
from modelgate_shared.auth import HashedTokenVerifier, Role, hash_token
from modelgate_shared.auth.tokens import TokenEntry
from modelgate_shared.health import Readiness
from modelgate_shared.http_app import create_app

TOKENS = {Role.ADMIN: "a" * 43, Role.DEVELOPER: "d" * 43}


def _client() -> TestClient:
    verifier = HashedTokenVerifier(
        [
            TokenEntry(subject=f"ai-{role}", roles=[role], sha256=hash_token(token))
            for role, token in TOKENS.items()
        ]
    )
    app = create_app(title="t", version="0", verifier=verifier, readiness=Readiness())
    app.include_router(router)
    return TestClient(app)


def test_me_names_a_developer_and_only_what_a_developer_may_do() -> None:
    answer = _client().get(
        "/api/v1/me", headers={"Authorization": f"Bearer {TOKENS[Role.DEVELOPER]}"}
    )
    assert answer.status_code == 200
    assert answer.json() == {
        "subject": "ai-developer",
        "roles": ["developer"],
        "permissions": [
            "catalog:read",
            "artifact:download",
            "deployment:record",
            "audit:verify",
            "metrics:read",
        ],
    }


def test_me_gives_an_admin_every_permission() -> None:
    answer = _client().get("/api/v1/me", headers={"Authorization": f"Bearer {TOKENS[Role.ADMIN]}"})
    assert answer.status_code == 200
    assert "model:promote-production" in answer.json()["permissions"]
    assert "audit:read" in answer.json()["permissions"]


def test_me_without_a_token_is_401() -> None:
    assert _client().get("/api/v1/me").status_code == 401
