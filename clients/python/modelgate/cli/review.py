"""`review ls|approve|reject`: the human gatekeeper's queue and decisions (admins)."""

from __future__ import annotations

import click

from modelgate.cli.context import json_option, state
from modelgate.cli.output import emit_json, err, table
from modelgate.models import ReviewItem


@click.group()
def review() -> None:
    """Versions that passed validation and wait for an approver (admins; never your own)."""


def _checks(item: ReviewItem) -> str:
    checks = (item.validation or {}).get("checks", [])
    passed = sum(1 for c in checks if c.get("status") == "passed")
    return f"{passed}/{len(checks)} passed"


@review.command(
    "ls",
    epilog="""\b
Examples:
  modelgate review ls
  modelgate review ls --json | jq '.items[] | {model_name, version, previous_version}'
""",
)
@click.option("--limit", default=50, show_default=True)
@json_option
def review_ls(limit: int) -> None:
    """The review queue, the longest-waiting first."""
    current = state()
    page = current.client().review_queue(limit=limit)
    if current.json:
        emit_json(page)
        return
    table(
        "waiting for review",
        ["model", "version", "submitter", "checks", "compare with", "waiting since"],
        [
            (
                i.model_name,
                i.version,
                i.submitter,
                _checks(i),
                i.previous_version or "-",
                i.waiting_since,
            )
            for i in page.items
        ],
    )


def _decide(name: str, version: str, decision: str, reason: str) -> None:
    client = state().client()
    decided = (client.approve if decision == "approve" else client.reject)(
        name, version, reason=reason
    )
    if state().json:
        emit_json(decided)
    elif decision == "approve":
        err.print(f"{name} {version} approved: {decided.status}, stage {decided.stage}")
    else:
        err.print(f"{name} {version} rejected: {decided.status_reason}")


@review.command(
    "approve",
    epilog="""\b
Examples:
  modelgate review approve my-model 1.2.0 --reason "card and eval reviewed"
""",
)
@click.argument("name")
@click.argument("version")
@click.option("--reason", required=True, help="Why (kept in the history and audit log).")
@json_option
def review_approve(name: str, version: str, reason: str) -> None:
    """Let VERSION into the catalog: developers see it from now on."""
    _decide(name, version, "approve", reason)


@review.command(
    "reject",
    epilog="""\b
Examples:
  modelgate review reject my-model 1.2.0 --reason "licence does not allow serving"
""",
)
@click.argument("name")
@click.argument("version")
@click.option("--reason", required=True, help="Why (shown to the submitter; final).")
@json_option
def review_reject(name: str, version: str, reason: str) -> None:
    """Refuse VERSION for good (the version number cannot be submitted again)."""
    _decide(name, version, "reject", reason)
