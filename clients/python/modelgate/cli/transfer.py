"""`download`: a version's files, verified and resumable."""

from __future__ import annotations

from pathlib import Path

import click

from modelgate.cli.context import json_option, state
from modelgate.cli.output import emit_json, err
from modelgate.cli.progress_bars import Bars


@click.command(
    epilog="""\b
Examples:
  modelgate download my-model 1.2.0                    # into ./my-model-1.2.0
  modelgate download my-model --alias production --dest ./weights   # rerun to resume
"""
)
@click.argument("name")
@click.argument("version", required=False)
@click.option(
    "--dest",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to fill (default: ./NAME-VERSION).",
)
@click.option("--alias", help="Download the version this alias points at.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@json_option
def download(
    name: str, version: str | None, dest: Path | None, alias: str | None, quiet: bool
) -> None:
    """Download every file of a registered version (VERSION, --alias, or the newest) and
    check each SHA-256. An interrupted download resumes where it stopped (HTTP Range); a
    mismatch exits 10."""
    current = state()
    client = current.client()
    if version is None:
        version = client.get_model(name, alias=alias).version
    dest = dest or Path(f"{name}-{version}")
    with Bars("downloading", quiet=quiet or current.json) as bars:
        paths = client.download(name, version, dest, progress=bars)
    if current.json:
        emit_json({"model": name, "version": version, "files": [str(p) for p in paths]})
    else:
        err.print(f"{len(paths)} file(s) of {name} {version} in {dest}, SHA-256 verified")
