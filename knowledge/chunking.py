"""Structure-aware chunking: split on headings, keep lists/tables/code whole, pack to ~80-300 words."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markdown_it import MarkdownIt

from knowledge.types import Chunk

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_SENTENCE = re.compile(r"(?<=[.!?。！？；;])\s+|(?<=[。！？])")


def word_count(text: str) -> int:
    """Words, counting two CJK characters as one word."""
    cjk = len(_CJK.findall(text))
    latin = len(_WORD.findall(_CJK.sub(" ", text)))
    return latin + (cjk + 1) // 2


@dataclass
class _Piece:
    heading: str
    parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n\n".join(self.parts).strip()

    @property
    def words(self) -> int:
        return word_count(self.text)


class MarkdownChunker:
    """Chunks Markdown (or plain text) along its structure."""

    def __init__(self, min_words: int = 80, max_words: int = 300) -> None:
        self.min_words = min_words
        self.max_words = max_words
        self._md = MarkdownIt("commonmark").enable("table")

    def _blocks(self, text: str) -> list[tuple[int, str, str]]:
        """Top-level blocks as (heading level or 0, heading title, source text)."""
        lines = text.splitlines()
        tokens = self._md.parse(text)
        blocks: list[tuple[int, str, str]] = []
        for i, tok in enumerate(tokens):
            if tok.level != 0 or tok.map is None or tok.nesting == -1:
                continue
            src = "\n".join(lines[tok.map[0] : tok.map[1]]).strip()
            if tok.type == "heading_open":
                blocks.append((int(tok.tag[1:]), tokens[i + 1].content.strip(), src))
            elif tok.type != "hr" and src:
                blocks.append((0, "", src))
        return blocks

    def _split_long(self, block: str) -> list[str]:
        """Split a block that alone exceeds twice the budget: by lines, then by sentences."""
        if word_count(block) <= 2 * self.max_words:
            return [block]
        units = block.splitlines() if "\n" in block else _SENTENCE.split(block)
        if len(units) <= 1:
            words = block.split()
            return [" ".join(words[i : i + self.max_words]) for i in range(0, len(words), self.max_words)]
        out: list[str] = []
        cur: list[str] = []
        for unit in units:
            if cur and word_count("\n".join([*cur, unit])) > self.max_words:
                out.append("\n".join(cur))
                cur = []
            cur.append(unit)
        if cur:
            out.append("\n".join(cur))
        return [p for u in out for p in self._split_long(u)] if len(out) > 1 else out

    def _sections(self, text: str, markdown: bool) -> list[_Piece]:
        if not markdown:
            paras = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
            return [_Piece("", paras)]
        sections: list[_Piece] = [_Piece("")]
        path: list[tuple[int, str]] = []
        for level, title, src in self._blocks(text):
            if level:
                path = [(lv, t) for lv, t in path if lv < level] + [(level, title)]
                sections.append(_Piece(" > ".join(t for _, t in path), [src]))
            else:
                sections[-1].parts.append(src)
        return [s for s in sections if s.parts]

    def chunk(self, text: str, markdown: bool = True) -> list[Chunk]:
        """Return chunks with their heading path; empty text gives no chunks."""
        pieces: list[_Piece] = []
        for section in self._sections(text, markdown):
            cur = _Piece(section.heading)
            for part in section.parts:
                for block in self._split_long(part):
                    if cur.parts and word_count(cur.text + "\n\n" + block) > self.max_words:
                        pieces.append(cur)
                        cur = _Piece(section.heading)
                    cur.parts.append(block)
            if cur.parts:
                pieces.append(cur)
        merged: list[_Piece] = []
        for piece in pieces:
            prev = merged[-1] if merged else None
            if (
                prev is not None
                and (prev.words < self.min_words or piece.words < self.min_words)
                and prev.words + piece.words <= self.max_words
            ):
                prev.parts.extend(piece.parts)
            else:
                merged.append(piece)
        return [Chunk(text=p.text, heading=p.heading) for p in merged if p.text]
