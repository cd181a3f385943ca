"""Customer text in the admin console's Markdown: shown literally, never rendered (issue #17, finding 7)."""

from __future__ import annotations

import html
import re

# Every ASCII punctuation mark Markdown gives a meaning to, except `&` and `;` (html.escape's entities).
_MARKDOWN_PUNCT = re.compile(r"([!\"#$%'()*+,\-./:<=>?@\[\\\]^_`{|}~])")
_PLAIN_ID = re.compile(r"[\w.:@/+=-]{1,200}")


def plain(text: str | None) -> str:
    """Untrusted text (a customer's) as Markdown that shows literally: no image, link, emphasis, math or HTML.

    HTML-escaped, then every Markdown punctuation backslash-escaped (that also stops bare-URL and e-mail
    autolinks); lines keep their breaks but lose leading spaces (which would start a code block)."""
    escaped = _MARKDOWN_PUNCT.sub(r"\\\1", html.escape(text or "", quote=False))
    return "  \n".join(line.strip() for line in escaped.splitlines())


def inline_code(value: object) -> str:
    """An id as inline code when it is a plain token, else as plain text (a backtick would end the span)."""
    text = str(value)
    return f"`{text}`" if _PLAIN_ID.fullmatch(text) else plain(text)
