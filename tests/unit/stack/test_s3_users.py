"""The stack's per-service S3 users: generated once, kept 0600, each service given only its own;
and the policies that bound them."""

from __future__ import annotations

import json
import stat
from dataclasses import asdict
from pathlib import Path

import pytest

from modelgate_shared.s3_policies import FORBIDDEN_TO_EVERY_SERVICE, S3_SERVICES, service_policy
from modelgate_stack.config import StackConfig
from modelgate_stack.credentials import Credentials
from modelgate_stack.stack import Stack


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StackConfig:
    monkeypatch.setenv("MODELGATE_STATE_DIR", str(tmp_path / "state"))
    return StackConfig(root=tmp_path)


def test_every_service_gets_an_s3_password_of_its_own(config: StackConfig) -> None:
    path = config.state_dir / "credentials.json"
    creds = Credentials.load_or_create(path)
    assert set(creds.minio_service_passwords) == set(S3_SERVICES)
    assert len({*creds.minio_service_passwords.values(), creds.minio_password}) == 5
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Credentials.load_or_create(path).minio_service_passwords == (
        creds.minio_service_passwords
    )


def test_a_state_dir_from_before_s3_users_gets_them_added(config: StackConfig) -> None:
    path = config.state_dir / "credentials.json"
    old = asdict(Credentials.load_or_create(path))
    del old["minio_service_passwords"]
    path.write_text(json.dumps(old))
    creds = Credentials.load_or_create(path)
    assert set(creds.minio_service_passwords) == set(S3_SERVICES)
    assert creds.minio_password == old["minio_password"]


@pytest.mark.parametrize("service", S3_SERVICES)
def test_a_service_runs_as_its_own_s3_user_never_root(config: StackConfig, service: str) -> None:
    stack = Stack(config)
    env = stack.service_env(service)
    assert env["S3_ACCESS_KEY"] == f"modelgate-{service}"
    assert env["S3_SECRET_KEY"] == stack.creds.minio_service_passwords[service]
    assert stack.creds.minio_password not in env.values()
    others = {p for s, p in stack.creds.minio_service_passwords.items() if s != service}
    assert not others & set(env.values())
    # stack.env: root for people and tests, and every service's user.
    values = stack.env_file_values()
    assert values["S3_ACCESS_KEY"] == stack.creds.minio_user
    assert values[f"{service.upper()}_S3_ACCESS_KEY"] == f"modelgate-{service}"


@pytest.mark.parametrize("service", S3_SERVICES)
def test_no_policy_allows_what_would_undo_a_pin(service: str) -> None:
    statements = service_policy(service, ["modelgate", "mg-test-*"])["Statement"]
    allowed = {a for s in statements if s["Effect"] == "Allow" for a in s["Action"]}
    denied = {a for s in statements if s["Effect"] == "Deny" for a in s["Action"]}
    assert not allowed & set(FORBIDDEN_TO_EVERY_SERVICE)
    assert not any("*" in a for a in allowed)
    assert {"s3:BypassGovernanceRetention", "s3:DeleteObjectVersion"} <= denied
    writes_pinned = any(
        s["Effect"] == "Allow"
        and "s3:PutObject" in s["Action"]
        and any("-pinned" in r for r in s["Resource"])
        for s in statements
    )
    assert writes_pinned == (service == "validator")
