"""Each service starts as its own process, answers /healthz and /readyz, and stops cleanly."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from modelgate_testkit.namespace import Namespace
from modelgate_testkit.services import ServiceProcess

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("name", ["ingest", "validator", "registry", "audit"])
def test_service_starts_answers_health_and_stops_cleanly(
    name: str, namespace: Namespace, tmp_path: Path
) -> None:
    service = ServiceProcess(name, namespace.env(name), tmp_path).start()
    try:
        health = httpx.get(f"{service.url}/healthz", timeout=5)
        assert health.status_code == 200
        assert health.json()["status"] == "ok"
        ready = httpx.get(f"{service.url}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        assert httpx.get(f"{service.url}/metrics", timeout=5).status_code == 401
        metrics = httpx.get(f"{service.url}/metrics", headers=namespace.auth("viewer"), timeout=5)
        assert metrics.status_code == 200
        assert "python_gc_objects_collected_total" in metrics.text
    finally:
        code = service.stop()
    assert code == 0, service.tail()
    assert "Traceback" not in service.log.read_text(), service.tail()
