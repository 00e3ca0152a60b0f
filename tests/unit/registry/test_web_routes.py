"""The web catalog's pages and assets: served without a token, every one under the strict
Content-Security-Policy, which lets the page reach the audit service only when configured."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from modelgate_registry.web.routes import ASSETS, WebConfig, router


def _client(config: WebConfig | None = None) -> TestClient:
    app = FastAPI()
    if config is not None:
        app.state.web = config
    app.include_router(router)
    return TestClient(app)


def test_every_page_and_asset_carries_the_policy_without_inline_code() -> None:
    client = _client()
    for path in ["/", "/web-config.json", *(f"/static/{name}" for name in ASSETS)]:
        answer = client.get(path)
        assert answer.status_code == 200, path
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self';" in policy
        assert "style-src 'self';" in policy
        assert "unsafe-inline" not in policy
        assert "require-trusted-types-for 'script'" in policy
        assert "connect-src 'self';" in policy
        assert answer.headers["x-content-type-options"] == "nosniff"


def test_scripts_are_modules_served_as_javascript() -> None:
    assert {"app.js", "auth.js", "api.js", "catalog.css"} <= set(ASSETS)
    answer = _client().get("/static/app.js")
    assert answer.headers["content-type"].startswith("text/javascript")
    assert '<script type="module" src="/static/app.js">' in _client().get("/").text


def test_the_audit_origin_is_allowed_and_told_only_when_configured() -> None:
    client = _client(WebConfig(audit_url="http://127.0.0.1:8082/"))
    policy = client.get("/").headers["content-security-policy"]
    assert "connect-src 'self' http://127.0.0.1:8082;" in policy
    assert client.get("/web-config.json").json()["audit_url"] == "http://127.0.0.1:8082/"
    assert _client().get("/web-config.json").json()["audit_url"] is None


def test_the_sign_in_provider_is_told_and_its_origin_allowed_when_configured() -> None:
    issuer = "http://127.0.0.1:18180/realms/modelgate"
    client = _client(
        WebConfig(audit_url="http://127.0.0.1:8082/", oidc_issuer=issuer, oidc_client_id="mg")
    )
    policy = client.get("/").headers["content-security-policy"]
    assert "connect-src 'self' http://127.0.0.1:8082 http://127.0.0.1:18180;" in policy
    config = client.get("/web-config.json").json()
    assert config["oidc_issuer"] == issuer
    assert config["oidc_client_id"] == "mg"
    assert _client().get("/web-config.json").json()["oidc_client_id"] is None


def test_an_unknown_asset_is_404_and_no_path_reaches_the_disk() -> None:
    client = _client()
    assert client.get("/static/routes.py").status_code == 404
    assert client.get("/static/..%2Froutes.py").status_code == 404
