"""`models ls`, `versions ls` and `show`: reading the catalog."""

from __future__ import annotations

import click

from modelgate.cli.context import json_option, state
from modelgate.cli.output import emit_json, fields, table
from modelgate.models import Version


@click.group()
def models() -> None:
    """Registered models."""


@models.command(
    "ls",
    epilog="""\b
Examples:
  modelgate models ls
  modelgate models ls --prefix granite --label task=text-generation --json
""",
)
@click.option("--prefix", "name_prefix", help="Names starting with this.")
@click.option("--label", "labels", multiple=True, metavar="KEY=VALUE", help="Repeatable.")
@click.option("--owner")
@click.option("--include-archived", is_flag=True, help="Archived models too (admins).")
@click.option("--limit", default=50, show_default=True)
@json_option
def models_ls(
    name_prefix: str | None,
    labels: tuple[str, ...],
    owner: str | None,
    include_archived: bool,
    limit: int,
) -> None:
    """List models."""
    current = state()
    page = current.client().search_models(
        name_prefix=name_prefix,
        label=[lbl.replace("=", ":", 1) for lbl in labels] or None,
        owner=owner,
        include_archived=include_archived or None,
        limit=limit,
    )
    if current.json:
        emit_json(page)
        return
    table(
        "models",
        ["name", "owner", "license", "state", "labels", "updated"],
        [(m.name, m.owner, m.license, m.state, m.labels, m.updated_at) for m in page.items],
    )


@click.group()
def versions() -> None:
    """Versions of models."""


@versions.command(
    "ls",
    epilog="""\b
Examples:
  modelgate versions ls my-model
  modelgate versions ls my-model --status REJECTED --status REGISTERED
  modelgate versions ls --stage production --json      # across every model
""",
)
@click.argument("name", required=False)
@click.option(
    "--status",
    "statuses",
    multiple=True,
    help="PENDING, VALIDATING, REGISTERED, REJECTED, ARCHIVED (repeatable).",
)
@click.option("--stage", help="development, staging, canary, production, deprecated.")
@click.option("--limit", default=50, show_default=True)
@json_option
def versions_ls(name: str | None, statuses: tuple[str, ...], stage: str | None, limit: int) -> None:
    """List versions of one model, or across the catalog."""
    current = state()
    page = current.client().search_versions(
        model=name, status=list(statuses) or None, stage=stage, limit=limit
    )
    if current.json:
        emit_json(page)
        return
    _versions_table(page.items)


def _versions_table(items: list[Version]) -> None:
    table(
        "versions",
        ["model", "version", "status", "stage", "submitter", "created"],
        [(v.model_name, v.version, v.status, v.stage, v.submitter, v.created_at) for v in items],
    )


@click.command(
    epilog="""\b
Examples:
  modelgate show my-model                  # the model, its aliases, where it runs
  modelgate show my-model 1.2.0            # one version: card, lineage, checks, history
  modelgate show my-model --alias champion
  modelgate show my-model --stage production --json
""",
)
@click.argument("name")
@click.argument("version", required=False)
@click.option("--alias", help="The version this alias points at.")
@click.option("--stage", help="The newest version in this stage.")
@json_option
def show(name: str, version: str | None, alias: str | None, stage: str | None) -> None:
    """Show a model, or one of its versions."""
    current = state()
    client = current.client()
    if version is None and alias is None and stage is None:
        model = client.get_registered_model(name)
        if current.json:
            emit_json(model)
            return
        fields(
            f"model {model.name}",
            [
                ("description", model.description),
                ("owner", model.owner),
                ("license", model.license),
                ("state", model.state),
                ("labels", model.labels),
                ("versions", model.versions_by_status),
            ],
        )
        table(
            "aliases",
            ["alias", "version", "by", "at"],
            [(a.alias, a.version, a.updated_by, a.updated_at) for a in model.aliases],
        )
        table(
            "running",
            ["environment", "version", "by", "at"],
            [(d.environment, d.version, d.actor, d.deployed_at) for d in model.running],
        )
        return
    detail = client.get_model(name, version, alias=alias, stage=stage)
    if current.json:
        emit_json(detail)
        return
    fields(
        f"{detail.model_name} {detail.version}",
        [
            ("status", detail.status),
            ("stage", detail.stage),
            ("aliases", detail.aliases),
            ("submitter", detail.submitter),
            ("description", detail.description),
            ("license", detail.model_card.get("license")),
            ("owner team", detail.model_card.get("owner_team")),
            ("lineage", detail.lineage),
            ("hardware", detail.hardware_profiles),
            ("labels", detail.labels),
            ("artifact", (detail.artifact or {}).get("uri")),
        ],
    )
    checks = (detail.validation or {}).get("checks", [])
    if checks:
        table(
            "checks",
            ["check", "status", "detail"],
            [(c.get("name"), c.get("status"), c.get("detail")) for c in checks],
        )
    table(
        "history",
        ["at", "kind", "from", "to", "actor", "approver", "reason"],
        [
            (t.at, t.kind, t.from_value, t.to_value, t.actor, t.approver, t.reason)
            for t in detail.transitions
        ],
    )
