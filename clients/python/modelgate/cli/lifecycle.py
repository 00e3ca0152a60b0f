"""`promote`, `rollback`, `alias`, `archive`, `restore` and `deploy`: a version's life."""

from __future__ import annotations

import click

from modelgate.cli.context import json_option, state
from modelgate.cli.output import emit_json, err, table
from modelgate.models import Model, Version


def _done(result: Version | Model, message: str) -> None:
    if state().json:
        emit_json(result)
    else:
        err.print(message)


@click.command(
    epilog="""\b
Examples:
  modelgate promote my-model 1.2.0 --reason "beats 1.1.0 on eval-7"
  modelgate promote my-model 1.2.0 --to staging --reason "ready for QA"
"""
)
@click.argument("name")
@click.argument("version")
@click.option(
    "--to",
    "to_stage",
    default="production",
    show_default=True,
    type=click.Choice(["staging", "canary", "production", "development", "deprecated"]),
)
@click.option("--reason", required=True, help="Why (kept in the history and audit log).")
@json_option
def promote(name: str, version: str, to_stage: str, reason: str) -> None:
    """Move a version to a stage, through the stages between (development → staging →
    production). Production needs an admin who did not submit the version (four-eyes)."""
    moved = state().client().promote(name, version, reason=reason, to_stage=to_stage)
    _done(moved, f"{name} {version} is now in {moved.stage}")


@click.command(
    epilog="""\b
Examples:
  modelgate rollback my-model --reason "1.2.0 regresses latency"
"""
)
@click.argument("name")
@click.option("--reason", required=True)
@json_option
def rollback(name: str, reason: str) -> None:
    """Put the previous production version back in production (the current one becomes
    deprecated and the production alias follows)."""
    back = state().client().rollback(name, reason=reason)
    _done(back, f"{name}: production is {back.version} again")


@click.group()
def alias() -> None:
    """Aliases (champion, any name) that point at a version. `production` follows promotions."""


@alias.command(
    "set",
    epilog="""\b
Examples:
  modelgate alias set my-model champion 1.2.0 --reason "A/B winner"
""",
)
@click.argument("name")
@click.argument("alias_name", metavar="ALIAS")
@click.argument("version")
@click.option("--reason", default="")
@json_option
def alias_set(name: str, alias_name: str, version: str, reason: str) -> None:
    """Point ALIAS at VERSION (moved atomically if it pointed elsewhere)."""
    target = state().client().set_alias(name, alias_name, version, reason=reason)
    _done(target, f"{name}@{alias_name} -> {target.version}")


@alias.command(
    "rm",
    epilog="""\b
Examples:
  modelgate alias rm my-model champion --reason "experiment over"
""",
)
@click.argument("name")
@click.argument("alias_name", metavar="ALIAS")
@click.option("--reason", default="")
@json_option
def alias_rm(name: str, alias_name: str, reason: str) -> None:
    """Remove an alias."""
    current = state()
    current.client().delete_alias(name, alias_name, reason=reason)
    if current.json:
        emit_json({"model": name, "alias": alias_name, "removed": True})
    else:
        err.print(f"{name}@{alias_name} removed")


@click.command(
    epilog="""\b
Examples:
  modelgate archive my-model 1.0.0 --reason "superseded, kept for compliance"
  modelgate archive my-model --reason "model retired"          # the whole model
"""
)
@click.argument("name")
@click.argument("version", required=False)
@click.option("--reason", required=True)
@json_option
def archive(name: str, version: str | None, reason: str) -> None:
    """Archive a version (or a whole model): hidden from the catalog, never erased."""
    result = state().client().archive(name, version, reason=reason)
    _done(result, f"{name} {version or ''} archived".replace("  ", " "))


@click.command(
    epilog="""\b
Examples:
  modelgate restore my-model 1.0.0 --reason "audit asked for it back"
"""
)
@click.argument("name")
@click.argument("version", required=False)
@click.option("--reason", required=True)
@json_option
def restore(name: str, version: str | None, reason: str) -> None:
    """Bring an archived version (or model) back."""
    result = state().client().restore(name, version, reason=reason)
    _done(result, f"{name} {version or ''} restored".replace("  ", " "))


@click.group()
def deploy() -> None:
    """Deployment records: which version runs where."""


@deploy.command(
    "record",
    epilog="""\b
Examples:
  modelgate deploy record my-model 1.2.0 --env prod-eu --note "rollout 42"
""",
)
@click.argument("name")
@click.argument("version")
@click.option("--env", "environment", required=True, help="Environment name.")
@click.option("--note", default="")
@json_option
def deploy_record(name: str, version: str, environment: str, note: str) -> None:
    """Record that VERSION was deployed to an environment (who and when are recorded)."""
    current = state()
    record = current.client().record_deployment(name, version, environment, note=note)
    if current.json:
        emit_json(record)
    else:
        err.print(f"{name} {version} recorded in {environment}")


@deploy.command("ls")
@click.argument("name")
@json_option
def deploy_ls(name: str) -> None:
    """Every deployment record of a model."""
    current = state()
    records = current.client().deployments(name)
    if current.json:
        emit_json(records)
        return
    table(
        "deployments",
        ["environment", "version", "by", "at", "note"],
        [(d.environment, d.version, d.actor, d.deployed_at, d.note) for d in records],
    )
