"""The branded widget in Chromium: `[brand]` from the server, `data-` overrides, suggestions, a phone screen,
long replies and agents' names. The widget is served as `widget_route` serves it, on a routed fake API."""

from __future__ import annotations

import html
from pathlib import Path

import pytest

import tests.ui.test_widget as base
from assistant.config import BrandSettings
from tests.ui.test_widget import FAKE_API, HOSTILE_CSS, FakeApi, ask, reply, shadow
from ui.http.widget_route import widget_source

browser = base.browser  # the module's Chromium and static site (another origin than the API)
site = base.site
pytestmark = [pytest.mark.slow, pytest.mark.browser]

DOT = "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciLz4="
BRAND = BrandSettings(
    name="Acme Shop",
    color="#f60",
    avatar=DOT,
    greeting={"en": "Welcome to Acme! Ask us anything.", "zh": "欢迎光临 Acme！"},
    suggestions={"en": ["Where is my order?", "How do returns work?"], "zh": ["我的订单在哪里？"]},
)
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201f3a0b5a90000000049454e44ae426082"
)


class BrandedApi(FakeApi):
    """FakeApi serving widget.js branded with `brand`, as the server does."""

    def __init__(self, brand: BrandSettings) -> None:
        super().__init__()
        self.script = widget_source(brand).decode("utf-8")

    def handle(self, route) -> None:
        if route.request.url == f"{FAKE_API}/widget.js":
            route.fulfill(body=self.script, content_type="application/javascript; charset=utf-8")
        else:
            super().handle(route)


