"""Verifying the audit log away from the service: the hash chain and the signed checkpoints.

Reimplemented from the documented format (docs/audit.md), never imported from the service, so
the check does not take the service's word for anything:

- entry `seq` hashed the canonical bytes of `{seq, recorded_at, topic, event}`, and
  `hash = sha256(prev_hash || canonical)`, with 32 zero bytes before the first entry;
- sequence numbers run from 1 without gaps;
- a checkpoint is `{seq, head_hash, time, key_id}` as compact JSON with sorted keys, signed
  with Ed25519 (signature in base64); `key_id` is the first 16 hex digits of the SHA-256 of
  the raw public key. Every genuine checkpoint must name the hash its entry has, and none may
  lie beyond the chain's head (entries removed from the end).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from modelgate.errors import ModelgateError
from modelgate.models import Checkpoint, ExportedEntry

GENESIS = bytes(32)


@dataclass
class ChainReport:
    """The verdict, in the same terms as the service's `/verify`."""

    ok: bool = True
    entries_checked: int = 0
    head_seq: int = 0
    head_hash: str = ""
    first_bad_seq: int | None = None
    reason: str = ""
    checkpoints_checked: int = 0
    checkpoints_unverifiable: int = 0
    checkpoint_seqs: list[int] = field(default_factory=list)
    key_id: str | None = None

    def fail(self, seq: int, reason: str) -> ChainReport:
        if self.ok:
            self.ok, self.first_bad_seq, self.reason = False, seq, reason
        return self


def load_public_key(pem: str | bytes) -> Ed25519PublicKey:
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise ModelgateError(f"not a PEM public key: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ModelgateError("the audit public key is not an Ed25519 key")
    return key


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def signed_payload(checkpoint: Checkpoint) -> bytes:
    body = {
        "seq": checkpoint.seq,
        "head_hash": checkpoint.head_hash,
        "time": checkpoint.time,
        "key_id": checkpoint.key_id,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def genuine(checkpoint: Checkpoint, public: Ed25519PublicKey) -> bool:
    if checkpoint.key_id != key_id(public):
        return False
    try:
        public.verify(base64.b64decode(checkpoint.signature), signed_payload(checkpoint))
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


def _entry_problem(entry: ExportedEntry, prev: bytes) -> str | None:
    try:
        canonical = base64.b64decode(entry.canonical, validate=True)
        prev_hash, stored = bytes.fromhex(entry.prev_hash), bytes.fromhex(entry.hash)
    except (ValueError, binascii.Error):
        return "the entry's canonical bytes or hashes are not valid base64/hex"
    if prev_hash != prev:
        return "prev_hash does not match the previous entry's hash (the chain is broken)"
    if hashlib.sha256(prev + canonical).digest() != stored:
        return "hash does not match sha256(prev_hash || canonical): the entry was altered"
    try:
        document: dict[str, Any] = json.loads(canonical)
    except ValueError:
        return "canonical bytes are not JSON"
    if not isinstance(document, dict) or not isinstance(document.get("event"), dict):
        return "canonical bytes are not an entry document"
    if document.get("seq") != entry.seq:
        return f"canonical bytes say seq {document.get('seq')}, the entry says {entry.seq}"
    return None


def verify_chain(
    entries: Iterable[ExportedEntry],
    checkpoints: Iterable[Checkpoint],
    public: Ed25519PublicKey | None,
) -> ChainReport:
    """Walk the chain from genesis; the first entry that disagrees is reported with why."""
    report = ChainReport(key_id=key_id(public) if public else None)
    every = list(checkpoints)
    trusted = {c.seq: c for c in every if public is not None and genuine(c, public)}
    report.checkpoints_unverifiable = len(every) - len(trusted)
    report.checkpoint_seqs = sorted(trusted)
    expected, prev = 1, GENESIS
    for entry in entries:
        if entry.seq != expected:
            return report.fail(expected, f"entry {expected} is missing (next is {entry.seq})")
        problem = _entry_problem(entry, prev)
        if problem:
            return report.fail(entry.seq, problem)
        checkpoint = trusted.get(entry.seq)
        if checkpoint is not None:
            report.checkpoints_checked += 1
            if checkpoint.head_hash != entry.hash:
                return report.fail(
                    entry.seq,
                    "entry does not match its signed checkpoint: "
                    "the chain was rewritten consistently",
                )
        prev = bytes.fromhex(entry.hash)
        report.entries_checked += 1
        report.head_seq, report.head_hash = entry.seq, entry.hash
        expected += 1
    beyond = [s for s in trusted if s > report.head_seq]
    if beyond:
        return report.fail(
            report.head_seq + 1,
            f"signed checkpoint {min(beyond)} is beyond the chain's head "
            f"{report.head_seq}: entries were removed",
        )
    return report
