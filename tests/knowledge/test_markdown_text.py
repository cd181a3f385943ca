from __future__ import annotations

from knowledge.markdown_text import clean_markdown


def test_clean_markdown():
    text = "---\ntitle: x\n---\n## Head\n\n| A | B |\n|---|---|\n| **one** | [two](http://x) |\n- item"
    assert clean_markdown(text) == "Head\none: B two\nitem"
