"""Presigned multipart uploads on the real stack: the API (S3 enforces each part's SHA-256,
missing parts refuse completion, DELETE aborts and a retry reopens), and the CLI killed with
`kill -9` halfway through a 1 GiB upload, rerun: it completes, sending under 60% again."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelgate_shared.s3 import s3_client
from modelgate_shared.settings import ServiceSettings
from modelgate_testkit.namespace import Namespace
from modelgate_testkit.services import ServiceProcess
from tests.support.client_env import card, cli_env, model_directory
from tests.support.gate import Gate

pytestmark = pytest.mark.e2e
MiB = 1024 * 1024


def big_safetensors(path: Path, size: int, seed: int) -> None:
    """A valid safetensors file of about `size` bytes: one U8 tensor of pseudo-random bytes
    (a 16 MiB block from `seed`, each copy varied, so no two parts are alike)."""
    header = json.dumps(
        {"weights": {"dtype": "U8", "shape": [size], "data_offsets": [0, size]}}
    ).encode()
    header += b" " * (-len(header) % 8)
    block = bytearray(hashlib.sha256(str(seed).encode()).digest() * (MiB // 2))
    with path.open("wb") as out:
        out.write(struct.pack("<Q", len(header)) + header)
        left, n = size, 0
        while left:
            block[:8] = struct.pack("<Q", n)
            n += 1
            out.write(block[: min(len(block), left)])
            left -= min(len(block), left)


def _body(name: str, version: str, files: dict[str, bytes]) -> dict[str, Any]:
    return {
        "name": name,
        "version": version,
        "model_card": card(),
        "files": [{"path": p, "size": len(b)} for p, b in files.items()],
    }


async def _s3_uploads(namespace: Namespace, key: str) -> list[dict[str, Any]]:
    """The multipart uploads S3 holds for `key` (MinIO lists them by the whole key only)."""
    env = {**os.environ, **namespace.env()}
    async with s3_client(ServiceSettings.model_validate(env)) as s3:
        answer = await s3.list_multipart_uploads(Bucket=namespace.bucket, Prefix=key)
        uploads: list[dict[str, Any]] = answer.get("Uploads", [])
        return uploads


async def test_the_api_checks_parts_and_aborts(gate: Gate, namespace: Namespace) -> None:
    ingest = gate["ingest"].url
    auth = {**namespace.auth("data-scientist"), "Idempotency-Key": "presigned-api-1"}
    data = os.urandom(6 * MiB)
    files = {"model.safetensors": data}
    async with httpx.AsyncClient(timeout=60) as http:
        made = await http.post(
            f"{ingest}/api/v1/uploads", json=_body("presigned-api", "1.0.0", files), headers=auth
        )
        assert made.status_code == 201, made.text
        upload = made.json()
        upload_id = upload["upload_id"]
        (entry,) = upload["files"]
        assert entry["part_count"] == 1
        assert entry["parts"] == []

        # Another role cannot see it; a developer may not submit at all.
        other = await http.get(
            f"{ingest}/api/v1/uploads/{upload_id}", headers=namespace.auth("admin")
        )
        assert other.status_code == 404
        dev = await http.post(
            f"{ingest}/api/v1/uploads",
            json=_body("presigned-api", "1.0.1", files),
            headers=namespace.auth("developer"),
        )
        assert dev.status_code == 403

        # Bad input is a 4xx with the reason.
        bad = await http.post(
            f"{ingest}/api/v1/uploads/{upload_id}/parts",
            json={"parts": [{"path": "model.safetensors", "number": 2, "sha256": "0" * 64}]},
            headers=auth,
        )
        assert bad.status_code == 422
        assert "1 part" in bad.text
        unsafe = await http.post(
            f"{ingest}/api/v1/uploads",
            json=_body("presigned-api", "1.0.2", {"../x": b"a"}),
            headers=namespace.auth("data-scientist"),
        )
        assert unsafe.status_code == 400, unsafe.text

        # Completion before the parts: refused, saying which part is missing.
        early = await http.post(
            f"{ingest}/api/v1/uploads/{upload_id}/complete",
            json={"files": [{"path": "model.safetensors", "sha256": "0" * 64}]},
            headers=auth,
        )
        assert early.status_code == 409
        assert "not uploaded yet" in early.text

        # The part's SHA-256 is in the signature: other bytes, or no header, are refused.
        signed = await http.post(
            f"{ingest}/api/v1/uploads/{upload_id}/parts",
            json={
                "parts": [
                    {
                        "path": "model.safetensors",
                        "number": 1,
                        "sha256": hashlib.sha256(data).hexdigest(),
                    }
                ]
            },
            headers=auth,
        )
        assert signed.status_code == 200, signed.text
        (url,) = signed.json()["parts"]
        tampered = await http.put(url["url"], content=data[:-1] + b"!", headers=url["headers"])
        assert tampered.status_code in (400, 403), tampered.text
        unsigned = await http.put(url["url"], content=data)
        assert unsigned.status_code in (400, 403), unsigned.text
        good = await http.put(url["url"], content=data, headers=url["headers"])
        assert good.status_code == 200, good.text
        listed = (await http.get(f"{ingest}/api/v1/uploads/{upload_id}", headers=auth)).json()
        assert listed["files"][0]["parts"] == [
            {"number": 1, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        ]

        # DELETE aborts: S3 drops the parts, the submission is abandoned.
        key = f"staging/{upload_id}/model.safetensors"
        assert await _s3_uploads(namespace, key)
        gone = await http.delete(f"{ingest}/api/v1/uploads/{upload_id}", headers=auth)
        assert gone.status_code == 204
        assert not await _s3_uploads(namespace, key)
        status = await http.get(f"{ingest}/api/v1/submissions/{upload_id}", headers=auth)
        assert status.json()["status"] == "abandoned"
        late = await http.post(
            f"{ingest}/api/v1/uploads/{upload_id}/parts",
            json={"parts": [{"path": "model.safetensors", "number": 1, "sha256": "0" * 64}]},
            headers=auth,
        )
        assert late.status_code == 409

        # The same request under the same key reopens it.
        again = await http.post(
            f"{ingest}/api/v1/uploads", json=_body("presigned-api", "1.0.0", files), headers=auth
        )
        assert again.status_code == 201
        assert again.json()["state"] == "open"
        assert again.json()["upload_id"] == upload_id


async def test_an_idle_upload_is_aborted_by_the_sweeper(
    namespace: Namespace, tmp_path: Path
) -> None:
    """Nobody comes back: after MODELGATE_UPLOAD_ABANDON_AFTER_S without a request, ingest
    aborts the multipart uploads (S3 drops the parts) and the submission is abandoned."""
    ingest = ServiceProcess(
        "ingest",
        {
            **namespace.env("ingest"),
            "MODELGATE_UPLOAD_ABANDON_AFTER_S": "6",
            "MODELGATE_UPLOAD_SWEEP_INTERVAL_S": "0.5",
        },
        tmp_path / "logs",
    )
    await asyncio.to_thread(ingest.start)
    try:
        auth = {**namespace.auth("data-scientist"), "Idempotency-Key": "presigned-idle-1"}
        files = {"model.safetensors": os.urandom(MiB)}
        async with httpx.AsyncClient(base_url=ingest.url, timeout=60) as http:
            made = await http.post(
                "/api/v1/uploads", json=_body("presigned-idle", "1.0.0", files), headers=auth
            )
            assert made.status_code == 201, made.text
            upload_id = made.json()["upload_id"]
            key = f"staging/{upload_id}/model.safetensors"
            assert await _s3_uploads(namespace, key)
            deadline = time.monotonic() + 30
            status = ""
            while time.monotonic() < deadline and status != "abandoned":
                await asyncio.sleep(0.5)
                answer = await http.get(f"/api/v1/submissions/{upload_id}", headers=auth)
                status = answer.json()["status"]
        assert status == "abandoned"
        assert not await _s3_uploads(namespace, key), "no orphaned parts"
    finally:
        await asyncio.to_thread(ingest.stop)


def _sent(state_dir: Path) -> tuple[int, int]:
    for path in state_dir.glob("*.json"):
        try:
            body = json.loads(path.read_text())
        except ValueError:
            continue
        return int(body["bytes_sent"]), int(body["bytes_total"])
    return 0, 0


@pytest.mark.slow
async def test_a_killed_cli_upload_resumes_sending_less_than_60_percent_again(
    gate: Gate, namespace: Namespace, tmp_path: Path
) -> None:
    model = model_directory(tmp_path / "model", seed=41)
    big_safetensors(model / "model-00001-of-00002.safetensors", 640 * MiB, seed=1)
    big_safetensors(model / "model-00002-of-00002.safetensors", 384 * MiB, seed=2)
    card_file = tmp_path / "card.json"
    card_file.write_text(json.dumps(card()))
    state_dir = tmp_path / "state"
    env = {
        **os.environ,
        **cli_env(gate, namespace, "data-scientist", tmp_path / "config.toml"),
        "MODELGATE_UPLOAD_STATE_DIR": str(state_dir),
    }
    args = [
        sys.executable,
        "-m",
        "modelgate",
        "submit",
        str(model),
        "--name",
        "resumed",
        "--version",
        "1.0.0",
        "--card",
        str(card_file),
        "--json",
        "--quiet",
    ]
    # stderr to a file: a pipe nobody reads could fill up and stall the CLI.
    stderr = tmp_path / "first.stderr"
    first = subprocess.Popen(  # noqa: ASYNC220 (it is polled below, never waited on blocking)
        args, env=env, stdout=subprocess.DEVNULL, stderr=stderr.open("wb")
    )
    deadline = time.monotonic() + 300
    while True:
        sent, total = _sent(state_dir)
        if total and sent >= total // 2:
            break
        assert first.poll() is None, f"the CLI ended before half: {stderr.read_text()[-2000:]}"
        assert time.monotonic() < deadline, "the upload never reached half"
        await asyncio.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait()
    killed_at = _sent(state_dir)[0] / total

    done = await asyncio.to_thread(
        subprocess.run,
        [*args, "--wait"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    upload = result["upload"]
    resent = upload["bytes_sent"] / upload["bytes_total"]
    print(
        f"resume: killed at {killed_at:.0%} of {total / MiB:.0f} MiB; the rerun sent "
        f"{upload['bytes_sent'] / MiB:.0f} MiB ({resent:.1%}), found "
        f"{upload['bytes_skipped'] / MiB:.0f} MiB already in S3"
    )
    assert resent < 0.6
    assert upload["bytes_skipped"] > 0.4 * upload["bytes_total"]
    assert result["status"] in ("pending_review", "registered"), result
    assert not list(state_dir.glob("*.json")), "the state file outlived the upload"
