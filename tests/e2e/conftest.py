"""The gate's services as separate processes in this run's namespace, and a tap on its topics."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from modelgate_shared.topics import Topics
from modelgate_testkit.kafka import TopicTap, provision_topics
from modelgate_testkit.namespace import Namespace
from modelgate_testkit.oidc import OidcProvider
from modelgate_testkit.services import ServiceProcess
from tests.support.faults import REPORT

GATE = ("ingest", "validator", "registry", "audit")
FUZZING = ("tests/e2e/test_fuzz_api.py", "tests/e2e/test_fuzz_events.py")


@pytest.fixture(scope="session")
async def tap(namespace: Namespace) -> AsyncIterator[TopicTap]:
    await provision_topics(namespace.infra.kafka, namespace.topics)
    watching = await TopicTap(namespace.infra.kafka, namespace.topics.all_topics()).start()
    yield watching
    await watching.stop()


@pytest.fixture(scope="session")
def provider(namespace: Namespace) -> OidcProvider:
    """The stack's identity provider (Keycloak); its tests are skipped where there is none."""
    if namespace.infra.oidc is None:
        pytest.skip(f"no OIDC provider in this infrastructure ({namespace.infra.source})")
    return namespace.infra.oidc


@pytest.fixture(scope="session")
def gate(
    namespace: Namespace, tap: TopicTap, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, ServiceProcess]]:
    logs = tmp_path_factory.mktemp("gate-logs")
    services = {name: ServiceProcess(name, namespace.env(name), logs) for name in GATE}
    # The web catalog reads a version's history from the audit service in the browser.
    services["registry"].env["MODELGATE_WEB_AUDIT_URL"] = services["audit"].url
    services["audit"].env["MODELGATE_AUDIT_CORS_ORIGINS"] = services["registry"].url
    try:
        for service in services.values():
            service.start()
        yield services
    finally:
        for service in services.values():
            if service.proc is not None:
                service.stop()


def topics_of(namespace: Namespace) -> Topics:
    return namespace.topics


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The fault scenarios' counts, in the test log for everyone to read."""

    if REPORT:
        terminalreporter.section("fault scenarios")
        for line in REPORT:
            terminalreporter.write_line(line)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The fuzzing last: it creates and changes whatever its generated requests and events
    say, in the run's shared namespace, and the other end-to-end tests should not see that."""
    items.sort(key=lambda item: item.nodeid.startswith(FUZZING))
