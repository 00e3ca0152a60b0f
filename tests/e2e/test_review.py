"""The human gatekeeper: a validated version waits for an approver unless a policy rule
approves it; the approver is never who supplied it; the decision is in the version's history,
its events and the audit log; a rejection in review is final."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from modelgate_shared.events import ModelRegistered, ModelTransitioned
from modelgate_testkit.kafka import TopicTap
from modelgate_testkit.models import tiny_safetensors
from modelgate_testkit.namespace import Namespace
from modelgate_testkit.review import manual_review, policy
from tests.support.audit import wait_for_entries
from tests.support.gate import Gate, metadata, submission_state, upload, wait_for_status

pytestmark = pytest.mark.e2e


async def _submit(
    gate: Gate, ns: Namespace, name: str, version: str = "1.0.0", *, role: str, seed: int = 0
) -> dict[str, Any]:
    answer = await upload(
        gate, ns, metadata(name, version), [("model.safetensors", tiny_safetensors(seed))], role
    )
    assert answer.status_code == 202, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def _review(  # noqa: PLR0917 (reads as the sentence it tests)
    gate: Gate, ns: Namespace, name: str, version: str, role: str, decision: str, reason: str
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=gate["registry"].url, timeout=30) as client:
        return await client.post(
            f"/api/v1/models/{name}/versions/{version}/review",
            json={"decision": decision, "reason": reason},
            headers=ns.auth(role),
        )


async def _get(gate: Gate, ns: Namespace, path: str, role: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=gate["registry"].url, timeout=30) as client:
        return await client.get(path, headers=ns.auth(role))


async def test_a_validated_version_waits_for_an_approver_and_is_hidden_until_approved(
    gate: Gate, namespace: Namespace, tap: TopicTap
) -> None:
    name = "reviewed-model"
    with manual_review(namespace.review_policy):
        await _submit(gate, namespace, name, "1.0.0", role="data-scientist", seed=1)
        await wait_for_status(gate, namespace, name, "1.0.0", {"PENDING_REVIEW"})
        await _submit(gate, namespace, name, "1.1.0", role="data-scientist", seed=2)
        waiting = await wait_for_status(gate, namespace, name, "1.1.0", {"PENDING_REVIEW"})
    assert waiting["review_requested_at"] is not None
    assert waiting["review"] is None
    assert waiting["artifact"]["uri"].startswith(f"s3://{namespace.pinned_bucket}/"), (
        "what the reviewer judges is the validated copy"
    )

    # Hidden from developers and viewers on every API, shown to submitters and approvers.
    path = f"/api/v1/models/{name}/versions/1.0.0"
    for role in ("developer", "viewer"):
        assert (await _get(gate, namespace, path, role)).status_code == 404
    kubeflow = await _get(
        gate, namespace, f"/api/model_registry/v1/model_versions/{waiting['id']}", "admin"
    )
    assert kubeflow.json()["customProperties"]["modelgate.status"]["string_value"] == (
        "PENDING_REVIEW"
    )
    hidden = await _get(
        gate, namespace, f"/api/model_registry/v1/model_versions/{waiting['id']}", "developer"
    )
    assert hidden.status_code == 404

    # The submitter finds their own versions waiting, whoever else submitted what.
    own = await _get(
        gate,
        namespace,
        "/api/v1/versions?supplied_by=ai-scientist&status=PENDING_REVIEW&limit=500",
        "data-scientist",
    )
    assert {(v["model_name"], v["version"]) for v in own.json()["items"]} >= {
        (name, "1.0.0"),
        (name, "1.1.0"),
    }
    assert all(v["submitter"] == "ai-scientist" for v in own.json()["items"])

    # The queue: oldest first, with the report, and the version to compare against.
    queue = await _get(gate, namespace, "/api/v1/review-queue?limit=500", "admin")
    assert queue.status_code == 200, queue.text
    mine = [i for i in queue.json()["items"] if i["model_name"] == name]
    assert [i["version"] for i in mine] == ["1.0.0", "1.1.0"]
    assert mine[0]["validation"]["verdict"] == "passed"
    assert mine[0]["previous_version"] is None
    waits = [i["waiting_since"] for i in queue.json()["items"]]
    assert waits == sorted(waits)
    for role in ("data-scientist", "developer", "viewer"):
        assert (await _get(gate, namespace, "/api/v1/review-queue", role)).status_code == 403

    # Only an approver decides; the submitter's role cannot.
    refused = await _review(gate, namespace, name, "1.0.0", "data-scientist", "approve", "mine")
    assert refused.status_code == 403
    approved = await _review(gate, namespace, name, "1.0.0", "admin", "approve", "card reviewed")
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["status"] == "REGISTERED"
    assert body["stage"] == "development"
    assert body["review"]["decision"] == "approved"
    assert body["review"]["by"] == "ai-admin"
    assert (await _get(gate, namespace, path, "developer")).status_code == 200
    shown = await _get(
        gate, namespace, f"/api/model_registry/v1/model_versions/{body['id']}", "developer"
    )
    properties = shown.json()["customProperties"]
    assert properties["modelgate.status"]["string_value"] == "REGISTERED"
    assert properties["modelgate.reviewer"]["string_value"] == "ai-admin"
    assert properties["modelgate.review_reason"]["string_value"] == "card reviewed"
    again = await _review(gate, namespace, name, "1.0.0", "admin", "approve", "twice")
    assert again.status_code == 409
    assert "already approved" in again.json()["message"]

    # The next version is compared against the one now registered.
    queue = await _get(gate, namespace, "/api/v1/review-queue?limit=500", "admin")
    (item,) = [i for i in queue.json()["items"] if i["model_name"] == name]
    assert item["version"] == "1.1.0"
    assert item["previous_version"] == "1.0.0"

    # Who approved, when and why: history, the event, the audit log.
    detail = (await _get(gate, namespace, path, "admin")).json()
    last = detail["transitions"][-1]
    assert (last["from_value"], last["to_value"]) == ("PENDING_REVIEW", "REGISTERED")
    assert last["approver"] == "ai-admin"
    assert last["reason"] == "card reviewed"
    (registered,) = await tap.wait_for(
        lambda s: (
            s.event is not None
            and isinstance(s.event.data, ModelRegistered)
            and s.event.data.name == name
        )
    )
    assert registered.event is not None
    assert isinstance(registered.event.data, ModelRegistered)
    assert registered.event.data.approver == "ai-admin"
    assert registered.event.data.reason == "card reviewed"
    entries = await wait_for_entries(gate["audit"].url, namespace, 5, model=name)
    actions = {e["action"]: e for e in entries if e["version"] == "1.0.0"}
    assert "review_requested" in actions
    assert actions["model_registered"]["approver"] == "ai-admin"
    assert actions["model_registered"]["reason"] == "card reviewed"

    # Ingest's status follows the review.
    submission = str(detail["submission_id"])
    state = await submission_state(
        gate,
        namespace,
        f"/api/v1/submissions/{submission}",
        lambda s: s.get("status") == "registered",
    )
    assert "approved by ai-admin" in state["detail"]


async def test_four_eyes_refuses_an_approver_who_submitted_the_version(
    gate: Gate, namespace: Namespace
) -> None:
    with manual_review(namespace.review_policy):
        await _submit(gate, namespace, "self-reviewed", role="admin", seed=3)
        await wait_for_status(gate, namespace, "self-reviewed", "1.0.0", {"PENDING_REVIEW"})
    refused = await _review(gate, namespace, "self-reviewed", "1.0.0", "admin", "approve", "ok")
    assert refused.status_code == 403
    assert "four-eyes" in refused.json()["message"]
    still = await wait_for_status(gate, namespace, "self-reviewed", "1.0.0", {"PENDING_REVIEW"})
    assert still["review"] is None


async def test_a_rejection_in_review_is_final_and_says_why(
    gate: Gate, namespace: Namespace, tap: TopicTap
) -> None:
    name = "review-rejected"
    with manual_review(namespace.review_policy):
        first = await _submit(gate, namespace, name, role="data-scientist", seed=4)
        await wait_for_status(gate, namespace, name, "1.0.0", {"PENDING_REVIEW"})
    blank = await _review(gate, namespace, name, "1.0.0", "admin", "reject", "")
    assert blank.status_code == 422, "a decision needs a reason"
    rejected = await _review(
        gate, namespace, name, "1.0.0", "admin", "reject", "licence does not allow serving"
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "REJECTED"
    assert "licence does not allow serving" in rejected.json()["status_reason"]
    assert rejected.json()["review"]["decision"] == "rejected"
    await tap.wait_for(
        lambda s: (
            s.event is not None
            and isinstance(s.event.data, ModelTransitioned)
            and s.event.data.name == name
            and s.event.data.to_value == "REJECTED"
            and s.event.data.approver == "ai-admin"
        )
    )
    state = await submission_state(
        gate,
        namespace,
        f"/api/v1/submissions/{first['submission_id']}",
        lambda s: s.get("status") == "rejected",
    )
    assert "licence does not allow serving" in state["detail"]
    late = await _review(gate, namespace, name, "1.0.0", "admin", "approve", "changed my mind")
    assert late.status_code == 409

    # The same version number again: refused, the reviewer's rejection stands.
    again = await _submit(gate, namespace, name, role="data-scientist", seed=5)
    refused = await submission_state(
        gate,
        namespace,
        f"/api/v1/submissions/{again['submission_id']}",
        lambda s: s.get("status") == "rejected",
    )
    assert "already exists" in refused["detail"]
    kept = await wait_for_status(gate, namespace, name, "1.0.0", {"REJECTED"})
    assert kept["submission_id"] == first["submission_id"]


async def test_the_auto_approval_policy_is_data_reloaded_without_a_restart(
    gate: Gate, namespace: Namespace
) -> None:
    rules = """
