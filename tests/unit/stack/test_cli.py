"""`modelgate-stack`: every command has examples in its --help and a --json for scripts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from modelgate_stack.cli import cli


@pytest.mark.parametrize("command", ["up", "down", "status"])
def test_every_command_shows_examples_and_offers_json(command: str) -> None:
    shown = CliRunner().invoke(cli, [command, "--help"])
    assert shown.exit_code == 0, shown.output
    assert "--json" in shown.output
    assert f"modelgate-stack {command}" in shown.output.split("Examples")[1]


def test_status_json_lists_each_component_with_where_and_pid(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A state directory of its own: nothing runs there, and the real stack is left alone.
    monkeypatch.setenv("MODELGATE_STATE_DIR", str(tmp_path))
    shown = CliRunner().invoke(cli, ["status", "--json"])
    assert shown.exit_code == 0, shown.output
    components = json.loads(shown.output)["components"]
    names = {c["name"] for c in components}
    assert {"postgres", "kafka", "minio", "registry", "ingest", "audit", "validator"} <= names
    assert all(c["running"] is False and c["pid"] is None and c["where"] for c in components)
