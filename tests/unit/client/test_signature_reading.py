"""`modelgate verify`'s bundle reader: a crafted modelgate.sig or key is a SignatureError (exit
10 with the reason), never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelgate.signing import SignatureError, signed_manifest
from tests.support.oms_keys import key_pair, sign_with_key


def test_crafted_bundles_and_keys_are_signature_errors(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "weights.bin").write_bytes(b"weights")
    keys = key_pair(tmp_path / "keys")
    bundle = json.loads(sign_with_key(model, keys.private).read_bytes())
    assert signed_manifest(json.dumps(bundle).encode(), keys.public_pem)
    bundle["verificationMaterial"]["publicKey"]["hint"] = 7
    with pytest.raises(SignatureError, match="hint"):
        signed_manifest(json.dumps(bundle).encode(), keys.public_pem)
    with pytest.raises(SignatureError):
        signed_manifest(b"[" * 100_000 + b"]" * 100_000, keys.public_pem)
    with pytest.raises(SignatureError, match="unusable public key"):
        signed_manifest(json.dumps(bundle).encode(), b"not a key")
