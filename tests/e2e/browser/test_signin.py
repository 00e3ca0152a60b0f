"""Signing in to the web catalog through the stack's real identity provider (Keycloak): its
own login page, the authorization-code flow with PKCE, the views each role gets, a reload
that signs in again without a password, the access token renewed before it expires, and a
sign-out that ends the provider's session.

No fixture signs these pages in: the test types the password into Keycloak's form as a person
would. The services are this run's, so the registry's /web-config.json names the provider.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, Request, Response

from modelgate_testkit.oidc import OidcProvider
from modelgate_testkit.services import ServiceProcess
from tests.support.browser import CatalogPage, new_catalog_page

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+")


async def _open(
    browser: Browser, gate: dict[str, ServiceProcess], pages: list[CatalogPage], user: str
) -> CatalogPage:
    page = await new_catalog_page(browser, gate["registry"].url, user)
    pages.append(page)
    return page


async def _sign_in(page: CatalogPage, provider: OidcProvider, user: str) -> None:
    """From the catalog's Sign in button through the provider's login page and back."""
    await page.page.goto(f"{page.base_url}/#/")
    await page.page.get_by_role("button", name="Sign in", exact=True).click()
    await page.page.wait_for_url(f"{provider.issuer}/protocol/openid-connect/auth*")
    await page.page.locator("#username").fill(user)
    await page.page.locator("#password").fill(provider.passwords[user])
    await page.page.locator("#kc-login").click()
    await page.page.locator("#whoami").filter(has_text=user).wait_for()
    await page.settled()


async def _signed_in(
    browser: Browser,
    gate: dict[str, ServiceProcess],
    pages: list[CatalogPage],
    provider: OidcProvider,
    user: str,
) -> CatalogPage:
    """A new page signed in as `user` at the provider, with no trace of the sign-in kept."""
    page = await _open(browser, gate, pages, user)
    await _sign_in(page, provider, user)
    await _no_token_kept(page)
    return page


async def _no_token_kept(page: CatalogPage) -> None:
    """Nothing of the sign-in stays in the address, the history entry or web storage."""
    assert "code=" not in page.page.url, page.page.url
    assert "state=" not in page.page.url, page.page.url
    stored = await page.page.evaluate(
        "() => JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])"
    )
    assert not JWT.search(stored), f"a token in web storage: {stored[:200]}"
    assert "modelgate-oidc-pending" not in stored, "the PKCE verifier outlived the sign-in"


async def test_a_developer_signs_in_at_the_provider_and_gets_no_review_queue(
    browser: Browser,
    gate: dict[str, ServiceProcess],
    provider: OidcProvider,
    pages: list[CatalogPage],
) -> None:
    page = await _signed_in(browser, gate, pages, provider, "ai-developer")
    assert await page.page.locator("#whoami").inner_text() == "ai-developer (developer)"
    nav = page.page.get_by_role("navigation", name="main")
    await nav.get_by_role("link", name="Catalog").wait_for()
    assert await nav.get_by_role("link", name="Review queue").count() == 0
    # The pasted-key form is the secondary way in: hidden once signed in.
    assert await page.page.locator("#api-key").is_hidden()


async def test_an_admin_signs_in_sees_the_queue_survives_a_reload_and_signs_out(
    browser: Browser,
    gate: dict[str, ServiceProcess],
    provider: OidcProvider,
    pages: list[CatalogPage],
) -> None:
    page = await _signed_in(browser, gate, pages, provider, "ai-admin")
    assert await page.page.locator("#whoami").inner_text() == "ai-admin (admin)"
    nav = page.page.get_by_role("navigation", name="main")
    await nav.get_by_role("link", name="Review queue").click()
    await page.settled()
    await page.page.get_by_role("heading", name="Review queue").wait_for()

    # A reload (a deep link typed in) loses the in-memory tokens; the provider's session
    # signs the page in again without a password, back on the same route.
    await page.page.goto(f"{page.base_url}/#/compare")
    await page.page.locator("#whoami").filter(has_text="ai-admin").wait_for()
    await page.settled()
    assert page.page.url.endswith("/#/compare"), page.page.url
    await _no_token_kept(page)

    await page.page.get_by_role("button", name="Sign out", exact=True).click()
    await page.page.locator('#view[data-rendered="sign-in"]').wait_for()
    assert await page.page.locator("#whoami").inner_text() == ""
    # The provider's session ended too: signing in again asks for the password.
    await page.page.get_by_role("button", name="Sign in", exact=True).click()
    await page.page.wait_for_url(f"{provider.issuer}/protocol/openid-connect/auth*")
    await page.page.locator("#password").wait_for()


async def test_the_access_token_is_renewed_before_it_expires(
    browser: Browser,
    gate: dict[str, ServiceProcess],
    provider: OidcProvider,
    pages: list[CatalogPage],
) -> None:
    page = await _open(browser, gate, pages, "ai-viewer")
    await page.page.clock.install()
    bearers: list[str] = []

    def seen(sent: Request) -> None:
        auth = sent.headers.get("authorization")
        if auth and sent.url.startswith(page.base_url):
            bearers.append(auth)

    page.page.on("request", seen)
    await _sign_in(page, provider, "ai-viewer")
    first = bearers[-1]

    def refreshing(answer: Response) -> bool:
        sent = answer.request.post_data or ""
        return answer.url.endswith("/openid-connect/token") and "refresh_token" in sent

    # The provider's tokens live 300 s here: the page renews at 240 s (80%), before expiry.
    async with page.page.expect_response(refreshing) as renewal:
        await page.page.clock.run_for(241_000)
    assert (await renewal.value).status == 200
    for route in ("#/compare", "#/", "#/compare", "#/"):  # until the new token is in use
        await page.go(route)
        if bearers[-1] != first:
            break
    assert bearers[-1] != first, "the API calls still carry the first access token"
    assert await page.page.locator("#whoami").inner_text() == "ai-viewer (viewer)"
