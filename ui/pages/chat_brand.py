"""The chat page's face from `[brand]`: title, colour, avatar, greeting and suggestions, as the widget shows them.

The page is mounted by `ui.http.app`, whose mount call sets the page-wide CSS and theme; the brand's CSS rides in
the page itself instead (`brand_html`), so the page is branded however it is mounted."""

from __future__ import annotations

import html

from assistant.config import BrandSettings

# What the widget says when `[brand]` leaves a field empty (ui/static/widget.js STRINGS), per language.
DEFAULT_NAME = {"en": "Customer support", "zh": "在线客服"}
DEFAULT_GREETING = {"en": "Hi! How can we help you today?", "zh": "您好！请问有什么可以帮您？"}
MAX_SUGGESTIONS = 6  # BrandSettings allows at most 6 per language
# The message box's hint and the Send button, as the widget words them.
PLACEHOLDER = {"en": "Type your question…", "zh": "请输入您的问题…"}
SEND = {"en": "Send", "zh": "发送"}


def page_title(brand: BrandSettings) -> str:
    """The browser tab's title."""
    return f"{brand.name} — support" if brand.name else DEFAULT_NAME["en"]


def reader_language(code: str | None) -> str:
    """en or zh from a browser language tag (`navigator.language`, e.g. "zh-CN"); English otherwise."""
    return "zh" if str(code or "").strip().lower().startswith("zh") else "en"


def greeting(brand: BrandSettings, language: str) -> str:
    """The first message of a conversation, in `language`."""
    greetings = brand.greeting if isinstance(brand.greeting, dict) else {}
    return greetings.get(language) or DEFAULT_GREETING.get(language, DEFAULT_GREETING["en"])


def suggestions(brand: BrandSettings, language: str) -> list[str]:
    """The questions offered under the greeting, in `language` (none when `[brand]` has none for it)."""
    offered = brand.suggestions if isinstance(brand.suggestions, dict) else {}
    return list(offered.get(language, []))[:MAX_SUGGESTIONS]


def on_accent(colour: str) -> str:
    """Text on the brand colour: white or dark ink, whichever contrasts more (as the widget picks it)."""
    hex6 = colour[1:] if len(colour) == 7 else "".join(c * 2 for c in colour[1:])

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    y = sum(
        w * linear(int(hex6[i : i + 2], 16) / 255)
        for w, i in zip((0.2126, 0.7152, 0.0722), (0, 2, 4), strict=True)
    )
    return "#fff" if 1.05 / (y + 0.05) >= (y + 0.05) / 0.0664 else "#1f2328"


def brand_css(brand: BrandSettings) -> str:
    """CSS giving buttons, the customer's bubbles and focus rings the brand colour, and hiding Gradio's chrome.

    `brand.color` is a validated hex colour, so it is safe in CSS."""
    accent, ink = brand.color, on_accent(brand.color)
    return (
        # Gradio's theme variables, overridden under the app's root (they are declared on :root / .dark).
        f".gradio-container{{--brand:{accent};--on-brand:{ink};"
        "--button-primary-background-fill:var(--brand);--button-primary-background-fill-hover:"
        "color-mix(in srgb,var(--brand) 85%,#000);--button-primary-text-color:var(--on-brand);"
        "--button-primary-text-color-hover:var(--on-brand);--button-primary-border-color:var(--brand);"
        "--button-primary-border-color-hover:var(--brand);--color-accent:var(--brand);"
        "--color-accent-soft:var(--brand);--border-color-accent:var(--brand);"
        "--border-color-accent-subdued:var(--brand);--input-border-color-focus:var(--brand)}"
        # The customer's own messages: the brand colour with readable text.
        "#chat .user{background:var(--brand);border-color:var(--brand)}"
        "#chat .user,#chat .user *{color:var(--on-brand);--body-text-color:var(--on-brand)}"
        # The header: avatar and name.
        "#brand{display:flex;align-items:center;gap:12px;padding:4px 2px}"
        "#brand img{width:40px;height:40px;border-radius:50%;object-fit:cover;background:#fff;"
        "border:1px solid var(--border-color-primary)}"
        "#brand h1{margin:0;font-size:1.35rem;font-weight:600}"
        # The chat's own toolbar holds only "clear", which would empty the view of a conversation that goes on.
        "#chat .top-panel{display:none}"
        # The greeting is no answer to rate: no thumbs under it (a reply's thumbs stay).
        "#chat .message-wrap>.bot-row:first-child+.message-buttons{display:none}"
        # The suggested questions: chips under the chat, like the widget's.
        "#suggestions{gap:8px;flex-wrap:wrap}"
        "#suggestions button{flex:0 1 auto;min-width:0;border-radius:16px;border:1px solid var(--brand);"
        "background:var(--background-fill-primary);font-weight:400}"
    )


def brand_html(brand: BrandSettings) -> str:
    """The page's header (avatar and name) with the brand's CSS; every setting is escaped."""
    name = html.escape(brand.name or DEFAULT_NAME["en"])
    picture = f'<img src="{html.escape(brand.avatar)}" alt="">' if brand.avatar else ""
    return f'<style>{brand_css(brand)}</style><div id="brand">{picture}<h1>{name}</h1></div>'


def avatar_image(brand: BrandSettings) -> dict[str, str] | None:
    """The assistant's avatar for `gr.Chatbot(avatar_images=...)`, handed to the browser as it is.

    Not a plain string: Gradio would take a data: URI for a local file to serve (the chat page serves none),
    and a file reference marked as Gradio's FileData gets the server's address put in front of a data: URI."""
    if not brand.avatar:
        return None
    return {"path": brand.avatar, "url": brand.avatar}
