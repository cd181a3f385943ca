"""Plain data types shared by the knowledge package."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Template:
    """A canned answer; `answer` may hold `{slot}` placeholders."""

    id: str
    intent: str
    language: str
    title: str
    answer: str


@dataclass
class Hit:
    """One retrieval result; `score` is a fused relevance in [0, 1]."""

    id: str
    kind: Literal["document", "template"]
    title: str
    uri: str
    snippet: str
    text: str
    score: float
    language: str
    intent: str | None = None
    heading: str = ""
    tags: list[str] = field(default_factory=list)
    # The document's path relative to the folder it was ingested from ("en/return-policy.md"; "" for
    # templates) and its public http(s) URL from front matter ("" if none): what customers may see.
    path: str = ""
    url: str = ""


@dataclass
class IngestReport:
    """What one `KnowledgeBase.ingest` call did; `errors` holds `{"path", "error"}` dicts."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    chunks: int = 0
    errors: list[dict] = field(default_factory=list)
    version: int | None = None  # the version this ingest published, if it published one


@dataclass
class Chunk:
    """A retrieval unit produced by chunking, before it is stored."""

    text: str
    heading: str = ""
    language: str = ""


@dataclass
class ParsedDocument:
    """A document read from disk: plain or Markdown text plus metadata."""

    text: str
    title: str = ""
    language: str | None = None
    tags: list[str] = field(default_factory=list)
    markdown: bool = False
    url: str | None = None  # a public http(s) page for this document (front matter `url`)
