"""Fixtures of the browser tests: Chromium once per session, a signed-in page per role per
test; a test fails on any console error, and a failed test leaves a screenshot and the
console log of each of its pages under .local/browser/<test>/."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Generator

import pytest
from playwright.async_api import Browser, async_playwright

from modelgate_stack.prereqs import ensure_chromium
from modelgate_testkit.namespace import Namespace
from tests.support.browser import ARTIFACTS, DESKTOP, CatalogPage, new_catalog_page
from tests.support.gate import Gate

OpenCatalog = Callable[..., Awaitable[CatalogPage]]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    chromium = await asyncio.to_thread(ensure_chromium)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(chromium),
            # Containers run the tests as root, where Chromium's sandbox cannot start.
            args=["--no-sandbox", "--disable-dev-shm-usage"],
        )
        yield launched
        await launched.close()


@pytest.fixture
async def pages(request: pytest.FixtureRequest) -> AsyncIterator[list[CatalogPage]]:
    """The pages a test opened (it appends them): saved when it failed, closed after it; a
    console error on any of them fails it."""
    opened: list[CatalogPage] = []
    yield opened
    errors = [e for page in opened for e in page.errors]
    if request.node.stash.get(FAILED, False) or errors:
        for page in opened:
            await page.save(ARTIFACTS / request.node.name)
    for page in opened:
        await page.page.context.close()
    assert not errors, f"console errors: {errors}"


@pytest.fixture
def catalog(
    browser: Browser, gate: Gate, namespace: Namespace, pages: list[CatalogPage]
) -> OpenCatalog:
    """`await catalog("admin")`: a page signed in with that role's token."""

    async def open_page(role: str, *, viewport: dict[str, int] = DESKTOP) -> CatalogPage:
        page = await new_catalog_page(browser, gate["registry"].url, role, viewport=viewport)
        pages.append(page)  # before signing in: a failed sign-in leaves its screenshot too
        await page.sign_in(namespace.tokens[role])
        return page

    return open_page
