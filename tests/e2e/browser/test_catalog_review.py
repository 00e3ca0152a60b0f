"""The review step in the browser: a version that passed validation waits in the admins'
queue, unseen by developers, until an admin other than its submitter approves it."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from playwright.async_api import expect

from modelgate_testkit.factories import GOOD_CARD
from modelgate_testkit.models import tiny_safetensors
from modelgate_testkit.namespace import Namespace
from modelgate_testkit.review import manual_review
from tests.e2e.browser.conftest import OpenCatalog
from tests.support.browser import ROOT
from tests.support.gate import Gate, upload, wait_for_status

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

SCREENSHOTS = os.environ.get("MODELGATE_DOCS_SCREENSHOTS")


async def submit(
    gate: Gate,
    namespace: Namespace,
    name: str,
    version: str,
    *,
    role: str,
    seed: int,
    statuses: set[str],
    **card: Any,
) -> dict[str, Any]:
    meta = {
        "name": name,
        "version": version,
        "model_card": {**GOOD_CARD.model_dump(exclude_none=True), **card},
    }
    files = [("model.safetensors", tiny_safetensors(seed))]
    answer = await upload(gate, namespace, json.dumps(meta), files, role=role)
    assert answer.status_code == 202, answer.text
    return await wait_for_status(gate, namespace, name, version, statuses)


async def test_a_submission_waits_in_the_queue_unseen_by_a_developer_until_approved(
    gate: Gate, namespace: Namespace, catalog: OpenCatalog
) -> None:
    name = "web-review"
    # 1.0.0 through the harness's auto-approval; 1.1.0, with a changed card, waits for a human.
    await submit(
        gate, namespace, name, "1.0.0", role="data-scientist", seed=71, statuses={"REGISTERED"}
    )
    with manual_review(namespace.review_policy):
        await submit(
            gate,
            namespace,
            name,
            "1.1.0",
            role="data-scientist",
            seed=72,
            statuses={"PENDING_REVIEW"},
            description="A tiny test model, **quantized**.",
            quantization="int8",
            metrics={"accuracy": 0.9},
        )
    developer = await catalog("developer")
    developer.allowed_statuses.add(404)
    await developer.open(f"#/models/{name}/versions/1.1.0")
    await expect(developer.page.get_by_role("heading", level=1)).to_have_text("Not found")
    assert await developer.page.get_by_role("link", name="Review queue").count() == 0

    admin = await catalog("admin")
    await admin.page.get_by_role("link", name="Review queue").click()
    await admin.settled()
    item = admin.page.locator(".review-item", has_text=f"{name} 1.1.0")
    await expect(item).to_contain_text("ai-scientist")
    await expect(item).to_contain_text("Previous version1.0.0")
    await expect(item.get_by_role("table", name="Validation checks")).to_be_visible()
    diff = item.locator("pre.diff")
    await expect(diff.locator(".added", has_text="quantization: int8")).to_have_count(1)
    await expect(
        diff.locator(".removed", has_text="description: A tiny test model.")
    ).to_have_count(1)
    await expect(diff.locator(".same", has_text="license: apache-2.0")).to_have_count(1)
    if SCREENSHOTS:
        await admin.page.screenshot(path=str(ROOT / "docs/images/catalog-review-queue.png"))
    await item.get_by_role("button", name="Approve").click()
    await admin.confirm("Approve", reason="looks right")
    await admin.announced(f"{name} 1.1.0 approved")
    await expect(admin.page.locator(".review-item", has_text=f"{name} 1.1.0")).to_have_count(0)

    await developer.page.reload()
    await developer.settled()
    await expect(developer.page.get_by_role("heading", level=1)).to_have_text(f"{name} 1.1.0")
    await expect(developer.page.locator(".chip.status")).to_have_text("REGISTERED")
    await expect(developer.page.locator("p.review")).to_contain_text("approved by ai-admin")


async def test_the_submitter_acting_as_admin_is_refused_with_the_four_eyes_reason(
    gate: Gate, namespace: Namespace, catalog: OpenCatalog
) -> None:
    name = "web-review-own"
    with manual_review(namespace.review_policy):
        await submit(
            gate, namespace, name, "1.0.0", role="admin", seed=73, statuses={"PENDING_REVIEW"}
        )
    admin = await catalog("admin")
    admin.allowed_statuses.add(403)
    await admin.open("#/review")
    item = admin.page.locator(".review-item", has_text=f"{name} 1.0.0")
    await item.get_by_role("button", name="Approve").click()
    await admin.confirm("Approve", reason="my own")
    alert = admin.page.get_by_role("dialog").get_by_role("alert")
    await expect(alert).to_contain_text("Refused (403): four-eyes rule")
    await admin.page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    await expect(admin.page.get_by_role("dialog")).to_have_count(0)
    # Still waiting, and nobody's decision recorded: the refusal changed nothing.
    detail = await wait_for_status(gate, namespace, name, "1.0.0", {"PENDING_REVIEW"})
    assert detail["review"] is None

    # Rejecting is judging too: refused the same way, from the version page this time.
    await admin.open(f"#/models/{name}/versions/1.0.0")
    await admin.click("Reject")
    await admin.confirm("Reject", reason="not mine to judge")
    await expect(alert).to_contain_text("four-eyes rule")


async def test_a_rejection_in_review_reaches_the_submitter_with_its_reason(
    gate: Gate, namespace: Namespace, catalog: OpenCatalog
) -> None:
    name = "web-review-rejected"
    with manual_review(namespace.review_policy):
        await submit(
            gate,
            namespace,
            name,
            "1.0.0",
            role="data-scientist",
            seed=74,
            statuses={"PENDING_REVIEW"},
        )
    admin = await catalog("admin")
    await admin.open(f"#/models/{name}/versions/1.0.0")
    await admin.click("Reject")
    await admin.confirm("Reject", reason="no evaluation on our data")
    await admin.announced(f"{name} 1.0.0 rejected")
    await expect(admin.page.locator(".chip.status")).to_have_text("REJECTED")

    scientist = await catalog("data-scientist")
    await scientist.open("#/mine")
    row = scientist.page.get_by_role("row", name=f"{name} 1.0.0")
    await expect(row).to_contain_text("REJECTED")
    await expect(row).to_contain_text("rejected in review: no evaluation on our data")
