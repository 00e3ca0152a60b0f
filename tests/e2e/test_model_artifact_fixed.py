"""A version past PENDING accepts no new or changed model artifact (issue 17, finding 3).

As a data-scientist, posting a second model artifact to a registered version answered 201, and
the catalog then listed bytes the gate never saw. Now adding one (directly, or by "linking" a
standalone artifact), or changing what the validated one points at, is a 409 with the reason;
its annotations and the version's documents may still change (`artifact_rules`).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from modelgate_testkit.namespace import Namespace
from tests.support.gate import Gate, register

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("prefix", ["v1", "v1alpha3"])
async def test_a_validated_version_keeps_the_model_artifact_the_gate_saw(
    gate: Gate, namespace: Namespace, prefix: str
) -> None:
    name = f"fixed-artifact-{prefix}"
    await register(gate, namespace, name, "1.0.0", seed=41)
    base = f"/api/model_registry/{prefix}"
    scientist = namespace.auth("data-scientist")
    async with httpx.AsyncClient(base_url=gate["registry"].url, timeout=30) as http:

        async def call(method: str, path: str, body: dict[str, Any] | None = None) -> Any:
            return await http.request(method, f"{base}{path}", json=body, headers=scientist)

        model = (await call("GET", f"/registered_model?name={name}")).json()
        version = await call("GET", f"/model_version?name=1.0.0&parentResourceId={model['id']}")
        version_id = version.json()["id"]
        (validated,) = (await call("GET", f"/model_versions/{version_id}/artifacts")).json()[
            "items"
        ]
        elsewhere = f"s3://{namespace.bucket}/elsewhere/model.safetensors"

        second = await call(
            "POST",
            f"/model_versions/{version_id}/artifacts",
            {"artifactType": "model-artifact", "name": "second", "uri": elsewhere},
        )
        assert second.status_code == 409, second.text
        assert "only while a version is PENDING" in second.json()["message"]

        standalone = await call("POST", "/model_artifacts", {"name": "loose", "uri": elsewhere})
        assert standalone.status_code == 201
        linked = await call(
            "POST",
            f"/model_versions/{version_id}/artifacts",
            {**standalone.json(), "artifactType": "model-artifact"},
        )
        assert linked.status_code == 409, linked.text

        for change in (
            {"uri": elsewhere},
            {"modelFormatName": "pytorch"},
            {"storagePath": "other/path"},
        ):
            patched = await call("PATCH", f"/model_artifacts/{validated['id']}", change)
            assert patched.status_code == 409, (change, patched.text)
            assert "cannot change" in patched.json()["message"]
            again = await call(
                "POST",
                f"/model_versions/{version_id}/artifacts",
                {"artifactType": "model-artifact", "name": validated["name"], **change},
            )
            assert again.status_code == 409, (change, again.text)

        described = await call(
            "PATCH", f"/artifacts/{validated['id']}", {"description": "annotations may change"}
        )
        assert described.status_code == 200, described.text
        document = await call(
            "POST",
            f"/model_versions/{version_id}/artifacts",
            {"artifactType": "doc-artifact", "name": "card", "uri": "s3://docs/card.md"},
        )
        assert document.status_code == 201, document.text

        listed = (await call("GET", f"/model_versions/{version_id}/artifacts")).json()["items"]
        models = [a for a in listed if a["artifactType"] == "model-artifact"]
        assert [(a["id"], a["uri"]) for a in models] == [(validated["id"], validated["uri"])]
        assert models[0]["modelFormatName"] == validated["modelFormatName"]


async def test_a_rejected_kubeflow_version_takes_no_new_model_artifact(
    gate: Gate, namespace: Namespace
) -> None:
    base = "/api/model_registry/v1"
    scientist = namespace.auth("data-scientist")
    async with httpx.AsyncClient(base_url=gate["registry"].url, timeout=30) as http:
        model = await http.post(
            f"{base}/registered_models", json={"name": "fixed-rejected"}, headers=scientist
        )
        version = await http.post(
            f"{base}/registered_models/{model.json()['id']}/versions",
            json={"name": "1.0.0"},
            headers=scientist,
        )
        path = f"{base}/model_versions/{version.json()['id']}/artifacts"
        missing = {"artifactType": "model-artifact", "name": "m", "uri": "s3://nowhere/x"}
        first = await http.post(path, json=missing, headers=scientist)
        assert first.status_code == 201, first.text
        status = await http.get(f"{base}/model_versions/{version.json()['id']}", headers=scientist)
        assert status.json()["customProperties"]["modelgate.status"]["string_value"] == "REJECTED"
        retry = await http.post(
            path,
            json={**missing, "name": "m2", "uri": f"s3://{namespace.bucket}/x"},
            headers=scientist,
        )
        assert retry.status_code == 409, retry.text
