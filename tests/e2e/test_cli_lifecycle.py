"""The `modelgate` command as a subprocess, through a model's life on the real stack, and the
audit log verified by the service and offline (and a tampered export refused)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from modelgate_testkit.models import malicious_pickle
from modelgate_testkit.namespace import Namespace
from modelgate_testkit.review import manual_review
from tests.support.client_env import (
    card,
    cli_env,
    cli_process,
    model_directory,
    run_cli,
    same_tree,
)
from tests.support.gate import Gate

pytestmark = pytest.mark.e2e
NAME = "cli-life"


class Cli:
    def __init__(self, gate: Gate, ns: Namespace, tmp: Path) -> None:
        self.gate, self.ns, self.config = gate, ns, tmp / "config" / "config.toml"

    async def __call__(
        self, *args: str, role: str = "data-scientist", stdin: str | None = None, code: int = 0
    ) -> subprocess.CompletedProcess[str]:
        """Run `modelgate ARGS` as `role` (in a thread: the session's event loop, and the
        Kafka tap on it, keep running meanwhile)."""
        env = {**os.environ, **cli_env(self.gate, self.ns, role, self.config)}
        return await asyncio.to_thread(run_cli, env, *args, stdin=stdin, code=code)

    async def json(self, *args: str, role: str = "data-scientist", code: int = 0) -> Any:
        return json.loads((await self(*args, "--json", role=role, code=code)).stdout)


def _card_file(directory: Path) -> Path:
    """The card as JSON (YAML's subset): the CLI reads either."""
    path = directory / "card.json"
    path.write_text(json.dumps(card()))
    return path


@pytest.fixture
def cli(gate: Gate, namespace: Namespace, tmp_path: Path) -> Cli:
    return Cli(gate, namespace, tmp_path)


async def test_a_model_lives_its_whole_life_through_the_cli(cli: Cli, tmp_path: Path) -> None:
    card_file = tmp_path / "card.yaml"
    card_file.write_text(yaml.safe_dump(card()))
    first = model_directory(tmp_path / "v1", seed=11)
    second = model_directory(tmp_path / "v2", seed=12)

    with manual_review(cli.ns.review_policy):
        waiting = await cli.json(
            "submit",
            str(first),
            "--name",
            NAME,
            "--version",
            "1.0.0",
            "--card",
            str(card_file),
            "--source",
            "hf://org/cli-life@main",
            "--wait",
        )
    # --wait returns once the gate passed it; an admin (not the submitter) decides the rest.
    assert waiting["status"] == "pending_review"
    queue = await cli.json("review", "ls", role="admin")
    assert [(i["model_name"], i["version"]) for i in queue["items"]].count((NAME, "1.0.0")) == 1
    await cli("review", "approve", NAME, "1.0.0", "--reason", "mine", code=4)
    approved = await cli.json(
        "review", "approve", NAME, "1.0.0", "--reason", "card reviewed", role="admin"
    )
    assert approved["status"] == "REGISTERED"
    assert approved["review"]["by"] == "ai-admin"
    registered = await cli.json("status", waiting["submission_id"], "--follow", "--through-review")
    assert registered["status"] == "registered"
    submitted = await cli.json(
        "submit", str(second), "--name", NAME, "--version", "1.1.0", "--card", str(card_file)
    )
    followed = await cli.json("status", submitted["submission_id"], "--follow")
    assert followed["status"] == "registered"

    # Four-eyes: the submitter's role is refused (exit 4); another admin promotes.
    await cli("promote", NAME, "1.0.0", "--reason", "mine", code=4)
    assert (await cli.json("promote", NAME, "1.0.0", "--reason", "go", role="admin"))["stage"] == (
        "production"
    )
    await cli("promote", NAME, "1.1.0", "--reason", "better", role="admin")
    assert (await cli.json("alias", "set", NAME, "champion", "1.1.0", role="admin"))[
        "version"
    ] == "1.1.0"
    assert (await cli.json("show", NAME, "--alias", "champion", role="developer"))[
        "version"
    ] == "1.1.0"

    back = await cli.json("rollback", NAME, "--reason", "latency", role="admin")
    assert (back["version"], back["stage"]) == ("1.0.0", "production")
    assert (await cli.json("show", NAME, "--alias", "production", role="developer"))[
        "version"
    ] == "1.0.0"

    dest = tmp_path / "weights"
    got = await cli.json(
        "download", NAME, "--alias", "production", "--dest", str(dest), role="developer"
    )
    assert got["version"] == "1.0.0"
    assert same_tree(first, dest)

    await cli("deploy", "record", NAME, "1.0.0", "--env", "prod-eu", role="developer")
    await cli("alias", "rm", NAME, "champion", role="admin")
    assert (await cli.json("archive", NAME, "1.1.0", "--reason", "superseded", role="admin"))[
        "status"
    ] == "ARCHIVED"
    listed = await cli.json("versions", "ls", NAME, role="developer")
    assert [v["version"] for v in listed["items"]] == ["1.0.0"]
    assert NAME in (await cli("models", "ls", role="developer")).stdout  # the table people read
    await cli("show", NAME, "9.9.9", role="developer", code=5)


async def test_a_rejected_submission_exits_8_with_the_failed_checks(
    cli: Cli, tmp_path: Path
) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "pytorch_model.bin").write_bytes(malicious_pickle(f"touch {tmp_path}/pwned"))
    done = await cli(
        "submit",
        str(bad),
        "--name",
        "cli-bad",
        "--version",
        "1.0.0",
        "--card",
        str(_card_file(tmp_path)),
        "--wait",
        code=8,
    )
    assert "format-safety" in done.stderr


