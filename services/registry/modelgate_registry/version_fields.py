"""What a submission and a passed verdict write on a version's row."""

from __future__ import annotations

from typing import Any

from modelgate_registry.pinned_files import pinned_artifact
from modelgate_shared.events import ModelSubmitted, ModelValidated


def verdict_fields(val: ModelValidated, report: dict[str, Any]) -> dict[str, Any]:
    """What a passed verdict establishes on the version, whatever happens next (review,
    auto-approval, or an archive that keeps it for a restore)."""
    return {
        "validation": report,
        "benchmark": val.benchmark.model_dump(mode="json") if val.benchmark else None,
        "hardware_profiles": list(val.certified_hardware_profiles),
        "artifact": pinned_artifact(val),
        "signer": val.signer.model_dump(mode="json") if val.signer else None,
    }


def submission_fields(sub: ModelSubmitted) -> dict[str, Any]:
    """What a submission records on its version: card, labels, lineage, artifact, uploader."""
    card = sub.model_card
    return {
        "description": card.description,
        "labels": dict(sub.labels),
        "model_card": card.model_dump(mode="json", exclude_none=True),
        "lineage": {
            k: v
            for k, v in {
                "source": sub.source,
                "training_data_version": card.training_data_version,
                "code_commit": card.code_commit,
                "submitted_at": sub.submitted_at.isoformat(),
            }.items()
            if v
        },
        "artifact": sub.artifact.model_dump(mode="json"),
        # Who supplied the bytes: the submitter of an ingest or Kafka submission, whoever
        # attached the model artifact of a Kubeflow version (four-eyes checks both).
        "uploader": sub.submitter,
        "requested_profile": sub.hardware_profile,
    }
