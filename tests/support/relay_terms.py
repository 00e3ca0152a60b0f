"""Who relayed the registry's outbox, and when: each replica's terms, read from its log.

The relay logs "outbox relay active in process N" when it takes the relay lock and "outbox
relay stood down in process N" when it lets go (modelgate_registry.relay); a process killed
with -9 says nothing more, and its term ends when the harness signalled it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from modelgate_testkit.services import ServiceProcess

_ROLE = re.compile(r"^outbox relay (active|stood down) in process (\d+)$")


@dataclass(frozen=True)
class Term:
    instance: str
    pid: int
    began: float
    """Epoch seconds, as the relay logged it (just after it took the lock)."""
    ended: float | None
    """Its log line, or the moment it was killed; None: it still relays."""

    def __str__(self) -> str:
        end = "now" if self.ended is None else f"{self.ended:.3f}"
        return f"{self.instance} (pid {self.pid}) {self.began:.3f}..{end}"


def terms(replicas: Sequence[ServiceProcess]) -> list[Term]:
    """Every term of every replica, in the order they began."""
    found: list[Term] = []
    for replica in replicas:
        began: dict[int, float] = {}
        for line in replica.log.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a traceback's line or a task dump: not the relay's
            said = _ROLE.match(str(entry.get("message", ""))) if isinstance(entry, dict) else None
            if said is None:
                continue
            pid, at = int(said[2]), datetime.fromisoformat(entry["time"]).timestamp()
            if said[1] == "active":
                began[pid] = at
            elif pid in began:
                found.append(Term(replica.instance, pid, began.pop(pid), at))
        for pid, at in began.items():
            found.append(Term(replica.instance, pid, at, replica.killed_at.get(pid)))
    return sorted(found, key=lambda t: t.began)


def overlapping(found: Sequence[Term]) -> list[tuple[Term, Term]]:
    """Pairs of terms that were both running at some moment (there must be none)."""
    pairs = []
    for i, first in enumerate(found):
        for second in found[i + 1 :]:
            if first.ended is None or second.began < first.ended:
                pairs.append((first, second))
    return pairs
