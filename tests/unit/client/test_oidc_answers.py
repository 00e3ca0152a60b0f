"""What the CLI does with a provider or registry that answers badly or not at all: a typed
error (and its exit code), never a traceback."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from modelgate import oidc
from modelgate.cli.exit_codes import Exit, exit_code
from modelgate.errors import ConfigError, Unreachable

ISSUER = "https://sso.example.com/realms/ai"


def _client(answer: Callable[[httpx.Request], httpx.Response]) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(answer))


def _html(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, text="<html>a proxy's sign-in page</html>")


def test_a_registry_answering_html_names_no_provider() -> None:
    with _client(_html) as http, pytest.raises(ConfigError, match="names no identity provider"):
        oidc.provider_of_registry(http, "https://modelgate.example.com")


def test_a_discovery_document_that_is_not_json_is_refused() -> None:
    with _client(_html) as http, pytest.raises(oidc.SignInError, match="names issuer None"):
        oidc.discover(http, ISSUER, "modelgate")


def test_a_token_answer_without_an_access_token_is_refused() -> None:
    provider = oidc.Provider(
        issuer=ISSUER, client_id="modelgate", endpoints={"token_endpoint": f"{ISSUER}/token"}
    )
    tokens = oidc.Tokens(access_token="", expires_at=0.0, refresh_token="r")
    with (
        _client(lambda request: httpx.Response(200, json={"token_type": "Bearer"})) as http,
        pytest.raises(oidc.SignInError, match="holds no access_token"),
    ):
        oidc.refresh(http, provider, tokens)


def test_a_device_answer_without_a_code_is_refused() -> None:
    provider = oidc.Provider(
        issuer=ISSUER,
        client_id="modelgate",
        endpoints={"device_authorization_endpoint": f"{ISSUER}/device"},
    )
    with (
        _client(lambda request: httpx.Response(200, json={"user_code": "ABCD-EFGH"})) as http,
        pytest.raises(oidc.SignInError, match="holds no device_code"),
    ):
        oidc.start_device_flow(http, provider)


def test_a_provider_that_cannot_be_reached_exits_as_unreachable() -> None:
    """Not 'refused' (4): nothing was refused, the documented code for that is 1."""
    with oidc.new_http(timeout_s=5) as http, pytest.raises(Unreachable) as caught:
        oidc.discover(http, "http://127.0.0.1:1/realms/ai", "modelgate")
    assert "127.0.0.1:1/realms/ai/.well-known/openid-configuration" in str(caught.value)
    assert exit_code(caught.value) == Exit.ERROR
