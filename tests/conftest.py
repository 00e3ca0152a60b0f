"""Session fixtures: the real infrastructure, and this run's isolated namespace on it; and
an in-memory span exporter for tests that read the spans a piece of code made."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from modelgate_shared.settings import ServiceSettings
from modelgate_shared.telemetry import tracing
from tests import stop_on_sigterm
from tests.support.infra import Infra, choose_infra
from tests.support.namespace import Namespace, create_namespace, drop_namespace


def pytest_configure(config: pytest.Config) -> None:
    # A stopped run (CI cancelled, `kill`) still tears its fixtures down: no service process
    # the harness started outlives it.
    stop_on_sigterm.install()


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    with choose_infra() as chosen:
        yield chosen


@pytest.fixture(scope="session")
async def namespace(
    infra: Infra, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Namespace]:
    ns = await create_namespace(infra, tmp_path_factory.mktemp("namespace"))
    yield ns
    await drop_namespace(ns)


@pytest.fixture(scope="session")
def settings(namespace: Namespace) -> ServiceSettings:
    """Settings as a service started inside this run's namespace would read them."""
    return ServiceSettings.model_validate({**namespace.env(), **namespace.kafka_admin_env()})


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on in this process, with a local provider (never the global one) whose
    finished spans the test reads; off again afterwards."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.use_provider(provider)
    yield exporter
    tracing.use_provider(None)
    provider.shutdown()
