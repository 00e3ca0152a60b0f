"""What every command shares: the resolved client and whether to print JSON."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import click

from modelgate.client import Client
from modelgate.config import Settings, resolve

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class State:
    url: str | None = None
    ingest_url: str | None = None
    audit_url: str | None = None
    token: str | None = None
    profile: str | None = None
    json: bool = False
    _client: Client | None = field(default=None, repr=False)

    new_profile: bool = False
    """Set by `login`: the profile named may not exist yet."""

    def settings(self) -> Settings:
        return resolve(
            url=self.url,
            ingest_url=self.ingest_url,
            audit_url=self.audit_url,
            token=self.token,
            profile=self.profile,
            new_profile=self.new_profile,
        )

    def client(self) -> Client:
        if self._client is None:
            self._client = Client(settings=self.settings())
        return self._client


def state() -> State:
    return click.get_current_context().ensure_object(State)


def _set_json(ctx: click.Context, _: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(State).json = True


def json_option(command: F) -> F:
    """`--json` on every command (also accepted before the command name)."""
    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_set_json,
        help="Print one JSON document on stdout instead of tables.",
    )(command)
