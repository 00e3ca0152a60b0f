"""`python -m modelgate_audit.keygen PATH`: create the checkpoint signing key if absent."""

from __future__ import annotations

import sys
from pathlib import Path

from modelgate_audit.checkpoints import generate_key_file


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m modelgate_audit.keygen PATH", file=sys.stderr)
        return 2
    path = Path(argv[0])
    if not path.exists():
        generate_key_file(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
