"""The console keeps languages in step, in a real browser against `lepton serve`: editing the English
template shows its Chinese twin "needs update" (in the item and in the list) until it is confirmed still
right; the rollback list names each version's date, author and summary."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.ui.pages.test_admin_browser import TIMEOUT_MS, click_cell, create_admin_key, login

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def twins_text(page) -> str:
    return page.locator("#kb-twins").inner_text()


def check_twin_warning_and_confirm(browser, url: str, key: str) -> None:
    marker = f"Sunday-{uuid.uuid4().hex[:6]}"
    api = httpx.Client(base_url=f"{url}/v1/admin/kb", headers={"Authorization": f"Bearer {key}"}, timeout=60)
    start = next(v["version"] for v in api.get("/versions").json()["versions"] if v["live"])
    context = browser.new_context()
    page = context.new_page()
    try:
        login(page, url, key)
        page.locator("#admin-header").wait_for(timeout=TIMEOUT_MS)
        page.locator("#kb-list .body-cell", has_text="tpl-").first.wait_for(timeout=TIMEOUT_MS)
        box = page.locator("#kb-filter textarea, #kb-filter input").first
        box.fill("tpl-order-status")
        box.press("Enter")
        click_cell(page, "kb-list", "tpl-order-status-en")
        twins = page.locator("#kb-twins")
        twins.get_by_text("tpl-order-status-zh", exact=False).wait_for(timeout=TIMEOUT_MS)
        assert "in step" in twins_text(page) and "needs update" not in twins_text(page)
        assert not page.locator("#kb-confirm").is_visible()

        body = page.locator("#kb-body textarea")
        body.fill(f"{body.input_value()} Orders placed on {marker} ship on Monday.")
        page.locator("#kb-save").click()
        page.locator("#kb-result").get_by_text("Draft of", exact=False).wait_for(timeout=TIMEOUT_MS)
        twins.get_by_text("needs update", exact=False).wait_for(timeout=TIMEOUT_MS)
        shown = twins_text(page)
        assert "tpl-order-status-zh" in shown and marker in shown and "alice" in shown, shown
        # The list marks the Chinese twin, not the English template that was edited.
        page.locator("#kb-list .body-cell", has_text="needs update").first.wait_for(timeout=TIMEOUT_MS)
        rows = page.locator("#kb-list").inner_text()
        assert rows.count("needs update") == 1, rows
        assert api.get("/templates/tpl-order-status-zh").json()["needs_update"]["by"] == "alice"

        # One click: the Chinese twin (preselected) is still right.
        page.locator("#kb-confirm").click()
        page.locator("#kb-result").get_by_text("Confirmed", exact=False).wait_for(timeout=TIMEOUT_MS)
        page.wait_for_function(
            "() => !/needs update/.test(document.querySelector('#kb-twins').innerText)", timeout=TIMEOUT_MS
        )
        assert "in step" in twins_text(page)
        assert api.get("/templates/tpl-order-status-zh").json()["needs_update"] is None
        page.wait_for_function(
            "() => !/needs update/.test(document.querySelector('#kb-list').innerText)", timeout=TIMEOUT_MS
        )

        # Published, the version list says when, who and what: not a bare number.
        page.locator("#kb-publish").click()
        page.locator("#kb-result").get_by_text("is live", exact=False).wait_for(timeout=TIMEOUT_MS)
        page.get_by_role("tab", name="Versions").click()
        page.locator("#kb-versions .body-cell", has_text="1 template changed").first.wait_for(
            timeout=TIMEOUT_MS
        )
        rollback_to = page.locator("#kb-back-to input").first.input_value()
        assert " · " in rollback_to and "UTC" in rollback_to, rollback_to
    finally:
        context.close()
        api.post("/rollback", json={"version": start})  # leave the shared server as we found it
        api.close()


@pytest.fixture(scope="module")
def admin_key(server) -> str:
    return create_admin_key(server.home)


def test_twin_needs_update_until_confirmed(server, browser, admin_key) -> None:
    check_twin_warning_and_confirm(browser, server.url, admin_key)
