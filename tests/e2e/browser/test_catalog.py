"""The web catalog in a real browser, against the real gate: what each role sees, and each
command going through its confirmation dialog to the native API (checked there too)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from modelgate_testkit.factories import GOOD_CARD
from modelgate_testkit.models import tiny_safetensors
from modelgate_testkit.namespace import Namespace
from tests.e2e.browser.conftest import OpenCatalog
from tests.support.browser import PHONE, CatalogPage
from tests.support.gate import Gate, metadata, register, upload, wait_for_status

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def version_page(name: str, version: str) -> str:
    return f"#/models/{name}/versions/{version}"


async def registry_get(gate: Gate, namespace: Namespace, path: str) -> Any:
    async with httpx.AsyncClient(base_url=gate["registry"].url, timeout=10) as http:
        answer = await http.get(path, headers=namespace.auth("admin"))
    assert answer.status_code == 200, answer.text
    return answer.json()


async def aliases(gate: Gate, namespace: Namespace, name: str) -> dict[str, str]:
    model = await registry_get(gate, namespace, f"/api/v1/models/{name}")
    return {a["alias"]: a["version"] for a in model["aliases"]}


async def unlabelled_fields(catalog: CatalogPage) -> list[str]:
    """Form fields a screen reader could not name (no label, no aria-label)."""
    found: list[str] = await catalog.page.evaluate(
        "() => [...document.querySelectorAll('input, select, textarea')]"
        ".filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))"
        ".map((e) => e.outerHTML)"
    )
    return found


async def submit_with_card(
    gate: Gate, namespace: Namespace, name: str, version: str, seed: int, **card: Any
) -> dict[str, Any]:
    meta = {
        "name": name,
        "version": version,
        "model_card": {**GOOD_CARD.model_dump(exclude_none=True), **card},
    }
    answer = await upload(
        gate, namespace, json.dumps(meta), [("model.safetensors", tiny_safetensors(seed))]
    )
    assert answer.status_code == 202, answer.text
    return await wait_for_status(gate, namespace, name, version, {"REGISTERED", "REJECTED"})


async def test_a_developer_finds_a_version_by_search_and_by_deep_link_at_both_widths(
    gate: Gate, namespace: Namespace, catalog: OpenCatalog
) -> None:
    name = "web-browse"
    await submit_with_card(
        gate,
        namespace,
        name,
        "1.0.0",
        61,
        description="**Fast** model.\n\n- one <img src=x onerror=alert(1)>\n"
        "- [docs](javascript:alert(1))",
        metrics={"accuracy": 0.91},
    )
    developer = await catalog("developer")
    page = developer.page
    await page.get_by_label("Name starts with").fill(name)
    await page.get_by_label("Name starts with").press("Enter")  # the keyboard submits
    await developer.settled()
    assert f"name_prefix={name}" in page.url
    assert await unlabelled_fields(developer) == []
    await page.get_by_role("link", name="1.0.0", exact=True).focus()
    await page.keyboard.press("Enter")
    await developer.settled()
    assert page.url.endswith(version_page(name, "1.0.0"))
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"{name} 1.0.0")
    # Focus moves to the new page's heading, where a screen reader starts reading.
    await expect(page.get_by_role("heading", level=1)).to_be_focused()

    # A dialog from the keyboard: it takes focus, its fields are labelled, Escape cancels.
    await page.get_by_role("button", name="Record deployment…").focus()
    await page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    await expect(dialog.get_by_label("Environment")).to_be_focused()
    assert await unlabelled_fields(developer) == []
    await page.keyboard.press("Escape")
    await expect(dialog).to_have_count(0)

    card = page.locator(".markdown").first
    await expect(card.locator("strong")).to_have_text("Fast")
    # What looks like HTML is shown as text; a javascript: link is no link.
    await expect(card.locator("li").first).to_have_text("one <img src=x onerror=alert(1)>")
    assert await card.locator("img").count() == 0
    assert await card.locator("a").count() == 0
    await expect(page.get_by_role("table", name="Metrics")).to_contain_text("0.91")
    # A developer may record deployments and download, not move stages or review.
    await expect(page.get_by_role("button", name="Record deployment…")).to_be_visible()
    assert await page.get_by_role("button", name="Promote to production").count() == 0
    assert await page.get_by_role("link", name="Review queue").count() == 0

    await page.get_by_role("button", name="Get download links").click()
    download = page.get_by_role("table", name="Download links")
    await expect(download.get_by_role("link", name="model.safetensors")).to_be_visible()
    detail = await registry_get(gate, namespace, f"/api/v1/models/{name}/versions/1.0.0")
    await expect(download.locator("code.hash")).to_have_text(
        detail["artifact"]["files"][0]["sha256"]
    )

    # A developer may not read the audit log: the registry's history, and the chain's badge.
    history = page.get_by_role("region", name="History")
    await expect(history).to_contain_text("From the registry's history.")
    await expect(history.locator(".chip.verified")).to_have_text("✓ chain verified")

    phone = await catalog("developer", viewport=PHONE)
    await phone.open(version_page(name, "1.0.0"))
    await expect(phone.page.get_by_role("heading", level=1)).to_have_text(f"{name} 1.0.0")
    overflow = await phone.page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page is {overflow}px wider than a 390px screen"


async def test_the_four_eyes_refusal_is_shown_in_the_dialog(
    gate: Gate, namespace: Namespace, catalog: OpenCatalog
) -> None:
    name = "web-four-eyes"
    await register(gate, namespace, name, "1.0.0", role="admin", seed=62)
    admin = await catalog("admin")
    admin.allowed_statuses.add(403)
    await admin.open(version_page(name, "1.0.0"))
    await admin.click("Promote to production")
    await admin.confirm("Promote", reason="ship it")
    alert = admin.page.get_by_role("dialog").get_by_role("alert")
    await expect(alert).to_contain_text("Refused (403): four-eyes rule")
    await expect(alert).to_contain_text("ai-admin")
    await admin.page.keyboard.press("Escape")  # the dialog closes from the keyboard
    await expect(admin.page.get_by_role("dialog")).to_have_count(0)
    detail = await registry_get(gate, namespace, f"/api/v1/models/{name}/versions/1.0.0")
    assert detail["stage"] != "production"


async def test_promote_record_a_deployment_then_roll_back_in_one_click(
    gate: Gate, namespace: Namespace, catalog: OpenCatalog
) -> None:
    name = "web-rollback"
    for version, seed in (("1.0.0", 63), ("2.0.0", 64)):
        await register(gate, namespace, name, version, seed=seed)
    admin = await catalog("admin")
    for version in ("1.0.0", "2.0.0"):
        await admin.open(version_page(name, version))
        await admin.click("Promote to production")
        await admin.confirm("Promote", reason=f"{version} is better")
        await admin.announced(f"{name} {version} is in production")
    assert (await aliases(gate, namespace, name))["production"] == "2.0.0"
    # An admin reads the version's history from the audit log, and the chain verifies.
    history = admin.page.get_by_role("region", name="History")
    await expect(history).to_contain_text("From the audit log.")
    await expect(history).to_contain_text("model_submitted by ai-scientist")
    await expect(history.locator(".chip.verified")).to_have_text("✓ chain verified")

    await admin.click("Record deployment…")
    await admin.confirm("Record", environment="prod-eu", note="from the browser")
    await admin.announced("deployment recorded")
    await expect(admin.page.get_by_role("table", name="Deployments")).to_contain_text("prod-eu")

    await admin.click("Roll back")
    dialog = admin.page.get_by_role("dialog")
    await expect(dialog.get_by_role("heading")).to_have_text(f"Roll back {name} to 1.0.0")
    await admin.click("Roll back to 1.0.0")
    await admin.announced(f"{name} rolled back to 1.0.0")
    assert (await aliases(gate, namespace, name))["production"] == "1.0.0"
    back = await registry_get(gate, namespace, f"/api/v1/models/{name}/versions/1.0.0")
    assert back["stage"] == "production"
    assert back["transitions"][-1]["reason"].startswith("rollback: ")
    retired = await registry_get(gate, namespace, f"/api/v1/models/{name}/versions/2.0.0")
    assert retired["stage"] == "deprecated"


async def test_an_alias_is_set_moved_and_deleted(
    gate: Gate, namespace: Namespace, catalog: OpenCatalog
) -> None:
    name = "web-alias"
    for version, seed in (("1.0.0", 65), ("2.0.0", 66)):
        await register(gate, namespace, name, version, seed=seed)
    admin = await catalog("admin")
    for version in ("1.0.0", "2.0.0"):
        await admin.open(version_page(name, version))
        await admin.click("Set alias…")
        await admin.confirm("Set alias", alias="champion", reason=f"{version} wins")
        await admin.announced("alias set")
        assert await aliases(gate, namespace, name) == {"champion": version}
    await expect(admin.page.locator(".chip.alias")).to_contain_text("alias: champion")

    await admin.page.get_by_role("button", name="Delete alias champion").click()
    await admin.confirm("Delete alias")
    await admin.announced("alias champion deleted")
    assert await aliases(gate, namespace, name) == {}


async def test_archiving_hides_a_version_from_the_developer(
    gate: Gate, namespace: Namespace, catalog: OpenCatalog
) -> None:
    name = "web-archive"
    await register(gate, namespace, name, "1.0.0", seed=67)
    developer = await catalog("developer")
    developer.allowed_statuses.add(404)
    await developer.open(version_page(name, "1.0.0"))
    await expect(developer.page.get_by_role("heading", level=1)).to_have_text(f"{name} 1.0.0")

    admin = await catalog("admin")
    await admin.open(version_page(name, "1.0.0"))
    await admin.click("Archive")
    await admin.confirm("Archive", reason="superseded")
    await admin.announced(f"{name} 1.0.0 archived")
    await expect(admin.page.locator(".chip.status")).to_have_text("ARCHIVED")

    await developer.page.reload()
    await developer.settled()
    await expect(developer.page.get_by_role("heading", level=1)).to_have_text("Not found")
    await developer.open(f"#/?name_prefix={name}")
    await expect(developer.page.get_by_text("No version matches.")).to_be_visible()


async def test_two_versions_compare_side_by_side(
    gate: Gate, namespace: Namespace, catalog: OpenCatalog
) -> None:
    name = "web-compare"
    await submit_with_card(gate, namespace, name, "1.0.0", 68, metrics={"accuracy": 0.81})
    await submit_with_card(
        gate, namespace, name, "1.1.0", 69, metrics={"accuracy": 0.84}, quantization="int8"
    )
    viewer = await catalog("viewer")
    await viewer.open(f"#/?name_prefix={name}")
    for version in ("1.0.0", "1.1.0"):
        await viewer.page.get_by_label(f"select {name} {version} to compare").check()
    await viewer.click("Compare selected")
    await viewer.settled()
    table = viewer.page.locator("table.compare-table")
    await expect(table.locator("thead")).to_contain_text(f"{name} 1.0.0")
    await expect(table.locator("thead")).to_contain_text(f"{name} 1.1.0")
    accuracy = table.locator("tr.differs", has_text="accuracy")
    await expect(accuracy).to_contain_text("0.81")
    await expect(accuracy).to_contain_text("0.84")
    await expect(table.locator("tr.differs", has_text="quantization")).to_contain_text("int8")
    await expect(table.locator("tr:not(.differs)", has_text="license")).to_have_count(1)


async def test_a_data_scientist_sees_their_rejected_submission_and_why(
    gate: Gate, namespace: Namespace, catalog: OpenCatalog
) -> None:
    name = "web-rejected"
    answer = await upload(
        gate, namespace, metadata(name, "1.0.0"), [("model.safetensors", b"not safetensors")]
    )
    assert answer.status_code == 202, answer.text
    rejected = await wait_for_status(gate, namespace, name, "1.0.0", {"REJECTED"})

    scientist = await catalog("data-scientist")
    await scientist.page.get_by_role("link", name="My submissions").click()
    await scientist.settled()
    row = scientist.page.get_by_role("row", name=f"{name} 1.0.0")
    await expect(row).to_contain_text("REJECTED")
    await expect(row).to_contain_text(rejected["status_reason"][:40])
    await row.get_by_role("link").click()
    await scientist.settled()
    failed = scientist.page.get_by_role("table", name="Validation checks").locator(
        "tr", has=scientist.page.locator(".chip.failed")
    )
    await expect(failed.first).to_be_visible()

    developer = await catalog("developer")
    developer.allowed_statuses.add(404)
    await developer.open(version_page(name, "1.0.0"))
    await expect(developer.page.get_by_role("heading", level=1)).to_have_text("Not found")
    assert await developer.page.get_by_role("link", name="My submissions").count() == 0
