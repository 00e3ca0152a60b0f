"""Signed models (OpenSSF Model Signing) through the real gate: the validator verifies a
submission's `model.sig` against the signing policy, records who signed, and signs what it
registers; a download verifies with `modelgate verify` and with the upstream model-signing CLI.

Models are real files signed with the model-signing library (key and private-PKI certificate
methods), submitted through ingest."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from modelgate.signing import SignatureError, verify_directory
from modelgate_testkit.models import tiny_safetensors
from modelgate_testkit.namespace import Namespace
from tests.support.gate import Gate, metadata, upload, wait_for_status
from tests.support.oms_keys import (
    KeyPair,
    key_pair,
    leaf_certificate,
    private_ca,
    sign_with_certificate,
    sign_with_key,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def pki(namespace: Namespace, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A trusted key, an untrusted one, and a private CA with an allowed and a refused identity,
    written into this run's signing policy."""
    root = tmp_path_factory.mktemp("pki")
    trusted, untrusted = key_pair(root, "trusted"), key_pair(root, "untrusted")
    ca = private_ca(root)
    namespace.signing_policy.write_text(
        f"""
signers:
  - name: team-key
    key_file: {trusted.public}
  - name: corp-pki
    ca_file: {ca[1]}
    identities: ["O=Example,CN=release-*"]
rules:
  - model_name: "signed-*"
    signers: [team-key, corp-pki]
    required: true
"""
    )
    return {
        "trusted": trusted,
        "untrusted": untrusted,
        "release": leaf_certificate(root, ca, "release-bot", email="bot@ml.example.com"),
        "intern": leaf_certificate(root, ca, "intern"),
    }


def _model(root: Path, seed: int) -> Path:
    model = root / f"model-{seed}"
    model.mkdir()
    (model / "model.safetensors").write_bytes(tiny_safetensors(seed))
    (model / "config.json").write_text('{"layers": 2}')
    return model


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False)


def _files(model: Path) -> list[tuple[str, bytes]]:
    return [(p.relative_to(model).as_posix(), p.read_bytes()) for p in sorted(model.iterdir())]


async def _submit(gate: Gate, ns: Namespace, name: str, model: Path) -> dict[str, object]:
    files = _files(model)
    answer = await upload(gate, ns, metadata(name), files)
    assert answer.status_code == 202, answer.text
    return await wait_for_status(gate, ns, name, "1.0.0", {"REGISTERED", "REJECTED"})


async def _detail(gate: Gate, ns: Namespace, name: str) -> dict[str, object]:
    async with httpx.AsyncClient(base_url=gate["registry"].url, timeout=10) as client:
        answer = await client.get(f"/api/v1/models/{name}/versions/1.0.0", headers=ns.auth("admin"))
        assert answer.status_code == 200, answer.text
        return dict(answer.json())


async def test_a_key_signed_model_passes_and_its_signer_is_recorded(
    gate: Gate, namespace: Namespace, pki: dict[str, object], tmp_path: Path
) -> None:
    trusted = pki["trusted"]
    assert isinstance(trusted, KeyPair)
    model = _model(tmp_path, 1)
    sign_with_key(model, trusted.private)
    version = await _submit(gate, namespace, "signed-key", model)
    assert version["status"] == "REGISTERED", version
    signer = (await _detail(gate, namespace, "signed-key"))["signer"]
    assert isinstance(signer, dict)
    assert signer["method"] == "key"
    assert signer["trusted_as"] == "team-key"
    assert signer["identity"].startswith("sha256:")
    async with httpx.AsyncClient(base_url=gate["registry"].url, timeout=10) as client:
        kf = await client.get(
            f"/api/model_registry/v1alpha3/model_versions/{version['id']}",
            headers=namespace.auth("admin"),
        )
    props = kf.json()["customProperties"]
    assert props["modelgate.signer"]["string_value"] == signer["identity"]


