"""Knowledge-base Markdown as plain text: lines without '#', table pipes, '**' or links (for prompts and checks)."""

from __future__ import annotations

import re

_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPH = re.compile(r"(\*\*|__|\*|`)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*")
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)


def _inline(text: str) -> str:
    text = _LINK.sub(r"\1", text)
    text = _EMPH.sub("", text).replace("#", "").replace("|", " ")
    return re.sub(r"\s+", " ", text).strip()


def markdown_lines(text: str) -> list[tuple[str, bool]]:
    """Split Markdown into clean plain-text lines, each flagged True when it was a heading.

    Table rows become "first cell: header2 cell2; header3 cell3" so each row reads on its own.
    """
    raw_lines = _FRONT_MATTER.sub("", text).splitlines()
    out: list[tuple[str, bool]] = []
    headers: list[str] = []
    for k, raw in enumerate(raw_lines):
        if not raw.strip() or _TABLE_SEP.match(raw):
            continue
        if "|" in raw and raw.strip().startswith("|"):
            cells = [_inline(c) for c in raw.strip().strip("|").split("|")]
            if k + 1 < len(raw_lines) and _TABLE_SEP.match(raw_lines[k + 1]):
                headers = cells  # header row: folded into the data rows below
                continue
            rest = [
                f"{h} {c}".strip() if h else c
                for h, c in zip(headers[1:] + [""] * len(cells), cells[1:], strict=False)
            ]
            line = f"{cells[0]}: " + "; ".join(r for r in rest if r) if len(cells) > 1 else cells[0]
            if line.strip(": "):
                out.append((line, False))
            continue
        headers = []
        heading = bool(_HEADING.match(raw))
        line = _inline(_BULLET.sub("", _HEADING.sub("", raw)))
        if line:
            out.append((line, heading))
    return out


def clean_markdown(text: str) -> str:
    """Plain text without Markdown syntax (no '#', table pipes, '**', links)."""
    return "\n".join(line for line, _ in markdown_lines(text))
