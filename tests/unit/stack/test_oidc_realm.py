"""The local provider's realm: every demo user gets the stack's password and a group the role
map knows (but ai-guest, on purpose), and the client issues tokens the services will accept."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from modelgate_shared.auth import Role
from modelgate_shared.auth.oidc_config import parse_role_map
from modelgate_stack.credentials import Credentials
from modelgate_stack.oidc_realm import (
    AUDIENCE,
    CLIENT_ID,
    DEMO_USERS,
    OIDC_SECRETS,
    ROLE_MAP,
    password_variable,
    realm_document,
)


def test_each_demo_user_has_the_stacks_password_and_a_known_group() -> None:
    passwords = {u: f"pw-{u}" for u in OIDC_SECRETS}
    realm = realm_document(passwords)
    groups = {g["name"] for g in realm["groups"]}
    roles = parse_role_map(ROLE_MAP)
    users = {u["username"]: u for u in realm["users"]}
    assert set(users) == set(DEMO_USERS)
    for name, user in users.items():
        assert user["credentials"] == [
            {"type": "password", "value": f"pw-{name}", "temporary": False}
        ]
        (group,) = (g.lstrip("/") for g in user["groups"])
        assert group in groups
        assert (group in roles) == (name != "ai-guest"), name
    assert set(roles.values()) == set(Role)


def test_the_client_uses_pkce_and_puts_the_api_in_the_audience() -> None:
    realm = realm_document(dict.fromkeys(OIDC_SECRETS, "x"))
    client = next(c for c in realm["clients"] if c["clientId"] == CLIENT_ID)
    assert client["publicClient"] is True
    assert client["attributes"]["pkce.code.challenge.method"] == "S256"
    assert client["attributes"]["oauth2.device.authorization.grant.enabled"] == "true"
    audience = next(m for m in client["protocolMappers"] if "audience" in m["protocolMapper"])
    assert audience["config"]["included.client.audience"] == AUDIENCE
    other = next(c for c in realm["clients"] if c["clientId"] != CLIENT_ID)
    assert not any("audience" in m["protocolMapper"] for m in other["protocolMappers"])


def test_the_realm_files_compose_placeholders_name_the_stack_env_variables() -> None:
    text = (
        Path(__file__).parents[3] / "deploy/local/modelgate_stack/resources/keycloak-realm.json"
    ).read_text()
    for user in DEMO_USERS:
        assert "${" + password_variable(user) + ":" in text


def test_an_older_credentials_file_gains_the_providers_passwords(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    older = asdict(Credentials.load_or_create(path))
    del older["oidc_passwords"]
    path.write_text(json.dumps(older))
    creds = Credentials.load_or_create(path)
    assert set(creds.oidc_passwords) == set(OIDC_SECRETS)
    assert len(set(creds.oidc_passwords.values())) == len(OIDC_SECRETS)
    assert Credentials.load_or_create(path) == creds
