"""The API's documentation works offline: Swagger UI's assets come from a Python package, not a CDN."""

from __future__ import annotations

import re
import shutil

import httpx
import pytest

from tests.conftest import CHROMIUM, FLAGS


def test_docs_page_and_its_assets_are_served_here(live) -> None:
    page = httpx.get(f"{live.url}/docs", timeout=30)
    assert page.status_code == 200
    assets = re.findall(r"""(?:src|href)=['"]([^'"]+\.(?:js|css))['"]""", page.text)
    assert assets and all(a.startswith("/") for a in assets), assets  # no https://cdn...
    for asset in assets:
        got = httpx.get(f"{live.url}{asset}", timeout=30)
        assert got.status_code == 200 and len(got.content) > 10_000


@pytest.mark.slow
@pytest.mark.browser
def test_docs_render_the_api_in_a_browser_with_no_network(live) -> None:
    from playwright.sync_api import sync_playwright

    if not shutil.which("chromium"):
        pytest.fail("Debian's chromium is not installed: apt-get install chromium (.ci/run does it)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            page = browser.new_page()
            # Anything not on this server fails at once, as on a machine with no internet.
            page.route(re.compile(r"^(?!http://127\.0\.0\.1).*"), lambda route: route.abort())
            page.goto(f"{live.url}/docs", wait_until="domcontentloaded")
            page.wait_for_selector(".opblock-summary-path", timeout=30_000)
            assert "/v1/chat/completions" in page.locator(".swagger-ui").inner_text()
            assert page.locator(".opblock").count() >= 5  # the operations are listed
        finally:
            browser.close()
