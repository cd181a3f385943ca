"""The unit rows a knowledge base stores: a document's chunks, a template, a slot declaration; and the `Hit`
a stored unit becomes in search results."""

from __future__ import annotations

import hashlib
import json
from collections import Counter

from knowledge.chunking import MarkdownChunker
from knowledge.language import UNKNOWN, detect_language
from knowledge.slots import Slot
from knowledge.types import Hit, Template

SNIPPET_CHARS = 240
LANGUAGE_SAMPLE = 500
SEARCHABLE = frozenset({"document", "template"})


def sha(data: bytes | str) -> str:
    """The SHA-256 hex digest of `data` (text is UTF-8 encoded)."""
    return hashlib.sha256(data if isinstance(data, bytes) else data.encode()).hexdigest()


def majority(values: list[str]) -> str:
    """The most common known language among `values`, else UNKNOWN."""
    known = [v for v in values if v and v != UNKNOWN]
    return Counter(known).most_common(1)[0][0] if known else UNKNOWN


def document_units(
    chunker: MarkdownChunker,
    doc_id: str,
    uri: str,
    title: str,
    text: str,
    markdown: bool,
    language: str | None,
    tags: str,
    public: tuple[str | None, str | None],
) -> list[dict]:
    """Chunk a document's text into unit dicts (language per chunk unless the document declares one).

    `public`: the document's (public path, public URL)."""
    path, url = public
    chunks = chunker.chunk(text, markdown=markdown)
    # The first ~500 characters decide as well as the whole chunk (langdetect's cost grows with length).
    langs = [language or detect_language(f"{c.heading}\n{c.text}"[:LANGUAGE_SAMPLE]) for c in chunks]
    doc_lang = language or majority(langs)
    langs = [doc_lang if lang == UNKNOWN else lang for lang in langs]
    return [
        {
            "uid": f"{doc_id}-{i:04d}",
            "doc_id": doc_id,
            "kind": "document",
            "ord": i,
            "title": title,
            "heading": c.heading,
            "text": c.text,
            "language": lang,
            "tags": tags,
            "intent": None,
            "uri": uri,
            "ref": None,
            "path": path,
            "url": url,
        }
        for i, (c, lang) in enumerate(zip(chunks, langs, strict=True))
    ]


def slot_unit(doc_id: str, slot: Slot) -> dict:
    """A slot declaration stored as a unit of its templates file (so versions and rollbacks carry it)."""
    return {
        "uid": f"slot:{slot.name}",
        "doc_id": doc_id,
        "kind": "slot",
        "ord": 0,
        "title": slot.name,
        "heading": "",
        "text": slot.to_json(),
        "language": "",
        "tags": "[]",
        "intent": None,
        "uri": f"slot:{slot.name}",
        "ref": slot.name,
    }


def template_unit(doc_id: str, t: Template) -> dict:
    """An answer template stored as a unit of its templates file."""
    return {
        "uid": f"tpl:{t.id}",
        "doc_id": doc_id,
        "kind": "template",
        "ord": 0,
        "title": t.title,
        "heading": "",
        "text": t.answer,
        "language": t.language,
        "tags": "[]",
        "intent": t.intent,
        "uri": f"template:{t.id}",
        "ref": t.id,
    }


def unit_template(u: dict) -> Template:
    """A stored template unit back into its `Template`."""
    return Template(u["ref"], u["intent"], u["language"], u["title"], u["text"])


def as_unit(u: dict) -> dict:
    """A stored unit row back into the dict `stage_document` takes (tags as JSON text)."""
    out = {k: v for k, v in u.items() if k != "id"}
    out["tags"] = json.dumps(u["tags"], ensure_ascii=False) if isinstance(u["tags"], list) else u["tags"]
    return out


def embed_text(unit: dict) -> str:
    """The text a unit's vector is computed from: its title (and heading), then its text."""
    head = unit["title"]
    if unit["heading"]:
        head += " — " + unit["heading"]
    return f"{head}\n{unit['text']}"


def unit_hit(u: dict, score: float) -> Hit:
    """A stored unit as a search result."""
    return Hit(
        id=u["ref"] if u["kind"] == "template" else u["uid"],
        kind=u["kind"],
        title=u["title"],
        uri=u["uri"],
        snippet=_snippet(u["text"]),
        text=u["text"],
        score=round(float(score), 4),
        language=u["language"],
        intent=u["intent"],
        heading=u["heading"],
        tags=list(u["tags"]),
        path=u.get("path") or "",
        url=u.get("url") or "",
    )


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET_CHARS else flat[: SNIPPET_CHARS - 1].rsplit(" ", 1)[0] + "…"
