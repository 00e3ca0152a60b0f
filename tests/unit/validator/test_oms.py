"""OMS signatures: what model-signing's public API signs verifies in the gate's adapter, what
the adapter signs verifies with the upstream CLI, and the manifest is compared strictly."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from modelgate_shared.events.validated import GATE_SIGNATURE_NAME
from modelgate_validator import oms
from tests.support.oms_keys import (
    key_pair,
    leaf_certificate,
    private_ca,
    sign_with_certificate,
    sign_with_key,
)


def _model(root: Path) -> Path:
    model = root / "model"
    (model / "tokenizer").mkdir(parents=True)
    (model / "weights.bin").write_bytes(b"\x00\x01weights" * 100)
    (model / "config.json").write_text('{"layers": 2}')
    (model / "tokenizer" / "vocab.json").write_text('{"a": 1}')
    return model


def _digests(model: Path, skip: str = "model.sig") -> dict[str, str]:
    return {
        p.relative_to(model).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(model.rglob("*"))
        if p.is_file() and p.name != skip
    }


def test_a_key_signature_made_with_the_public_api_verifies_and_covers_every_file(
    tmp_path: Path,
) -> None:
    model = _model(tmp_path)
    keys = key_pair(tmp_path / "keys")
    sig = sign_with_key(model, keys.private)
    signed = oms.verify_with_key(sig.read_bytes(), keys.public_pem, tmp_path)
    assert signed.files == _digests(model)
    assert oms.coverage_problems(signed, _digests(model)) == []
    assert oms.bundle_kind(sig.read_bytes()) == "key"
    assert (
        oms.key_fingerprint(keys.public_pem)
        == "sha256:" + json.loads(sig.read_bytes())["verificationMaterial"]["publicKey"]["hint"]
    )


def test_another_key_or_a_tampered_envelope_is_refused(tmp_path: Path) -> None:
    model = _model(tmp_path)
    keys = key_pair(tmp_path / "keys")
    other = key_pair(tmp_path / "keys", "other")
    sig = sign_with_key(model, keys.private).read_bytes()
    with pytest.raises(oms.SignatureInvalid, match="Key mismatch"):
        oms.verify_with_key(sig, other.public_pem, tmp_path)
    bundle = json.loads(sig)
    bundle["verificationMaterial"]["publicKey"]["hint"] = None
    bundle["dsseEnvelope"]["signatures"][0]["sig"] = (
        bundle["dsseEnvelope"]["signatures"][0]["sig"][:-8] + "AAAAAAA="
    )
    with pytest.raises(oms.SignatureInvalid):
        oms.verify_with_key(json.dumps(bundle).encode(), keys.public_pem, tmp_path)
    with pytest.raises(oms.SignatureInvalid, match="not an OMS signature"):
        oms.verify_with_key(b"\x80\x04not json", keys.public_pem, tmp_path)


def test_coverage_names_unsigned_missing_and_changed_files(tmp_path: Path) -> None:
    model = _model(tmp_path)
    keys = key_pair(tmp_path / "keys")
    sig = sign_with_key(model, keys.private)
    signed = oms.verify_with_key(sig.read_bytes(), keys.public_pem, tmp_path)
    actual = _digests(model)
    actual["extra.txt"] = "0" * 64
    del actual["config.json"]
    actual["weights.bin"] = "f" * 64
    problems = oms.coverage_problems(signed, actual)
    assert problems[0] == "not covered by the signature: extra.txt"
    assert problems[1] == "signed but not submitted: config.json"
    assert problems[2].startswith("weights.bin: signed SHA-256 ")


def test_a_certificate_signature_verifies_against_its_ca_only(tmp_path: Path) -> None:
    model = _model(tmp_path)
    ca = private_ca(tmp_path / "pki")
    cert = leaf_certificate(tmp_path / "pki", ca, "release-bot", email="bot@ml.example.com")
    sig = sign_with_certificate(model, cert).read_bytes()
    assert oms.bundle_kind(sig) == "certificate"
    signed, signer = oms.verify_with_certificates(sig, [ca[1].read_bytes()], tmp_path)
    assert signed.files == _digests(model)
    assert signer.subject == "O=Example,CN=release-bot"
    assert signer.alternative_names == ("bot@ml.example.com",)
    other_ca = private_ca(tmp_path / "other", "other")
    with pytest.raises(oms.SignatureInvalid):
        oms.verify_with_certificates(sig, [other_ca[1].read_bytes()], tmp_path)


def test_the_gates_signature_verifies_with_the_upstream_cli(tmp_path: Path) -> None:
    model = _model(tmp_path)
    keys = key_pair(tmp_path / "keys", "gate")
    signature = oms.sign_digests("demo", _digests(model), keys.private.read_bytes())
    (model / GATE_SIGNATURE_NAME).write_bytes(signature)
    verify = [
        sys.executable, "-m", "model_signing", "verify", "key", str(model),
        "--signature", str(model / GATE_SIGNATURE_NAME), "--public_key", str(keys.public),
    ]  # fmt: skip
    ok = subprocess.run(verify, capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    # And the public API agrees.
    import model_signing  # noqa: PLC0415

    verifying = model_signing.verifying.Config()  # type: ignore[no-untyped-call]
    verifying.use_elliptic_key_verifier(public_key=keys.public).verify(
        model, model / GATE_SIGNATURE_NAME
    )
    data = bytearray((model / "weights.bin").read_bytes())
    data[7] ^= 0x01
    (model / "weights.bin").write_bytes(bytes(data))
    refused = subprocess.run(verify, capture_output=True, text=True, check=False)
    assert refused.returncode != 0
    assert "weights.bin" in refused.stdout + refused.stderr


def test_a_keyless_bundle_is_refused_with_the_reason_never_a_crash(tmp_path: Path) -> None:
    """No Sigstore service answers here, so no real keyless bundle can be made: what is
    checked is that one is recognised, and that a broken bundle or trust root is a refusal."""
    model = _model(tmp_path)
    keys = key_pair(tmp_path / "keys")
    bundle = json.loads(sign_with_key(model, keys.private).read_bytes())
    bundle["verificationMaterial"]["tlogEntries"] = [{"logIndex": "1"}]
    forged = json.dumps(bundle).encode()
    assert oms.bundle_kind(forged) == "sigstore"
    trust = tmp_path / "trust.json"
    trust.write_text("{}")
    with pytest.raises(oms.SignatureInvalid):
        oms.verify_with_sigstore(
            forged,
            identity="release@example.com",
            issuer="https://accounts.example.com",
            trust_config=trust,
            scratch=tmp_path,
        )


def test_crafted_bundles_are_refusals_not_crashes(tmp_path: Path) -> None:
    keys = key_pair(tmp_path / "keys")
    deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(oms.SignatureInvalid):
        oms.bundle_kind(deep)
    with pytest.raises(oms.SignatureInvalid):
        oms.verify_with_key(deep, keys.public_pem, tmp_path)
