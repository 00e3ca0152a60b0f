"""The local stack's event keys: each service gets its own, users get the producer's."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelgate_shared.signing import TrustedKeys, key_id
from modelgate_shared.signing.keys import load_private_key
from modelgate_stack.config import StackConfig
from modelgate_stack.stack import Stack


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Stack:
    monkeypatch.setenv("MODELGATE_STATE_DIR", str(tmp_path / "state"))
    stack = Stack(StackConfig(root=tmp_path))
    stack.event_keys.provision()
    return stack


def test_each_service_is_started_with_its_own_key_only(stack: Stack) -> None:
    keys = {
        n: stack.service_env(n).get("MODELGATE_SIGNING_KEY")
        for n in ("ingest", "validator", "registry", "audit")
    }
    assert keys["audit"] is None, "audit publishes no events"
    signing = [Path(k) for k in keys.values() if k is not None]
    assert len(set(signing)) == 3
    for path in signing:
        assert path.stat().st_mode & 0o777 == 0o600
    assert "MODELGATE_SIGNING_KEY" not in stack.endpoints()
    assert "MODELGATE_PRODUCER_KEY" not in stack.service_env("registry")


def test_every_service_trusts_the_services_and_the_demo_producer(stack: Stack) -> None:
    trusted = TrustedKeys(Path(stack.service_env("audit")["MODELGATE_TRUSTED_KEYS"]))
    validator = load_private_key(Path(stack.service_env("validator")["MODELGATE_SIGNING_KEY"]))
    found = trusted.get(key_id(validator.public_key()))
    assert found is not None
    assert found.entry.name == "modelgate-validator"
    producer = load_private_key(Path(stack.event_keys.user_env()["MODELGATE_PRODUCER_KEY"]))
    found = trusted.get(key_id(producer.public_key()))
    assert found is not None
    assert found.entry.name == stack.event_keys.user_env()["MODELGATE_PRODUCER_SUBJECT"]
