"""Driving the gate from tests: submit through ingest, wait for the registry to decide."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from modelgate_testkit.factories import GOOD_CARD
from modelgate_testkit.models import tiny_safetensors
from modelgate_testkit.namespace import Namespace
from modelgate_testkit.services import ServiceProcess
from tests.support.polling import DEFAULT_TIMEOUT_S, poll

Gate = dict[str, ServiceProcess]


def metadata(name: str, version: str = "1.0.0", **extra: Any) -> str:
    return json.dumps(
        {
            "name": name,
            "version": version,
            "model_card": GOOD_CARD.model_dump(exclude_none=True),
            **extra,
        }
    )


async def upload(
    gate: Gate,
    ns: Namespace,
    meta: str,
    files: list[tuple[str, bytes]],
    role: str = "data-scientist",
    *,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    parts: list[tuple[str, tuple[str | None, bytes | str, str]]] = [
        ("metadata", (None, meta, "application/json"))
    ]
    parts += [("file", (path, data, "application/octet-stream")) for path, data in files]
    async with httpx.AsyncClient(base_url=gate["ingest"].url, timeout=60) as client:
        return await client.post(
            "/api/v1/submissions", files=parts, headers={**ns.auth(role), **(headers or {})}
        )


async def wait_for_status(
    gate: Gate,
    ns: Namespace,
    name: str,
    version: str,
    statuses: set[str],
    *,
    timeout_s: float = 60,
) -> dict[str, Any]:
    """The registry's view of a version once its status is one of `statuses`."""
    async with httpx.AsyncClient(base_url=gate["registry"].url, timeout=10) as client:
        answer = await poll(
            lambda: client.get(
                f"/api/v1/models/{name}/versions/{version}", headers=ns.auth("admin")
            ),
            lambda a: a.status_code == 200 and a.json()["status"] in statuses,
            timeout_s=timeout_s,
            interval_s=0.2,
        )
    if answer.status_code != 200 or answer.json()["status"] not in statuses:
        raise AssertionError(
            f"{name} {version} not in {statuses} after {timeout_s}s: "
            f"{answer.status_code} {answer.text[:500]}"
        )
    body: dict[str, Any] = answer.json()
    return body


async def submission_state(
    gate: Gate,
    ns: Namespace,
    status_url: str,
    until: Callable[[dict[str, Any]], bool],
    *,
    role: str = "admin",
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> dict[str, Any]:
    """Ingest's view of a submission once `until` holds (or the last one seen at the deadline)."""
    async with httpx.AsyncClient(base_url=gate["ingest"].url, timeout=10) as client:

        async def fetch() -> dict[str, Any]:
            state: dict[str, Any] = (await client.get(status_url, headers=ns.auth(role))).json()
            return state

        return await poll(fetch, until, timeout_s=timeout_s)


async def register(
    gate: Gate,
    ns: Namespace,
    name: str,
    version: str = "1.0.0",
    *,
    role: str = "data-scientist",
    seed: int = 0,
) -> dict[str, Any]:
    """Submit a small real model through ingest and wait until the registry registered it."""
    answer = await upload(
        gate,
        ns,
        metadata(name, version),
        [("model.safetensors", tiny_safetensors(seed))],
        role=role,
    )
    assert answer.status_code == 202, answer.text
    return await wait_for_status(gate, ns, name, version, {"REGISTERED", "REJECTED"})
