"""Signed checkpoints: (seq, head hash, time) signed with a key the database never sees.

Whoever can write the database could rewrite the whole chain consistently; a checkpoint
published outside it (a compacted Kafka topic and an S3 object) pins the chain's head at that
moment, the Certificate Transparency signed-tree-head idea. Verification compares the chain
with every checkpoint it can read.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from modelgate_shared.kafka.publisher import EventPublisher
from modelgate_shared.signing.keys import generate_key_file, key_id, load_private_key

__all__ = [
    "Checkpoint",
    "CheckpointStore",
    "Checkpointer",
    "Signer",
    "generate_key_file",
    "genuine",
    "key_id",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    head_hash: str
    """Hex SHA-256 of entry `seq`."""
    time: str
    key_id: str
    signature: str = ""
    """Base64 Ed25519 signature of `payload()`."""

    def payload(self) -> bytes:
        body = {
            "seq": self.seq,
            "head_hash": self.head_hash,
            "time": self.time,
            "key_id": self.key_id,
        }
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Checkpoint:
        """A checkpoint read back; ValueError for anything else (whoever may write the bucket
        can put any object under the prefix)."""
        try:
            fields = json.loads(data)
            checkpoint = cls(**fields)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"not a checkpoint: {exc}") from exc
        typed = isinstance(checkpoint.seq, int) and not isinstance(checkpoint.seq, bool)
        texts = (checkpoint.head_hash, checkpoint.time, checkpoint.key_id, checkpoint.signature)
        if not typed or not all(isinstance(t, str) for t in texts):
            raise ValueError("not a checkpoint: a field has the wrong type")
        return checkpoint


class Signer:
    def __init__(self, private: Ed25519PrivateKey) -> None:
        self.private = private
        self.public = private.public_key()
        self.key_id = key_id(self.public)

    @classmethod
    def from_file(cls, path: Path) -> Signer:
        return cls(load_private_key(path))

    def sign(self, seq: int, head_hash: bytes) -> Checkpoint:
        unsigned = Checkpoint(seq, head_hash.hex(), datetime.now(UTC).isoformat(), self.key_id)
        signature = base64.b64encode(self.private.sign(unsigned.payload())).decode()
        return Checkpoint(**{**asdict(unsigned), "signature": signature})

    def public_pem(self) -> str:
        return self.public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()


def genuine(checkpoint: Checkpoint, public: Ed25519PublicKey) -> bool:
    try:
        public.verify(base64.b64decode(checkpoint.signature), checkpoint.payload())
    except (InvalidSignature, ValueError):
        return False
    return checkpoint.key_id == key_id(public)


class CheckpointStore:
    """Where checkpoints live outside the database: S3 objects (read back to verify) and the
    compacted Kafka topic `audit.checkpoints` (keyed by seq, so every one is kept)."""

    def __init__(self, s3: Any, bucket: str, prefix: str, publisher: EventPublisher) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.prefix = prefix.rstrip("/")
        self.publisher = publisher

    async def publish(self, checkpoint: Checkpoint) -> None:
        key = f"{checkpoint.seq:020d}"
        body = checkpoint.to_json()
        await self.s3.put_object(
            Bucket=self.bucket,
            Key=f"{self.prefix}/{key}.json",
            Body=body,
            ContentType="application/json",
        )
        await self.publisher.publish_raw(
            self.publisher.topics.checkpoints,
            key=key.encode(),
            value=body,
            headers={"content-type": "application/json"},
        )

    async def recent(self, limit: int = 100) -> list[Checkpoint]:
        """The newest `limit` checkpoints (ascending seq)."""
        keys: list[str] = []
        paginator = self.s3.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=self.bucket, Prefix=f"{self.prefix}/"):
            keys += [item["Key"] for item in page.get("Contents", [])]
        found = []
        for key in sorted(keys)[-limit:]:
            answer = await self.s3.get_object(Bucket=self.bucket, Key=key)
            body = answer["Body"]
            try:
                found.append(Checkpoint.from_json(await body.read()))
            except ValueError as exc:
                # Not evidence either way: only genuine signed checkpoints vouch for the chain,
                # and one that is missing or garbled vouches for nothing.
                log.warning("skipped s3://%s/%s: %s", self.bucket, key, exc)
            finally:
                body.close()
        return found


class Checkpointer:
    """Signs and publishes the head every interval, when it moved."""

    def __init__(
        self, pool: asyncpg.Pool, signer: Signer, store: CheckpointStore, interval_s: float
    ) -> None:
        self.pool = pool
        self.signer = signer
        self.store = store
        self.interval_s = interval_s
        self.last_seq = 0

    async def checkpoint(self) -> Checkpoint | None:
        head = await self.pool.fetchrow("SELECT seq, hash FROM audit.log ORDER BY seq DESC LIMIT 1")
        if head is None or head["seq"] <= self.last_seq:
            return None
        checkpoint = self.signer.sign(head["seq"], bytes(head["hash"]))
        await self.store.publish(checkpoint)
        self.last_seq = checkpoint.seq
        return checkpoint

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.checkpoint()
            except Exception as exc:  # keep checkpointing through outages
                log.warning("checkpoint failed (%s: %s); will retry", type(exc).__name__, exc)
