"""Kubeflow Model Registry REST calls the tests repeat."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx


async def model_and_version(
    http: httpx.AsyncClient,
    base: str,
    headers: Mapping[str, str],
    model: Mapping[str, Any],
    version: str = "1.0.0",
) -> tuple[str, str]:
    """A registered model (`model`: its JSON) and a version of it, made through the Kubeflow
    API under `base` (`.../api/model_registry/v1` or `v1alpha3`); their ids."""
    made = await http.post(f"{base}/registered_models", headers=headers, json=dict(model))
    assert made.status_code == 201, made.text
    made_version = await http.post(
        f"{base}/model_versions",
        headers=headers,
        json={"name": version, "registeredModelId": made.json()["id"]},
    )
    assert made_version.status_code == 201, made_version.text
    return str(made.json()["id"]), str(made_version.json()["id"])
