"""`keys create|ls|revoke`: API keys for machines (CI jobs, callbacks), for admins."""

from __future__ import annotations

import click

from modelgate.cli.context import json_option, state
from modelgate.cli.output import emit_json, err, out, table

ROLES = ("admin", "data-scientist", "developer", "viewer")


@click.group()
def keys() -> None:
    """API keys: bearer tokens for machines, with an owner, roles and an expiry (admins).
    People sign in with the identity provider instead."""


@keys.command(
    "create",
    epilog="""\b
Examples:
  modelgate keys create --name "nightly CI" --owner ci-bot --role data-scientist
  modelgate keys create --name deploy-bot --owner deploy-bot --role developer --days 30
  KEY=$(modelgate keys create --name ci --owner ci-bot --role data-scientist --json | jq -r .key)
""",
)
@click.option("--name", required=True, help="What the key is for (shown in listings).")
@click.option("--owner", required=True, help="Who acts with it: audit entries name this.")
@click.option(
    "--role",
    "roles",
    required=True,
    multiple=True,
    type=click.Choice(ROLES),
    help="A role the key holds (repeat for several).",
)
@click.option("--days", default=90, show_default=True, help="Days until it expires (1-366).")
@json_option
def keys_create(name: str, owner: str, roles: tuple[str, ...], days: int) -> None:
    """Create a key and print it once: it is stored hashed and cannot be shown again."""
    current = state()
    created = current.client().create_api_key(
        name, owner=owner, roles=list(roles), expires_in_days=days
    )
    if current.json:
        emit_json(created)
        return
    err.print(
        f"API key {created.id} for {created.owner} ({', '.join(created.roles)}), "
        f"expires {created.expires_at:%Y-%m-%d %H:%M} UTC. Store it now; it is not shown again:"
    )
    out.print(created.key, highlight=False, soft_wrap=True)


@keys.command(
    "ls",
    epilog="""\b
Examples:
  modelgate keys ls
  modelgate keys ls --owner ci-bot --all
  modelgate keys ls --json | jq '.[] | select(.state == "active") | .id'
""",
)
@click.option("--owner", help="Only this owner's keys.")
@click.option("--all", "include_revoked", is_flag=True, help="Revoked keys too.")
@click.option("--limit", default=200, show_default=True)
@json_option
def keys_ls(owner: str | None, include_revoked: bool, limit: int) -> None:
    """Keys, newest first (never the keys themselves)."""
    current = state()
    found = current.client().api_keys(owner=owner, include_revoked=include_revoked, limit=limit)
    if current.json:
        emit_json(found)
        return
    table(
        "API keys",
        ["id", "name", "owner", "roles", "state", "expires", "created by"],
        [(k.id, k.name, k.owner, k.roles, k.state, k.expires_at, k.created_by) for k in found],
    )


@keys.command(
    "revoke",
    epilog="""\b
Examples:
  modelgate keys revoke 6f1c0d9e-3c1a-4d7e-9b1e-2f0a8c4b5d6e --reason "runner decommissioned"
""",
)
@click.argument("key_id")
@click.option("--reason", required=True, help="Why (kept with the key).")
@json_option
def keys_revoke(key_id: str, reason: str) -> None:
    """Revoke KEY_ID: every service refuses it from the next request on."""
    current = state()
    revoked = current.client().revoke_api_key(key_id, reason=reason)
    if current.json:
        emit_json(revoked)
        return
    err.print(f"API key {revoked.id} ({revoked.owner}) revoked at {revoked.revoked_at}")
