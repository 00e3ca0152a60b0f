"""`login`, `logout` and `whoami`: signing in with the organisation's identity provider (the
device-authorization flow) or with an API key, and seeing who the services take you for."""

from __future__ import annotations

import sys
import webbrowser
from typing import Any

import click

from modelgate import oidc
from modelgate.cli.context import json_option, state
from modelgate.cli.output import emit_json, err, fields
from modelgate.config import config_path, read_profiles, save_profile
from modelgate.errors import ConfigError
from modelgate.loopback import browser_sign_in


def _me() -> dict[str, Any]:
    return state().client().me()


def _show_and_open(url: str) -> None:
    click.echo(f"Opening {url}", err=True)
    click.echo("(if no browser opens, open that address yourself)", err=True)
    webbrowser.open(url)


def _provider_sign_in(
    registry_url: str, issuer: str | None, client_id: str | None, scope: str, browser: bool
) -> tuple[oidc.Provider, oidc.Tokens]:
    with oidc.new_http() as http:
        if not issuer or not client_id:
            found_issuer, found_client = oidc.provider_of_registry(http, registry_url)
            issuer, client_id = issuer or found_issuer, client_id or found_client
        provider = oidc.discover(http, issuer, client_id)
        if browser:
            return provider, browser_sign_in(http, provider, scope, show=_show_and_open)
        code = oidc.start_device_flow(http, provider, scope)
        # Plain lines on stderr (never wrapped: a script or a test reads the URL from them).
        click.echo(f"To sign in, open {code.verification_uri} and enter the code", err=True)
        click.echo(f"  {code.user_code}", err=True)
        if code.verification_uri_complete:
            click.echo(f"or open {code.verification_uri_complete}", err=True)
        click.echo("Waiting for the sign-in to be approved...", err=True)
        return provider, oidc.wait_for_device(http, provider, code)


@click.command(
    epilog="""\b
Examples:
  modelgate login                                   # the local stack's identity provider
  modelgate --profile prod login --url https://modelgate.example.com
  modelgate login --issuer https://sso.example.com/realms/ai --client-id modelgate
  modelgate login --browser            # this machine's browser, redirect to 127.0.0.1
  modelgate login --offline            # a refresh token that outlives the browser session
  modelgate login --url https://modelgate.example.com --token-stdin < api-key   # machines
\b
Without --token/--token-stdin, it signs in with the identity provider the registry names
(/web-config.json): it prints a URL and a code, you approve in any browser, and the profile
keeps the refresh token (mode 0600); access tokens are then renewed as needed.
"""
)
@click.option("--url", "url", help="The registry's URL.")
@click.option("--ingest-url", help="Ingest's URL (default: the registry's).")
@click.option("--audit-url", help="The audit service's URL (default: the registry's).")
@click.option("--token", "token", help="An API key (prefer --token-stdin: shells keep history).")
@click.option("--token-stdin", is_flag=True, help="Read an API key from standard input.")
@click.option("--issuer", help="The OpenID provider's issuer (default: the registry's).")
@click.option("--client-id", help="The provider's public client (default: the registry's).")
@click.option(
    "--browser",
    is_flag=True,
    help="Sign in in this machine's browser (loopback redirect) instead of the device flow.",
)
@click.option(
    "--offline",
    is_flag=True,
    help="Ask for an offline refresh token (outlives the provider session; if it allows).",
)
@json_option
def login(
    url: str | None,
    ingest_url: str | None,
    audit_url: str | None,
    token: str | None,
    token_stdin: bool,
    issuer: str | None,
    client_id: str | None,
    browser: bool,
    offline: bool,
) -> None:
    """Sign in and store the profile (~/.config/modelgate/config.toml, mode 0600): with the
    identity provider (device flow), or with an API key; then check that the registry
    accepts it."""
    current = state()
    current.new_profile = True
    if token_stdin:
        token = sys.stdin.readline().strip()
    current.url = url or current.url
    current.ingest_url = ingest_url or current.ingest_url
    current.audit_url = audit_url or current.audit_url
    current.token = token or current.token
    settings = current.settings()
    values = {
        "url": settings.url,
        "ingest_url": settings.ingest_url,
        "audit_url": settings.audit_url,
    }
    if current.token:
        values["token"] = current.token
        me = _me()  # a 401 here means the key is wrong
    else:
        scope = f"{oidc.SCOPE} offline_access" if offline else oidc.SCOPE
        provider, tokens = _provider_sign_in(settings.url, issuer, client_id, scope, browser)
        if not tokens.refresh_token:
            raise oidc.SignInError("the identity provider issued no refresh token")
        # What the profile keeps: where to renew, and the refresh token (never an access token).
        values |= {
            "oidc_issuer": provider.issuer,
            "oidc_client_id": provider.client_id,
            "refresh_token": tokens.refresh_token,
        }
        current.token = tokens.access_token
        me = _me()  # the services accept the provider's token (audience, role mapping)
    name = current.profile or "default"
    path = save_profile(name, values, config_path())
    how = "api-key" if "token" in values else "oidc"
    if current.json:
        emit_json(
            {
                "profile": name,
                "path": str(path),
                "url": settings.url,
                "method": how,
                "subject": me.get("subject"),
                "roles": me.get("roles"),
            }
        )
    else:
        roles = ", ".join(me.get("roles") or [])
        err.print(
            f"Signed in to {settings.url} as [bold]{me.get('subject')}[/] ({roles}); "
            f"profile [bold]{name}[/] saved in {path}"
        )


@click.command(
    epilog="""\b
Examples:
  modelgate logout
  modelgate --profile prod logout --json
"""
)
@json_option
def logout() -> None:
    """Forget the profile's credentials (its URLs stay); a sign-in with the identity provider
    is also revoked there, which ends that session."""
    current = state()
    path = config_path()
    name = current.profile or "default"
    stored = read_profiles(path).get(name)
    if stored is None:
        raise ConfigError(f"no profile {name!r} in {path}")
    revoked = False
    if stored.get("refresh_token") and stored.get("oidc_issuer") and stored.get("oidc_client_id"):
        with oidc.new_http() as http:
            provider = oidc.discover(http, stored["oidc_issuer"], stored["oidc_client_id"])
            revoked = oidc.revoke(http, provider, stored["refresh_token"])
    kept = {k: v for k, v in stored.items() if k not in ("token", "refresh_token")}
    save_profile(name, kept, path)
    if current.json:
        emit_json({"profile": name, "path": str(path), "revoked_at_provider": revoked})
    else:
        where = " and revoked at the identity provider" if revoked else ""
        err.print(f"Signed out: profile [bold]{name}[/] holds no credentials now{where}")


@click.command(
    epilog="""\b
Examples:
  modelgate whoami
  modelgate whoami --json | jq -r .roles[]
"""
)
@json_option
def whoami() -> None:
    """Who the registry takes the current credentials for: subject, roles, permissions."""
    me = _me()
    if state().json:
        emit_json(me)
        return
    fields(
        "signed in",
        [
            ("subject", me.get("subject")),
            ("roles", ", ".join(me.get("roles") or [])),
            ("permissions", ", ".join(me.get("permissions") or [])),
        ],
    )
