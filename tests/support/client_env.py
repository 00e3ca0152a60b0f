"""The SDK and CLI pointed at this run's gate: endpoints, tokens, and a model directory."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from modelgate import Client, Settings
from modelgate_testkit.factories import GOOD_CARD
from modelgate_testkit.models import tiny_safetensors
from modelgate_testkit.namespace import Namespace
from tests.support.gate import Gate


def endpoints(gate: Gate) -> dict[str, str]:
    return {
        "url": gate["registry"].url,
        "ingest_url": gate["ingest"].url,
        "audit_url": gate["audit"].url,
    }


def settings(gate: Gate, ns: Namespace, role: str) -> Settings:
    urls = endpoints(gate)
    return Settings(
        url=urls["url"],
        ingest_url=urls["ingest_url"],
        audit_url=urls["audit_url"],
        token=ns.tokens[role],
        timeout_s=60,
    )


def client(gate: Gate, ns: Namespace, role: str) -> Client:
    return Client(settings=settings(gate, ns, role))


def cli_env(gate: Gate, ns: Namespace, role: str, config: Path) -> dict[str, str]:
    """Environment of a `modelgate` process: the run's endpoints and the role's token, and
    a config file of its own (never the user's)."""
    urls = endpoints(gate)
    return {
        "MODELGATE_URL": urls["url"],
        "MODELGATE_INGEST_URL": urls["ingest_url"],
        "MODELGATE_AUDIT_URL": urls["audit_url"],
        "MODELGATE_TOKEN": ns.tokens[role],
        "MODELGATE_CONFIG": str(config),
        "COLUMNS": "200",
    }


MODELGATE = (sys.executable, "-m", "modelgate")


def run_cli(
    env: Mapping[str, str],
    *args: str,
    stdin: str | None = None,
    code: int = 0,
    timeout_s: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run `modelgate ARGS` with `env` (see `cli_env`); it must exit with `code`. Blocking:
    async tests run it in a thread, so the session's event loop keeps running meanwhile."""
    done = subprocess.run(
        [*MODELGATE, *args],
        env=dict(env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    assert done.returncode == code, (
        f"modelgate {' '.join(args)} exited {done.returncode}, wanted {code}\n"
        f"stdout: {done.stdout}\nstderr: {done.stderr}"
    )
    return done


@asynccontextmanager
async def cli_process(
    env: Mapping[str, str], *args: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    """`modelgate ARGS` running while the test reads its piped output; killed if it still
    runs when the test leaves (a failed test leaves no CLI waiting behind)."""
    process = await asyncio.create_subprocess_exec(
        *MODELGATE,
        *args,
        env=dict(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def model_directory(root: Path, seed: int) -> Path:
    """A small Hugging Face style directory: weights, config, and a nested tokenizer file."""
    (root / "tokenizer").mkdir(parents=True, exist_ok=True)
    (root / "model.safetensors").write_bytes(tiny_safetensors(seed))
    (root / "config.json").write_text(json.dumps({"layers": 1, "seed": seed}))
    (root / "tokenizer" / "vocab.json").write_text(json.dumps({"a": 0, "b": 1}))
    return root


def card() -> dict[str, object]:
    return GOOD_CARD.model_dump(exclude_none=True)


def same_tree(a: Path, b: Path) -> bool:
    def files(root: Path) -> dict[str, bytes]:
        return {
            p.relative_to(root).as_posix(): p.read_bytes()
            for p in root.rglob("*")
            # The gate's signature comes with every download (docs/signing.md).
            if p.is_file() and p.name != "modelgate.sig"
        }

    return files(a) == files(b)
