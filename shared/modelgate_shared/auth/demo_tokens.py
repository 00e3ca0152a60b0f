"""Demo users of a local or compose stack, and the files their tokens live in.

`python -m modelgate_shared.auth.demo_tokens DIR` writes DIR/tokens.json (hashes only, what
services read) and DIR/demo-tokens.env (the clear tokens, mode 0600, for the person running
the stack), unless they already exist, and DIR/metrics.token: the read-only viewer's token
alone, which Prometheus sends to scrape /metrics. The compose file runs it as a one-shot
service.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path

from modelgate_shared.auth.tokens import hash_token

# env variable: (subject, role). Seed 001's ai-admin and ai-developer, and one user for each
# other role so every role can be exercised.
DEMO_USERS: dict[str, tuple[str, str]] = {
    "MODELGATE_ADMIN_TOKEN": ("ai-admin", "admin"),
    "MODELGATE_DEVELOPER_TOKEN": ("ai-developer", "developer"),
    "MODELGATE_DATA_SCIENTIST_TOKEN": ("ai-scientist", "data-scientist"),
    "MODELGATE_VIEWER_TOKEN": ("ai-viewer", "viewer"),
}


def new_tokens() -> dict[str, str]:
    return {var: secrets.token_urlsafe(32) for var in DEMO_USERS}


def token_file(tokens: dict[str, str]) -> dict[str, object]:
    """The verifier's table for these tokens: subjects, roles and SHA-256s, no clear tokens."""
    return {
        "tokens": [
            {"subject": subject, "roles": [role], "sha256": hash_token(tokens[var])}
            for var, (subject, role) in DEMO_USERS.items()
            if var in tokens
        ]
    }


def write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m modelgate_shared.auth.demo_tokens DIR", file=sys.stderr)
        return 2
    target = Path(argv[0])
    target.mkdir(parents=True, exist_ok=True)
    clear = target / "demo-tokens.env"
    if (target / "tokens.json").exists():
        tokens = dict(line.split("=", 1) for line in clear.read_text().splitlines() if "=" in line)
    else:
        tokens = new_tokens()
        write_private(clear, "".join(f"{k}={v}\n" for k, v in tokens.items()))
        (target / "tokens.json").write_text(json.dumps(token_file(tokens), indent=2))
    metrics = target / "metrics.token"
    if not metrics.exists() and "MODELGATE_VIEWER_TOKEN" in tokens:
        # Prometheus runs as another user: readable by all, and only a viewer's token.
        metrics.write_text(tokens["MODELGATE_VIEWER_TOKEN"])
        metrics.chmod(0o644)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
