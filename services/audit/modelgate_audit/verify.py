"""Walking the chain: every hash recomputed, every column re-derived, every checkpoint matched.

The first row that disagrees is reported by its sequence number and why: a changed column or
canonical bytes (hash mismatch), a missing row (gap), a broken link, or a chain rewritten
consistently (it no longer matches a signed checkpoint).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from modelgate_audit.checkpoints import Checkpoint, genuine
from modelgate_audit.entries import describe
from modelgate_audit.hash_chain import GENESIS, link
from modelgate_shared.db.pool import Connection

DERIVED = (
    "subject",
    "model",
    "version",
    "action",
    "actor",
    "from_stage",
    "to_stage",
    "approver",
    "reason",
    "event_time",
)


@dataclass
class Report:
    ok: bool = True
    entries_checked: int = 0
    head_seq: int = 0
    head_hash: str = ""
    first_bad_seq: int | None = None
    reason: str = ""
    started_at_seq: int = 1
    checkpoints_checked: int = 0
    checkpoints_unverifiable: int = 0
    checkpoint_seqs: list[int] = field(default_factory=list)

    def fail(self, seq: int, reason: str) -> Report:
        if self.ok:
            self.ok, self.first_bad_seq, self.reason = False, seq, reason
        return self


def _row_problem(row: Any, prev: bytes) -> str | None:
    canonical = bytes(row["canonical"])
    if bytes(row["prev_hash"]) != prev:
        return "prev_hash does not match the previous entry's hash (the chain is broken)"
    if link(prev, canonical) != bytes(row["hash"]):
        return "hash does not match sha256(prev_hash || canonical): the entry was altered"
    try:
        document: dict[str, Any] = json.loads(canonical)
        event = document["event"]
    except (ValueError, KeyError):
        return "canonical bytes are not an entry document"
    if document.get("seq") != row["seq"]:
        return f"canonical bytes say seq {document.get('seq')}, the row says {row['seq']}"
    said = describe(event)
    for column in DERIVED:
        value, stored = getattr(said, column), row[column]
        if value != stored:
            return f"column {column} is {stored!r} but the hashed event says {value!r}"
    if str(row["event_id"]) != str(event.get("id")) or row["event_type"] != event.get("type"):
        return "event_id or event_type differ from the hashed event"
    if row["topic"] != document.get("topic"):
        return "topic differs from the hashed document"
    if row["recorded_at"].isoformat() != document.get("recorded_at"):
        return "recorded_at differs from the hashed document"
    return None


async def verify(
    conn: Connection,
    checkpoints: list[Checkpoint],
    public: Ed25519PublicKey | None,
    *,
    from_checkpoint: bool = False,
) -> Report:
    report = Report()
    trusted = [c for c in checkpoints if public is not None and genuine(c, public)]
    report.checkpoints_unverifiable = len(checkpoints) - len(trusted)
    by_seq = {c.seq: c for c in trusted}
    report.checkpoint_seqs = sorted(by_seq)
    expected, prev = 1, GENESIS
    if from_checkpoint and trusted:
        start = max(trusted, key=lambda c: c.seq)
        row = await conn.fetchrow("SELECT seq, hash FROM audit.log WHERE seq = $1", start.seq)
        if row is None or bytes(row["hash"]).hex() != start.head_hash:
            return report.fail(
                start.seq,
                "entry differs from (or is missing at) the latest "
                "signed checkpoint: the chain was rewritten",
            )
        report.checkpoints_checked += 1
        expected, prev = start.seq + 1, bytes.fromhex(start.head_hash)
        report.head_seq, report.head_hash = start.seq, start.head_hash
    report.started_at_seq = expected
    async with conn.transaction(readonly=True):
        async for row in conn.cursor(
            "SELECT * FROM audit.log WHERE seq >= $1 ORDER BY seq", expected, prefetch=1000
        ):
            if row["seq"] != expected:
                return report.fail(expected, f"entry {expected} is missing (next is {row['seq']})")
            problem = _row_problem(row, prev)
            if problem:
                return report.fail(row["seq"], problem)
            checkpoint = by_seq.get(row["seq"])
            if checkpoint is not None:
                report.checkpoints_checked += 1
                if checkpoint.head_hash != bytes(row["hash"]).hex():
                    return report.fail(
                        row["seq"],
                        "entry does not match its signed checkpoint: "
                        "the chain was rewritten consistently",
                    )
            prev = bytes(row["hash"])
            report.entries_checked += 1
            report.head_seq, report.head_hash = row["seq"], prev.hex()
            expected += 1
    beyond = [s for s in by_seq if s > report.head_seq]
    if beyond:
        return report.fail(
            report.head_seq + 1,
            f"signed checkpoint {min(beyond)} is beyond the "
            f"chain's head {report.head_seq}: entries were removed",
        )
    return report
