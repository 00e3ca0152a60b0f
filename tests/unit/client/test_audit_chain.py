"""The client's offline verifier agrees with the audit service's format and catches tampering.

The chain here is built with the service's own modules (canonical bytes, hash links, the
checkpoint signer), so a client that drifted from the documented format fails these tests.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from modelgate.audit_chain import key_id, load_public_key, verify_chain
from modelgate.audit_export import AuditExport
from modelgate.models import Checkpoint, ExportedEntry
from modelgate_audit.canonical import canonical_bytes, entry_document
from modelgate_audit.checkpoints import Signer
from modelgate_audit.hash_chain import GENESIS, link


def _chain(n: int) -> list[ExportedEntry]:
    entries, prev = [], GENESIS
    for seq in range(1, n + 1):
        event = {
            "id": f"00000000-0000-0000-0000-{seq:012d}",
            "type": "io.modelgate.model.transitioned.v1",
            "time": "2026-12-03T10:00:00+00:00",
            "data": {"name": "m", "version": "1.0.0", "actor": "ai-admin", "seq": seq},
        }
        canonical = canonical_bytes(
            entry_document(seq, datetime(2026, 12, 3, tzinfo=UTC), "model.transitioned", event)
        )
        digest = link(prev, canonical)
        entries.append(
            ExportedEntry(
                seq=seq,
                prev_hash=prev.hex(),
                hash=digest.hex(),
                canonical=base64.b64encode(canonical).decode(),
            )
        )
        prev = digest
    return entries


@pytest.fixture
def signer() -> Signer:
    return Signer(Ed25519PrivateKey.generate())


def _checkpoint(signer: Signer, entry: ExportedEntry) -> Checkpoint:
    return Checkpoint.model_validate(asdict(signer.sign(entry.seq, bytes.fromhex(entry.hash))))


def test_an_intact_chain_with_signed_checkpoints_verifies(signer: Signer) -> None:
    entries = _chain(5)
    signed = [_checkpoint(signer, entries[1]), _checkpoint(signer, entries[4])]
    report = verify_chain(entries, signed, load_public_key(signer.public_pem()))
    assert report.ok, report.reason
    assert report.entries_checked == 5
    assert report.head_seq == 5
    assert report.head_hash == entries[-1].hash
    assert report.checkpoints_checked == 2
    assert report.key_id == signer.key_id == key_id(signer.public)


def test_an_altered_entry_is_reported_at_its_number(signer: Signer) -> None:
    entries = _chain(4)
    document = json.loads(base64.b64decode(entries[2].canonical))
    document["event"]["data"]["actor"] = "mallory"
    entries[2] = entries[2].model_copy(
        update={"canonical": base64.b64encode(json.dumps(document).encode()).decode()}
    )
    report = verify_chain(entries, [], load_public_key(signer.public_pem()))
    assert not report.ok
    assert report.first_bad_seq == 3
    assert "altered" in report.reason


def test_a_consistently_rewritten_chain_contradicts_its_checkpoint(signer: Signer) -> None:
    original = _chain(3)
    signed = [_checkpoint(signer, original[2])]
    rewritten = _chain(3)
    # Rewrite entry 2 and every hash after it, consistently: only the checkpoint can tell.
    document = json.loads(base64.b64decode(rewritten[1].canonical))
    document["event"]["data"]["actor"] = "mallory"
    prev = bytes.fromhex(rewritten[0].hash)
    for i in (1, 2):
        canonical = (
            json.dumps(document).encode() if i == 1 else base64.b64decode(rewritten[i].canonical)
        )
        digest = link(prev, canonical)
        rewritten[i] = ExportedEntry(
            seq=i + 1,
            prev_hash=prev.hex(),
            hash=digest.hex(),
            canonical=base64.b64encode(canonical).decode(),
        )
        prev = digest
    assert verify_chain(rewritten, [], None).ok  # without a checkpoint it looks fine
    report = verify_chain(rewritten, signed, load_public_key(signer.public_pem()))
    assert not report.ok
    assert report.first_bad_seq == 3
    assert "rewritten" in report.reason


def test_a_missing_entry_is_a_gap(signer: Signer) -> None:
    entries = _chain(4)
    del entries[1]
    report = verify_chain(entries, [], load_public_key(signer.public_pem()))
    assert (report.ok, report.first_bad_seq) == (False, 2)
    assert "missing" in report.reason


def test_entries_cut_from_the_end_are_caught_by_a_later_checkpoint(signer: Signer) -> None:
    entries = _chain(4)
    signed = [_checkpoint(signer, entries[3])]
    report = verify_chain(entries[:2], signed, load_public_key(signer.public_pem()))
    assert not report.ok
    assert "beyond the chain's head" in report.reason


def test_a_checkpoint_signed_by_another_key_is_not_trusted(signer: Signer) -> None:
    entries = _chain(2)
    forger = Signer(Ed25519PrivateKey.generate())
    forged = _checkpoint(forger, entries[1]).model_copy(update={"key_id": signer.key_id})
    report = verify_chain(entries, [forged], load_public_key(signer.public_pem()))
    assert report.ok
    assert report.checkpoints_checked == 0
    assert report.checkpoints_unverifiable == 1


def test_an_export_file_round_trips_and_a_tampered_one_fails(
    signer: Signer, tmp_path: Path
) -> None:
    entries = _chain(3)
    path = tmp_path / "audit.jsonl"
    AuditExport(signer.public_pem(), [_checkpoint(signer, entries[2])], entries).write(path)
    read = AuditExport.read(path)
    key = load_public_key(str(read.public_key))
    assert verify_chain(read.entries, read.checkpoints, key).ok

    lines = path.read_text().splitlines()
    entry = json.loads(lines[2])
    canonical = base64.b64decode(entry["canonical"]).replace(b"ai-admin", b"ai-mallo")
    entry["canonical"] = base64.b64encode(canonical).decode()
    lines[2] = json.dumps(entry)
    path.write_text("\n".join(lines) + "\n")
    tampered = AuditExport.read(path)
    report = verify_chain(tampered.entries, tampered.checkpoints, key)
    assert (report.ok, report.first_bad_seq) == (False, 2)
