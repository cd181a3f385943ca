"""A passage cut into answer units: whole sentences, table rows as sentences, lists with their lead-in.

Every unit reads on its own, so the extractive composer can quote any of them: a table row carries its
headers ("Standard: delivery time 3–5 business days; price $5.99."), a list item keeps the line that
introduced it ("…, minus: $6.95 return shipping, unless the item is defective."), a list of bare phrases is
one unit (never half a list), and headings, "Label:" lines and questions are never units themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from assistant.generation.text import CJK_RE

_FRONT_MATTER = re.compile(r"\A\s*---\n.*?\n---\n", re.S)
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_BOLD_LINE = re.compile(r"^\s*(\*\*|__)([^*_]{1,80})\1\s*$")  # a line that is only bold text: a heading
_ITEM = re.compile(r"^(\s*)([-*+]|\d+[.)])\s+(.*)$")
_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPH = re.compile(r"(\*\*|__|`)|(?<![\w*])\*(?=\S)|(?<=\S)\*(?![\w*])|(?<![\w_])_(?=\S)|(?<=\S)_(?![\w_])")
_QA = re.compile(r"^\s*(?:q|question|问|问题)\s*[:：]", re.I)
_ANSWER = re.compile(r"^\s*(?:a|answer|答|回答)\s*[:：]\s*", re.I)
_SLOT = re.compile(r"\{\w+\}")
# Sentence ends: . ! ? before a capital, digit or opening mark (not "e.g. x"); Chinese 。！？ (never ；: the
# clause after a semicolon is usually the condition of the one before it).
_SENT_EN = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[*]?[A-Z0-9$])")
_SENT_ZH = re.compile(r"(?<=[。！？])|(?<=[?!])(?=\s*[\u3400-\u9fff])")  # "下错单了?在…" too
_END = ".!?。！？"


@dataclass(frozen=True)
class Unit:
    """One quotable piece of a passage; `context` (heading, table headers) helps ranking, not display."""

    text: str
    heading: str
    block: int  # the paragraph, list or table it came from
    pos: int  # reading order within the passage
    kind: str  # "sentence", "row", "item", "list" (of phrases) or "steps"
    context: str = ""


def inline(text: str) -> str:
    """Markdown inline syntax removed (links keep their text), whitespace collapsed."""
    text = _LINK.sub(r"\1", text)
    text = _EMPH.sub("", text).replace("\\|", "|")
    return re.sub(r"\s+", " ", text).strip()


def is_chinese(text: str) -> bool:
    return bool(CJK_RE.search(text))


def finish(text: str) -> str:
    """A sentence with closing punctuation (Chinese or Latin to match the text), no trailing ;:,."""
    text = text.strip().rstrip(";；:：,，、 ")
    closed = text[-1:] in "\"'”’)）」" and text[-2:-1] in tuple(_END)  # 'said "yes."'
    if text and text[-1] not in _END and not closed:
        text += "。" if is_chinese(text) else "."
    return text


def sentences(paragraph: str) -> list[str]:
    out: list[str] = []
    for part in _SENT_ZH.split(paragraph):
        out.extend(s.strip() for s in _SENT_EN.split(part) if s.strip())
    return out


def _cells(line: str) -> list[str]:
    return [inline(c) for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]


def _lower_first(text: str) -> str:
    """'Delivery time' -> 'delivery time'; acronyms and CJK unchanged."""
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def row_sentence(headers: list[str], cells: list[str]) -> str:
    """A table row as a sentence: 'Subject: value.' (two columns) or 'Subject: header value; …' (more)."""
    subject, values = cells[0], cells[1:]
    zh = is_chinese(" ".join(cells + headers))
    colon = "：" if zh else ": "
    pairs = [
        (h, v) for h, v in zip(headers[1:] + [""] * len(values), values, strict=False) if v and v not in "-–—"
    ]
    if not pairs:
        return finish(subject)
    if len(pairs) == 1 and len(values) == 1:
        parts = [pairs[0][1]]  # two columns: the value answers the subject directly
    elif zh:
        parts = [
            f"{h}{'' if h[-1] in '）)：:' or is_chinese(v[:1]) else ' '}{v}" if h else v for h, v in pairs
        ]
    else:
        parts = [f"{_lower_first(h)}: {v}" if h else v for h, v in pairs]
        colon = " — " if any(h for h, _ in pairs) else colon
    has_comma = any(("，" if zh else ",") in p for p in parts)
    sep = ("；" if has_comma else "，") if zh else ("; " if has_comma else ", ")
    body = sep.join(parts)
    return finish(f"{subject}{colon}{body}" if subject else body)


def _drop_questions(item: str) -> str:
    """A list item "Ordered the wrong thing? Cancel it before …" without its question."""
    parts = sentences(item)
    kept = [p for p in parts if not p.endswith(("?", "？"))]
    return ("" if is_chinese(item) else " ").join(kept) if kept and len(kept) < len(parts) else item


def _is_phrase(item: str) -> bool:
    """A list item that is a bare phrase ('Gift cards'), not a sentence or a 'Label: text' line."""
    return item.rstrip()[-1:] not in _END and not re.match(r"^[^:：]{1,60}[:：]\s*\S", item)


def _join_list(lead: str, items: list[str], ordered: bool = False) -> str:
    zh = is_chinese(lead + "".join(items))
    if ordered:  # steps read as sentences, in order
        body = ("" if zh else " ").join(finish(i) for i in items)
    else:
        body = ("；" if zh else "; ").join(i.rstrip(";；,，.。") for i in items)
    if not lead:
        return finish(body)
    return finish(f"{lead.rstrip(':：')}{'：' if zh else ': '}{body}")


@lru_cache(maxsize=2048)
def passage_units(text: str) -> tuple[Unit, ...]:
    """The answer units of a Markdown (or plain) passage, in reading order."""
    lines = _FRONT_MATTER.sub("", text).splitlines()
    units: list[Unit] = []
    heading = ""
    block = 0
    para: list[str] = []
    items: list[tuple[bool, str]] = []  # (ordered, text)
    indent = 0  # of the list's top-level items
    lead = ""  # the sentence that introduced the list being read ("The crew will:")
    table: list[list[str]] = []
    headers: list[str] = []

    def add(text: str, kind: str, context: str = "") -> None:
        text = text.strip()
        if text and not _SLOT.search(text):
            units.append(Unit(text, heading, block, len(units), kind, context))

    def flush_para() -> None:
        nonlocal para, lead, block
        if not para:
            return
        joined = inline(" ".join(para))
        para = []
        parts = sentences(_ANSWER.sub("", joined))
        lead = ""
        if parts and parts[-1].endswith((":", "：")):
            lead = parts.pop()  # kept for the list that follows; never a unit on its own
        for s in parts:
            if s.endswith(("?", "？")) or s.endswith((":", "：")):
                continue  # a question or a label is not an answer
            add(finish(s), "sentence")
        if not lead:
            block += 1  # a paragraph that introduces a list shares its block: the list reads on from it

    def flush_items() -> None:
        nonlocal items, lead, block
        if not items:
            return
        texts = [_drop_questions(inline(t)) for _, t in items if inline(t)]
        ordered = items[0][0]
        if texts and (ordered or sum(map(_is_phrase, texts)) * 2 > len(texts)):
            # Steps and bare phrases: the whole list, never half of it.
            add(_join_list(lead or heading, texts, ordered), "steps" if ordered else "list")
        else:
            for t in texts:
                add(
                    finish(f"{lead.rstrip(':：')}{'：' if is_chinese(t) else ': '}{t}" if lead else t), "item"
                )
        items, lead = [], ""
        block += 1

    def flush_table() -> None:
        nonlocal table, headers, block, lead
        for cells in table:
            if any(cells):
                zh = is_chinese(" ".join(cells))
                shown = row_sentence(headers, cells) if len(cells) > 1 else finish(cells[0])
                add(shown, "row", context=("，" if zh else ", ").join(headers))
        if table or headers:
            table, headers, lead = [], [], ""
            block += 1

    def flush() -> None:
        flush_para()
        flush_items()
        flush_table()

    for k, raw in enumerate(lines):
        if not raw.strip():
            flush_para()  # a blank line ends a paragraph; lists and tables end at the next other line
            continue
        if _TABLE_SEP.match(raw):
            continue
        if raw.lstrip().startswith("|"):
            flush_para()
            flush_items()
            cells = _cells(raw)
            if k + 1 < len(lines) and _TABLE_SEP.match(lines[k + 1]):
                flush_table()
                headers = cells
            else:
                table.append(cells)
            continue
        m_heading = _HEADING.match(raw) or _BOLD_LINE.match(raw)
        if m_heading:
            flush()
            heading = inline(m_heading.group(m_heading.lastindex or 1))
            lead = ""
            continue
        m_item = _ITEM.match(raw)
        if m_item:
            if para:
                flush_para()  # its last sentence, if it ends with ":", becomes the lead-in
            flush_table()
            if items and len(m_item.group(1)) > indent:
                # A nested item belongs to the one above ("Take photos of: the item; the box; the label").
                ordered, prev = items[-1]
                glue = " " if prev.rstrip().endswith((":", "：")) else ("；" if is_chinese(prev) else "; ")
                items[-1] = (ordered, f"{prev.rstrip().rstrip('.;。；')}{glue}{m_item.group(3).strip()}")
                continue
            if not items:
                indent = len(m_item.group(1))
            items.append((m_item.group(2)[0].isdigit(), m_item.group(3)))
            continue
        if items and raw.startswith((" ", "\t")):
            ordered, prev = items[-1]
            items[-1] = (ordered, f"{prev} {raw.strip()}")  # an item's continuation line
            continue
        if _QA.match(inline(raw)):
            flush()
            continue  # the question of a Q/A pair; its answer follows
        flush_items()
        flush_table()
        para.append(raw.strip())
    flush()
    return tuple(units)
