"""The review step in the browser: a version that passed validation waits in the admins'
queue, unseen by developers, until an admin other than its submitter approves it."""

from __future__ import annotations

import os
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from tests.e2e.browser.conftest import OpenCatalog
from tests.support.browser import ROOT
from tests.support.gate import Gate, metadata, upload, wait_for_status
from tests.support.models import tiny_safetensors
from tests.support.namespace import Namespace

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

SCREENSHOTS = os.environ.get("MODELGATE_DOCS_SCREENSHOTS")


@pytest.fixture(autouse=True)
async def review_step(gate: Gate) -> None:
    async with httpx.AsyncClient(base_url=gate["registry"].url, timeout=10) as http:
        paths = (await http.get("/openapi.json")).json()["paths"]
    if "/api/v1/review-queue" not in paths:
        pytest.skip("this registry has no review step (GET /api/v1/review-queue)")


async def submit_for_review(
    gate: Gate, namespace: Namespace, name: str, version: str, *, role: str, seed: int
) -> dict[str, Any]:
    answer = await upload(
        gate,
        namespace,
        metadata(name, version),
        [("model.safetensors", tiny_safetensors(seed))],
        role=role,
    )
    assert answer.status_code == 202, answer.text
    return await wait_for_status(gate, namespace, name, version, {"PENDING_REVIEW"})


async def test_a_submission_waits_in_the_queue_unseen_by_a_developer_until_approved(
    gate: Gate, namespace: Namespace, catalog: OpenCatalog
) -> None:
    name = "web-review"
    await submit_for_review(gate, namespace, name, "1.0.0", role="data-scientist", seed=71)
    developer = await catalog("developer")
    developer.allowed_statuses.add(404)
    await developer.open(f"#/models/{name}/versions/1.0.0")
    await expect(developer.page.get_by_role("heading", level=1)).to_have_text("Not found")
    assert await developer.page.get_by_role("link", name="Review queue").count() == 0

    admin = await catalog("admin")
    await admin.page.get_by_role("link", name="Review queue").click()
    await admin.settled()
    item = admin.page.locator(".review-item", has_text=f"{name} 1.0.0")
    await expect(item).to_contain_text("Submitted by")
    await expect(item).to_contain_text("ai-scientist")
    await expect(item.get_by_role("table", name="Validation checks")).to_be_visible()
    await expect(item.locator("pre.diff")).to_contain_text("license: apache-2.0")
    if SCREENSHOTS:
        await admin.page.screenshot(path=str(ROOT / "docs/images/catalog-review-queue.png"))
    await item.get_by_role("button", name="Approve").click()
    await admin.confirm("Approve", reason="looks right")
    await admin.announced(f"{name} 1.0.0 approved")
    await expect(admin.page.locator(".review-item", has_text=f"{name} 1.0.0")).to_have_count(0)

    await developer.page.reload()
    await developer.settled()
    await expect(developer.page.get_by_role("heading", level=1)).to_have_text(f"{name} 1.0.0")
    await expect(developer.page.locator(".chip.status")).to_have_text("REGISTERED")


async def test_the_submitter_acting_as_admin_is_refused_with_the_four_eyes_reason(
    gate: Gate, namespace: Namespace, catalog: OpenCatalog
) -> None:
    name = "web-review-own"
    await submit_for_review(gate, namespace, name, "1.0.0", role="admin", seed=72)
    admin = await catalog("admin")
    admin.allowed_statuses.add(403)
    await admin.open("#/review")
    item = admin.page.locator(".review-item", has_text=f"{name} 1.0.0")
    await item.get_by_role("button", name="Approve").click()
    await admin.confirm("Approve", reason="my own")
    alert = admin.page.get_by_role("dialog").get_by_role("alert")
    await expect(alert).to_contain_text("Refused (403): four-eyes rule")
    await admin.page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    detail = await wait_for_status(gate, namespace, name, "1.0.0", {"PENDING_REVIEW"})
    assert detail["status"] == "PENDING_REVIEW"
