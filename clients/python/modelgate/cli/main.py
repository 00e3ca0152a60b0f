"""`modelgate`: the command group, its global options, and errors turned into exit codes."""

from __future__ import annotations

import sys

import click

from modelgate import __version__
from modelgate.cli import (
    audit,
    catalog,
    events,
    keys,
    lifecycle,
    review,
    signin,
    signing,
    submitting,
    transfer,
)
from modelgate.cli.context import State, json_option
from modelgate.cli.exit_codes import Exit, exit_code
from modelgate.cli.output import err
from modelgate.errors import ApiError, GateRejected, ModelgateError

EPILOG = """\b
Quick start:
  modelgate login --url https://modelgate.example.com     # your organisation's sign-in
  modelgate submit ./my-model --name my-model --version 1.2.0 --card card.yaml --wait
  modelgate promote my-model 1.2.0 --reason "beats 1.1.0"      # another admin
  modelgate download my-model --alias production --dest ./weights

\b
Configuration: options, then MODELGATE_URL, MODELGATE_INGEST_URL, MODELGATE_AUDIT_URL,
MODELGATE_TOKEN, MODELGATE_PROFILE, then ~/.config/modelgate/config.toml.
Shell completion (bash; zsh and fish alike):
  eval "$(_MODELGATE_COMPLETE=bash_source modelgate)"

\b
Exit codes: 0 done, 1 unexpected error, 2 usage, 3 configuration, 4 refused (401/403),
5 not found, 6 conflict, 7 other API error, 8 rejected by the gate, 9 timed out,
10 verification failed (SHA-256 or audit chain).
"""


@click.group(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="modelgate")
@click.option("--profile", envvar="MODELGATE_PROFILE", help="Profile of the config file.")
@click.option("--url", help="Registry URL (overrides MODELGATE_URL and the profile).")
@click.option("--ingest-url", help="Ingest URL.")
@click.option("--audit-url", help="Audit service URL.")
@click.option("--token", help="Bearer token (overrides MODELGATE_TOKEN and the profile).")
@json_option
@click.pass_context
def cli(
    ctx: click.Context,
    profile: str | None,
    url: str | None,
    ingest_url: str | None,
    audit_url: str | None,
    token: str | None,
) -> None:
    """Modelgate from the command line: submit models to the gate, watch them pass, promote,
    roll back, download verified bytes, and verify the audit log."""
    current = ctx.ensure_object(State)
    current.profile = profile
    current.url = url
    current.ingest_url = ingest_url
    current.audit_url = audit_url
    current.token = token


for command in (
    signin.login,
    signin.logout,
    signin.whoami,
    submitting.submit,
    submitting.status,
    catalog.models,
    catalog.versions,
    catalog.show,
    review.review,
    lifecycle.promote,
    lifecycle.rollback,
    lifecycle.alias,
    lifecycle.archive,
    lifecycle.restore,
    lifecycle.deploy,
    transfer.download,
    signing.sign,
    signing.verify,
    audit.audit,
    events.events,
    keys.keys,
):
    cli.add_command(command)


def main() -> None:
    """Run the CLI; a Modelgate error prints its reason and exits with its documented code."""
    try:
        code = cli.main(standalone_mode=False)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(Exit.USAGE if isinstance(exc, click.UsageError) else Exit.ERROR)
    except click.Abort:
        err.print("aborted")
        sys.exit(130)
    except GateRejected as exc:
        err.print(f"[red]rejected:[/] {exc.submission.name} {exc.submission.version}")
        for check in exc.checks:
            err.print(f"  {check.name}: {check.detail}")
        sys.exit(Exit.REJECTED)
    except ApiError as exc:
        err.print(f"[red]error {exc.status}:[/] {exc.message}")
        sys.exit(exit_code(exc))
    except ModelgateError as exc:
        err.print(f"[red]error:[/] {exc}")
        sys.exit(exit_code(exc))
    except OSError as exc:
        err.print(f"[red]error:[/] {exc}")
        sys.exit(Exit.ERROR)
    sys.exit(code if isinstance(code, int) else Exit.OK)
