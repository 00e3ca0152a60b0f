"""What may change in a version's artifacts once the version has entered the gate.

The model artifact is what the validator checks: once a version is past PENDING (validating,
registered, rejected or archived) its model artifact is fixed, and no second one may be added,
or the catalog would list bytes the gate never saw. A rejected version is not reopened either:
the gate's answer to new bytes is a new version.

Other artifact types (doc-artifact, dataset-artifact, metric, parameter) describe a version
rather than make it up: the gate does not read them and the registry never serves their bytes,
so they may still be added and changed on a version in any state, and are shown with it.
On a fixed model artifact only its annotations (description, customProperties) may change.
"""

from __future__ import annotations

from modelgate_registry import errors
from modelgate_registry.records import VersionRecord
from modelgate_shared.events import VersionStatus

MODEL_ARTIFACT = "model-artifact"
ANNOTATIONS = frozenset({"description", "customProperties"})
"""Fields of a fixed model artifact that may still change: they say nothing about its bytes."""


def is_fixed(version: VersionRecord | None) -> bool:
    """Whether this version's model artifact can no longer be added or changed."""
    return version is not None and version.status != VersionStatus.PENDING


def check_new(artifact_type: str, version: VersionRecord) -> None:
    """Refuse a model artifact added to a version that has entered the gate (409)."""
    if artifact_type == MODEL_ARTIFACT and is_fixed(version):
        raise errors.conflict(
            f"version {version.version} is {version.status}: a model artifact can be added "
            "only while a version is PENDING, since the gate validates what it was given; "
            "register a new version for new bytes"
        )


def check_change(artifact_type: str, version: VersionRecord | None, changed: list[str]) -> None:
    """Refuse changes to a fixed model artifact beyond its annotations (409)."""
    frozen = sorted(set(changed) - ANNOTATIONS)
    if artifact_type == MODEL_ARTIFACT and frozen and version is not None and is_fixed(version):
        raise errors.conflict(
            f"the model artifact of version {version.version} ({version.status}) is what the "
            f"gate validated and cannot change ({', '.join(frozen)}); only "
            f"{' and '.join(sorted(ANNOTATIONS))} may; register a new version instead"
        )
