"""Session fixtures: the real infrastructure, and this run's isolated namespace on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from modelgate_shared.settings import ServiceSettings
from tests.support.infra import Infra, choose_infra
from tests.support.namespace import Namespace, create_namespace, drop_namespace


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
    return ServiceSettings.model_validate(namespace.env())
