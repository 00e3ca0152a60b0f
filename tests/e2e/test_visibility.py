"""One visibility rule: the Kubeflow API shows a viewer or developer what the native API does.

Issue 17, finding 2: with the viewer or developer token the Kubeflow API (both prefixes) listed
pending, rejected and archived versions, their rejection reasons and S3 locations. Now a hidden
single item is a 404, hidden items are absent from every list and count, and an admin still
sees all of it (so each check below can fail).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from modelgate_shared.s3 import ensure_bucket, s3_client
from modelgate_shared.settings import ServiceSettings
from modelgate_testkit.namespace import Namespace
from tests.support.gate import Gate, metadata, register, upload, wait_for_status

pytestmark = pytest.mark.e2e
PREFIXES = ("v1", "v1alpha3")
RESTRICTED = ("viewer", "developer")
MODEL = "visibility"
ARCHIVED_MODEL = "visibility-archived"
# Distinct version names, so a find by name alone meets no other test's versions.
REJECTED_V, ARCHIVED_V = "2.0.0-vis.rejected", "3.0.0-vis.archived"
ATTACH_V, PENDING_V = "4.0.0-vis.attach", "5.0.0-vis.pending"


@dataclass
class World:
    """One model with a version in each status, and an archived model; ids and secrets."""

    model_id: str
    archived_model_id: str
    registered: str  # version id
    hidden: dict[str, str] = field(default_factory=dict)  # what -> version id
    hidden_artifacts: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)  # text no restricted reader may see


async def _kf(http: httpx.AsyncClient, ns: Namespace, method: str, path: str, **kw: Any) -> Any:
    answer = await http.request(
        method, f"/api/model_registry/v1{path}", headers=ns.auth("admin"), **kw
    )
    assert answer.status_code < 300, answer.text
    return answer.json()


@pytest.fixture(scope="module")
async def world(gate: Gate, namespace: Namespace, settings: ServiceSettings) -> World:
    await register(gate, namespace, MODEL, "1.0.0", seed=31)
    broken = await upload(
        gate, namespace, metadata(MODEL, REJECTED_V), [("model.safetensors", b"not safetensors")]
    )
    assert broken.status_code == 202, broken.text
    rejected = await wait_for_status(gate, namespace, MODEL, REJECTED_V, {"REJECTED"})
    await register(gate, namespace, MODEL, ARCHIVED_V, seed=32)
    await register(gate, namespace, ARCHIVED_MODEL, "1.0.0", seed=33)
    secret_key = "visibility/secret-location/model.safetensors"
    async with s3_client(settings) as s3:
        await ensure_bucket(s3, namespace.bucket)
    async with httpx.AsyncClient(base_url=gate["registry"].url, timeout=30) as http:
        admin = namespace.auth("admin")
        for path in (
            f"/api/v1/models/{MODEL}/versions/{ARCHIVED_V}/archive",
            f"/api/v1/models/{ARCHIVED_MODEL}/archive",
        ):
            done = await http.post(path, json={"reason": "hidden"}, headers=admin)
            assert done.status_code == 200, done.text
        model = await _kf(http, namespace, "GET", "/registered_model", params={"name": MODEL})
        archived_model = await _kf(
            http, namespace, "GET", "/registered_model", params={"name": ARCHIVED_MODEL}
        )

        async def version_id(name: str) -> str:
            found = await _kf(
                http,
                namespace,
                "GET",
                "/model_version",
                params={"name": name, "parentResourceId": model["id"]},
            )
            return str(found["id"])

        world = World(model["id"], archived_model["id"], await version_id("1.0.0"))
        world.hidden["rejected by the validator"] = await version_id(REJECTED_V)
        world.hidden["archived"] = await version_id(ARCHIVED_V)
        world.secrets.append(rejected["status_reason"])

        # Through the Kubeflow API: one rejected at once (its artifact does not exist), one
        # pending with a document attached, and an artifact that belongs to no version.
        for name, artifact in (
            (
                ATTACH_V,
                {"artifactType": "model-artifact", "uri": f"s3://{namespace.bucket}/{secret_key}"},
            ),
            (
                PENDING_V,
                {"artifactType": "doc-artifact", "uri": "s3://docs-bucket/pending-card.md"},
            ),
        ):
            version = await _kf(
                http,
                namespace,
                "POST",
                "/model_versions",
                json={"name": name, "registeredModelId": model["id"]},
            )
            made = await _kf(
                http,
                namespace,
                "POST",
                f"/model_versions/{version['id']}/artifacts",
                json={"name": f"art-{name}", **artifact},
            )
            world.hidden_artifacts.append(str(made["id"]))
            world.secrets.append(artifact["uri"])
        world.hidden["rejected on attach"] = await version_id(ATTACH_V)
        world.hidden["pending"] = await version_id(PENDING_V)
        standalone = await _kf(
            http,
            namespace,
            "POST",
            "/model_artifacts",
            json={"name": "loose", "uri": "s3://loose-bucket/unattached"},
        )
        world.hidden_artifacts.append(str(standalone["id"]))
        world.secrets.append("s3://loose-bucket/unattached")
        archived_versions = await _kf(
            http, namespace, "GET", f"/model_versions/{world.hidden['archived']}/artifacts"
        )
        world.hidden_artifacts += [str(a["id"]) for a in archived_versions["items"]]
        world.secrets += [a["uri"] for a in archived_versions["items"]]
        gate_reason = await version_id(ATTACH_V)
        detail = await _kf(http, namespace, "GET", f"/model_versions/{gate_reason}")
        world.secrets.append(detail["customProperties"]["modelgate.status_reason"]["string_value"])
    assert detail["customProperties"]["modelgate.status"]["string_value"] == "REJECTED"
    assert len(world.hidden_artifacts) == 4, world.hidden_artifacts
    return world


def _kind(path: str) -> str:
    """What a list path returns: models, versions or artifacts."""
    if path.endswith("artifacts"):
        return "artifact"
    return "version" if path.endswith("versions") else "model"


def _lists(world: World) -> list[tuple[str, dict[str, str]]]:
    """Every Kubeflow list that returns versions or artifacts (path, query)."""
    state = {"filterQuery": 'state="ARCHIVED"'}
    return [
        ("/model_versions", {}),
        ("/model_versions", state),
        ("/model_versions", {"filterQuery": f"registeredModelId={world.model_id}"}),
        (f"/registered_models/{world.model_id}/versions", {}),
        (f"/registered_models/{world.model_id}/versions", state),
        ("/model_artifacts", {}),
        ("/artifacts", {}),
        ("/artifacts", {"artifactType": "doc-artifact"}),
        (f"/model_versions/{world.registered}/artifacts", {}),
        ("/registered_models", {}),
        ("/registered_models", state),
    ]


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_hidden_versions_and_artifacts_are_absent_from_every_list(
    gate: Gate, namespace: Namespace, world: World, prefix: str
) -> None:
    # Ids are per resource kind (each table has its own sequence): compare (kind, id) pairs,
    # or another test's model 56 reads as this test's hidden version 56.
    hidden_ids = {
        *(("version", v) for v in world.hidden.values()),
        *(("artifact", a) for a in world.hidden_artifacts),
        ("model", world.archived_model_id),
    }
    async with httpx.AsyncClient(base_url=gate["registry"].url, timeout=30) as http:
        seen_by: dict[str, set[tuple[str, str]]] = {}
        for role in ("admin", *RESTRICTED):
            ids: set[tuple[str, str]] = set()
            for path, query in _lists(world):
                answer = await http.get(
                    f"/api/model_registry/{prefix}{path}",
                    params={**query, "pageSize": "1000"},
                    headers=namespace.auth(role),
                )
                assert answer.status_code == 200, f"{role} {path}: {answer.text}"
                page = answer.json()
                assert page["size"] == len(page["items"])
                ids |= {(_kind(path), str(item["id"])) for item in page["items"]}
                if role != "admin":
                    for secret in world.secrets:
                        assert secret not in answer.text, f"{role} {path} {query} shows {secret!r}"
            seen_by[role] = ids
    assert hidden_ids <= seen_by["admin"], "the admin sees everything (the test can fail)"
    for role in RESTRICTED:
        assert ("version", world.registered) in seen_by[role]
        assert ("model", world.model_id) in seen_by[role]
        assert not hidden_ids & seen_by[role], f"{role} sees hidden items"


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_hidden_single_items_answer_404(
    gate: Gate, namespace: Namespace, world: World, prefix: str
) -> None:
    gets: list[tuple[str, dict[str, str]]] = [
        (f"/registered_models/{world.archived_model_id}", {}),
        ("/registered_model", {"name": ARCHIVED_MODEL}),
        (f"/registered_models/{world.archived_model_id}/versions", {}),
    ]
    for version_id in world.hidden.values():
        gets += [
            (f"/model_versions/{version_id}", {}),
            (f"/model_versions/{version_id}/artifacts", {}),
        ]
    for name in (REJECTED_V, ARCHIVED_V, ATTACH_V, PENDING_V):
        gets.append(("/model_version", {"name": name, "parentResourceId": world.model_id}))
        gets.append(("/model_version", {"name": name}))
    for artifact_id in world.hidden_artifacts:
        gets.append((f"/artifacts/{artifact_id}", {}))
    gets.append((f"/model_artifacts/{world.hidden_artifacts[0]}", {}))
    gets.append(("/model_artifact", {"name": f"art-{ATTACH_V}"}))
    gets.append(("/artifact", {"name": f"art-{PENDING_V}"}))
    failures = []
    async with httpx.AsyncClient(base_url=gate["registry"].url, timeout=30) as http:
        for path, query in gets:
            url = f"/api/model_registry/{prefix}{path}"
            admin = await http.get(url, params=query, headers=namespace.auth("admin"))
            if admin.status_code != 200:
                failures.append(f"admin {path} {query}: {admin.status_code} {admin.text[:200]}")
            for role in RESTRICTED:
                answer = await http.get(url, params=query, headers=namespace.auth(role))
                if answer.status_code != 404 or not answer.json().get("message"):
                    failures.append(f"{role} {path} {query}: {answer.status_code}")
    assert failures == [], "\n".join(failures)


async def test_native_counts_and_lists_show_restricted_readers_registered_versions_only(
    gate: Gate, namespace: Namespace, world: World
) -> None:
    async with httpx.AsyncClient(base_url=gate["registry"].url, timeout=30) as http:
        admin = (await http.get(f"/api/v1/models/{MODEL}", headers=namespace.auth("admin"))).json()
        assert admin["versions_by_status"] == {
            "REGISTERED": 1,
            "REJECTED": 2,
            "ARCHIVED": 1,
            "PENDING": 1,
        }
        for role in RESTRICTED:
            detail = await http.get(f"/api/v1/models/{MODEL}", headers=namespace.auth(role))
            assert detail.json()["versions_by_status"] == {"REGISTERED": 1}
            listed = await http.get(
                f"/api/v1/models/{MODEL}/versions", headers=namespace.auth(role)
            )
            assert [v["version"] for v in listed.json()["items"]] == ["1.0.0"]
            gone = await http.get(
                f"/api/v1/models/{ARCHIVED_MODEL}/versions/1.0.0", headers=namespace.auth(role)
            )
            assert gone.status_code == 404


async def test_a_deployment_record_for_a_hidden_version_is_a_404_like_reading_it(
    gate: Gate, namespace: Namespace, world: World
) -> None:
    """The developer may record deployments; a hidden version's status must not leak through
    that command's refusal (it used to answer 409 "... is REJECTED")."""
    async with httpx.AsyncClient(base_url=gate["registry"].url, timeout=10) as http:
        for name, version in ((MODEL, REJECTED_V), (MODEL, PENDING_V), (ARCHIVED_MODEL, "1.0.0")):
            path = f"/api/v1/models/{name}/versions/{version}"
            read = await http.get(path, headers=namespace.auth("developer"))
            record = await http.post(
                f"{path}/deployments",
                json={"environment": "prod", "note": "probe"},
                headers=namespace.auth("developer"),
            )
            assert read.status_code == record.status_code == 404, record.text
            assert record.json() == read.json()