async def test_a_certificate_signed_model_passes_with_its_subject(
    gate: Gate, namespace: Namespace, pki: dict[str, object], tmp_path: Path
) -> None:
    model = _model(tmp_path, 2)
    sign_with_certificate(model, pki["release"])  # type: ignore[arg-type]
    version = await _submit(gate, namespace, "signed-cert", model)
    assert version["status"] == "REGISTERED", version
    signer = (await _detail(gate, namespace, "signed-cert"))["signer"]
    assert isinstance(signer, dict)
    assert signer["method"] == "certificate"
    assert signer["identity"] == "O=Example,CN=release-bot"
    assert signer["alternative_names"] == ["bot@ml.example.com"]


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("changed", "config.json: signed SHA-256"),
        ("added", "not covered by the signature: extra.txt"),
        ("removed", "signed but not submitted: config.json"),
        ("untrusted-key", "was not made by a signer trusted for"),
        ("untrusted-identity", "is not an identity it may vouch for"),
        ("unsigned", "unsigned: the signing policy requires an OMS signature"),
    ],
)
async def test_a_wrongly_signed_or_unsigned_model_fails_with_the_reason(
    gate: Gate,
    namespace: Namespace,
    pki: dict[str, object],
    *,
    tmp_path: Path,
    case: str,
    reason: str,
) -> None:
    trusted, untrusted = pki["trusted"], pki["untrusted"]
    assert isinstance(trusted, KeyPair)
    assert isinstance(untrusted, KeyPair)
    model = _model(tmp_path, 3)
    if case == "untrusted-key":
        sign_with_key(model, untrusted.private)
    elif case == "untrusted-identity":
        sign_with_certificate(model, pki["intern"])  # type: ignore[arg-type]
    elif case != "unsigned":
        sign_with_key(model, trusted.private)
    if case == "changed":
        (model / "config.json").write_text('{"layers": 3}')
    elif case == "added":
        (model / "extra.txt").write_text("added after signing")
    elif case == "removed":
        (model / "config.json").unlink()
    version = await _submit(gate, namespace, f"signed-{case}", model)
    assert version["status"] == "REJECTED", version
    assert reason in str(version["status_reason"]), version["status_reason"]


async def test_a_download_verifies_with_modelgate_verify_and_the_upstream_cli(
    gate: Gate, namespace: Namespace, pki: dict[str, object], tmp_path: Path
) -> None:
    model = _model(tmp_path, 4)
    version = await _submit(gate, namespace, "plain-download", model)  # no rule: unsigned ok
    assert version["status"] == "REGISTERED", version
    dest = tmp_path / "download"
    dest.mkdir()
    async with httpx.AsyncClient(base_url=gate["registry"].url, timeout=30) as client:
        auth = namespace.auth("developer")
        key = await client.get("/api/v1/signing-key", headers=auth)
        assert key.status_code == 200, key.text
        plan = (
            await client.get("/api/v1/models/plain-download/versions/1.0.0/download", headers=auth)
        ).json()
        assert plan["signature"]["path"] == "modelgate.sig"
        for item in [*plan["files"], plan["signature"]]:
            (dest / item["path"]).write_bytes((await client.get(item["url"])).content)
    public = tmp_path / "gate.pub"
    public.write_text(key.text)
    expected = {f["path"]: f["sha256"] for f in plan["files"]}
    report = verify_directory(dest, key.text.encode(), expected=expected)
    assert set(report.files) == {"config.json", "model.safetensors"}
    upstream = [
        sys.executable, "-m", "model_signing", "verify", "key", str(dest),
        "--signature", str(dest / "modelgate.sig"), "--public_key", str(public),
    ]  # fmt: skip
    ok = await asyncio.to_thread(_run, upstream)
    assert ok.returncode == 0, ok.stdout + ok.stderr

    data = bytearray((dest / "model.safetensors").read_bytes())
    data[-1] ^= 0x01
    (dest / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(SignatureError, match=r"model\.safetensors"):
        verify_directory(dest, key.text.encode())
    refused = await asyncio.to_thread(_run, upstream)
    assert refused.returncode != 0
