"""What the console's tabs share: event options, options for customer text, and reading a clicked row."""

from __future__ import annotations

from typing import Any

import gradio as gr

# Every console event stays off Gradio's public API (the page calls it, nothing else should).
PRIVATE: dict[str, Any] = {"api_visibility": "private"}
# Components that show customer text (always through `plain`): no math, and HTML sanitized as a second line.
CUSTOMER_TEXT: dict[str, Any] = {"latex_delimiters": [], "sanitize_html": True}


def row_value(evt: gr.SelectData, column: int = 0) -> str:
    """The value in `column` of the clicked table row (the clicked cell where Gradio gives no row)."""
    row = getattr(evt, "row_value", None)
    if row:
        return str(row[column])
    return str(evt.value)
