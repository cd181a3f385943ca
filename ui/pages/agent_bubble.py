"""An agent's message on the chat page: a bubble of its own, under the agent's name and face, without thumbs.

The face is the agent's picture from `[brand] agent_avatars`, else their initial on the brand colour (drawn by
CSS: no asset). Where the bot's rows have the brand avatar, the face takes its place in the avatar column, so
bot and agent are told apart at a glance; without a brand avatar it leads the agent's label."""

from __future__ import annotations

import html

from assistant.config import BrandSettings

_AGENT = {"en": "Support agent", "zh": "人工客服"}
MAX_NAME = 60

# No thumbs under an agent's message (ratings are for the bot's replies); the face in the avatar column of rows
# that have one (Gradio marks them `with_avatar`), the brand avatar there hidden; else inline before the name.
AGENT_CSS = (
    "<style>#chat .message-row:has(.lepton-agent) .message-buttons{display:none}"
    "#chat .lepton-agent{font-weight:600;font-size:.85em;opacity:.8}"
    "#chat .message-row:has(.lepton-agent)>.avatar-container{visibility:hidden}"
    "#chat .lepton-face{display:inline-flex;align-items:center;justify-content:center;width:24px;height:24px;"
    "margin:0 6px 0 0 !important;vertical-align:middle;border-radius:50%;object-fit:cover;"
    "background:var(--brand,#2b59c3);color:var(--on-brand,#fff);font-weight:600;font-size:13px;line-height:1}"
    "#chat .message-row.with_avatar .lepton-face{position:absolute;top:0;left:calc(-35px - var(--spacing-xxl));"
    "width:35px;height:35px;font-size:15px}"
    "#chat .message-row.with_avatar .lepton-agent{opacity:1}"
    "#chat .message-row.with_avatar .lepton-agent .lepton-name{opacity:.8}</style>"
)


def initial(name: str) -> str:
    """The first letter or digit of `name`, upper case ("?" when it has none)."""
    return next((c.upper() for c in name if c.isalnum()), "?")


def agent_face(name: str, avatar: str | None) -> str:
    """The agent's picture (an http(s) or data:image URL, validated by the settings), else their initial."""
    if avatar:
        return f'<img class="lepton-face" src="{html.escape(avatar, quote=True)}" alt="">'
    return f'<span class="lepton-face">{html.escape(initial(name), quote=False)}</span>'


def format_agent_message(
    text: str, language: str | None, agent: str | None = None, brand: BrandSettings | None = None
) -> str:
    """A person's reply, labelled with their name and face so the customer can tell it from the bot's (escaped
    like bot replies; the stored default name "agent" is no name)."""
    label = _AGENT.get(language or "en", _AGENT["en"])
    name = (agent or "").strip()[:MAX_NAME]
    named = bool(name) and name.lower() != "agent"
    if named:
        label = f"{html.escape(name, quote=False)} · {label}"
    avatar = brand.agent_avatar(name) if brand is not None and named else None
    face = agent_face(name if named else _AGENT.get(language or "en", _AGENT["en"]), avatar)
    return (
        f'<span class="lepton-agent">{face}<span class="lepton-name">{label}</span></span>\n\n'
        f"{html.escape(text, quote=False)}"
    )
