"""`submit` and `status`: getting a model into the gate and watching it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import yaml

from modelgate import operations as ops
from modelgate.cli.context import json_option, state
from modelgate.cli.output import as_jsonable, emit_json, err, fields, table
from modelgate.cli.progress_bars import Bars
from modelgate.errors import ModelgateError
from modelgate.models import Submission
from modelgate.presigned import PresignedUpload
from modelgate.upload import FormUpload


def _load_card(path: Path | None) -> dict[str, Any]:
    """A model card from YAML (JSON is YAML too)."""
    if path is None:
        return {}
    try:
        loaded = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ModelgateError(f"{path}: not YAML or JSON: {exc}") from exc
    if not isinstance(loaded, dict):
        raise ModelgateError(f"{path}: a model card is a mapping of fields")
    return loaded


def _labels(pairs: tuple[str, ...]) -> dict[str, str]:
    labels = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"{pair!r}: labels are key=value", param_hint="--label")
        labels[key] = value
    return labels


def show_submission(sub: Submission) -> None:
    fields(
        f"submission {sub.submission_id}",
        [
            ("model", f"{sub.name} {sub.version}"),
            ("status", sub.status),
            ("verdict", sub.verdict),
            ("submitter", sub.submitter),
            ("artifact", sub.artifact_uri),
            ("updated", sub.updated_at),
        ],
    )
    if sub.checks:
        table(
            None, ["check", "status", "detail"], [(c.name, c.status, c.detail) for c in sub.checks]
        )


@click.command(
    epilog="""\b
Examples:
  modelgate submit ./my-model --name my-model --version 1.2.0 --card card.yaml --wait
  modelgate submit model.safetensors --name tiny --version 0.1.0 --card card.json \\
      --label task=text-generation --source hf://org/tiny@main --json
"""
)
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--name", required=True, help="Model name (letters, digits, . _ -).")
@click.option("--version", "version", required=True, help="SemVer 2.0 version.")
@click.option(
    "--card",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Model card, YAML or JSON (description, owner_team, license, …).",
)
@click.option("--label", "labels", multiple=True, metavar="KEY=VALUE", help="Repeatable.")
@click.option("--source", help="Where the weights came from (lineage), e.g. hf://org/m@rev.")
@click.option("--training-data", help="Training data version (lineage).")
@click.option("--code-commit", help="Commit of the training code (lineage).")
@click.option("--hardware-profile", help="Hardware to certify for, e.g. nvidia-l4-1gpu.")
@click.option("--wait/--no-wait", default=False, help="Wait until the gate decided.")
@click.option(
    "--timeout",
    "timeout_s",
    default=1800.0,
    show_default=True,
    help="Seconds to wait for the gate.",
)
@click.option(
    "--form",
    "use_form",
    is_flag=True,
    help="Stream the files through ingest in one multipart form request (the old path) "
    "instead of sending them straight to S3 with presigned URLs.",
)
@click.option(
    "--parallel",
    default=4,
    show_default=True,
    type=click.IntRange(1, 32),
    help="Parts sent at once (presigned uploads).",
)
@click.option("--quiet", is_flag=True, help="No progress bars.")
@json_option
def submit(
    path: Path,
    name: str,
    version: str,
    card: Path | None,
    labels: tuple[str, ...],
    source: str | None,
    training_data: str | None,
    code_commit: str | None,
    hardware_profile: str | None,
    wait: bool,
    timeout_s: float,
    use_form: bool,
    parallel: int,
    quiet: bool,
) -> None:
    """Upload a file or a model directory (relative paths kept) and submit it to the gate.
    With --wait, exits 0 once it passed the gate (waiting for review, or registered) and 8
    with the failed checks if rejected.

    The files go straight to S3 with URLs ingest presigns, several parts at once; an
    interrupted submit (Ctrl-C, a lost network, a killed process) run again continues with
    the parts already stored. With --form, or against an ingest without that API, they are
    streamed through ingest instead."""
    current = state()
    client = current.client()
    meta = ops.build_metadata(
        name,
        version,
        card=_load_card(card),
        lineage={
            "source": source,
            "training_data_version": training_data,
            "code_commit": code_commit,
        },
        labels=_labels(labels),
        hardware_profile=hardware_profile,
    )
    transport: FormUpload | PresignedUpload = (
        FormUpload() if use_form else PresignedUpload(parallel, fallback=FormUpload())
    )
    with Bars("uploading", quiet=quiet or current.json) as bars:
        accepted = client.run(ops.submit(meta, path, transport, bars))
    upload = transport.stats.as_dict() if isinstance(transport, PresignedUpload) else None
    if upload is not None and not current.json and upload["bytes_skipped"]:
        err.print(
            f"resumed: {upload['bytes_skipped']} byte(s) were already in S3, "
            f"{upload['bytes_sent']} sent now"
        )
    if not current.json:
        err.print(f"submitted: [bold]{accepted.submission_id}[/] ({accepted.status})")
    if wait:
        _follow(accepted.submission_id, timeout_s, upload=upload)
        return
    result = client.submission(accepted.submission_id)
    if current.json:
        emit_json(_with_upload(result, upload))
    else:
        show_submission(result)


def _with_upload(sub: Submission, upload: dict[str, Any] | None) -> Any:
    """The submission, and with a presigned upload what it sent (`upload`: bytes sent now,
    bytes already in S3 from an earlier run, parts, seconds)."""
    if upload is None:
        return sub
    return {**as_jsonable(sub), "upload": upload}


def _follow(
    submission_id: str,
    timeout_s: float,
    through_review: bool = False,
    upload: dict[str, Any] | None = None,
) -> None:
    current = state()

    def changed(sub: Submission) -> None:
        if not current.json:
            err.print(f"  {sub.status}")

    try:
        final = current.client().wait(
            submission_id, timeout_s=timeout_s, on_change=changed, through_review=through_review
        )
    except ModelgateError as exc:
        last = getattr(exc, "submission", None) or getattr(exc, "last", None)
        if isinstance(last, Submission):
            emit_json(last) if current.json else show_submission(last)
        raise
    if current.json:
        emit_json(_with_upload(final, upload))
    else:
        show_submission(final)


@click.command(
    epilog="""\b
Examples:
  modelgate status 2b0c6c0e-…              # where it is now
  modelgate status 2b0c6c0e-… --follow     # until pending_review or registered (0), rejected (8)
  modelgate status 2b0c6c0e-… --follow --through-review   # until an approver decided
"""
)
@click.argument("submission_id")
@click.option("--follow", is_flag=True, help="Poll until the gate decided.")
@click.option(
    "--through-review", is_flag=True, help="With --follow: until an approver decided too."
)
@click.option("--timeout", "timeout_s", default=1800.0, show_default=True)
@json_option
def status(submission_id: str, follow: bool, timeout_s: float, through_review: bool) -> None:
    """Where a submission is: pending, validating, pending_review (passed validation, waits
    for an approver), registered or rejected."""
    if follow:
        _follow(submission_id, timeout_s, through_review)
        return
    current = state()
    sub = current.client().submission(submission_id)
    emit_json(sub) if current.json else show_submission(sub)
