"""`audit entries`, `audit export` and `audit verify`: the tamper-evident log."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from modelgate import operations
from modelgate.audit_chain import ChainReport, load_public_key, verify_chain
from modelgate.audit_export import AuditExport
from modelgate.cli.context import json_option, state
from modelgate.cli.exit_codes import Exit
from modelgate.cli.output import emit_json, err, fields, table


@click.group()
def audit() -> None:
    """The audit log: query it, export it, verify it."""


@audit.command(
    "entries",
    epilog="""\b
Examples:
  modelgate audit entries --model my-model
  modelgate audit entries --actor ai-admin --action stage_changed --json
""",
)
@click.option("--model")
@click.option("--version", "version")
@click.option("--actor")
@click.option("--action", help="e.g. model_submitted, model_registered, stage_changed.")
@click.option("--since", help="ISO time, inclusive.")
@click.option("--until", help="ISO time, exclusive.")
@click.option("--limit", default=100, show_default=True)
@json_option
def entries(
    model: str | None,
    version: str | None,
    actor: str | None,
    action: str | None,
    since: str | None,
    until: str | None,
    limit: int,
) -> None:
    """Audit entries in chain order (admins)."""
    current = state()
    page = current.client().audit_entries(
        model=model,
        version=version,
        actor=actor,
        action=action,
        since=since,
        until=until,
        limit=limit,
    )
    if current.json:
        emit_json(page)
        return
    table(
        "audit",
        ["seq", "time", "action", "model", "version", "actor", "from", "to", "reason"],
        [
            (
                e.seq,
                e.event_time,
                e.action,
                e.model,
                e.version,
                e.actor,
                e.from_stage,
                e.to_stage,
                e.reason,
            )
            for e in page.items
        ],
    )


@audit.command(
    "export",
    epilog="""\b
Examples:
  modelgate audit export audit-2026-12-03.jsonl
  modelgate audit verify --offline --export audit-2026-12-03.jsonl --public-key audit.pem
""",
)
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@json_option
def export(path: Path) -> None:
    """Save the whole chain, its signed checkpoints and public key (JSON Lines; admins)."""
    current = state()
    exported = current.client().export_audit()
    exported.write(path)
    summary = {
        "path": str(path),
        "entries": len(exported.entries),
        "checkpoints": len(exported.checkpoints),
    }
    if current.json:
        emit_json(summary)
    else:
        err.print(f"{summary['entries']} entries, {summary['checkpoints']} checkpoints -> {path}")


@audit.command(
    "verify",
    epilog="""\b
Examples:
  modelgate audit verify                       # the audit service checks its own chain
  modelgate audit verify --offline             # fetch the chain, check it here
  modelgate audit verify --offline --export audit.jsonl --public-key audit.pem
""",
)
@click.option(
    "--offline",
    is_flag=True,
    help="Check the chain and signed checkpoints here instead of asking the service.",
)
@click.option(
    "--export",
    "export_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="With --offline: a saved export (no network needed).",
)
@click.option(
    "--public-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="With --offline: the Ed25519 public key (PEM) to trust; by default the one "
    "in the export, or the one the service publishes.",
)
@click.option(
    "--from",
    "start",
    type=click.Choice(["genesis", "checkpoint"]),
    default="genesis",
    show_default=True,
    help="Without --offline: where the service starts walking.",
)
@json_option
def verify(offline: bool, export_path: Path | None, public_key: Path | None, start: str) -> None:
    """Verify the hash chain and its signed checkpoints; exit 10 when they do not hold."""
    current = state()
    if not offline:
        server = current.client().server_verify_audit(start)
        _report(server.ok, server, where="audit service")
        return
    exported = AuditExport.read(export_path) if export_path else current.client().export_audit()
    if public_key is not None:
        pem = public_key.read_text()
    elif exported.public_key:
        pem = exported.public_key
    else:
        pem = current.client().run(operations.public_key())
    report = verify_chain(exported.entries, exported.checkpoints, load_public_key(pem))
    _report(report.ok, report, where="offline")


def _report(ok: bool, report: object, *, where: str) -> None:
    if state().json:
        emit_json(report)
    else:
        pairs = [
            (k, getattr(report, k))
            for k in (
                "ok",
                "entries_checked",
                "head_seq",
                "head_hash",
                "checkpoints_checked",
                "checkpoints_unverifiable",
                "first_bad_seq",
                "reason",
                "key_id",
            )
            if hasattr(report, k)
        ]
        fields(f"audit chain ({where})", pairs)
        if isinstance(report, ChainReport) and report.checkpoints_checked == 0:
            err.print("[yellow]warning:[/] no signed checkpoint matched an entry")
    if not ok:
        sys.exit(Exit.VERIFICATION)
