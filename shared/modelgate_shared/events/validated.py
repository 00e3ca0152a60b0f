"""`model.validated`: the validator's verdict on one submission."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import Field

from modelgate_shared.events.common import BenchmarkResult, CheckResult, Contract
from modelgate_shared.events.fields import RelativePath, S3Uri, Sha256Hex, ShortText
from modelgate_shared.events.submitted import ModelSubmitted


class Verdict(StrEnum):
    PASSED = "passed"
    FAILED = "failed"


class PinnedFile(Contract):
    """One file as the validator hashed it and where it copied those bytes."""

    path: RelativePath
    """Path of the file inside the artifact, as submitted."""
    sha256: Sha256Hex
    """SHA-256 the validator computed while streaming the submitted object, and checked on
    the pinned copy."""
    size: Annotated[int, Field(ge=0)]
    """Size in bytes of the bytes hashed."""
    uri: S3Uri
    """The pinned copy: `s3://<pinned bucket>/<submission id>/<path>`, written once by the
    validator under S3 Object Lock. The catalog serves this object, never the submitted one."""
    version_id: ShortText | None = None
    """S3 VersionId of the pinned copy: readers ask for this version, so a later write to the
    same key cannot change what they get."""
    submitted_uri: S3Uri
    """The object the file was submitted as (staging area or a referenced bucket)."""


GATE_SIGNATURE_NAME = "modelgate.sig"
"""The name of the gate's own signature beside the pinned files (and in every download): the
validator writes it, the registry accepts no other, so a submitted file may not take it."""


class PinnedSignature(Contract):
    """The gate's own OMS signature over the pinned files, stored beside them."""

    path: RelativePath
    """Its name in a download (`GATE_SIGNATURE_NAME`)."""
    uri: S3Uri
    version_id: ShortText | None = None
    sha256: Sha256Hex
    size: Annotated[int, Field(ge=0)]
    key_fingerprint: ShortText
    """`sha256:<hex>` of the gate's public key (PEM), as in the signature's key hint."""


class SignerIdentity(Contract):
    """Who signed the submitted model, as the validator verified it (OMS signature)."""

    method: ShortText
    """`key`, `certificate`, or `sigstore` (keyless)."""
    identity: ShortText
    """The key's fingerprint (`sha256:<hex>`), the certificate's subject (RFC 4514), or the
    keyless certificate's identity (an e-mail or a workflow URI)."""
    trusted_as: ShortText
    """The signing policy's signer that vouched for it."""
    signature: RelativePath
    """The signature file in the submission."""
    certificate_fingerprint: ShortText | None = None
    alternative_names: list[ShortText] = Field(default_factory=list, max_length=32)


class PinnedArtifact(Contract):
    """The validated files, copied server-side to a location that no service can change."""

    uri: S3Uri
    """Root of the pinned copies (a prefix ending in `/`, or the one object of a single-file
    artifact): what the registry publishes as the version's artifact."""
    files: list[PinnedFile]
    """Every file of the submission, in its order."""
    signature: PinnedSignature | None = None
    """The gate's OMS signature over `files`, when the validator has a signing key."""


class ModelValidated(Contract):
    submission: ModelSubmitted
    """The submission as validated; carried whole so the registry can register from this event
    alone, whatever order it reads the two topics in."""
    submitted_event_id: UUID
    """CloudEvents id of the `model.submitted` event this answers."""
    verdict: Verdict
    checks: list[CheckResult]
    """Every check in the order it ran, with status, detail and duration."""
    benchmark: BenchmarkResult | None = None
    """Serving benchmark, when a runner ran one."""
    certified_hardware_profiles: list[ShortText] = Field(default_factory=list)
    """Hardware profiles whose thresholds the benchmark met."""
    validated_at: datetime
    signer: SignerIdentity | None = None
    """Who signed the model (OMS), when it carried a signature that verified."""
    pinned: PinnedArtifact | None = None
    """The pinned files of a `passed` verdict (absent on `failed`). The registry refuses a
    `passed` verdict without a digest for every file: bytes never hashed are never
    registered."""
