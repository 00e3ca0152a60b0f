"""Four-eyes that cannot be sidestepped (issue 17, finding 6, its first two ways).

1. An admin pointed the `production` alias at their own staging version with PUT .../aliases:
   now the production alias moves only with a promotion (409 naming the command).
2. A data-scientist created a Kubeflow version, an admin attached the artifact and promoted it:
   now the uploader is recorded and may not approve production either (403, four-eyes).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from modelgate_shared.s3 import ensure_bucket, s3_client
from modelgate_shared.settings import ServiceSettings
from modelgate_testkit.models import tiny_safetensors
from modelgate_testkit.namespace import Namespace
from tests.support.gate import Gate, register, wait_for_status

pytestmark = pytest.mark.e2e


async def test_the_production_alias_moves_only_with_a_promotion(
    gate: Gate, namespace: Namespace
) -> None:
    name = "four-eyes-alias"
    await register(gate, namespace, name, "1.0.0", role="admin", seed=51)
    await register(gate, namespace, name, "2.0.0", role="data-scientist", seed=52)
    admin = namespace.auth("admin")
    base = f"/api/v1/models/{name}"
    async with httpx.AsyncClient(base_url=gate["registry"].url, timeout=30) as http:

        async def move(version: str, stage: str) -> httpx.Response:
            return await http.post(
                f"{base}/versions/{version}/transitions",
                json={"to_stage": stage, "reason": f"to {stage}"},
                headers=admin,
            )

        async def aliases() -> dict[str, str]:
            detail = (await http.get(base, headers=admin)).json()
            return {a["alias"]: a["version"] for a in detail["aliases"]}

        assert (await move("1.0.0", "staging")).status_code == 200
        own = await http.put(
            f"{base}/aliases/production", json={"version": "1.0.0", "reason": "mine"}, headers=admin
        )
        assert own.status_code == 409, own.text
        assert "/transitions" in own.json()["message"]
        assert "promotion" in own.json()["message"]
        assert await aliases() == {}
        refused = await move("1.0.0", "production")
        assert refused.status_code == 403
        assert "four-eyes" in refused.json()["message"]

        assert (await move("2.0.0", "staging")).status_code == 200
        assert (await move("2.0.0", "production")).status_code == 200
        assert await aliases() == {"production": "2.0.0"}
        removed = await http.delete(f"{base}/aliases/production", headers=admin)
        assert removed.status_code == 409, removed.text
        moved = await http.put(
            f"{base}/aliases/production", json={"version": "1.0.0", "reason": "x"}, headers=admin
        )
        assert moved.status_code == 409
        assert await aliases() == {"production": "2.0.0"}
        other = await http.put(
            f"{base}/aliases/champion", json={"version": "1.0.0", "reason": "x"}, headers=admin
        )
        assert other.status_code == 200, "other aliases stay free to move"

        # Leaving production takes the alias along: it never names a version out of production.
        assert (await move("2.0.0", "canary")).status_code == 200
        assert await aliases() == {"champion": "1.0.0"}


async def _kubeflow_version(
    http: httpx.AsyncClient,
    namespace: Namespace,
    settings: ServiceSettings,
    prefix: str,
    name: str,
    *,
    creator: str,
    uploader: str,
) -> None:
    """A Kubeflow version made by `creator`, its model artifact attached by `uploader`."""
    base = f"/api/model_registry/{prefix}"
    key = f"four-eyes/{name}/model.safetensors"
    async with s3_client(settings) as s3:
        await ensure_bucket(s3, namespace.bucket)
        await s3.put_object(Bucket=namespace.bucket, Key=key, Body=tiny_safetensors(len(name)))
    made: Any = await http.post(
        f"{base}/registered_models",
        json={"name": name, "owner": "ml-platform", "license": "apache-2.0", "description": "d"},
        headers=namespace.auth(creator),
    )
    assert made.status_code == 201, made.text
    version = await http.post(
        f"{base}/model_versions",
        json={"name": "1.0.0", "registeredModelId": made.json()["id"]},
        headers=namespace.auth(creator),
    )
    assert version.status_code == 201, version.text
    attached = await http.post(
        f"{base}/model_versions/{version.json()['id']}/artifacts",
        json={
            "artifactType": "model-artifact",
            "name": name,
            "uri": f"s3://{namespace.bucket}/{key}",
            "modelFormatName": "safetensors",
        },
        headers=namespace.auth(uploader),
    )
    assert attached.status_code == 201, attached.text


@pytest.mark.parametrize("prefix", ["v1", "v1alpha3"])
async def test_the_uploader_of_the_artifact_cannot_approve_production(
    gate: Gate, namespace: Namespace, settings: ServiceSettings, prefix: str
) -> None:
    admin = namespace.auth("admin")
    async with httpx.AsyncClient(base_url=gate["registry"].url, timeout=30) as http:
        for name, uploader in ((f"fe-upload-{prefix}", "admin"), (f"fe-own-{prefix}", None)):
            await _kubeflow_version(
                http,
                namespace,
                settings,
                prefix,
                name,
                creator="data-scientist",
                uploader=uploader or "data-scientist",
            )
        sneaked = await wait_for_status(
            gate, namespace, f"fe-upload-{prefix}", "1.0.0", {"REGISTERED"}
        )
        assert (sneaked["submitter"], sneaked["uploader"]) == ("ai-scientist", "ai-admin")
        attached = [t for t in sneaked["transitions"] if t["reason"] == "artifact attached"]
        assert [t["actor"] for t in attached] == ["ai-admin"], "the history names the uploader"
        listed = await http.get(
            f"/api/v1/models/fe-upload-{prefix}/versions", headers=namespace.auth("viewer")
        )
        assert listed.json()["items"][0]["uploader"] == "ai-admin"
        fair = await wait_for_status(gate, namespace, f"fe-own-{prefix}", "1.0.0", {"REGISTERED"})
        assert (fair["submitter"], fair["uploader"]) == ("ai-scientist", "ai-scientist")

        async def promote(name: str) -> httpx.Response:
            base = f"/api/v1/models/{name}/versions/1.0.0/transitions"
            staged = await http.post(
                base, json={"to_stage": "staging", "reason": "r"}, headers=admin
            )
            assert staged.status_code == 200, staged.text
            return await http.post(
                base, json={"to_stage": "production", "reason": "r"}, headers=admin
            )

        refused = await promote(f"fe-upload-{prefix}")
        assert refused.status_code == 403, refused.text
        assert "four-eyes" in refused.json()["message"]
        assert "uploaded" in refused.json()["message"]
        promoted = await promote(f"fe-own-{prefix}")
        assert promoted.status_code == 200, promoted.text
        detail = (
            await http.get(f"/api/v1/models/fe-own-{prefix}/versions/1.0.0", headers=admin)
        ).json()
        to_production = [t for t in detail["transitions"] if t["to_value"] == "production"]
        assert [(t["actor"], t["approver"]) for t in to_production] == [("ai-admin", "ai-admin")]