@pytest.fixture
def branded(browser, site):
    """open(brand, attrs=None, lang=None, viewport=None) -> (page, api): the widget on a tall hostile page."""
    url, folder = site
    contexts = []

    def open_widget(
        brand: BrandSettings,
        attrs: dict[str, str] | None = None,
        viewport: dict[str, int] | None = None,
        locale: str = "en-US",
    ):
        api = BrandedApi(brand)
        context = browser.new_context(locale=locale, viewport=viewport or {"width": 1280, "height": 720})
        contexts.append(context)
        context.route(f"{FAKE_API}/**", api.handle)
        context.route(
            "https://cdn.example/**", lambda route: route.fulfill(body=PNG, content_type="image/png")
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        extra = "".join(f' data-{k}="{html.escape(v)}"' for k, v in (attrs or {}).items())
        name = f"brand-{len(contexts)}.html"
        (Path(folder) / name).write_text(
            f"<!doctype html><html><head><meta charset=utf-8><meta name=viewport content='width=device-width'>"
            f"<title>Shop</title><style>{HOSTILE_CSS}</style></head><body><h1>Shop</h1>"
            f"<div id=tall style='height:3000px'>Tall page</div>"
            f'<script src="{FAKE_API}/widget.js" data-key="wk_test"{extra}></script></body></html>',
            encoding="utf-8",
        )
        page.goto(f"{url}/{name}", wait_until="domcontentloaded")
        page.locator("lepton-chat .bubble").wait_for()
        return page, api

    yield open_widget
    for context in contexts:
        context.close()


def style(page, selector: str, prop: str) -> str:
    return shadow(page, f"getComputedStyle(root.querySelector({selector!r})).{prop}")


def test_brand_from_settings_and_a_suggestion_that_asks(branded) -> None:
    page, api = branded(BRAND)
    assert style(page, ".bubble", "backgroundColor") == "rgb(255, 102, 0)"
    page.locator("lepton-chat .bubble").click()
    assert page.locator("lepton-chat h2").inner_text() == "Acme Shop"
    # Orange is light: the text on it is the dark ink, not white.
    assert style(page, "header", "backgroundColor") == "rgb(255, 102, 0)"
    assert style(page, "h2", "color") == "rgb(31, 35, 40)"
    assert shadow(page, "root.querySelector('header img.avatar').src") == DOT
    assert page.locator("lepton-chat .msg.bot").first.inner_text() == "Welcome to Acme! Ask us anything."
    offers = page.locator("lepton-chat .suggest button")
    assert offers.all_inner_texts() == ["Where is my order?", "How do returns work?"]

    api.chat.append(reply("Returns are free within 30 days."))
    offers.nth(1).click()
    page.locator("lepton-chat .msg.bot", has_text="30 days").locator(".fb").wait_for()
    assert api.calls("/v1/chat")[0][3]["message"] == "How do returns work?"
    assert page.locator("lepton-chat .msg.user").inner_text().endswith("How do returns work?")
    assert page.locator("lepton-chat .suggest").count() == 0
    assert style(page, ".msg.user", "backgroundColor") == "rgb(255, 102, 0)"
    assert style(page, "form button", "color") == "rgb(31, 35, 40)"


def test_chinese_greeting_and_suggestions(branded) -> None:
    page, _ = branded(BRAND, locale="zh-CN")
    page.locator("lepton-chat .bubble").click()
    assert page.locator("lepton-chat .msg.bot").first.inner_text() == "欢迎光临 Acme！"
    assert page.locator("lepton-chat .suggest button").all_inner_texts() == ["我的订单在哪里？"]


def test_data_attributes_override_the_brand_and_bad_ones_are_ignored(branded) -> None:
    page, _ = branded(
        BRAND,
        {
            "title": "Corner Store",
            "color": "#003366",
            "greeting": "Hello from the corner!",
            "avatar": "https://cdn.example/corner.png",
        },
    )
    page.locator("lepton-chat .bubble").click()
    assert page.locator("lepton-chat h2").inner_text() == "Corner Store"
    assert style(page, "header", "backgroundColor") == "rgb(0, 51, 102)"
    assert style(page, "h2", "color") == "rgb(255, 255, 255)"  # dark navy: white text
    assert shadow(page, "root.querySelector('header img.avatar').src") == "https://cdn.example/corner.png"
    assert page.locator("lepton-chat .msg.bot").first.inner_text() == "Hello from the corner!"

    page, _ = branded(
        BRAND, {"color": "red; background: url(https://evil.example/)", "avatar": "javascript:1"}
    )
    page.locator("lepton-chat .bubble").click()
    assert style(page, "header", "backgroundColor") == "rgb(255, 102, 0)"
    assert shadow(page, "root.querySelector('header img.avatar').src") == DOT


def test_no_brand_setting_can_run_code(branded) -> None:
    page, api = branded(
        BrandSettings(
            name="</script><img src=x onerror=window.__pwned=1>",
            greeting='"; window.__pwned = 2; "',
            suggestions=["</script><script>window.__pwned=3</script>"],
        )
    )
    page.locator("lepton-chat .bubble").click()
    assert page.locator("lepton-chat h2").inner_text() == "</script><img src=x onerror=window.__pwned=1>"
    assert page.locator("lepton-chat .msg.bot").first.inner_text() == '"; window.__pwned = 2; "'
    assert (
        page.locator("lepton-chat .suggest button").inner_text()
        == "</script><script>window.__pwned=3</script>"
    )
    assert shadow(page, "root.querySelectorAll('img, script').length") == 0
    assert page.evaluate("window.__pwned") is None


def test_a_phone_gets_the_whole_screen_and_the_page_stays_put(branded) -> None:
    page, _ = branded(BRAND, viewport={"width": 390, "height": 844})
    bubble = page.locator("lepton-chat .bubble")
    bubble.click()
    box = page.locator("lepton-chat .panel").bounding_box()
    assert box == {"x": 0, "y": 0, "width": 390, "height": 844}
    assert style(page, ".panel", "borderTopLeftRadius") == "0px"
    assert bubble.is_hidden()
    close = page.locator("lepton-chat header button")
    close_box = close.bounding_box()
    assert close.is_visible() and close_box["x"] + close_box["width"] <= 390 and close_box["y"] >= 0
    assert page.evaluate("getComputedStyle(document.documentElement).overflow") == "hidden"
    page.mouse.move(200, 400)
    page.mouse.wheel(0, 1500)
    page.wait_for_timeout(300)
    assert page.evaluate("window.scrollY") == 0

    close.click()
    assert bubble.is_visible() and page.locator("lepton-chat .panel").is_hidden()
    assert page.evaluate("document.documentElement.style.overflow + document.body.style.overflow") == ""
    page.mouse.wheel(0, 1500)
    page.wait_for_function("() => window.scrollY > 0")


def test_a_wide_screen_keeps_the_floating_card(branded) -> None:
    page, _ = branded(BRAND)
    page.locator("lepton-chat .bubble").click()
    box = page.locator("lepton-chat .panel").bounding_box()
    assert box["width"] <= 370 and box["height"] <= 560 and box["x"] > 800
    assert page.locator("lepton-chat .bubble").is_visible()
    assert page.evaluate("document.documentElement.style.overflow") == ""


def test_a_long_reply_is_shown_from_its_start_a_short_one_at_the_bottom(branded) -> None:
    page, api = branded(BrandSettings())
    page.locator("lepton-chat .bubble").click()
    lines = [f"Step {i}: do the thing number {i} carefully." for i in range(1, 61)]
    api.chat.append(reply("\n".join(lines), tokens=[line + "\n" for line in lines[:-1]] + [lines[-1]]))
    ask(page, "How do I set it up?")
    page.locator("lepton-chat .msg.bot", has_text="Step 60").locator(".fb").wait_for()
    page.wait_for_timeout(100)
    offset = shadow(
        page,
        "(() => { const log = root.querySelector('.log'); const m = [...log.querySelectorAll('.msg.bot')].pop();"
        " return [m.getBoundingClientRect().top - log.getBoundingClientRect().top, m.offsetHeight,"
        " log.clientHeight, log.scrollTop, log.scrollHeight]; })()",
    )
    top, height, visible, scrolled, total = offset
    assert height > visible  # the reply is taller than the log...
    assert 0 <= top <= 12, offset  # ...and its first line is at the top of the log
    assert scrolled + visible < total - 100, offset  # not scrolled to its end

    api.chat.append(reply("Glad to help.", message_id="m2"))
    ask(page, "thanks")
    page.locator("lepton-chat .msg.bot", has_text="Glad to help.").locator(".fb").wait_for()
    page.wait_for_timeout(100)
    assert shadow(
        page, "(l => l.scrollHeight - l.scrollTop - l.clientHeight)(root.querySelector('.log'))"
    ) == pytest.approx(0, abs=2)


def test_agent_messages_show_the_agents_name(branded) -> None:
    page, api = branded(BrandSettings())
    page.locator("lepton-chat .bubble").click()
    api.chat.append(reply("Let me connect you with a colleague.", route="handoff", message_id="t1"))
    ask(page, "I want a human")
    page.locator("lepton-chat .notice", has_text="connected to a person").wait_for()
    api.session = {
        "session_id": "s1",
        "status": "handoff",
        "turns": [],
        "messages": [
            {"id": "a1", "role": "agent", "agent": "Dana", "text": "Hi, Dana here.", "created_at": 2},
            {"id": "a2", "role": "agent", "agent": "agent", "text": "Anything else?", "created_at": 3},
        ],
    }
    page.locator("lepton-chat .msg.agent", has_text="Anything else?").wait_for(timeout=15_000)
    assert page.locator("lepton-chat .msg.agent .who").all_inner_texts() == ["Dana", "Agent"]
