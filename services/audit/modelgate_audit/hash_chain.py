"""The hash chain: each entry's hash covers the previous hash and its own canonical bytes."""

from __future__ import annotations

import hashlib

GENESIS = bytes(32)
"""prev_hash of the first entry."""


def link(prev_hash: bytes, canonical: bytes) -> bytes:
    return hashlib.sha256(prev_hash + canonical).digest()
