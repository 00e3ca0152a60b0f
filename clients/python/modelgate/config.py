"""Where the client finds its services and token: arguments, then environment, then profile.

Profiles live in `~/.config/modelgate/config.toml` (or `$MODELGATE_CONFIG`), one table per
profile, mode 0600 because they hold tokens:

    [profiles.default]
    url = "https://modelgate.example.com"       # the registry
    ingest_url = "https://ingest.example.com"   # optional: defaults to url
    audit_url = "https://audit.example.com"     # optional: defaults to url
    token = "…"                                 # an API key, or:
    oidc_issuer = "https://sso.example.com/realms/x"   # `modelgate login` with the provider
    oidc_client_id = "modelgate"
    refresh_token = "…"

Each value is resolved on its own, so `MODELGATE_TOKEN` can override the token of a profile
that supplies the URLs. A profile signed in with the identity provider holds a refresh token
instead of a token: access tokens are then fetched with it as needed (`modelgate.oidc`).
With nothing anywhere, the local stack's ports (`make up`) are used.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelgate.errors import ConfigError
from modelgate.oidc import Session

if sys.version_info >= (3, 11):  # noqa: UP036 (the client supports 3.10)
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

LOCAL = {
    "url": "http://127.0.0.1:8080",
    "ingest_url": "http://127.0.0.1:8081",
    "audit_url": "http://127.0.0.1:8082",
}
ENV = {
    "url": "MODELGATE_URL",
    "ingest_url": "MODELGATE_INGEST_URL",
    "audit_url": "MODELGATE_AUDIT_URL",
    "token": "MODELGATE_TOKEN",
}
KEYS = ("url", "ingest_url", "audit_url", "token")
OIDC_KEYS = ("oidc_issuer", "oidc_client_id", "refresh_token")
"""What `modelgate login` stores after signing in with the provider (no variable overrides them)."""


def config_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get("MODELGATE_CONFIG"):
        return Path(env["MODELGATE_CONFIG"]).expanduser()
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "modelgate" / "config.toml"


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Resolved endpoints and credentials of one client."""

    url: str
    ingest_url: str
    audit_url: str
    token: str | None = field(default=None, repr=False)
    timeout_s: float = 30.0
    profile: str | None = None
    session: Session | None = field(default=None, repr=False, compare=False)
    """Signed in with the identity provider: the access token comes from here."""

    def bearer(self) -> str | None:
        """The token to send now (a session's is renewed when close to expiry)."""
        return self.session.bearer() if self.session and not self.token else self.token

    @property
    def base_urls(self) -> dict[str, str]:
        return {"registry": self.url, "ingest": self.ingest_url, "audit": self.audit_url}


def read_profiles(path: Path) -> dict[str, dict[str, Any]]:
    """Every profile in the file ({} when there is no file). A file that others may read is
    refused, as ssh refuses such a key: it holds bearer tokens."""
    if not path.exists():
        return {}
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"{path} is readable by others (mode {mode:o}); it holds tokens: chmod 600 {path}"
        )
    try:
        data = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    profiles = data.get("profiles", {})
    if not isinstance(profiles, dict):
        raise ConfigError(f"{path}: [profiles] must be a table of profiles")
    return {str(k): dict(v) for k, v in profiles.items() if isinstance(v, dict)}


def resolve(
    *,
    url: str | None = None,
    ingest_url: str | None = None,
    audit_url: str | None = None,
    token: str | None = None,
    profile: str | None = None,
    timeout_s: float = 30.0,
    env: Mapping[str, str] | None = None,
    path: Path | None = None,
    new_profile: bool = False,
) -> Settings:
    """Arguments win over the environment, the environment over the profile. A profile
    named but absent is an error, unless it is being created (`new_profile`: login)."""
    env = os.environ if env is None else env
    name = profile or env.get("MODELGATE_PROFILE") or "default"
    profiles = read_profiles(path or config_path(env))
    if (profile or env.get("MODELGATE_PROFILE")) and name not in profiles and not new_profile:
        raise ConfigError(f"no profile {name!r} in {path or config_path(env)}")
    stored = profiles.get(name, {})
    given = {"url": url, "ingest_url": ingest_url, "audit_url": audit_url, "token": token}
    found: dict[str, str | None] = {}
    for key in KEYS:
        value = given[key] or env.get(ENV[key]) or stored.get(key)
        found[key] = str(value) if value else None
    if not found["url"]:
        # Nothing named a registry: the local stack, each service on its own port.
        found = {**{k: found[k] or LOCAL[k] for k in LOCAL}, "token": found["token"]}
    base = str(found["url"]).rstrip("/")
    session = None
    if not found["token"] and stored.get("refresh_token"):
        session = _session(name, stored, path or config_path(env), timeout_s)
    return Settings(
        url=base,
        ingest_url=(found["ingest_url"] or base).rstrip("/"),
        audit_url=(found["audit_url"] or base).rstrip("/"),
        token=found["token"],
        timeout_s=timeout_s,
        profile=name if name in profiles else None,
        session=session,
    )


def _session(name: str, stored: dict[str, Any], path: Path, timeout_s: float) -> Session:
    if not stored.get("oidc_issuer") or not stored.get("oidc_client_id"):
        raise ConfigError(f"profile {name!r} in {path} has a refresh token but no oidc_issuer")

    def saved(refresh_token: str) -> None:
        # The provider rotated the refresh token: the old one may stop working, keep the new.
        current = read_profiles(path).get(name, {})
        save_profile(name, {**current, "refresh_token": refresh_token}, path)

    return Session(
        issuer=str(stored["oidc_issuer"]),
        client_id=str(stored["oidc_client_id"]),
        refresh_token=str(stored["refresh_token"]),
        saved=saved,
        timeout_s=timeout_s,
    )


def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def save_profile(name: str, values: Mapping[str, str], path: Path | None = None) -> Path:
    """Write (or replace) one profile, keeping the others; the file is created 0600."""
    path = path or config_path()
    profiles = read_profiles(path)
    profiles[name] = {k: v for k, v in values.items() if k in (*KEYS, *OIDC_KEYS) and v}
    lines: list[str] = []
    for profile, entries in profiles.items():
        lines.append(f"[profiles.{_quote(profile)}]")
        lines += [f"{key} = {_quote(str(value))}" for key, value in entries.items()]
        lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write("\n".join(lines))
    return path