async def test_login_stores_a_private_profile_that_later_commands_use(
    cli: Cli, namespace: Namespace
) -> None:
    await cli("login", "--token-stdin", stdin=namespace.tokens["developer"] + "\n")
    assert oct(cli.config.stat().st_mode & 0o777) == "0o600"
    assert namespace.tokens["developer"] in cli.config.read_text()
    await cli("--token", "wrong", "models", "ls", code=4)
    # A second, named profile, chosen later by name.
    await cli("--profile", "dev", "login", "--token-stdin", stdin=namespace.tokens["viewer"])
    assert '[profiles."dev"]' in cli.config.read_text()
    await cli("--profile", "dev", "models", "ls", role="viewer")


async def test_the_audit_log_verifies_online_and_offline_and_a_tampered_export_fails(
    cli: Cli, tmp_path: Path
) -> None:
    # Something to audit, and a signed checkpoint (every second in tests) that covers it.
    model = model_directory(tmp_path / "audited", seed=13)
    await cli(
        "submit",
        str(model),
        "--name",
        "cli-audited",
        "--version",
        "1.0.0",
        "--card",
        str(_card_file(tmp_path)),
        "--wait",
    )
    deadline = time.monotonic() + 60
    while True:
        report = await cli.json("audit", "verify", "--offline", role="admin")
        if (report["ok"] and report["checkpoints_checked"] > 0) or time.monotonic() > deadline:
            break
        await asyncio.sleep(1)
    assert report["ok"], report
    assert report["checkpoints_checked"] > 0, report
    online = await cli.json("audit", "verify", role="viewer")
    assert online["ok"]
    assert online["head_seq"] >= report["head_seq"]

    export = tmp_path / "audit.jsonl"
    await cli("audit", "export", str(export), role="admin")
    key = tmp_path / "audit.pem"
    key.write_text(json.loads(export.read_text().splitlines()[0])["public_key"])
    ok = await cli.json(
        "audit", "verify", "--offline", "--export", str(export), "--public-key", str(key)
    )
    assert ok["ok"], ok
    assert ok["entries_checked"] >= 1

    lines = export.read_text().splitlines()
    entry = json.loads(lines[1])
    document = json.loads(base64.b64decode(entry["canonical"]))
    document["topic"] = "model.forged"
    entry["canonical"] = base64.b64encode(json.dumps(document).encode()).decode()
    lines[1] = json.dumps(entry)
    export.write_text("\n".join(lines) + "\n")
    bad = await cli.json("audit", "verify", "--offline", "--export", str(export), code=10)
    assert (bad["ok"], bad["first_bad_seq"]) == (False, 1)


async def test_events_tail_prints_each_registration_as_it_happens(
    cli: Cli, gate: Gate, namespace: Namespace, tmp_path: Path
) -> None:
    model = model_directory(tmp_path / "evented", seed=14)
    await cli(
        "submit",
        str(model),
        "--name",
        "cli-evented",
        "--version",
        "1.0.0",
        "--card",
        str(_card_file(tmp_path)),
        "--wait",
    )
    env = {
        **os.environ,
        **namespace.env(),  # Kafka's address and security protocol
        # A consumer group of its own: the admin principal here (a user's would be granted one)
        **namespace.kafka_admin_env(),
        **cli_env(gate, namespace, "viewer", cli.config),
        "MODELGATE_TOPIC_PREFIX": namespace.topic_prefix,
    }
    async with cli_process(env, "events", "tail", "--from-beginning", "--json") as tail:
        assert tail.stdout is not None
        async with asyncio.timeout(90):
            while True:
                line = await tail.stdout.readline()
                assert line, f"events tail ended: {(await tail.communicate())[1].decode()}"
                event = json.loads(line)
                if event["data"]["name"] == "cli-evented":
                    break
    assert event["topic"] == "model.registered"
    assert event["type"] == "io.modelgate.model.registered.v1"
    assert event["data"]["version"] == "1.0.0"
