"""The Kubeflow Model Registry API with the upstream Python client and the seeds' curl calls."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelgate_shared.s3 import ensure_bucket, s3_client
from modelgate_shared.settings import ServiceSettings
from modelgate_testkit.clients import client_python
from modelgate_testkit.kubeflow import model_and_version
from modelgate_testkit.models import tiny_safetensors
from modelgate_testkit.namespace import Namespace
from tests.support.gate import Gate, wait_for_status

pytestmark = pytest.mark.e2e
FLOW = Path(__file__).parent / "clients" / "model_registry_flow.py"
INT = {"int_value": "10", "metadataType": "MetadataIntValue"}


async def _put_model(settings: ServiceSettings, bucket: str, key: str, seed: int) -> str:
    async with s3_client(settings) as s3:
        await ensure_bucket(s3, bucket)
        await s3.put_object(Bucket=bucket, Key=key, Body=tiny_safetensors(seed))
    return f"s3://{bucket}/{key}"


@pytest.mark.slow
@pytest.mark.parametrize(("client", "prefix"), [("0.3.18", "v1"), ("0.3.14", "v1alpha3")])
async def test_upstream_client_registers_reads_pages_and_archives(
    gate: Gate, namespace: Namespace, settings: ServiceSettings, client: str, prefix: str
) -> None:
    name = f"kf-client-{client.replace('.', '-')}"
    first = await _put_model(settings, namespace.bucket, f"kubeflow/{name}/1/model.safetensors", 1)
    second = await _put_model(settings, namespace.bucket, f"kubeflow/{name}/2/", 2)
    # A directory: the registry lists the prefix to find the files.
    await _put_model(settings, namespace.bucket, f"kubeflow/{name}/2/model.safetensors", 2)
    python = await asyncio.to_thread(client_python, "model-registry", client)
    port = gate["registry"].port
    run = await asyncio.to_thread(
        subprocess.run,
        [
            str(python),
            str(FLOW),
            "http://127.0.0.1",
            str(port),
            namespace.tokens["admin"],
            name,
            first,
            second,
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])

    model, version, artifact = result["model"], result["version"], result["artifact"]
    assert model["name"] == name
    assert model["owner"] == "ml-platform"
    assert model["state"] == "LIVE"
    assert version["name"] == "1.0.0"
    assert version["description"] == "first version"
    assert version["author"] == "ai-scientist"
    props = version["custom_properties"]
    assert {k: props[k] for k in ("license", "epochs", "accuracy", "quantized")} == {
        "license": "apache-2.0",
        "epochs": 10,
        "accuracy": 0.97,
        "quantized": True,
    }
    assert type(props["epochs"]) is int
    assert type(props["quantized"]) is bool
    # Read right after the attach: the uri sent, or the pinned copy once it is registered.
    pinned = f"s3://{namespace.pinned_bucket}/"
    assert artifact["uri"] == first or artifact["uri"].startswith(pinned), artifact["uri"]
    assert artifact["name"] == name
    assert artifact["model_format_name"] == "safetensors"
    assert artifact["model_format_version"] == "1"
    assert artifact["storage_key"] == "minio-connection"
    assert artifact["storage_path"] == "models/tiny"
    assert artifact["service_account_name"] == "modelgate-reader"
    assert result["paged_versions"] == ["1.0.0", "1.1.0"]
    assert result["missing_model"] is None
    assert result["gate_status"] == "REGISTERED"
    assert result["archived"]["state"] == "ARCHIVED"
    assert result["archived"]["custom_properties"]["epochs"] == 10

    async with httpx.AsyncClient(base_url=gate["registry"].url, timeout=10) as native:
        seen = await native.get(
            f"/api/v1/models/{name}/versions/1.0.0", headers=namespace.auth("admin")
        )
        assert seen.json()["status"] == "ARCHIVED"
        both = await native.get(
            f"/api/model_registry/{prefix}/registered_models", headers=namespace.auth("viewer")
        )
        assert name in [m["name"] for m in both.json()["items"]]
    await wait_for_status(gate, namespace, name, "1.1.0", {"REGISTERED"})


async def test_seed_curl_calls(gate: Gate, namespace: Namespace, settings: ServiceSettings) -> None:
    """`GET …/v1alpha3/registered_models` and `PATCH …/v1alpha3/model_versions/{id}` with
    {"state": "ARCHIVED"}, as in the seeds."""
    base = f"{gate['registry'].url}/api/model_registry/v1alpha3"
    admin = {**namespace.auth("admin"), "Content-Type": "application/json"}
    uri = await _put_model(settings, namespace.bucket, "kubeflow/curl/model.safetensors", 3)
    async with httpx.AsyncClient(timeout=10) as http:
        model = await http.post(
            f"{base}/registered_models",
            headers=admin,
            json={
                "name": "Granite-3.1-8b-Instruct-FP8",
                "owner": "ai-admin",
                "license": "apache-2.0",
                "description": "Granite 3.1 8B Instruct, FP8 dynamic, validated for NVIDIA L4",
            },
        )
        assert model.status_code == 201, model.text
        model_id = model.json()["id"]
        assert model_id.isdigit()
        version = await http.post(
            f"{base}/model_versions",
            headers=admin,
            json={
                "name": "3.1.0-May2025-Validated",
                "registeredModelId": model_id,
                "customProperties": {"epochs": INT},
            },
        )
        assert version.status_code == 201
        body = version.json()
        assert body["customProperties"]["epochs"] == INT
        assert body["customProperties"]["modelgate.status"]["string_value"] == "PENDING"
        artifact = await http.post(
            f"{base}/model_versions/{body['id']}/artifacts",
            headers=admin,
            json={
                "artifactType": "model-artifact",
                "name": "granite",
                "uri": uri,
                "modelFormatName": "safetensors",
            },
        )
        assert artifact.status_code == 201
        assert artifact.json()["artifactType"] == "model-artifact"

        listed = await http.get(f"{base}/registered_models", headers=namespace.auth("developer"))
        assert listed.status_code == 200
        page = listed.json()
        assert set(page) >= {"items", "nextPageToken", "pageSize", "size"}
        assert "Granite-3.1-8b-Instruct-FP8" in [m["name"] for m in page["items"]]
        assert all(isinstance(m["createTimeSinceEpoch"], str) for m in page["items"])

        await wait_for_status(
            gate,
            namespace,
            "Granite-3.1-8b-Instruct-FP8",
            "3.1.0-May2025-Validated",
            {"REGISTERED"},
        )
        archived = await http.patch(
            f"{base}/model_versions/{body['id']}", headers=admin, json={"state": "ARCHIVED"}
        )
        assert archived.status_code == 200
        assert archived.json()["state"] == "ARCHIVED"
        assert archived.json()["customProperties"]["epochs"] == INT, "absent fields stay"
        developer = await http.patch(
            f"{base}/model_versions/{body['id']}",
            headers={**namespace.auth("developer")},
            json={"state": "LIVE"},
        )
        assert developer.status_code == 403


async def test_a_models_catalog_fields_are_stored_and_merged_by_patch(
    gate: Gate, namespace: Namespace
) -> None:
    """readme, maturity and the upstream RegisteredModel's other catalog fields: sent on
    create they were refused by the store (a 500); a PATCH changes only those it names."""
    base = f"{gate['registry'].url}/api/model_registry/v1"
    admin = namespace.auth("admin")
    async with httpx.AsyncClient(timeout=10) as http:
        made = await http.post(
            f"{base}/registered_models",
            headers=admin,
            json={"name": "catalogued", "readme": "# first", "maturity": "Stable"},
        )
        assert made.status_code == 201, made.text
        assert made.json()["readme"] == "# first"
        model = f"{base}/registered_models/{made.json()['id']}"
        patched = await http.patch(model, headers=admin, json={"readme": "# second"})
        assert patched.status_code == 200, patched.text
        read = (await http.get(model, headers=admin)).json()
        assert (read["readme"], read["maturity"]) == ("# second", "Stable")


async def test_wire_rules(gate: Gate, namespace: Namespace) -> None:
    base = f"{gate['registry'].url}/api/model_registry/v1"
    admin = namespace.auth("admin")
    async with httpx.AsyncClient(timeout=10) as http:
        for n in range(3):
            made = await http.post(
                f"{base}/registered_models",
                headers=admin,
                json={
                    "name": f"paged-{n}",
                    "customProperties": {
                        "rank": {"int_value": str(n), "metadataType": "MetadataIntValue"}
                    },
                },
            )
            assert made.status_code == 201
        duplicate = await http.post(
            f"{base}/registered_models", headers=admin, json={"name": "paged-0"}
        )
        assert duplicate.status_code == 409
        assert duplicate.json() == {
            "code": "409",
            "message": "registered model 'paged-0' already exists",
        }
        missing = await http.get(f"{base}/registered_model", params={"name": "nope"}, headers=admin)
        assert missing.status_code == 404
        assert set(missing.json()) == {"code", "message"}

        query = "name LIKE 'paged-%' AND rank.int_value >= 1"
        names, token, pages = [], "", 0
        while True:
            answer = (
                await http.get(
                    f"{base}/registered_models",
                    headers=admin,
                    params={
                        "pageSize": 1,
                        "orderBy": "ID",
                        "sortOrder": "DESC",
                        "nextPageToken": token,
                        "filterQuery": query,
                    },
                )
            ).json()
            pages += 1
            names += [m["name"] for m in answer["items"]]
            assert answer["pageSize"] == 1
            assert answer["size"] == len(answer["items"])
            token = answer["nextPageToken"]
            if not token:
                break
        assert names == ["paged-2", "paged-1"]
        again = (
            await http.get(
                f"{base}/registered_models",
                headers=admin,
                params={"pageSize": 1, "orderBy": "ID", "sortOrder": "DESC", "filterQuery": query},
            )
        ).json()
        first_token = again["nextPageToken"]
        same = (
            await http.get(
                f"{base}/registered_models",
                headers=admin,
                params={
                    "pageSize": 1,
                    "orderBy": "ID",
                    "sortOrder": "DESC",
                    "filterQuery": query,
                    "nextPageToken": "",
                },
            )
        ).json()
        assert same["nextPageToken"] == first_token, "tokens are deterministic"

        bad = await http.get(
            f"{base}/registered_models", headers=admin, params={"filterQuery": "name = "}
        )
        assert bad.status_code == 400
        assert "invalid filterQuery" in bad.json()["message"]
        untyped = await http.post(
            f"{base}/registered_models",
            headers=admin,
            json={"name": "untyped", "customProperties": {"x": {"v": 1}}},
        )
        assert untyped.status_code == 400
        assert "metadataType" in untyped.json()["message"]


async def test_an_artifact_of_a_version_with_a_taken_external_id_is_a_409(
    gate: Gate, namespace: Namespace
) -> None:
    """Attaching an artifact to a version under an externalId another artifact has: a 409,
    as for an artifact of no version (it was a 500)."""
    base = f"{gate['registry'].url}/api/model_registry/v1alpha3"
    admin = namespace.auth("admin")
    async with httpx.AsyncClient(timeout=10) as http:
        _, version_id = await model_and_version(http, base, admin, {"name": "artifact-ids"})
        loose = await http.post(
            f"{base}/artifacts",
            headers=admin,
            json={"artifactType": "doc-artifact", "name": "card", "externalId": "taken-id"},
        )
        assert loose.status_code == 201, loose.text
        attached = await http.post(
            f"{base}/model_versions/{version_id}/artifacts",
            headers=admin,
            json={"artifactType": "doc-artifact", "name": "notes", "externalId": "taken-id"},
        )
        assert attached.status_code == 409, attached.text
        assert "externalId already in use" in attached.json()["message"]