rules:
  - name: trusted-team
    description: the platform team's small models
    model_name: "auto-*"
    labels: {tier: trusted}
"""
    with policy(namespace.review_policy, rules):
        trusted = metadata("auto-trusted", labels={"tier": "trusted"})
        other = metadata("auto-other", labels={"tier": "experimental"})
        for meta, seed in ((trusted, 6), (other, 7)):
            answer = await upload(
                gate, namespace, meta, [("model.safetensors", tiny_safetensors(seed))]
            )
            assert answer.status_code == 202, answer.text
        approved = await wait_for_status(gate, namespace, "auto-trusted", "1.0.0", {"REGISTERED"})
        waiting = await wait_for_status(gate, namespace, "auto-other", "1.0.0", {"PENDING_REVIEW"})
        assert approved["review"]["by"] == "auto-approval:trusted-team"
        assert waiting["review"] is None
        shown = (await _get(gate, namespace, "/api/v1/review-policy", "admin")).json()
        assert [r["name"] for r in shown["rules"]] == ["trusted-team"]
        assert shown["error"] is None

        # A broken file is never half-applied: the rules in force stay, the error is shown.
        namespace.review_policy.write_text("rules: [{name: 'bad rule!', colour: blue}]\n")
        shown = (await _get(gate, namespace, "/api/v1/review-policy", "admin")).json()
        assert [r["name"] for r in shown["rules"]] == ["trusted-team"]
        assert "invalid policy" in shown["error"]
    viewer = await _get(gate, namespace, "/api/v1/review-policy", "viewer")
    assert viewer.status_code == 403
