"""The README's screenshots, taken from a real demo server in Debian's Chromium (Playwright), as PNGs:

  docs/images/console-agent-desk.png  the admin console's agent desk (1280×800): a conversation waiting for a
                                      person, its context and a canned reply, logged in with an admin key;
  docs/images/chat-page.png           the branded chat page (1280×800) with one answered question and its sources;
  docs/images/widget-phone.png        the widget on a phone (390×844), open full screen, with an answer.

`lepton serve --demo` runs on a copy of a trained demo home (extractive answers: no generator), the keys are
made with `lepton keys create`, and the widget is embedded in a stand-in shop page served from another local
port (another origin). English only: the machine that takes them may have no CJK fonts. Prints one JSON line:
each file and its size.

    python benchmarks/screenshots.py [--home DIR] [--out docs/images]
"""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, admin_key, base_args, bench_home, emit, log, serve  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 120_000
MAX_BYTES = 200_000
SHOP_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Kestrel Home &amp; Tech</title>
<style>body{{margin:0;font:16px system-ui,sans-serif;color:#1f2328}}header{{background:#1f2328;color:#fff;
padding:14px 18px;font-weight:600}}main{{padding:18px}}.card{{border:1px solid #e1e4e8;border-radius:10px;
padding:14px;margin:12px 0}}</style></head><body><header>Kestrel Home &amp; Tech</header><main>
<h2>Espresso machine KX-200</h2><div class="card">£249 · free delivery over £50</div>
<div class="card">30-day returns · 2-year warranty</div></main>
<script src="{api}/widget.js" data-key="{key}" data-lang="en"></script></body></html>"""


def widget_key(home: Path, origin: str) -> str:
    """A widget key for `origin` (`lepton keys create --kind widget`, which prints the key last)."""
    out = subprocess.run(
        [sys.executable, "-m", "ui.cli", "keys", "create", "--kind", "widget", "--origin", origin]
        + ["--name", "screenshots", "--home", str(home)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def shop_site() -> Iterator[tuple[str, Path]]:
    """A static site on its own 127.0.0.1 port, the shop that embeds the widget: (its origin, its folder). Local,
    as Chromium refuses a public page's requests to a server on this machine (Private Network Access)."""
    with tempfile.TemporaryDirectory(prefix="lepton-shop-") as folder:
        handler = functools.partial(_Quiet, directory=folder)
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        try:
            yield f"http://127.0.0.1:{httpd.server_address[1]}", Path(folder)
        finally:
            httpd.shutdown()
            httpd.server_close()


def has_emoji_font() -> bool:
    """Whether fontconfig knows a colour emoji font (Debian's Chromium draws emoji as boxes without one)."""
    fc = shutil.which("fc-list")
    if fc is None:
        return False
    fonts = subprocess.run([fc], capture_output=True, text=True).stdout
    return "emoji" in fonts.lower()


def shoot(target, path: Path, **options: object) -> dict:
    """A PNG of `target` (a page or an element) at `path`; its size, checked against MAX_BYTES."""
    target.screenshot(path=str(path), type="png", **options)
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise SystemExit(f"{path} is {size} bytes, over {MAX_BYTES}: crop it")
    log(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {size} bytes")
    return {"path": str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path), "bytes": size}


def chat_page(browser, url: str, out: Path) -> dict:
    """The chat page with the demo's brand, one question answered from the help centre, its sources listed."""
    context = browser.new_context(viewport=DESKTOP, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url, wait_until="domcontentloaded")
    page.locator("#chat .bot").first.wait_for()
    page.locator("#message textarea").fill("Who pays return shipping for a sofa?")
    page.locator("#send").click()
    page.wait_for_function("() => document.querySelector('#chat').innerText.includes('Sources')")
    page.mouse.move(0, 0)  # no hover colour on the Send button
    page.wait_for_timeout(500)
    shot = shoot(page, out / "chat-page.png")
    context.close()
    return shot


def widget_phone(browser, url: str, home: Path, out: Path) -> dict:
    """The widget on a phone: open (full screen) over the shop's page, one question answered with sources."""
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True, locale="en-US"
    )
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    with shop_site() as (shop, folder):
        key = widget_key(home, shop)
        (folder / "espresso.html").write_text(SHOP_PAGE.format(api=url, key=key), encoding="utf-8")
        page.goto(f"{shop}/espresso.html", wait_until="domcontentloaded")
        page.locator("lepton-chat .bubble").click()
        page.locator("lepton-chat textarea").fill("How long do refunds take?")
        page.locator("lepton-chat textarea").press("Enter")
        page.locator("lepton-chat .msg.bot .src").wait_for()
        page.locator("lepton-chat textarea").blur()
        page.wait_for_timeout(500)
        shot = shoot(page, out / "widget-phone.png")
    context.close()
    return shot


def console_agent_desk(browser, url: str, key: str, out: Path) -> dict:
    """The console's agent desk: a customer waiting for a person, assigned, their context and a canned reply."""
    with httpx.Client(base_url=url, timeout=120) as http:
        first = http.post("/v1/chat", json={"message": "I want to talk to a real person please"}).json()
        for message in ("My blender order KH-20481937 arrived with a cracked jug", "Can I get a new one?"):
            http.post("/v1/chat", json={"message": message, "session_id": first["session_id"]})
        http.post("/v1/chat", json={"message": "Can I speak to a human about my refund?"})
    context = browser.new_context(viewport=DESKTOP, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{url}/admin/", wait_until="domcontentloaded")
    page.get_by_label("username").first.fill("dana")
    page.get_by_label("password").first.fill(key)
    page.get_by_role("button", name="Login").click()
    page.locator("#admin-header").wait_for()
    page.get_by_role("tab", name="Agent view", exact=True).click()
    page.get_by_role("button", name="Refresh").last.click()
    page.locator("#ag-list .body-cell", has_text="new one").first.click()
    page.locator("#ag-status").get_by_text("KH-20481937", exact=False).wait_for()
    page.locator("#ag-badge-count:not(.idle)").wait_for()
    page.locator("#ag-mine").click()
    page.locator("#ag-status").get_by_text("assigned to dana", exact=False).wait_for()
    page.locator("#ag-canned input").click()
    page.get_by_role("option", name="order status and tracking (tpl-order-status-en)").click()
    page.wait_for_function("() => document.querySelector('#ag-text textarea').value.length > 20")
    # No "Assigned to dana" toast over the desk, no hover, from the top: the whole desk, list to reply box.
    for close in page.locator(".toast-close").all():
        close.click()
    page.locator(".toast-body").first.wait_for(state="detached")
    page.mouse.move(0, 0)
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(800)
    if not has_emoji_font():  # the badge's bell would be a box: left out rather than shown broken
        page.evaluate(
            "() => { const b = document.querySelector('#ag-badge-count'); if (!b) return;"
            " const walk = document.createTreeWalker(b, NodeFilter.SHOW_TEXT);"
            " while (walk.nextNode()) walk.currentNode.data = walk.currentNode.data.replace('\\u{1F514} ', '');"
            " }"
        )
    shot = shoot(page, out / "console-agent-desk.png", full_page=True)
    context.close()
    return shot


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = base_args(__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    args = parser.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    home = bench_home(args.home)
    with serve(home, demo=True, env={"LEPTON_GENERATOR__BACKEND": "none"}) as live:
        admin = admin_key(live.home)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
            shots = [
                chat_page(browser, live.url, out),
                widget_phone(browser, live.url, live.home, out),
                console_agent_desk(browser, live.url, admin, out),
            ]
            browser.close()
    emit({"screenshots": shots})


if __name__ == "__main__":
    main()
