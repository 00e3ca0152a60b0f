"""Pinning: after every other check passed, the validated bytes are copied where nothing can
change them, and the verdict names those copies (see pinning.py). Last in the order: a
submission that failed anything is never copied."""

from __future__ import annotations

from modelgate_shared.events import PinnedArtifact, PinnedFile
from modelgate_validator.checks.base import CheckContext, Outcome
from modelgate_validator.pinning import Pinner, PinRefused, PinTarget


class PinningCheck:
    name = "pinning"
    needs_storage = True

    def __init__(self, bucket: str, *, retain_days: int, mode: str = "GOVERNANCE") -> None:
        self.bucket = bucket
        self.retain_days = retain_days
        self.mode = mode

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
        except PinRefused as exc:
            return Outcome.failed(str(exc))
        single = artifact.files[0].path if artifact.uri == artifact.files[0].uri else None
        ctx.pinned = PinnedArtifact(uri=target.root(single), files=pinned)
        return Outcome.passed(
            f"{len(pinned)} file{'s' if len(pinned) != 1 else ''} copied to {ctx.pinned.uri}, "
            f"SHA-256 confirmed, locked (S3 Object Lock, {self.mode.lower()} mode) for "
            f"{self.retain_days} days"
        )
