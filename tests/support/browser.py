"""The web catalog in a real Chromium, driven by Playwright: one page per role, signed in with
a pasted token (the sign-in through the identity provider is tests/e2e/browser/test_signin.py),
every console message kept.

Debian's Chromium runs through `executable_path`: Playwright's own browser download needs a
CDN the tests must not depend on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from playwright.async_api import Browser, ConsoleMessage, Error, Page

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / ".local" / "browser"
"""Screenshots and console logs of failed browser tests."""

_FAILED_LOAD = re.compile(r"Failed to load resource: the server responded with a status of (\d+)")
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@dataclass
class CatalogPage:
    """One signed-in page of the web catalog and what its console said."""

    page: Page
    base_url: str
    role: str
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    allowed_statuses: set[int] = field(default_factory=set)
    """Refusals this test provokes on purpose: Chromium logs each failed fetch as a console
    error, and the page shows the server's reason for them (what the test checks)."""

    def _on_console(self, message: ConsoleMessage) -> None:
        line = f"[{message.type}] {message.text}"
        self.console.append(line)
        if message.type != "error":
            return
        failed = _FAILED_LOAD.search(message.text)
        if failed and int(failed.group(1)) in self.allowed_statuses:
            return
        self.errors.append(line)

    def _on_page_error(self, error: Error) -> None:
        line = f"[pageerror] {error}"
        self.console.append(line)
        self.errors.append(line)

    def watch(self) -> None:
        self.page.on("console", self._on_console)
        self.page.on("pageerror", self._on_page_error)

    async def open(self, route: str = "#/") -> None:
        """Go to a route (a deep link) and wait until the page has rendered it."""
        await self.page.goto(f"{self.base_url}/{route}")
        await self.settled()

    async def sign_in(self, token: str) -> None:
        """Paste a token (the secondary way in when the registry names an identity provider:
        folded under "Use an API key")."""
        await self.page.goto(f"{self.base_url}/")
        await self.page.locator('#view[data-rendered="sign-in"]').wait_for()
        if await self.page.get_by_label("Bearer token").is_hidden():
            await self.page.get_by_text("Use an API key", exact=True).click()
        await self.page.get_by_label("Bearer token").fill(token)
        await self.page.get_by_label("Bearer token").press("Enter")
        await self.page.locator("#whoami").filter(has_text=self.role).wait_for()
        await self.settled()

    async def go(self, route: str) -> None:
        """Follow an in-page link (the hash changes, the page stays)."""
        await self.page.evaluate("(route) => { location.hash = route; }", route)
        await self.settled()

    async def settled(self) -> None:
        """Wait until the view shows the route in the address bar."""
        await self.page.wait_for_function(
            "() => { const v = document.getElementById('view');"
            " return v && !v.hasAttribute('aria-busy')"
            " && v.dataset.rendered === (location.hash || '#/'); }"
        )

    async def click(self, name: str) -> None:
        """Click a button by its accessible name."""
        await self.page.get_by_role("button", name=name, exact=True).click()

    async def confirm(self, button: str, **fields: str) -> None:
        """Fill the open dialog's fields (by label) and press its confirm button."""
        dialog = self.page.get_by_role("dialog")
        for label, value in fields.items():
            await dialog.get_by_label(label.replace("_", " ").capitalize(), exact=True).fill(value)
        await dialog.get_by_role("button", name=button, exact=True).click()

    async def announced(self, text: str) -> None:
        """Wait for the page's status line (aria-live) to say `text`."""
        await self.page.locator("#status").filter(has_text=text).wait_for()
        await self.settled()

    async def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (a test's teardown)
        try:
            await self.page.screenshot(path=str(directory / f"{self.role}.png"), full_page=True)
        except Error as exc:
            self.console.append(f"(no screenshot: {exc})")
        log = directory / f"{self.role}.console.log"
        log.write_text("\n".join(self.console) + "\n")


async def new_catalog_page(
    browser: Browser, base_url: str, role: str, *, viewport: dict[str, int] = DESKTOP
) -> CatalogPage:
    context = await browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    page = await context.new_page()
    page.set_default_timeout(15_000)
    catalog = CatalogPage(page, base_url, role)
    catalog.watch()
    return catalog
