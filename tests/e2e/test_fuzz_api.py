"""Every HTTP API fuzzed from its own OpenAPI document (issue 18): generated requests, valid
and invalid, with each role's token, never get a 5xx, always get a documented status and a
body of the documented schema, and leave no traceback in the services' logs.

MODELGATE_FUZZ_EXAMPLES sets the examples per operation and generation mode (small in
`make test`; `make fuzz` runs more).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, HTTPException

from modelgate_testkit.namespace import Namespace
from tests.support.fuzz import crashes, examples_per_operation, fuzz_api, log_size
from tests.support.gate import Gate

pytestmark = pytest.mark.e2e

ROLES = ("admin", "data-scientist", "developer", "viewer")
KUBEFLOW = ("/api/model_registry/v1/", "/api/model_registry/v1alpha3/")
TARGETS = [
    ("registry", "/api/v1/"),
    *(("registry", prefix) for prefix in KUBEFLOW),
    ("registry", "/"),  # the rest: health, readiness, metrics, the catalog
    ("ingest", ""),
    ("audit", ""),
    ("validator", ""),
]


@pytest.mark.parametrize(("service", "prefix"), TARGETS)
async def test_fuzzed_requests_get_documented_answers_and_leave_no_traceback(
    gate: Gate, namespace: Namespace, service: str, prefix: str
) -> None:
    url = gate[service].url
    async with httpx.AsyncClient(timeout=30) as client:
        document = (await client.get(f"{url}/openapi.json")).raise_for_status().json()
    roles = {role: namespace.auth(role) for role in ROLES}
    start = log_size(gate[service])
    # "/" on the registry: what the other targets do not cover.
    exclude = ("/api/v1/", *KUBEFLOW) if (service, prefix) == ("registry", "/") else ()
    # In a thread: the session's event loop (the topic tap's consumer) keeps running, where
    # a long synchronous run would leave its fetch requests to time out.
    report = await asyncio.to_thread(
        fuzz_api,
        document,
        url,
        roles,
        examples=examples_per_operation(),
        prefix=prefix,
        exclude=exclude,
    )
    print(
        f"fuzz {service} {prefix or '/'}: "
        f"{report.operations} operations, {report.examples} examples"
    )
    assert report.operations > 0, f"no operation of {service} under {prefix!r}"
    crashed, written = crashes(gate[service], start)
    assert not report.failures, f"{len(report.failures)} failures:\n" + "\n".join(
        report.failures[:30]
    )
    assert not crashed, f"{service} logged {crashed}:\n{written[-3000:]}"


# -- the fuzzer can fail --


def _broken_app() -> FastAPI:
    app = FastAPI()

    @app.get("/items/{item}", responses={404: {"description": "no such item"}})
    def item(item: int) -> dict[str, int]:
        if item < 0:
            raise HTTPException(404, "no such item")
        return {"item": 100 // (item % 5)}  # ZeroDivisionError -> 500 on 0, 5, 10 ...

    return app


@pytest.fixture
def broken_server() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(_broken_app(), port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the broken app did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_the_fuzzer_reports_a_deliberately_broken_endpoint(broken_server: str) -> None:
    document = httpx.get(f"{broken_server}/openapi.json", timeout=10).json()
    report = fuzz_api(
        document, broken_server, {"anyone": {}}, examples=max(examples_per_operation(), 30)
    )
    assert report.examples > 0
    assert any("500" in failure or "Server error" in failure for failure in report.failures), (
        report.failures
    )


# -- what the fuzzing found, one regression test each --


@pytest.mark.parametrize(
    "raw", ["%C2%B9", "%D9%A3", "%EF%BC%91"]
)  # "¹", Arabic-Indic 3, fullwidth 1
@pytest.mark.parametrize("prefix", KUBEFLOW)
def test_a_kubeflow_id_of_non_ascii_digits_is_a_404(
    gate: Gate, namespace: Namespace, prefix: str, raw: str
) -> None:
    # str.isdigit() holds for all three; int("¹") raised (a 500), int("٣") read id 3.
    response = httpx.get(
        f"{gate['registry'].url}{prefix}registered_models/{raw}",
        headers=namespace.auth("viewer"),
        timeout=30,
    )
    assert response.status_code == 404, response.text
    assert set(response.json()) >= {"code", "message"}
