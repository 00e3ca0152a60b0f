"""The stack's Kafka users: generated once, kept 0600, never on a command line."""

from __future__ import annotations

import json
import stat
import subprocess
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from modelgate_shared.kafka.acls import PRINCIPALS
from modelgate_stack.config import StackConfig
from modelgate_stack.credentials import KAFKA_USERS, Credentials
from modelgate_stack.errors import StackError
from modelgate_stack.kafka import Kafka
from modelgate_stack.processes import ProcessTable
from modelgate_stack.stack import Stack


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StackConfig:
    monkeypatch.setenv("MODELGATE_STATE_DIR", str(tmp_path / "state"))
    return StackConfig(root=tmp_path)


@pytest.fixture
def kafka(config: StackConfig) -> Kafka:
    creds = Credentials.load_or_create(config.state_dir / "credentials.json")
    return Kafka(config, ProcessTable(config.pid_dir), creds)


def test_every_kafka_user_gets_a_password_of_its_own(config: StackConfig) -> None:
    path = config.state_dir / "credentials.json"
    creds = Credentials.load_or_create(path)
    assert set(creds.kafka_passwords) == set(KAFKA_USERS)
    assert len(set(creds.kafka_passwords.values())) == len(KAFKA_USERS)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Credentials.load_or_create(path).kafka_passwords == creds.kafka_passwords


def test_a_state_dir_from_before_kafka_users_gets_them_added(config: StackConfig) -> None:
    path = config.state_dir / "credentials.json"
    old = asdict(Credentials.load_or_create(path))
    del old["kafka_passwords"]
    path.write_text(json.dumps(old))
    creds = Credentials.load_or_create(path)
    assert set(creds.kafka_passwords) == set(KAFKA_USERS)
    assert creds.tokens == old["tokens"]


def test_the_broker_config_holding_passwords_is_private(kafka: Kafka) -> None:
    props = kafka._render_config()
    assert stat.S_IMODE(props.stat().st_mode) == 0o600
    text = props.read_text()
    assert kafka.creds.kafka_passwords["admin"] in text
    assert "allow.everyone.if.no.acl.found=false" in text
    assert "@" + "ADMIN_PASSWORD@" not in text


def test_formatting_passes_the_scram_passwords_by_file_not_argument(
    kafka: Kafka, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[str]] = []
    argfiles: list[str] = []

    def run(argv: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        calls.append(argv)
        argfile = next((a[1:] for a in argv if a.startswith("@")), None)
        if argfile is not None:
            argfiles.append(Path(argfile).read_text())
            assert stat.S_IMODE(Path(argfile).stat().st_mode) == 0o600
        return subprocess.CompletedProcess(argv, 0, stdout="cluster-id\n", stderr="")

    monkeypatch.setattr(subprocess, "run", run)
    kafka._format(kafka._render_config())
    secrets = list(kafka.creds.kafka_passwords.values())
    assert not any(s in arg for argv in calls for arg in argv for s in secrets)
    (argfile,) = argfiles
    for user in ("admin", *PRINCIPALS):
        assert f"name={user},iterations=8192,password={kafka.creds.kafka_passwords[user]}]" in (
            argfile
        )
    assert not list(kafka.home.glob("*.args")), "the argument file outlives the format"


def test_a_log_dir_formatted_without_the_admin_is_refused_with_what_to_do(kafka: Kafka) -> None:
    (kafka.home / "kraft-logs").mkdir(parents=True)
    (kafka.home / "kraft-logs" / "meta.properties").write_text("node.id=1\n")
    with pytest.raises(StackError, match="make clean-state"):
        kafka._format(kafka._render_config())


def test_each_service_is_started_with_its_own_kafka_user_only(config: StackConfig) -> None:
    stack = Stack(config)
    env = stack.service_env("validator")
    assert env["KAFKA_SASL_USERNAME"] == "validator"
    assert env["KAFKA_SASL_PASSWORD"] == stack.creds.kafka_passwords["validator"]
    others = {p for u, p in stack.creds.kafka_passwords.items() if u != "validator"}
    assert not others & set(env.values())
    file_values = stack.env_file_values()
    assert (
        file_values["MODELGATE_KAFKA_SUBMITTER_PASSWORD"]
        == (stack.creds.kafka_passwords["submitter"])
    )
    assert "KAFKA_SASL_PASSWORD" not in file_values, "the env file names no default user"
