"""The `modelgate` realm of the local identity provider: groups, clients and demo users from
resources/keycloak-realm.json, their passwords from the stack's credentials.

Loaded through Keycloak's admin REST API (not `--import-realm`, which reads only from the
install's own `data/import`, shared here by every checkout through the cache): created when
missing, and its groups, clients and users brought back to the file's when the file (or a
password) changed since the last `make up` that did so (Keycloak.provision keeps its digest).
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from typing import Any

import httpx

from modelgate_stack.errors import StackError

REALM = "modelgate"
CLIENT_ID = "modelgate"
"""The public client the web catalog and the CLI sign in with; also the API's audience."""
AUDIENCE = "modelgate"
ROLES_CLAIM = "groups"
SUBJECT_CLAIM = "preferred_username"
"""The user name, not Keycloak's UUID `sub`: audit entries and four-eyes name people."""
ROLE_MAP = (
    "modelgate-admins=admin,modelgate-developers=developer,"
    "modelgate-scientists=data-scientist,modelgate-viewers=viewer"
)
"""Group -> role. `modelgate-guests` maps to no role on purpose: its member is refused (403)."""

ADMIN_USER = "keycloak-admin"
"""The provider's own administrator (master realm): key rotation in tests, people's clicking."""
DATABASE_SECRET = "keycloak-database"  # noqa: S105 (the name of a generated password)
DEMO_USERS = ("ai-admin", "ai-developer", "ai-scientist", "ai-viewer", "ai-guest")
OIDC_SECRETS = (ADMIN_USER, DATABASE_SECRET, *DEMO_USERS)
"""What the stack generates a password for (Credentials.oidc_passwords)."""


def password_variable(user: str) -> str:
    """`.local/stack.env`'s name for a demo user's password: MODELGATE_OIDC_PASSWORD_AI_ADMIN."""
    return "MODELGATE_OIDC_PASSWORD_" + user.upper().replace("-", "_")


def realm_document(passwords: dict[str, str]) -> dict[str, Any]:
    """The realm file with each demo user's password added."""
    text = resources.files("modelgate_stack.resources").joinpath("keycloak-realm.json").read_text()
    realm: dict[str, Any] = json.loads(text)
    for user in realm["users"]:
        user["enabled"] = True
        user["emailVerified"] = True
        user["credentials"] = [
            {"type": "password", "value": passwords[user["username"]], "temporary": False}
        ]
    return realm


def realm_digest(realm: dict[str, Any]) -> str:
    """What a realm document is, in 64 hex digits: `up` provisions again only when it changed."""
    return hashlib.sha256(json.dumps(realm, sort_keys=True).encode()).hexdigest()


def realm_exists(base_url: str) -> bool:
    """Whether the provider serves the realm (its public discovery document; no sign-in)."""
    try:
        url = f"{base_url}/realms/{REALM}/.well-known/openid-configuration"
        return httpx.get(url, timeout=10).status_code == 200
    except httpx.HTTPError:
        return False


def admin_token(base_url: str, password: str) -> str:
    """An access token of the provider's administrator (master realm, `admin-cli`)."""
    response = httpx.post(
        f"{base_url}/realms/master/protocol/openid-connect/token",
        data={
            "grant_type": "password",
            "client_id": "admin-cli",
            "username": ADMIN_USER,
            "password": password,
        },
        timeout=30,
    )
    if response.status_code != 200:
        raise StackError(
            f"the identity provider refused its admin's sign-in ({response.status_code}): "
            f"{response.text[:300]}"
        )
    token: str = response.json()["access_token"]
    return token


def provision_realm(base_url: str, realm: dict[str, Any], passwords: dict[str, str]) -> None:
    """Create the realm if missing; bring its groups, clients and users back to the file's."""
    headers = {"Authorization": f"Bearer {admin_token(base_url, passwords[ADMIN_USER])}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as admin:
        found = admin.get(f"/admin/realms/{REALM}")
        if found.status_code == 404:
            _check(admin.post("/admin/realms", json=realm), "creating the realm")
            return
        _check(found, "reading the realm")
        # Groups are names only: added when missing, one by one (a partial import of existing
        # groups answers 409 in Keycloak 26.7, with SKIP as with OVERWRITE); clients are
        # replaced by the file's; users are added when missing, never replaced (a replaced user
        # is a new user: every session and refresh token of theirs would end at each `up`).
        listed = admin.get(f"/admin/realms/{REALM}/groups", params={"max": 1000})
        _check(listed, "listing groups")
        have = {g["name"] for g in listed.json()}
        for group in realm["groups"]:
            if group["name"] not in have:
                _check(admin.post(f"/admin/realms/{REALM}/groups", json=group), "adding a group")
        for policy, kind in (("OVERWRITE", "clients"), ("SKIP", "users")):
            partial = {"ifResourceExists": policy, kind: realm[kind]}
            _check(admin.post(f"/admin/realms/{REALM}/partialImport", json=partial), kind)


def _check(response: httpx.Response, doing: str) -> None:
    if response.status_code >= 300:
        raise StackError(
            f"identity provider, {doing}: {response.status_code} {response.text[:500]}"
        )
