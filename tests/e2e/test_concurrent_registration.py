"""Two registrations of the same name and version at once: exactly one wins."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from modelgate_testkit.models import tiny_safetensors
from modelgate_testkit.namespace import Namespace
from tests.support.gate import Gate, metadata, submission_state, upload, wait_for_status

pytestmark = pytest.mark.e2e


async def test_concurrent_kubeflow_creates_one_wins_one_conflicts(
    gate: Gate, namespace: Namespace
) -> None:
    base = f"{gate['registry'].url}/api/model_registry/v1"
    admin = namespace.auth("admin")
    async with httpx.AsyncClient(timeout=30) as http:
        model = await http.post(f"{base}/registered_models", headers=admin, json={"name": "raced"})
        body = {"name": "1.0.0", "registeredModelId": model.json()["id"]}
        answers = await asyncio.gather(
            *[http.post(f"{base}/model_versions", headers=admin, json=body) for _ in range(2)]
        )
    codes = sorted(a.status_code for a in answers)
    assert codes == [201, 409], [a.text for a in answers]
    conflict = next(a for a in answers if a.status_code == 409).json()
    assert conflict == {
        "code": "409",
        "message": "version '1.0.0' of registered model 'raced' already exists",
    }


async def test_concurrent_submissions_one_registered_one_refused(
    gate: Gate, namespace: Namespace
) -> None:
    answers = await asyncio.gather(
        *[
            upload(
                gate,
                namespace,
                metadata("raced-upload", "2.0.0"),
                [("model.safetensors", tiny_safetensors(seed))],
            )
            for seed in (31, 32)
        ]
    )
    assert [a.status_code for a in answers] == [202, 202]
    version = await wait_for_status(gate, namespace, "raced-upload", "2.0.0", {"REGISTERED"})
    winner = version["submission_id"]
    states = {
        a.json()["submission_id"]: await submission_state(
            gate,
            namespace,
            a.json()["status_url"],
            lambda s: s["status"] in ("registered", "rejected"),
        )
        for a in answers
    }
    assert states[winner]["status"] == "registered"
    (loser,) = [s for k, s in states.items() if k != winner]
    assert loser["status"] == "rejected"
    assert "version 2.0.0 of raced-upload already exists" in loser["detail"]
