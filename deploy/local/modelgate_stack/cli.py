"""`modelgate-stack up|down|status` (what `make up`, `make down` and `make status` call)."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from typing import Any

import click

from modelgate_stack.demo import NAME as DEMO_NAME
from modelgate_stack.demo import VERSION as DEMO_VERSION
from modelgate_stack.demo import submit_demo
from modelgate_stack.errors import StackError
from modelgate_stack.stack import Stack, StatusLine

JSON_HELP = "Print one JSON document on stdout for scripts (progress goes to stderr)."


def _examples(*lines: str) -> str:
    # "\b" keeps click from rewrapping the example lines into one paragraph.
    return "Examples:\n\n\b\n" + "\n".join(f"  {line}" for line in lines)


def _components(lines: list[StatusLine]) -> list[dict[str, Any]]:
    return [
        {"name": line.name, "running": line.running, "pid": line.pid, "where": line.where}
        for line in lines
    ]


def _print_json(payload: dict[str, Any]) -> None:
    click.echo(json.dumps(payload, indent=2))


@click.group()
def cli() -> None:
    """Run Modelgate's local stack (Kafka, PostgreSQL, MinIO, Jaeger, Keycloak and the four
    services) as plain processes."""


@cli.command(
    epilog=_examples(
        "modelgate-stack up                 # everything, then the demo model",
        "modelgate-stack up --infra-only    # Kafka, PostgreSQL, MinIO, Jaeger, Keycloak",
        "modelgate-stack up --json | jq .started",
    )
)
@click.option(
    "--infra-only",
    is_flag=True,
    help="Start the infrastructure only (Kafka, PostgreSQL, MinIO, Jaeger, Keycloak).",
)
@click.option("--no-demo", is_flag=True, help="Do not submit the demo model.")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def up(infra_only: bool, no_demo: bool, as_json: bool) -> None:
    """Install what is missing and start what is not running (idempotent)."""
    # With --json, stdout carries the one document: the progress lines go to stderr.
    with contextlib.redirect_stdout(sys.stderr) if as_json else contextlib.nullcontext():
        began = time.monotonic()
        stack = Stack()
        click.echo("modelgate stack:")
        started = stack.up(services=not infra_only)
        click.echo(
            f"started {', '.join(started) or 'nothing (all running)'} "
            f"in {time.monotonic() - began:.1f}s; endpoints in {stack.config.env_file}"
        )
        demo: str | None = None
        if not infra_only and not no_demo:
            endpoints = stack.endpoints()
            # Known already after the first run: an answer at once. Else the gate's whole path.
            click.echo(
                f"  [{time.monotonic() - began:6.1f}s] demo model: submitting it through the "
                "gate (first run: up to 90 s)"
            )
            demo = submit_demo(endpoints)
            click.echo(
                f"demo model {DEMO_NAME} {DEMO_VERSION}: {demo} "
                f"(web catalog: {endpoints['REGISTRY_URL']}/)"
            )
    if as_json:
        _print_json(
            {
                "started": started,
                "elapsed_s": round(time.monotonic() - began, 1),
                "env_file": str(stack.config.env_file),
                "components": _components(stack.status()),
                "demo": None
                if demo is None
                else {"name": DEMO_NAME, "version": DEMO_VERSION, "outcome": demo},
            }
        )


@cli.command(epilog=_examples("modelgate-stack down", "modelgate-stack down --json"))
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def down(as_json: bool) -> None:
    """Stop exactly the processes `up` started."""
    stopped = Stack().down()
    if as_json:
        _print_json({"stopped": stopped})
        return
    click.echo(f"stopped {', '.join(stopped) or 'nothing (none running)'}")


@cli.command(
    epilog=_examples(
        "modelgate-stack status",
        "modelgate-stack status --json | jq -r '.components[] | select(.running | not) | .name'",
    )
)
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def status(as_json: bool) -> None:
    """Say what runs and where."""
    lines = Stack().status()
    if as_json:
        _print_json({"components": _components(lines)})
        return
    for line in lines:
        state = f"running (pid {line.pid})" if line.running else "stopped"
        click.echo(f"{line.name:<10} {state:<22} {line.where}")


def main() -> None:
    try:
        cli()
    except StackError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
