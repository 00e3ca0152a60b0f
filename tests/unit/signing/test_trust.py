"""The trusted-keys file: what it accepts, refuses, and how a change is picked up."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from modelgate_shared.signing import TrustedKeys, key_id
from modelgate_shared.signing.__main__ import main as signing_command
from modelgate_shared.signing.grants import producer_entry, service_entry
from modelgate_shared.signing.keys import load_private_key
from modelgate_shared.signing.provision import provision, register
from modelgate_shared.signing.trust import write_trust_file


def _public() -> tuple[str, Ed25519PrivateKey]:
    private = Ed25519PrivateKey.generate()
    return key_id(private.public_key()), private


def _bump_mtime(path: Path) -> None:
    """Make a rewrite visible even on a file system with coarse timestamps."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_a_changed_file_is_reloaded_without_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "trusted.json"
    (first, one), (second, two) = _public(), _public()
    write_trust_file(path, [producer_entry("ci-bot", one.public_key())])
    trusted = TrustedKeys(path, check_interval_s=0)
    assert trusted.get(first) is not None
    assert trusted.get(second) is None

    # Rotation: the new key added, the old one removed (revoked).
    write_trust_file(path, [producer_entry("ci-bot", two.public_key())])
    _bump_mtime(path)
    assert trusted.get(second) is not None
    assert trusted.get(first) is None


def test_a_broken_edit_keeps_the_keys_trusted_before_it(tmp_path: Path) -> None:
    path = tmp_path / "trusted.json"
    kid, private = _public()
    write_trust_file(path, [producer_entry("ci-bot", private.public_key())])
    trusted = TrustedKeys(path, check_interval_s=0)
    path.write_text('{"keys": [')  # half written
    _bump_mtime(path)
    assert trusted.get(kid) is not None


def test_the_file_is_looked_at_no_more_often_than_the_interval(tmp_path: Path) -> None:
    path = tmp_path / "trusted.json"
    kid, private = _public()
    write_trust_file(path, [producer_entry("ci-bot", private.public_key())])
    trusted = TrustedKeys(path, check_interval_s=3600)
    write_trust_file(path, [])
    _bump_mtime(path)
    assert trusted.get(kid) is not None, "reloaded before the interval passed"


def test_a_service_does_not_start_on_a_missing_or_broken_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        TrustedKeys(tmp_path / "absent.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{}")
    with pytest.raises(ValueError, match="keys"):
        TrustedKeys(broken)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"key_id": "0000000000000000"}, "key_id 0000000000000000 is not"),
        ({"event_types": ["io.modelgate.model.approved.v1"]}, "unknown event types"),
        ({"public_key": "not a key"}, "bad public_key"),
        ({"submit_as": "everyone"}, "submit_as"),
        ({"may_sign_anything": True}, "may_sign_anything"),
    ],
)
def test_a_wrong_entry_is_refused_with_where(
    tmp_path: Path, change: dict[str, object], reason: str
) -> None:
    _, private = _public()
    entry = producer_entry("ci-bot", private.public_key()).model_dump(mode="json")
    path = tmp_path / "trusted.json"
    path.write_text(json.dumps({"keys": [{**entry, **change}]}))
    with pytest.raises(ValueError, match=reason):
        TrustedKeys(path)


def test_a_key_listed_twice_is_refused(tmp_path: Path) -> None:
    _, private = _public()
    entry = producer_entry("ci-bot", private.public_key())
    path = tmp_path / "trusted.json"
    write_trust_file(path, [entry, entry])
    with pytest.raises(ValueError, match="listed twice"):
        TrustedKeys(path)


def test_provisioning_keeps_keys_and_hand_registered_producers(tmp_path: Path) -> None:
    trusted = tmp_path / "trusted.json"
    services = {"ingest": tmp_path / "ingest.pem", "validator": tmp_path / "validator.pem"}
    provision(trusted, services, {"ci-bot": tmp_path / "ci-bot.pem"})
    assert all((p.stat().st_mode & 0o777) == 0o600 for p in services.values())
    before = {n: key_id(load_private_key(p).public_key()) for n, p in services.items()}

    _, other = _public()
    register(trusted, [producer_entry("nightly-job", other.public_key())])
    provision(trusted, services, {"ci-bot": tmp_path / "ci-bot.pem"})

    names = [k["name"] for k in json.loads(trusted.read_text())["keys"]]
    assert sorted(names) == ["ci-bot", "modelgate-ingest", "modelgate-validator", "nightly-job"]
    after = {n: key_id(load_private_key(p).public_key()) for n, p in services.items()}
    assert after == before, "a second provisioning replaced existing keys"


def test_a_regenerated_service_key_replaces_the_old_one(tmp_path: Path) -> None:
    trusted = tmp_path / "trusted.json"
    key = tmp_path / "validator.pem"
    provision(trusted, {"validator": key})
    old = key_id(load_private_key(key).public_key())
    key.unlink()
    provision(trusted, {"validator": key})
    loaded = TrustedKeys(trusted)
    assert len(loaded) == 1
    assert loaded.get(old) is None


def test_keygen_prints_the_entry_to_register(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ci.pem"
    assert signing_command(["keygen", "--subject", "ci-bot", "--out", str(out)]) == 0
    entry = json.loads(capsys.readouterr().out)
    assert entry["name"] == "ci-bot"
    assert entry["event_types"] == ["io.modelgate.model.submitted.v1"]
    assert entry["submit_as"] == "self"
    assert entry["key_id"] == key_id(load_private_key(out).public_key())
    assert (out.stat().st_mode & 0o777) == 0o600

    trusted = tmp_path / "trusted.json"
    args = ["keygen", "--subject", "ci-bot", "--out", str(out), "--register", str(trusted)]
    assert signing_command(args) == 0
    assert TrustedKeys(trusted).get(entry["key_id"]) is not None


def test_service_grants_sign_only_what_each_service_publishes() -> None:
    public = Ed25519PrivateKey.generate().public_key()
    validator = service_entry("validator", public)
    assert validator.event_types == ("io.modelgate.model.validated.v1",)
    ingest = service_entry("ingest", public)
    assert ingest.event_types == ("io.modelgate.model.submitted.v1",)
    assert ingest.submit_as == "anyone"
