"""Issue #17 in a real browser (Debian's Chromium driven by Playwright): with Gradio's file handling made strict
(ui/http/gradio_guard.py), the admin console's own upload still works end to end."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.conftest import Proc
from tests.security.conftest import make_keys

pytestmark = [pytest.mark.slow, pytest.mark.browser]

TIMEOUT_MS = 60_000


def test_console_upload_still_ingests_in_the_browser(
    launch: Callable[..., Proc], browser, tmp_path: Path
) -> None:
    """Choose a file in the console's Upload tab and ingest it: it lands in the knowledge base."""
    proc = launch(name="pages-browser")
    keys = make_keys(proc)
    doc = tmp_path / "gift-wrap.md"
    doc.write_text("# Gift wrapping\n\nWe gift-wrap any order for 3 EUR; choose it at checkout.\n")
    page = browser.new_context().new_page()
    page.goto(f"{proc.url}/admin/", wait_until="domcontentloaded")
    page.get_by_label("username").first.fill("alice", timeout=TIMEOUT_MS)
    page.get_by_label("password").first.fill(keys.admin)
    page.get_by_role("button", name="Login").click()
    page.locator("#admin-header").wait_for(timeout=TIMEOUT_MS)
    page.get_by_role("tab", name="Knowledge base", exact=True).click()
    page.get_by_role("tab", name="Upload", exact=True).click()
    page.locator("#kb-files input[type=file]").set_input_files(str(doc))
    page.locator("#kb-files").get_by_text("gift-wrap.md").first.wait_for(timeout=TIMEOUT_MS)
    page.locator("#kb-ingest").click()
    page.get_by_text("Ingested", exact=False).first.wait_for(timeout=TIMEOUT_MS)
    assert "added 1" in page.locator("#kb-upload-tab").inner_text()
    listed = httpx.get(
        f"{proc.url}/v1/admin/kb/documents", headers={"Authorization": f"Bearer {keys.admin}"}, timeout=60
    )
    assert listed.status_code == 200 and "gift-wrap.md" in listed.text
    page.context.close()
