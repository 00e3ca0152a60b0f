"""What a check plugin is, and what it gets to work with."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from uuid import UUID

from modelgate_shared.events import (
    BenchmarkResult,
    CheckResult,
    CheckStatus,
    ModelSubmitted,
    PinnedArtifact,
    SignerIdentity,
)
from modelgate_validator.artifact_reader import ArtifactReader
from modelgate_validator.files import SubmissionFiles


@dataclass
class CheckContext:
    submission: ModelSubmitted
    reader: ArtifactReader
    """S3 as it is (runners fetch models through it)."""
    files: SubmissionFiles
    """This submission's files: each small one read once (see files.py)."""
    scratch: Path
    """Where this submission's local copies go; created when first needed, removed after."""
    event_id: UUID | None = None
    """CloudEvents id of the `model.submitted` being validated: names the pinned folder, so a
    later event that reuses a submission id never lands beside bytes already served."""
    results: list[CheckResult] = field(default_factory=list)
    """Results of the checks that ran before this one."""
    sizes: dict[str, int] = field(default_factory=dict)
    """Actual size of each file (by path), as integrity found it."""
    benchmark: BenchmarkResult | None = None
    certified_profiles: list[str] = field(default_factory=list)
    pinned: PinnedArtifact | None = None
    """The validated files' pinned copies, once the pinning check made them."""
    signer: SignerIdentity | None = None
    """Who signed the model (OMS), once the signature check verified it."""
    storage_error: str | None = None
    """Set once S3 stayed unreachable through every retry: later checks do not wait again."""

    @property
    def work_dir(self) -> Path:
        self.scratch.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self.scratch

    @property
    def earlier_failed(self) -> bool:
        return any(r.status == CheckStatus.FAILED for r in self.results)


@dataclass(frozen=True)
class Outcome:
    status: CheckStatus
    detail: str

    @classmethod
    def passed(cls, detail: str) -> Outcome:
        return cls(CheckStatus.PASSED, detail)

    @classmethod
    def failed(cls, detail: str) -> Outcome:
        return cls(CheckStatus.FAILED, detail)

    @classmethod
    def skipped(cls, detail: str) -> Outcome:
        return cls(CheckStatus.SKIPPED, detail)


class Check(Protocol):
    name: str
    needs_storage: bool
    """Whether it reads the artifact (and so cannot run while S3 is unreachable)."""

    async def run(self, ctx: CheckContext) -> Outcome: ...
