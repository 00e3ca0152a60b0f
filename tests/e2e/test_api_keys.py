"""API keys for machines: an admin creates one (shown once), every service accepts it with its
roles, and a revoked or expired key is refused by every service from the next request on,
with the reason."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from modelgate_testkit.namespace import Namespace
from tests.support.client_env import cli_env, run_cli
from tests.support.gate import Gate

pytestmark = pytest.mark.e2e

SERVICES = ("registry", "ingest", "validator", "audit")


def _create(gate: Gate, namespace: Namespace, **body: Any) -> httpx.Response:
    payload = {"name": "nightly CI", "owner": "ci-bot", "roles": ["data-scientist"]} | body
    return httpx.post(
        f"{gate['registry'].url}/api/v1/api-keys",
        json=payload,
        headers=namespace.auth("admin"),
        timeout=30,
    )


def _revoke(gate: Gate, namespace: Namespace, key_id: str, reason: str) -> httpx.Response:
    return httpx.post(
        f"{gate['registry'].url}/api/v1/api-keys/{key_id}/revoke",
        json={"reason": reason},
        headers=namespace.auth("admin"),
        timeout=30,
    )


def _statuses(gate: Gate, key: str) -> dict[str, httpx.Response]:
    bearer = {"Authorization": f"Bearer {key}"}
    return {s: httpx.get(f"{gate[s].url}/metrics", headers=bearer, timeout=30) for s in SERVICES}


def test_an_admin_creates_a_key_that_every_service_accepts_as_its_owner(
    gate: Gate, namespace: Namespace
) -> None:
    created = _create(gate, namespace, expires_in_days=7)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["key"].startswith("mgk_")
    assert body["owner"] == "ci-bot"
    assert body["state"] == "active"
    assert body["created_by"] == "ai-admin"
    me = httpx.get(
        f"{gate['registry'].url}/api/v1/me",
        headers={"Authorization": f"Bearer {body['key']}"},
        timeout=30,
    )
    assert me.json()["subject"] == "ci-bot"
    assert me.json()["roles"] == ["data-scientist"]
    for service, answer in _statuses(gate, body["key"]).items():
        assert answer.status_code == 200, f"{service}: {answer.text[:300]}"
    listed = httpx.get(
        f"{gate['registry'].url}/api/v1/api-keys",
        params={"owner": "ci-bot"},
        headers=namespace.auth("admin"),
        timeout=30,
    )
    assert listed.status_code == 200
    mine = [k for k in listed.json() if k["id"] == body["id"]]
    assert len(mine) == 1
    assert "key" not in mine[0]  # shown once, at creation
    assert body["key"] not in listed.text


def test_a_revoked_key_is_refused_by_every_service_at_once(
    gate: Gate, namespace: Namespace
) -> None:
    key = _create(gate, namespace).json()
    assert _statuses(gate, key["key"])["ingest"].status_code == 200
    revoked = _revoke(gate, namespace, key["id"], "runner decommissioned")
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["state"] == "revoked"
    assert revoked.json()["revoked_by"] == "ai-admin"
    # No wait: the very next request to each service is refused.
    for service, answer in _statuses(gate, key["key"]).items():
        assert answer.status_code == 401, f"{service}: {answer.text[:300]}"
        assert f"API key {key['id']} was revoked at" in answer.json()["message"]
    again = _revoke(gate, namespace, key["id"], "twice")
    assert again.status_code == 409


def test_an_expired_key_is_refused_by_every_service_with_the_reason(
    gate: Gate, namespace: Namespace
) -> None:
    key = _create(gate, namespace, expires_in_days=1).json()
    assert _statuses(gate, key["key"])["audit"].status_code == 200
    # A day passing, as the owner: no API makes a key that is already expired.
    with psycopg.connect(namespace.database_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE identity.api_keys SET created_at = now() - interval '2 days', "
            "expires_at = now() - interval '1 second' WHERE id = %s",
            (key["id"],),
        )
    for service, answer in _statuses(gate, key["key"]).items():
        assert answer.status_code == 401, f"{service}: {answer.text[:300]}"
        assert f"API key {key['id']} expired at" in answer.json()["message"]
    listed = httpx.get(
        f"{gate['registry'].url}/api/v1/api-keys/{key['id']}",
        headers=namespace.auth("admin"),
        timeout=30,
    )
    assert listed.json()["state"] == "expired"


def test_an_unknown_key_is_refused_and_only_admins_manage_keys(
    gate: Gate, namespace: Namespace
) -> None:
    answer = _statuses(gate, "mgk_" + "x" * 43)["validator"]
    assert answer.status_code == 401
    assert answer.json()["message"] == "unknown API key"
    for role in ("data-scientist", "developer", "viewer"):
        refused = httpx.post(
            f"{gate['registry'].url}/api/v1/api-keys",
            json={"name": "mine", "owner": "me", "roles": ["admin"]},
            headers=namespace.auth(role),
            timeout=30,
        )
        assert refused.status_code == 403, f"{role}: {refused.text}"
    bad = _create(gate, namespace, roles=["root"], expires_in_days=1000)
    assert bad.status_code == 422


def _modelgate(
    gate: Gate, namespace: Namespace, tmp: Path, *args: str, code: int = 0
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **cli_env(gate, namespace, "admin", tmp / "config.toml")}
    return run_cli(env, *args, code=code, timeout_s=120)


def test_the_cli_creates_lists_and_revokes_a_key(
    gate: Gate, namespace: Namespace, tmp_path: Path
) -> None:
    created = json.loads(
        _modelgate(
            gate,
            namespace,
            tmp_path,
            "keys",
            "create",
            "--name",
            "cli",
            "--owner",
            "deploy-bot",
            "--role",
            "developer",
            "--days",
            "3",
            "--json",
        ).stdout
    )
    assert created["key"].startswith("mgk_")
    assert _statuses(gate, created["key"])["registry"].status_code == 200
    listed = json.loads(
        _modelgate(
            gate, namespace, tmp_path, "keys", "ls", "--owner", "deploy-bot", "--json"
        ).stdout
    )
    assert [k["id"] for k in listed] == [created["id"]]
    _modelgate(gate, namespace, tmp_path, "keys", "revoke", created["id"], "--reason", "done")
    assert _statuses(gate, created["key"])["registry"].status_code == 401
    again = _modelgate(
        gate, namespace, tmp_path, "keys", "revoke", created["id"], "--reason", "x", code=6
    )
    assert "already revoked" in again.stderr
    everything = json.loads(
        _modelgate(
            gate, namespace, tmp_path, "keys", "ls", "--owner", "deploy-bot", "--all", "--json"
        ).stdout
    )
    assert everything[0]["state"] == "revoked"
