"""The bytes an audit entry hashes: RFC 8785 (JCS) canonical JSON of the entry document.

The document holds the sequence number, the record time, the topic and the whole CloudEvent as
received, so every column of the row can be re-derived from the bytes and checked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import rfc8785


def entry_document(
    seq: int, recorded_at: datetime, topic: str, event: dict[str, Any]
) -> dict[str, Any]:
    return {"seq": seq, "recorded_at": recorded_at.isoformat(), "topic": topic, "event": event}


def canonical_bytes(document: dict[str, Any]) -> bytes:
    data: bytes = rfc8785.dumps(document)
    return data
