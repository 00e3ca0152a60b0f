"""`modelgate sign` and `modelgate verify` (offline, `--key`) as a user runs them: the CLI's
signature verifies with the upstream model-signing CLI, the gate-style check refuses a changed
byte with exit 10."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.oms_keys import key_pair


def _modelgate(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modelgate", *args],
        capture_output=True,
        text=True,
        check=False,
        env={"HOME": str(home), "PATH": "/usr/bin:/bin"},
    )


def test_sign_then_verify_offline_and_upstream(tmp_path: Path) -> None:
    model = tmp_path / "m"
    (model / "tok").mkdir(parents=True)
    (model / "weights.bin").write_bytes(b"\x01" * 4096)
    (model / "tok" / "vocab.json").write_text("{}")
    keys = key_pair(tmp_path / "keys")
    signed = _modelgate("sign", str(model), "--key", str(keys.private), home=tmp_path)
    assert signed.returncode == 0, signed.stderr
    sig = model / "model.sig"
    ok = _modelgate(
        "verify", str(model), "--key", str(keys.public), "--signature", str(sig), home=tmp_path
    )
    assert ok.returncode == 0, ok.stderr
    assert "2 file(s)" in ok.stderr
    upstream = subprocess.run(
        [sys.executable, "-m", "model_signing", "verify", "key", str(model),
         "--signature", str(sig), "--public_key", str(keys.public)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert upstream.returncode == 0, upstream.stdout + upstream.stderr

    (model / "weights.bin").write_bytes(b"\x01" * 4095 + b"\x00")
    refused = _modelgate(
        "verify", str(model), "--key", str(keys.public), "--signature", str(sig), home=tmp_path
    )
    assert refused.returncode == 10, refused.stderr
    assert "weights.bin" in refused.stderr
