"""`modelgate-stack up|down|status` (what `make up`, `make down` and `make status` call)."""

from __future__ import annotations

import sys
import time

import click

from modelgate_stack.errors import StackError
from modelgate_stack.stack import Stack


@click.group()
def cli() -> None:
    """Run Modelgate's local stack: Kafka, PostgreSQL and MinIO as plain processes."""


@cli.command()
@click.option("--infra-only", is_flag=True, help="Start Kafka, PostgreSQL and MinIO only.")
def up(infra_only: bool) -> None:
    """Install what is missing and start what is not running (idempotent)."""
    began = time.monotonic()
    stack = Stack()
    click.echo("modelgate stack:")
    started = stack.up(services=not infra_only)
    click.echo(
        f"started {', '.join(started) or 'nothing (all running)'} "
        f"in {time.monotonic() - began:.1f}s; endpoints in {stack.config.env_file}"
    )


@cli.command()
def down() -> None:
    """Stop exactly the processes `up` started."""
    stopped = Stack().down()
    click.echo(f"stopped {', '.join(stopped) or 'nothing (none running)'}")


@cli.command()
def status() -> None:
    """Say what runs and where."""
    for line in Stack().status():
        state = f"running (pid {line.pid})" if line.running else "stopped"
        click.echo(f"{line.name:<10} {state:<22} {line.where}")


def main() -> None:
    try:
        cli()
    except StackError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
