"""The visibility rule per role, and which artifact changes a version's status allows."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from modelgate_registry import artifact_rules
from modelgate_registry.errors import DomainError
from modelgate_registry.records import VersionRecord
from modelgate_registry.visibility import Audience
from modelgate_shared.auth import Principal, Role

STATUSES = ("PENDING", "VALIDATING", "REGISTERED", "REJECTED", "ARCHIVED")


def _audience(role: Role) -> Audience:
    return Audience.of(Principal(f"someone-{role}", frozenset({role})))


@pytest.mark.parametrize("role", [Role.ADMIN, Role.DATA_SCIENTIST])
def test_reviewers_see_every_version_and_their_queries_are_unfiltered(role: Role) -> None:
    audience = _audience(role)
    assert all(audience.sees_version("ARCHIVED", s) for s in STATUSES)
    assert audience.sees_model("ARCHIVED")
    assert audience.version_sql("v") == audience.artifact_sql("a") == "TRUE"


@pytest.mark.parametrize("role", [Role.VIEWER, Role.DEVELOPER])
def test_readers_see_registered_versions_of_live_models_only(role: Role) -> None:
    audience = _audience(role)
    assert [s for s in STATUSES if audience.sees_version("LIVE", s)] == ["REGISTERED"]
    assert not audience.sees_version("ARCHIVED", "REGISTERED")
    assert not audience.sees_model("ARCHIVED")
    assert "v.status = 'REGISTERED'" in audience.version_sql("v")
    assert "state = 'LIVE'" in audience.version_sql("v")
    assert "a.version_id" in audience.artifact_sql("a")


def _version(status: str) -> VersionRecord:
    now = datetime.now(UTC)
    return VersionRecord(
        id=1,
        model_id=1,
        version="1.0.0",
        status=status,
        status_before_archive=None,
        status_reason="",
        stage=None,
        submission_id=uuid4(),
        submitter="ai-scientist",
        author=None,
        description="",
        labels={},
        model_card={},
        lineage={},
        artifact=None,
        validation=None,
        benchmark=None,
        hardware_profiles=[],
        requested_profile=None,
        custom_properties={},
        external_id=None,
        created_at=now,
        updated_at=now,
    )


@pytest.mark.parametrize("status", [s for s in STATUSES if s != "PENDING"])
def test_past_pending_a_model_artifact_is_fixed(status: str) -> None:
    version = _version(status)
    with pytest.raises(DomainError) as new:
        artifact_rules.check_new("model-artifact", version)
    assert new.value.status == 409
    with pytest.raises(DomainError) as changed:
        artifact_rules.check_change("model-artifact", version, ["uri", "description"])
    assert "(uri)" in changed.value.reason
    artifact_rules.check_change("model-artifact", version, ["description", "customProperties"])
    for other in ("doc-artifact", "metric", "dataset-artifact", "parameter"):
        artifact_rules.check_new(other, version)
        artifact_rules.check_change(other, version, ["uri"])


def test_a_pending_version_and_a_loose_artifact_take_changes() -> None:
    artifact_rules.check_new("model-artifact", _version("PENDING"))
    artifact_rules.check_change("model-artifact", _version("PENDING"), ["uri"])
    artifact_rules.check_change("model-artifact", None, ["uri"])
