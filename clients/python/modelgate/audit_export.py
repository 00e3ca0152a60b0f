"""An audit export on disk: what an offline verification needs, in one JSON Lines file.

Line 1 is a header `{"format": "modelgate-audit-export/1", "exported_at", "public_key",
"checkpoints": [...]}`; every further line is one entry `{seq, prev_hash, hash, canonical}`.
The public key inside is a convenience: a verifier that trusts nobody passes the key it got
from elsewhere (`--public-key`), and compares the key id printed with the one it expects.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from modelgate.errors import ModelgateError
from modelgate.models import Checkpoint, ExportedEntry

FORMAT = "modelgate-audit-export/1"


@dataclass
class AuditExport:
    public_key: str | None
    checkpoints: list[Checkpoint]
    entries: list[ExportedEntry] = field(default_factory=list)
    exported_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat())  # noqa: UP017 (3.10)

    def write(self, path: Path) -> None:
        with path.open("w") as out:
            header = {
                "format": FORMAT,
                "exported_at": self.exported_at,
                "public_key": self.public_key,
                "checkpoints": [c.model_dump() for c in self.checkpoints],
            }
            out.write(json.dumps(header) + "\n")
            for entry in self.entries:
                out.write(entry.model_dump_json() + "\n")

    @classmethod
    def read(cls, path: Path) -> AuditExport:
        lines = _lines(path)
        try:
            header = json.loads(next(lines))
        except (StopIteration, ValueError) as exc:
            raise ModelgateError(f"{path}: not an audit export (no header line)") from exc
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise ModelgateError(f"{path}: not a {FORMAT} file")
        try:
            entries = [ExportedEntry.model_validate_json(line) for line in lines]
            checkpoints = [Checkpoint.model_validate(c) for c in header.get("checkpoints", [])]
        except ValueError as exc:
            raise ModelgateError(f"{path}: malformed export: {exc}") from exc
        return cls(
            public_key=header.get("public_key"),
            checkpoints=checkpoints,
            entries=entries,
            exported_at=str(header.get("exported_at", "")),
        )


def _lines(path: Path) -> Iterator[str]:
    with path.open() as stream:
        for line in stream:
            if line.strip():
                yield line
