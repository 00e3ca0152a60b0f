"""The public event contract: CloudEvents envelopes around pydantic data models."""

from modelgate_shared.events.catalog import (
    ARCHIVED,
    EVENT_TYPES,
    REGISTERED,
    SUBMITTED,
    TRANSITIONED,
    VALIDATED,
    EventType,
)
from modelgate_shared.events.codec import PoisonMessage, decode, encode, new_event
from modelgate_shared.events.common import (
    Artifact,
    ArtifactFile,
    ArtifactFormat,
    BenchmarkResult,
    BenchmarkRun,
    CheckResult,
    CheckStatus,
    HardwareInfo,
    LatencyPercentiles,
    ModelCard,
)
from modelgate_shared.events.envelope import CONTENT_TYPE, CloudEvent
from modelgate_shared.events.lifecycle import (
    ModelArchived,
    ModelRegistered,
    ModelTransitioned,
    RegistryEvent,
    Stage,
    TransitionKind,
    VersionStatus,
)
from modelgate_shared.events.submitted import ModelSubmitted
from modelgate_shared.events.validated import (
    ModelValidated,
    PinnedArtifact,
    PinnedFile,
    PinnedSignature,
    SignerIdentity,
    Verdict,
)

__all__ = [
    "ARCHIVED",
    "CONTENT_TYPE",
    "EVENT_TYPES",
    "REGISTERED",
    "SUBMITTED",
    "TRANSITIONED",
    "VALIDATED",
    "Artifact",
    "ArtifactFile",
    "ArtifactFormat",
    "BenchmarkResult",
    "BenchmarkRun",
    "CheckResult",
    "CheckStatus",
    "CloudEvent",
    "EventType",
    "HardwareInfo",
    "LatencyPercentiles",
    "ModelArchived",
    "ModelCard",
    "ModelRegistered",
    "ModelSubmitted",
    "ModelTransitioned",
    "ModelValidated",
    "PinnedArtifact",
    "PinnedFile",
    "PinnedSignature",
    "PoisonMessage",
    "RegistryEvent",
    "SignerIdentity",
    "Stage",
    "TransitionKind",
    "Verdict",
    "VersionStatus",
    "decode",
    "encode",
    "new_event",
]
