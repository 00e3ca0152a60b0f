"""Which keys may sign which events: a JSON file (MODELGATE_TRUSTED_KEYS), reloaded on change.

    {"keys": [
      {"name": "modelgate-validator", "key_id": "9f1c...",
       "public_key": "-----BEGIN PUBLIC KEY-----...",
       "event_types": ["io.modelgate.model.validated.v1"]},
      {"name": "ci-bot", "public_key": "...", "event_types": ["io.modelgate.model.submitted.v1"],
       "submit_as": "self"}
    ]}

`name` is the principal the key proves. `submit_as` says for whom a key may sign
model.submitted: `self` (an external producer: the payload's `submitter` must be `name`) or
`anyone` (ingest and the registry, which authenticated the user over HTTP before publishing).
Trust is data: adding, rotating or revoking a key is an edit of this file, seen by every
service within a second, without a restart.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from nacl.signing import VerifyKey
from pydantic import BaseModel, ConfigDict, Field, field_validator

from modelgate_shared.events.catalog import EVENT_TYPES
from modelgate_shared.signing.keys import key_id, parse_public_pem

log = logging.getLogger(__name__)


class SubmitAs(StrEnum):
    SELF = "self"
    """Only for itself: a model.submitted it signs must name the key's `name` as submitter."""
    ANYONE = "anyone"
    """For any submitter: a service that authenticated the submitter itself."""


class TrustedKey(BaseModel):
    """One entry of the trusted-keys file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200)
    """The principal this key proves: a service (`modelgate-validator`) or a producer's
    subject (`ci-bot`), recorded as the submitter of what it submits for itself."""
    public_key: str
    """Ed25519 public key, PEM (SubjectPublicKeyInfo)."""
    key_id: str | None = None
    """Optional; when given it must be the key's id (catches a pasted wrong key)."""
    event_types: tuple[str, ...]
    """CloudEvent types this key may sign, e.g. `io.modelgate.model.submitted.v1`."""
    submit_as: SubmitAs = SubmitAs.SELF

    @field_validator("event_types")
    @classmethod
    def _known_types(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - EVENT_TYPES.keys())
        if unknown:
            raise ValueError(f"unknown event types {unknown}; known: {sorted(EVENT_TYPES)}")
        return value


class TrustFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keys: list[TrustedKey]


@dataclass(frozen=True, slots=True)
class Trusted:
    """A loaded entry: its metadata and its parsed public key."""

    entry: TrustedKey
    key_id: str
    public: Ed25519PublicKey
    verify_key: VerifyKey
    """The same key for libsodium, which checks an event's signature in half the CPU of
    OpenSSL (`proof.py`: every consumer verifies every event it reads)."""


def parse_trust(text: str) -> dict[str, Trusted]:
    """Key id -> loaded entry; ValueError (with where) for anything wrong in the file."""
    document = TrustFile.model_validate(json.loads(text))
    loaded: dict[str, Trusted] = {}
    for n, entry in enumerate(document.keys):
        try:
            public = parse_public_pem(entry.public_key)
        except ValueError as exc:
            raise ValueError(f"keys[{n}] ({entry.name}): bad public_key: {exc}") from exc
        kid = key_id(public)
        if entry.key_id is not None and entry.key_id != kid:
            raise ValueError(f"keys[{n}] ({entry.name}): key_id {entry.key_id} is not {kid}")
        if kid in loaded:
            raise ValueError(f"keys[{n}] ({entry.name}): key {kid} is listed twice")
        loaded[kid] = Trusted(entry, kid, public, VerifyKey(public.public_bytes_raw()))
    return loaded


class TrustedKeys:
    """The trusted keys of one file, reloaded when the file changes.

    The file is looked at (one `stat`) at most every `check_interval_s`; it is read again only
    when its modification time, size or inode changed. A file that cannot be read or parsed on
    reload leaves the keys as they were (logged): a half-written edit must not revoke every key.
    At construction a bad or missing file is an error: a service must not start trusting
    nothing it was told to trust.
    """

    def __init__(self, path: Path, *, check_interval_s: float = 1.0) -> None:
        self.path = path
        self.check_interval_s = check_interval_s
        self._fingerprint = self._stat()
        self._keys = parse_trust(path.read_text())
        self._checked = time.monotonic()

    def _stat(self) -> tuple[int, int, int]:
        st = os.stat(self.path)
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def _refresh(self) -> None:
        now = time.monotonic()
        if now - self._checked < self.check_interval_s:
            return
        self._checked = now
        try:
            fingerprint = self._stat()
            if fingerprint == self._fingerprint:
                return
            self._keys = parse_trust(self.path.read_text())
            self._fingerprint = fingerprint
            log.info("trusted keys reloaded from %s: %d keys", self.path, len(self._keys))
        except (OSError, ValueError) as exc:
            log.error(
                "trusted keys in %s not reloaded, keeping the previous ones: %s", self.path, exc
            )

    def get(self, kid: str) -> Trusted | None:
        self._refresh()
        return self._keys.get(kid)

    def __len__(self) -> int:
        self._refresh()
        return len(self._keys)


def write_trust_file(path: Path, entries: list[TrustedKey]) -> None:
    """Write the trusted-keys file atomically (readers see the old file or the new one)."""
    body = TrustFile(keys=entries).model_dump_json(indent=2, exclude_none=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(body + "\n")
    tmp.replace(path)
