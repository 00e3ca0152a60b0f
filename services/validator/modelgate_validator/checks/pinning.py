"""Pinning: after every other check passed, the validated bytes are copied where nothing can
change them, and the verdict names those copies (see pinning.py). Last in the order: a
submission that failed anything is never copied."""

from __future__ import annotations

import asyncio
import hashlib

from modelgate_shared.events import PinnedArtifact, PinnedFile, PinnedSignature
from modelgate_shared.events.validated import GATE_SIGNATURE_NAME
from modelgate_validator import oms
from modelgate_validator.checks.base import CheckContext, Outcome
from modelgate_validator.pinning import Pinner, PinRefused, PinTarget

INLINE_SIGN_FILES = 64
"""Up to this many files the gate's signature is made on the event loop: 0.2 ms of CPU for a
few files, less than the hop to a worker thread and back costs (a futex and the loop's wake-up
pipe); the manifest grows with the files, so larger ones are signed on a thread."""


class PinningCheck:
    name = "pinning"
    needs_storage = True

    def __init__(
        self,
        bucket: str,
        *,
        retain_days: int,
        mode: str = "GOVERNANCE",
        gate_key_pem: bytes | None = None,
    ) -> None:
        self.bucket = bucket
        self.retain_days = retain_days
        self.mode = mode
        self.gate_key_pem = gate_key_pem
        """The gate's EC P-256 private key: signs the pinned files (OMS) when set."""
        self.gate_key_fingerprint = (
            oms.key_fingerprint(oms.public_key_pem_of(gate_key_pem)) if gate_key_pem else None
        )
        """Named in every verdict's signature: worked out once, not per submission."""

    async def run(self, ctx: CheckContext) -> Outcome:
        if ctx.earlier_failed:
            return Outcome.skipped("not pinned: the submission failed an earlier check")
        artifact = ctx.submission.artifact
        unhashed = [f.path for f in artifact.files if f.uri not in ctx.files.hashed]
        if unhashed:
            return Outcome.failed(
                f"bytes never hashed cannot be registered: {', '.join(unhashed[:5])}"
            )
        target = PinTarget(self.bucket, ctx.submission.submission_id, ctx.event_id)
        pinner = Pinner(ctx.reader, retain_days=self.retain_days, mode=self.mode)
        pinned: list[PinnedFile] = []
        try:
            # One at a time: server-side copies cost the validator nothing but their wait,
            # and S3 copies the bytes at its own pace either way.
            for item in artifact.files:
                pinned.append(await pinner.pin(item, ctx.files.hashed[item.uri], target))
            signature = await self._gate_signature(ctx, pinner, target, pinned)
        except PinRefused as exc:
            return Outcome.failed(str(exc))
        single = artifact.files[0].path if artifact.uri == artifact.files[0].uri else None
        ctx.pinned = PinnedArtifact(uri=target.root(single), files=pinned, signature=signature)
        signed = f"; signed by the gate ({signature.key_fingerprint})" if signature else ""
        return Outcome.passed(
            f"{len(pinned)} file{'s' if len(pinned) != 1 else ''} copied to {ctx.pinned.uri}, "
            f"SHA-256 confirmed, locked (S3 Object Lock, {self.mode.lower()} mode) for "
            f"{self.retain_days} days{signed}"
        )

    async def _gate_signature(
        self, ctx: CheckContext, pinner: Pinner, target: PinTarget, pinned: list[PinnedFile]
    ) -> PinnedSignature | None:
        """The gate's OMS signature over the pinned digests (no file is read again), stored
        locked beside the copies as `modelgate.sig`."""
        if self.gate_key_pem is None or self.gate_key_fingerprint is None:
            return None
        key = self.gate_key_pem
        files = {p.path: p.sha256 for p in pinned}
        if len(files) <= INLINE_SIGN_FILES:
            body = oms.sign_digests(ctx.submission.name, files, key)
        else:
            body = await asyncio.to_thread(oms.sign_digests, ctx.submission.name, files, key)
        uri, version_id = await pinner.put_locked(target, GATE_SIGNATURE_NAME, body)
        return PinnedSignature(
            path=GATE_SIGNATURE_NAME,
            uri=uri,
            version_id=version_id,
            sha256=hashlib.sha256(body).hexdigest(),
            size=len(body),
            key_fingerprint=self.gate_key_fingerprint,
        )
