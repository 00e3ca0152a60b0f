"""`.local/stack.env`: the endpoints and credentials of the running stack, as KEY=value lines."""

from __future__ import annotations

import os
from pathlib import Path

HEADER = (
    "# Written by `make up` (modelgate-stack). The endpoints of the local stack.\n"
    "# Load into a shell with:  set -a; . .local/stack.env; set +a\n"
    "# DATABASE_URL is the schema owner's (migrations, psql, tests); each service runs as its\n"
    "# own role, <SERVICE>_DATABASE_URL, given to it as DATABASE_URL (docs/database-roles.md).\n"
)


def write_env(path: Path, values: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = HEADER + "".join(f"{k}={v}\n" for k, v in values.items())
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(body)
    tmp.replace(path)


def read_env(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip()
    return values
