"""`modelgate-stack up|down|status` (what `make up`, `make down` and `make status` call)."""

from __future__ import annotations

import sys
import time

import click

from modelgate_stack.demo import NAME as DEMO_NAME
from modelgate_stack.demo import VERSION as DEMO_VERSION
from modelgate_stack.demo import submit_demo
from modelgate_stack.errors import StackError
from modelgate_stack.stack import Stack


@click.group()
def cli() -> None:
    """Run Modelgate's local stack: Kafka, PostgreSQL and MinIO as plain processes."""


@cli.command()
@click.option("--infra-only", is_flag=True, help="Start Kafka, PostgreSQL and MinIO only.")
@click.option("--no-demo", is_flag=True, help="Do not submit the demo model.")
def up(infra_only: bool, no_demo: bool) -> None:
    """Install what is missing and start what is not running (idempotent)."""
    began = time.monotonic()
    stack = Stack()
    click.echo("modelgate stack:")
    started = stack.up(services=not infra_only)
    click.echo(
        f"started {', '.join(started) or 'nothing (all running)'} "
        f"in {time.monotonic() - began:.1f}s; endpoints in {stack.config.env_file}"
    )
    if not infra_only and not no_demo:
        endpoints = stack.endpoints()
        # Known already after the first run: an answer at once. Else the gate's whole path.
        click.echo(
            f"  [{time.monotonic() - began:6.1f}s] demo model: submitting it through the gate "
            "(first run: up to 90 s)"
        )
        outcome = submit_demo(endpoints)
        click.echo(
            f"demo model {DEMO_NAME} {DEMO_VERSION}: {outcome} "
            f"(web catalog: {endpoints['REGISTRY_URL']}/)"
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
